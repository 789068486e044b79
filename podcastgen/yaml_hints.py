"""What to do about the YAML mistakes script writers make most: text with `: ` in it, which
YAML reads as a second key, and names such as `no` or `on`, which YAML 1.1 reads as true/false.

The loader (source.py) reports where; these say how to fix it, with the writer's own line.
"""

from __future__ import annotations

import json
import re

COLON_ERROR = "mapping values are not allowed here"
# `  - alex: Here is the plan: we talk.` or `text: ...`: a key, then unquoted text
_KEY_AND_TEXT = re.compile(r"(\s*(?:-\s+)?[^\s:#'\"{\[][^:#]*?:[ \t]+)([^'\"{\[|>].*?)\s*\Z")


def colon_hint(line: str) -> str:
    """The fix for `mapping values are not allowed here` on `line`: quote the text."""
    found = _KEY_AND_TEXT.match(line)
    if not found:
        return "; text that holds a colon followed by a space must be in quotes"
    text = found.group(2)
    # single quotes keep the text as written; else JSON's escapes, which YAML reads the same
    quoted = f"'{text}'" if "'" not in text else json.dumps(text, ensure_ascii=False)
    return (f"; text that holds a colon followed by a space must be in quotes: "
            f"{found.group(1).strip()} {quoted}")


def boolean_key(written: str, value: bool | None) -> str:
    """A key YAML read as true/false (`no`, `on`, `yes`, `off`, ...) or null (`~`, `null`)."""
    meaning = "nothing (null)" if value is None else f"{str(value).lower()}"
    return (f"YAML reads the name {written!r} as {meaning}, not as text; put it in quotes "
            f"(\"{written}\") to use it as a name")
