"""Load episode YAML keeping the file and line of every key, and merge `extends` chains.

Validation errors must name `path:line`, so instead of `yaml.safe_load` the node tree from
`yaml.compose` is turned into plain Python values while recording, for every key path, where
it was written. `extends` files are deep-merged under the episode (the episode wins), and the
location map is merged the same way so errors point into the file that set the value.
A Jinja2 template (`*.yaml.j2`) is rendered first (see templating.py) and its lines are mapped
back to the template's own lines, so errors name the template file and line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import Problem, ValidationError

if TYPE_CHECKING:
    from .template_data import TemplateInput

KeyPath = tuple[str | int, ...]
PROJECT_MARKERS = ("pyproject.toml", "podcastgen.yaml", ".git")


@dataclass(frozen=True)
class Where:
    path: str  # as shown to the user
    file: Path  # resolved, for relative paths inside that file
    line: int


@dataclass
class Document:
    """Plain data plus where each key path was written."""

    data: Any
    where: dict[KeyPath, Where] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # every file read: chain, templates, data

    def locate(self, key: KeyPath) -> Where:
        """The nearest recorded place for `key` (falls back to its parents)."""
        while key not in self.where and key:
            key = key[:-1]
        return self.where[key]


_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class _Origin:
    """Where the lines of a parsed text came from: one file, or a template's lines."""

    shown: str
    file: Path
    lines: Sequence[tuple[Path, int]] | None = None  # rendered line -> (template file, line)

    def at(self, line0: int) -> Where:
        if not self.lines:
            return Where(self.shown, self.file, line0 + 1)
        path, line = self.lines[min(line0, len(self.lines) - 1)]
        return Where(show_path(path), self.file, line)


def _build(node: yaml.Node, key: KeyPath, origin: _Origin, out: Document,
           problems: list[Problem]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for knode, vnode in node.value:
            name = _constructor.construct_object(knode, deep=True)
            at = origin.at(knode.start_mark.line)
            if not isinstance(name, (str, int)) or isinstance(name, bool):
                problems.append(Problem(at.path, at.line, _dotted(key) or "(top)",
                                        f"keys must be plain names, got {name!r}"))
                continue
            name = str(name)
            if name in result:
                problems.append(Problem(at.path, at.line, _dotted(key + (name,)),
                                        "duplicate key; each key may appear once"))
                continue
            out.where[key + (name,)] = at
            result[name] = _build(vnode, key + (name,), origin, out, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            out.where[key + (i,)] = origin.at(item.start_mark.line)
            items.append(_build(item, key + (i,), origin, out, problems))
        return items
    value = _constructor.construct_object(node, deep=True)
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    return value


def _dotted(key: KeyPath) -> str:
    return ".".join(str(k) for k in key)


def dotted(key: KeyPath) -> str:
    """`('script', 3, 'alex')` -> `script.3.alex`, the form used in every error line."""
    return _dotted(key)


def read_text(file: Path, shown: str, key: str = "file") -> str:
    """A UTF-8 text file's contents; a missing or undecodable file is one Problem at `key`."""
    try:
        return file.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ValidationError([Problem(shown, 1, key, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(shown, 1, key, f"not UTF-8 text ({exc.reason})")]) \
            from None


def yaml_syntax(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """A YAML syntax error's 0-based line and its message for the error line."""
    mark = exc.problem_mark or exc.context_mark
    message = (exc.problem or "invalid YAML").strip()
    return (mark.line if mark else 0), f"YAML syntax error: {message}"


def read_yaml(file: Path, shown: str) -> Document:
    """Parse one YAML file into a Document; syntax errors become one located Problem."""
    return parse_yaml(read_text(file, shown), _Origin(shown, file))


def parse_yaml(text: str, origin: _Origin) -> Document:
    """Parse YAML text into a Document, each key located through `origin`."""
    shown, file = origin.shown, origin.file
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line0, message = yaml_syntax(exc)
        at = origin.at(line0)
        raise ValidationError([Problem(at.path, at.line, "yaml", message)]) from None
    doc = Document(data=None, files=[file])
    doc.where[()] = Where(shown, file, 1)
    if node is None:
        raise ValidationError([Problem(shown, 1, "file", "the file is empty")])
    problems: list[Problem] = []
    doc.data = _build(node, (), origin, doc, problems)
    if problems:
        raise ValidationError(problems)
    if not isinstance(doc.data, dict):
        raise ValidationError([Problem(shown, 1, "file", "an episode must be a mapping of keys")])
    return doc


def _merge(base: Document, top: Document, key: KeyPath = ()) -> None:
    """Deep-merge `top` into `base` in place: mappings merge, anything else replaces."""
    b, t = _get(base.data, key), _get(top.data, key)
    for name, value in t.items():
        sub = key + (name,)
        if isinstance(value, dict) and isinstance(b.get(name), dict):
            base.where[sub] = top.where[sub]
            _merge(base, top, sub)
            continue
        for k in [k for k in base.where if k[: len(sub)] == sub]:
            del base.where[k]
        base.where.update({k: w for k, w in top.where.items() if k[: len(sub)] == sub})
        b[name] = value


def _get(data: Any, key: KeyPath) -> Any:
    for k in key:
        data = data[k]
    return data


def project_root(episode: Path) -> Path:
    """The nearest folder holding a project marker, else the episode's own folder."""
    start = episode.resolve().parent
    for folder in (start, *start.parents):
        if any((folder / m).exists() for m in PROJECT_MARKERS):
            return folder
    return start


def show_path(file: Path) -> str:
    """How to name `file` in messages: relative to the working directory when possible."""
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)


def read_episode_file(file: Path, shown: str, root: Path, allow_outside: bool = False,
                      template: TemplateInput | None = None) -> Document:
    """One file of an episode: plain YAML, or a `*.yaml.j2` template rendered with its data."""
    from .templating import is_template

    if not is_template(file):
        return read_yaml(file, shown)
    from .template_data import TemplateInput
    from .templating import render

    rendered = render(file, template or TemplateInput(), root, allow_outside)
    doc = parse_yaml(rendered.text, _Origin(shown, file.resolve(), rendered.lines))
    doc.files = [file.resolve(), *rendered.files]
    return doc


def load(episode: Path, root: Path, allow_outside: bool = False,
         template: TemplateInput | None = None) -> Document:
    """Read an episode and its `extends` chain into one merged Document."""
    chain: list[Document] = []
    file, shown, seen = episode.resolve(), show_path(episode), set()
    while True:
        doc = read_episode_file(file, shown, root, allow_outside, template)
        chain.append(doc)
        seen.add(file)
        parent = doc.data.get("extends")
        if parent is None:
            break
        where = doc.where[("extends",)]
        if not isinstance(parent, str) or not parent.strip():
            raise ValidationError([Problem(where.path, where.line, "extends",
                                           "expected the path of a YAML file, e.g. show.yaml")])
        nxt = (file.parent / parent).resolve()
        problem = check_path(nxt, root, allow_outside)
        if problem is None and nxt in seen:
            problem = "extends forms a loop"
        if problem is None and not nxt.is_file():
            problem = f"file not found: {parent}"
        if problem:
            raise ValidationError([Problem(where.path, where.line, "extends", problem)])
        file, shown = nxt, show_path(nxt)
    files = [f for doc in chain for f in doc.files]
    merged = chain.pop()
    while chain:
        _merge(merged, chain.pop())
    merged.files = list(dict.fromkeys(files))
    merged.data.pop("extends", None)
    merged.where[()] = Where(show_path(episode), episode.resolve(), 1)
    return merged


def check_path(target: Path, root: Path, allow_outside: bool) -> str | None:
    """Refuse a path that leaves the project unless the user allowed it."""
    if allow_outside:
        return None
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        return "path is outside the project; move the file into the project or pass --allow-outside"
    return None
