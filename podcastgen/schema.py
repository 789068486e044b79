"""A small collecting checker: every problem in a document is gathered, none stops the rest.

Each check returns the cleaned value (or None after recording a Problem at the key's line),
so validation code reads top to bottom like the format it describes.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable

from . import media
from .errors import Problem
from .source import Document, KeyPath, dotted, resolve_file


def describe(value: Any) -> str:
    """Name a YAML value's type the way a producer would say it."""
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing (null)"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Checker:
    def __init__(self, doc: Document, root: Path, allow_outside: bool = False):
        self.doc = doc
        self.root = root
        self.allow_outside = allow_outside
        self.draft = False
        self.dialogue = False  # synthesis.mode is dialogue: turns are voiced in blocks
        self.declared: set[str] | None = set()  # speaker ids written, valid or not
        self.configs: dict[str, Any] = {}  # provider -> its ProviderConfig from the files
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def fail(self, key: KeyPath, message: str) -> None:
        where = self.doc.locate(key)
        self.problems.append(Problem(where.path, where.line, dotted(key) or "(top)", message))

    def warn(self, key: KeyPath, message: str) -> None:
        where = self.doc.locate(key)
        self.warnings.append(Problem(where.path, where.line, dotted(key), f"warning: {message}"))

    def where(self, key: KeyPath) -> str:
        where = self.doc.locate(key)
        return f"{where.path}:{where.line}"

    def mapping(self, key: KeyPath, value: Any, allowed: Iterable[str],
                required: Iterable[str] = ()) -> dict[str, Any] | None:
        """A mapping with only `allowed` keys (typos get a suggestion) and all `required` ones."""
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping of keys, got {describe(value)}")
            return None
        allowed = list(allowed)
        for name in value:
            if name not in allowed:
                self.fail(key + (name,), unknown_key(name, allowed))
        for name in required:
            if name not in value:
                self.fail(key + (name,), "missing required key")
        return value

    def text(self, key: KeyPath, value: Any, *, empty: bool = False) -> str | None:
        if not isinstance(value, str):
            self.fail(key, f"expected text, got {describe(value)}; put text in quotes")
            return None
        if not empty and not value.strip():
            self.fail(key, "must not be empty")
            return None
        return value

    def number(self, key: KeyPath, value: Any, lo: float, hi: float,
               integer: bool = False) -> float | None:
        if not is_number(value) or (integer and not isinstance(value, int)):
            want = "a whole number" if integer else "a number"
            self.fail(key, f"expected {want}, got {describe(value)}")
            return None
        if not lo <= value <= hi:
            self.fail(key, f"must be between {_num(lo)} and {_num(hi)}, got {_num(value)}")
            return None
        return value

    def boolean(self, key: KeyPath, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {describe(value)}")
            return None
        return value

    def choice(self, key: KeyPath, value: Any, options: Iterable[Any]) -> Any:
        options = list(options)
        if value not in options or isinstance(value, bool):
            listed = ", ".join(str(o) for o in options)
            self.fail(key, f"must be one of: {listed}; got {_show(value)}")
            return None
        return value

    def text_list(self, key: KeyPath, value: Any) -> list[str] | None:
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {describe(value)}")
            return None
        items = [self.text(key + (i,), v) for i, v in enumerate(value)]
        return None if None in items else items  # type: ignore[return-value]

    def path(self, key: KeyPath, value: Any, kind: str | None = None) -> Path | None:
        """A file path relative to the YAML file that wrote it: a regular file inside the
        project and, for `kind` "audio" or "image", one that holds what it claims."""
        text = self.text(key, value)
        if text is None:
            return None
        base = self.doc.locate(key).file.parent
        found = resolve_file(base, text, self.root, self.allow_outside)
        problem = found if isinstance(found, str) else None
        if problem is None and kind:
            problem = media.problem(found, kind, text)
        if problem:
            self.fail(key, problem)
            return None
        return found


def unknown_key(name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return f"unknown key; expected one of: {', '.join(allowed)}"


def _num(value: float) -> str:
    return f"{value:g}"


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else describe(value)
