"""Load episode YAML keeping the file and line of every key, and merge `extends` chains.

Validation errors must name `path:line`, so instead of `yaml.safe_load` the node tree from
yaml's composer is turned into plain Python values while recording, for every key path, where
it was written. `extends` files are deep-merged under the episode (the episode wins), and the
location map is merged the same way so errors point into the file that set the value.
A Jinja2 template (`*.yaml.j2`) is rendered first (see templating.py) and its lines are mapped
back to the template's own lines, so errors name the template file and line.

Every YAML file the project reads (episodes, shows, template data, podcastgen.yaml, a
template's rendered YAML) goes through `load_yaml`, held to the limits below, and every file
an episode names is read through `read_bytes`: whatever the bytes, the result is plain data or
one located Problem, never a traceback, a hang or a blown stack.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from .errors import Problem, ValidationError
from .yaml_hints import COLON_ERROR, boolean_key, colon_hint

if TYPE_CHECKING:
    from .template_data import TemplateInput

KeyPath = tuple[str | int, ...]
PROJECT_MARKERS = ("pyproject.toml", "podcastgen.yaml", ".git")

# Far above any real episode (1 MiB of script is some fifteen hours of speech), low enough that
# no file can make a build hang, or exhaust memory or the stack, before it is refused.
MAX_FILE_BYTES = 1 << 20  # any file read as text: YAML, data, a template's rendered YAML
MAX_DEPTH = 64  # mappings and lists inside each other, aliases included
MAX_ALIASED = 10_000  # values aliases (*name) copy in, in all: a "billion laughs" stops here
MAX_TEXT = 100_000  # characters in one value
MAX_NUMBER = 100  # characters in one number


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
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_NUMBER_TAGS = {_TAG + "int", _TAG + "float"}
_COLLECTION_TAGS = {_TAG + "seq", _TAG + "map"}
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# Control characters other than tab and line ends, surrogate halves, and the two
# non-characters: no voice reads them and several output formats cannot carry them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


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


class _TooDeep(Exception):
    def __init__(self, line0: int):
        self.line0 = line0


class _Composer(yaml.SafeLoader):
    """yaml's composer, refusing nesting past MAX_DEPTH before it recurses deep enough to
    exhaust the stack, and counting the nodes it makes (what aliases may add is measured
    against that count)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.depth = self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        self.depth, self.nodes = self.depth + 1, self.nodes + 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark.line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str, origin: _Origin, key: str) -> tuple[yaml.Node | None, int]:
    """The node tree of `text` and its node count; any failure is one located Problem."""
    if len(text) > MAX_FILE_BYTES:
        _refuse(origin.at(0), key, f"more than {MAX_FILE_BYTES >> 20} MiB of YAML; split it up")
    try:
        loader = _Composer(text)
        try:
            return loader.get_single_node(), loader.nodes
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:  # raw control characters, found before parsing
        line0 = len(_LINE_BREAK.findall(text, 0, exc.position))
        _refuse(origin.at(line0), key, f"{_character(chr(exc.character))} cannot appear in a "
                "YAML file; remove it")
    except yaml.MarkedYAMLError as exc:
        line0, message = yaml_syntax(exc)
        if message.endswith(COLON_ERROR):
            lines = _LINE_BREAK.split(text)
            message += colon_hint(lines[line0] if line0 < len(lines) else "")
        _refuse(origin.at(line0), key, message)
    except _TooDeep as exc:
        _refuse(origin.at(exc.line0), key, f"nested more than {MAX_DEPTH} levels deep")
    except yaml.YAMLError as exc:
        _refuse(origin.at(0), key, f"YAML error: {str(exc).splitlines()[0]}")


def _refuse(at: Where, key: str, message: str) -> NoReturn:
    raise ValidationError([Problem(at.path, at.line, key, message)])


def _character(ch: str) -> str:
    """How to name a forbidden character in a message."""
    if "\ud800" <= ch <= "\udfff":
        return f"U+{ord(ch):04X} (half of a surrogate pair, not a character)"
    kind = "control character" if unicodedata.category(ch) == "Cc" else "non-character"
    return f"the {kind} U+{ord(ch):04X}"


class _Builder:
    """Plain values from a node tree, recording where each key was written. Aliases are
    followed, but together they may copy in at most MAX_ALIASED values and never a value
    into itself; tags other than YAML's plain types, and merge keys, are refused."""

    def __init__(self, origin: _Origin, out: Document, composed: int):
        self.origin, self.out = origin, out
        self.budget = composed + MAX_ALIASED  # values that may be built, copies included
        self.open: set[int] = set()  # the collections being built: an alias into one loops
        self.problems: list[Problem] = []

    def fail(self, node: yaml.Node, key: KeyPath, message: str) -> None:
        at = self.origin.at(node.start_mark.line)
        self.problems.append(Problem(at.path, at.line, _dotted(key) or "(top)", message))

    def value(self, node: yaml.Node, key: KeyPath, depth: int = 1) -> Any:
        self.budget -= 1
        if self.budget < 0 or depth > MAX_DEPTH:
            reason = f"aliases copy in more than {MAX_ALIASED} values" if self.budget < 0 \
                else f"aliases nest values more than {MAX_DEPTH} levels deep"
            self.fail(node, key, f"{reason}; write the values out")
            raise ValidationError(self.problems)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, key)
        if id(node) in self.open:
            self.fail(node, key, "an alias here refers to the value that contains it")
            return None
        if node.tag not in _COLLECTION_TAGS:
            self.fail(node, key, _unsupported(node.tag))
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, key, depth)
            return [self.item(item, key + (i,), depth) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def item(self, node: yaml.Node, key: KeyPath, depth: int) -> Any:
        self.out.where[key] = self.origin.at(node.start_mark.line)
        return self.value(node, key, depth + 1)

    def mapping(self, node: yaml.MappingNode, key: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for knode, vnode in node.value:
            name = self.key(knode, key)
            if name is None:
                continue
            if name in result:
                self.fail(knode, key + (name,), "duplicate key; each key may appear once")
                continue
            self.out.where[key + (name,)] = self.origin.at(knode.start_mark.line)
            result[name] = self.value(vnode, key + (name,), depth + 1)
        return result

    def key(self, node: yaml.Node, key: KeyPath) -> str | None:
        if node.tag == _TAG + "merge":
            self.fail(node, key + ("<<",), "merge keys (<<) are not supported; write the keys "
                      "out, or share settings through extends:")
            return None
        reported = len(self.problems)
        name = self.scalar(node, key) if isinstance(node, yaml.ScalarNode) else []
        if len(self.problems) > reported:
            return None
        if (name is None or isinstance(name, bool)) and isinstance(node, yaml.ScalarNode):
            self.fail(node, key, boolean_key(node.value, name))
            return None
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            got = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping" \
                if isinstance(node, yaml.MappingNode) else repr(name)
            self.fail(node, key, f"keys must be plain names, got {got}")
            return None
        return str(name)

    def scalar(self, node: yaml.ScalarNode, key: KeyPath) -> Any:
        tag, text = node.tag, node.value
        if tag not in _SCALAR_TAGS:
            self.fail(node, key, _unsupported(tag))
            return None
        if tag == _TAG + "timestamp":
            tag = _TAG + "str"  # dates are kept as written and checked as text (no traceback)
        if tag in _NUMBER_TAGS and len(text) > MAX_NUMBER:
            self.fail(node, key, f"a number of {len(text)} characters is too long (at most "
                      f"{MAX_NUMBER})")
            return None
        try:
            value = _constructor.yaml_constructors[tag](_constructor, node)
        except (ValueError, KeyError, TypeError):
            self.fail(node, key, f"{text[:40]!r} is not a valid !!{tag[len(_TAG):]}")
            return None
        if isinstance(value, str):
            return self.text(node, key, value)
        return value

    def text(self, node: yaml.Node, key: KeyPath, value: str) -> str | None:
        if len(value) > MAX_TEXT:
            self.fail(node, key, f"{len(value):,} characters is too long for one value (at "
                      f"most {MAX_TEXT:,})")
            return None
        value = _paired(value)
        bad = _FORBIDDEN.search(value)
        if bad:
            self.fail(node, key, f"contains {_character(bad.group())}, which no voice or "
                      "output file can carry; remove it")
            return None
        return value


def _paired(value: str) -> str:
    """Surrogate pairs written as two escapes (`"\\ud83d\\ude00"`, as JSON writes them) joined
    into the one character they stand for; unpaired halves are left for the check to refuse."""
    if not _SURROGATE.search(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _unsupported(tag: str) -> str:
    shown = "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag
    return f"the YAML tag {shown} is not supported here; remove it"


def _dotted(key: KeyPath) -> str:
    return ".".join(str(k) for k in key)


def dotted(key: KeyPath) -> str:
    """`('script', 3, 'alex')` -> `script.3.alex`, the form used in every error line."""
    return _dotted(key)


def read_bytes(file: Path, shown: str, key: str = "file", limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most `limit` of them. Anything else (missing, a folder, a
    FIFO that would block forever, a device, a symlink loop, a name too long) is one Problem."""
    try:
        kind = special_kind(os.stat(file).st_mode)
        if kind is None:  # opened without blocking, and checked again: it may have been swapped
            fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
            with os.fdopen(fd, "rb") as f:
                kind = special_kind(os.fstat(fd).st_mode)
                data = b"" if kind else f.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(shown, 1, key, path_problem(exc))]) from None
    if kind:
        raise ValidationError([Problem(shown, 1, key, f"not a regular file: it is {kind}")])
    if len(data) > limit:
        raise ValidationError([Problem(shown, 1, key, f"the file is larger than "
                                       f"{limit >> 20} MiB; split it up")])
    return data


def read_text(file: Path, shown: str, key: str = "file") -> str:
    """A UTF-8 text file's contents (see read_bytes); undecodable text is one Problem."""
    try:
        return read_bytes(file, shown, key).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(shown, 1, key, f"not UTF-8 text ({exc.reason})")]) \
            from None


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular file is, for a message; None for a regular file."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a file"


def path_problem(exc: BaseException) -> str:
    """Why a path could not be used, in a producer's words."""
    if isinstance(exc, ValueError):
        return "the path contains a NUL character"
    number = getattr(exc, "errno", None)
    if number in (errno.ENOENT, errno.ENOTDIR):
        return "file not found"
    if number == errno.ELOOP:
        return "the path is a symbolic link loop"
    if number == errno.ENAMETOOLONG:
        return "the file name is too long"
    return (getattr(exc, "strerror", None) or str(exc)).lower()


def real(path: Path) -> Path:
    """`path` made absolute with symbolic links resolved; unlike Path.resolve(), a link loop
    or an overlong name does not raise (using the path reports it)."""
    return Path(os.path.realpath(path))


def resolve_file(base: Path, text: str, root: Path, allow_outside: bool) -> Path | str:
    """The regular file a path written in a file in `base` names, or why it cannot be used."""
    if "\0" in text:
        return "the path contains a NUL character"
    target = real(base / text)
    refused = check_path(target, root, allow_outside)
    if refused:
        return refused
    try:
        kind = special_kind(os.stat(target).st_mode)
    except OSError as exc:
        return f"{path_problem(exc)}: {_short(text)}"
    return f"not a regular file ({kind}): {_short(text)}" if kind else target


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def yaml_syntax(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """A YAML syntax error's 0-based line and its message for the error line."""
    mark = exc.problem_mark or exc.context_mark
    message, context = (exc.problem or "invalid YAML").strip(), (exc.context or "").strip()
    if message.startswith("but "):  # the context holds the first half of the sentence
        message = f"{context}, {message}"
    elif message == "second occurrence":  # of an anchor, which the context names
        message = context.split(";")[0]
    return (mark.line if mark else 0), f"YAML syntax error: {message}"


def read_yaml(file: Path, shown: str) -> Document:
    """Parse one episode or show file into a Document (see parse_yaml)."""
    return parse_yaml(read_text(file, shown), _Origin(shown, file))


def read_yaml_data(file: Path, shown: str, key: str) -> Document:
    """Any YAML file (a template's data, the project's config) as a Document whose data may be
    anything, None when empty; a problem with the file or its syntax is reported at `key`."""
    return load_yaml(read_text(file, shown, key), _Origin(shown, file), key)


def parse_yaml(text: str, origin: _Origin) -> Document:
    """Parse an episode's YAML into a Document: a mapping, each key located through `origin`."""
    doc = load_yaml(text, origin)
    if doc.data is None:
        raise ValidationError([Problem(origin.shown, 1, "file", "the file is empty")])
    if not isinstance(doc.data, dict):
        raise ValidationError([Problem(origin.shown, 1, "file",
                                       "an episode must be a mapping of keys")])
    return doc


def load_yaml(text: str, origin: _Origin, syntax_key: str = "yaml") -> Document:
    """The one YAML loader: `text` within the limits, as plain values and where each key was
    written. Whatever the text, the result is a Document or a ValidationError."""
    node, composed = _compose(text, origin, syntax_key)
    doc = Document(data=None, files=[origin.file])
    doc.where[()] = Where(origin.shown, origin.file, 1)
    if node is None:
        return doc
    builder = _Builder(origin, doc, composed)
    doc.data = builder.value(node, ())
    if builder.problems:
        raise ValidationError(builder.problems)
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
    start = real(episode).parent
    for folder in (start, *start.parents):
        if any((folder / m).exists() for m in PROJECT_MARKERS):
            return folder
    return start


def show_path(file: Path) -> str:
    """How to name `file` in messages: relative to the working directory when possible."""
    try:
        return str(real(file).relative_to(real(Path.cwd())))
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
    doc = parse_yaml(rendered.text, _Origin(shown, real(file), rendered.lines))
    doc.files = [real(file), *rendered.files]
    return doc


def load(episode: Path, root: Path, allow_outside: bool = False,
         template: TemplateInput | None = None) -> Document:
    """Read an episode and its `extends` chain into one merged Document."""
    chain: list[Document] = []
    file, shown, seen = real(episode), show_path(episode), set()
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
        nxt = resolve_file(file.parent, parent, root, allow_outside)
        if isinstance(nxt, str) or nxt in seen:
            problem = nxt if isinstance(nxt, str) else "extends forms a loop"
            raise ValidationError([Problem(where.path, where.line, "extends", problem)])
        file, shown = nxt, show_path(nxt)
    files = [f for doc in chain for f in doc.files]
    merged = chain.pop()
    while chain:
        _merge(merged, chain.pop())
    merged.files = list(dict.fromkeys(files))
    merged.data.pop("extends", None)
    merged.where[()] = Where(show_path(episode), real(episode), 1)
    return merged


def check_path(target: Path, root: Path, allow_outside: bool) -> str | None:
    """Refuse a path that leaves the project unless the user allowed it."""
    if allow_outside:
        return None
    if "\0" in str(target):
        return "the path contains a NUL character"
    try:
        real(target).relative_to(real(root))
    except ValueError:
        return "path is outside the project; move the file into the project or pass --allow-outside"
    return None
