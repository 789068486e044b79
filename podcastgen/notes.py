"""Show notes (`<stem>.md`) and the episode page (`<stem>.html`) from Jinja2 templates.

The one Jinja environment for them is built here: templates named `*.html.j2` autoescape,
Markdown ones do not; StrictUndefined turns a misspelt name into an error that names the
template's file and line. A show replaces either template with `output.show_notes`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from .errors import BuildError
from .publish import clock
from .source import show_path

BUILTIN = Path(__file__).parent / "templates"
NOTES, PAGE = "notes.md.j2", "page.html.j2"
# <source type=...> for the page's player; the feed uses Apple's names (see feed.py).
PLAYER_TYPES = {"m4a": "audio/mp4", "mp3": "audio/mpeg", "opus": "audio/ogg; codecs=opus",
                "flac": "audio/flac", "wav": "audio/wav"}
PLAYER_ORDER = ("m4a", "mp3", "opus", "flac", "wav")  # smallest widely playable first


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})  # raw HTML in a description is escaped


def markdown_html(text: str) -> Any:
    """CommonMark rendered to HTML, marked safe for autoescaping templates."""
    from markupsafe import Markup

    return Markup(_markdown().render(text or ""))


def environment(folder: Path | None = None) -> Any:
    """The Jinja environment: a show's template folder first, then the built-in templates."""
    import jinja2

    folders = [str(folder)] if folder else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(BUILTIN)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"),
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clock=clock, markdown=markdown_html)
    return env


def render(template: Path | None, builtin: str, context: dict[str, Any], *,
           error: type[Exception] = BuildError) -> str:
    """Render a show's `template` (or the built-in one) with `context`; a template error
    becomes one line naming the template file and line."""
    import jinja2

    name = template.name if template else builtin
    try:
        env = environment(template.parent if template else None)
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        shown = show_path(Path(exc.filename)) if exc.filename else name
        raise error(f"{shown}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise error(f"{_where(exc, name)}: template error: {exc}") from None


def _where(exc: BaseException, name: str) -> str:
    """`file:line` of the innermost template frame in the traceback of a render error."""
    found = name
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".j2"):  # Jinja rewrites frames to template lines
            found = f"{show_path(Path(code.co_filename))}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found
