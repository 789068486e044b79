"""The one Jinja2 environment for episode templates (`*.yaml.j2`) and rendering with provenance.

The environment is sandboxed (no attribute tricks), undefined values are errors, blocks trim
their own line (`trim_blocks`, `lstrip_blocks`), and `{% include %}` paths are relative to the
including template and must stay inside the project. Every rendered line is mapped back to the
template line that wrote it, so validation of the rendered YAML still names `file.yaml.j2:LINE`.
Template errors become one `path:line: template: message` Problem (exit 2).
"""

from __future__ import annotations

import contextvars
import difflib
import functools
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, ValidationError
from .filters import FILTERS, FilterError
from .source import check_path, read_text, real, show_path
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


@dataclass
class _Scope:
    """Per-render state the loader needs: where templates may come from, what was read."""

    root: Path
    allow_outside: bool
    loaded: list[Path]


_scope: contextvars.ContextVar[_Scope] = contextvars.ContextVar("podcastgen_template_scope")
_names: dict[str, int] = {}  # template file -> small number used in line marks


def is_template(path: Path) -> bool:
    return path.name.endswith(TEMPLATE_SUFFIXES)


@functools.cache
def environment() -> Any:
    """The sandboxed Jinja2 environment every template is rendered with (built once)."""
    from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound
    from jinja2.sandbox import SandboxedEnvironment

    class ProjectLoader(BaseLoader):
        def get_source(self, env: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
            path, scope = Path(template), _scope.get()
            refused = check_path(path, scope.root, scope.allow_outside)
            if refused:
                raise TemplateNotFound(f"{show_path(path)}: {refused}")
            try:  # a regular file only: a FIFO would block the build forever
                text = read_text(path, show_path(path), "template")
            except ValidationError as exc:
                raise TemplateNotFound(f"{show_path(path)}: {exc.problems[0].message}") from None
            scope.loaded.append(path)
            return text, str(path), lambda: False

    class Environment(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def join_path(self, template: str, parent: str) -> str:
            return str(real(Path(parent).parent / template))  # relative to the includer

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_size(operator, left, right)  # the sandbox bounds range(), not 'a' * 10**9
            return super().call_binop(context, operator, left, right)

    env = Environment(loader=ProjectLoader(), undefined=StrictUndefined, autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      cache_size=0)
    env.filters.update(FILTERS)
    return env


def _check_size(operator: str, left: Any, right: Any) -> None:
    from jinja2.sandbox import MAX_RANGE, SecurityError

    if operator == "**" and isinstance(right, int) and abs(right) > 1000:
        raise SecurityError(f"the exponent {right} is too large (at most 1000)")
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int) \
                    and len(seq) * times > MAX_RANGE:
                raise SecurityError(f"a repeated sequence longer than {MAX_RANGE} items")


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
    scope = _Scope(root, allow_outside, [])
    token = _scope.set(scope)
    try:
        text = _run(environment(), path, context, data_files)
        marked = _run(_marked_environment(), path, context, data_files)
    finally:
        _scope.reset(token)
    lines = _provenance(text, marked, path)
    files = tuple(dict.fromkeys([*scope.loaded, *data_files]))
    return Rendered(text, lines, files)


def _run(env: Any, path: Path, context: dict[str, Any], data_files: list[Path]) -> str:
    from jinja2 import TemplateError

    try:
        return str(env.get_template(str(path)).render(context))
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # template errors, and a filter's or an operator's failure inside the template
        raise ValidationError([_located(exc, path, data_files)]) from None


def _located(exc: Exception, main: Path, data_files: list[Path]) -> Problem:
    """One Problem at the template line where `exc` happened."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SecurityError

    if isinstance(exc, TemplateSyntaxError):
        file = Path(exc.filename) if exc.filename else main
        return Problem(show_path(file), exc.lineno, "template", f"syntax error: {exc.message}")
    file, line = _template_frame(exc, main)
    message = str(getattr(exc, "message", None) or exc).rstrip(".")
    if isinstance(exc, SecurityError):
        message = f"refused by the sandbox: {message}"
    elif isinstance(exc, UndefinedError):
        message += _missing_hint(message, main, data_files)
    elif isinstance(exc, TemplateNotFound):
        message = f"cannot include {message}"
    elif not isinstance(exc, FilterError):
        message = f"{type(exc).__name__}: {message}"
    return Problem(show_path(file), line, "template", message)


def _template_frame(exc: Exception, main: Path) -> tuple[Path, int]:
    """The innermost traceback frame that is template code (Jinja rewrites them to its lines)."""
    names = {str(p) for p in _scope.get().loaded} | {str(main)}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in names]
    if not frames:
        return main, 1
    return Path(frames[-1].filename), frames[-1].lineno or 1


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
