"""Show notes (`<stem>.md`) and the episode page (`<stem>.html`) from Jinja2 templates.

They run in the one sandbox every template shares (sandbox.py): `*.html.j2` templates
autoescape, Markdown ones do not; StrictUndefined turns a misspelt name into an error that
names the template's file and line. A show replaces either template with `output.show_notes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import sandbox
from .errors import BuildError, InputError
from .source import show_path

BUILTIN = sandbox.BUILTIN
NOTES, PAGE = "notes.md.j2", "page.html.j2"
# <source type=...> for the page's player; the feed uses Apple's names (see feed.py).
PLAYER_TYPES = {"m4a": "audio/mp4", "mp3": "audio/mpeg", "opus": "audio/ogg; codecs=opus",
                "flac": "audio/flac", "wav": "audio/wav"}
PLAYER_ORDER = ("m4a", "mp3", "opus", "flac", "wav")  # smallest widely playable first


def render(template: Path | None, builtin: str, context: dict[str, Any], *, root: Path,
           allow_outside: bool = False, error: type[Exception] = BuildError) -> str:
    """Render a show's `template` (or the built-in one) with `context`, its includes confined
    to the project at `root`. A template error becomes one line naming the template file and
    line, as `error`; anything the sandbox refused is bad input whenever it happens (exit 2)."""
    path = template or BUILTIN / builtin
    with sandbox.scope(root, allow_outside):
        try:
            return sandbox.render(sandbox.environment(), path, context)
        except Exception as exc:  # whatever the template did, it names its line
            file, line, message = sandbox.describe(exc, path)
            kind = InputError if sandbox.refusal(exc) else error
            raise kind(f"{show_path(file)}:{line}: template error: {message}") from None
