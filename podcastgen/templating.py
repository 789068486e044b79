"""Episode templates (`*.yaml.j2`): rendering with data, and with provenance.

They run in the one sandbox every template shares (sandbox.py: no attribute tricks, files only
from the project, limits on what a template may cost); undefined values are errors, blocks trim
their own line (`trim_blocks`, `lstrip_blocks`), and `{% include %}` paths are relative to the
including template. Every rendered line is mapped back to the template line that wrote it, so
validation of the rendered YAML still names `file.yaml.j2:LINE`. Template errors become one
`path:line: template: message` Problem (exit 2).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sandbox
from .errors import Problem, ValidationError
from .source import show_path
from .template_data import TemplateInput, load_inputs

__all__ = ["Rendered", "TemplateInput", "environment", "is_template", "render"]

TEMPLATE_SUFFIXES = (".yaml.j2", ".yml.j2")
_MARK = re.compile("\ue000(\\d+):(\\d+)\ue001")


@dataclass(frozen=True)
class Rendered:
    """The rendered YAML, the template line of each of its lines, and every file read."""

    text: str
    lines: tuple[tuple[Path, int], ...]  # rendered line i (0-based) -> (template file, line)
    files: tuple[Path, ...]


_names: dict[str, int] = {}  # template file -> small number used in line marks


def is_template(path: Path) -> bool:
    return path.name.endswith(TEMPLATE_SUFFIXES)


def environment() -> Any:
    """The sandboxed Jinja2 environment every template is rendered with (built once)."""
    return sandbox.environment()


@functools.cache
def _marked_environment() -> Any:
    """The same environment, with a line mark in front of every line of template text."""
    from jinja2.ext import Extension
    from jinja2.lexer import Token

    class LineMarks(Extension):
        def filter_stream(self, stream: Any) -> Any:
            file = _names.setdefault(stream.filename or "", len(_names))
            for tok in stream:
                if tok.type != "data":
                    yield tok
                    continue
                lines = tok.value.split("\n")
                marked = [f"\ue000{file}:{tok.lineno + i}\ue001{text}"
                          for i, text in enumerate(lines)]
                yield Token(tok.lineno, "data", "\n".join(marked))

    return environment().overlay(extensions=[LineMarks])


def render(path: Path, inputs: TemplateInput, root: Path, allow_outside: bool = False) -> Rendered:
    """Render one template with its data; raise ValidationError naming the template line."""
    if not path.is_file():
        raise ValidationError([Problem(show_path(path), 1, "file", "file not found")])
    path = path.resolve()
    context, data_files = load_inputs(path, inputs)
    with sandbox.scope(root, allow_outside) as scope:
        text = _run(environment(), path, context, data_files)
        marked = _run(_marked_environment(), path, context, data_files)
    lines = _provenance(text, marked, path)
    files = tuple(dict.fromkeys([*scope.loaded, *data_files]))
    return Rendered(text, lines, files)


def _run(env: Any, path: Path, context: dict[str, Any], data_files: list[Path]) -> str:
    try:
        return sandbox.render(env, path, context)
    except Exception as exc:  # whatever the template did, it names its line
        raise ValidationError([_located(exc, path, data_files)]) from None


def _located(exc: Exception, main: Path, data_files: list[Path]) -> Problem:
    """One Problem at the template line where `exc` happened."""
    from jinja2 import UndefinedError

    file, line, message = sandbox.describe(exc, main)
    if isinstance(exc, UndefinedError):
        message += _missing_hint(message, main, data_files)
    return Problem(show_path(file), line, "template", message)


def _missing_hint(message: str, main: Path, data_files: list[Path]) -> str:
    name = re.match(r"'(\w+)' is undefined", message)
    var = name.group(1) if name else "KEY"
    if data_files:
        listed = " or ".join(show_path(f) for f in data_files)
        what = f"set {var} in {listed}" if name else f"check {listed}"
        return f"; {what} or pass --var {var}=VALUE"
    stem = main.name.rsplit(".yaml", 1)[0].rsplit(".yml", 1)[0]
    return (f"; no data file was found: pass --data FILE, create {stem}.data.yaml beside the "
            f"template, or pass --var {var}=VALUE")


def _provenance(text: str, marked: str, main: Path) -> tuple[tuple[Path, int], ...]:
    """Map each line of `text` to a template line using the marked render of the same input."""
    files = {number: Path(name) for name, number in _names.items()}
    stripped, origins = [], []
    current = (main, 1)
    for line in marked.split("\n"):
        pieces = _MARK.split(line)  # text, file, line, text, file, line, ..., text
        origin = None
        for i in range(0, len(pieces), 3):
            if origin is None and pieces[i].strip():
                origin = current
            if i + 2 < len(pieces):
                current = (files[int(pieces[i + 1])], int(pieces[i + 2]))
        origins.append(origin or current)
        stripped.append("".join(pieces[0::3]))
    plain = text.split("\n")
    if stripped == plain:
        return tuple(origins)
    return _align(plain, stripped, origins, main)


def _align(plain: list[str], stripped: list[str], origins: list[tuple[Path, int]],
           main: Path) -> tuple[tuple[Path, int], ...]:
    """When string filters saw the marks (e.g. `trim` on a captured block), match lines up."""
    out: list[tuple[Path, int]] = []
    matcher = difflib.SequenceMatcher(None, plain, stripped, autojunk=False)
    mapping = {a + k: b + k for a, b, size in matcher.get_matching_blocks() for k in range(size)}
    for i in range(len(plain)):
        out.append(origins[mapping[i]] if i in mapping else (out[-1] if out else (main, 1)))
    return tuple(out)
