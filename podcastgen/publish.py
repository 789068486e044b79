"""Sidecar texts for a finished episode: WebVTT, SRT, Podcasting 2.0 chapters and transcript
JSON, plain transcript.

Pure functions returning strings; the pipeline decides where they are written.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence

from .model import Caption, Chapter, Cue

LINE_WIDTH = 42  # a caption line's width in columns: 42 Latin characters
CJK_LINE_CHARS = 16  # or 16 Chinese ones, which take longer to read and more room
_CHAPTERS_VERSION = "1.2.0"
_TRANSCRIPT_VERSION = "1.0.0"
_CLOSING = {"Pe", "Pf", "Po"}  # Unicode categories of closing punctuation
_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Scripts whose lines may break between any two characters (Han, kana, Hangul, full-width forms).
_CJK = re.compile(
    r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)


def milliseconds(seconds: float) -> int:
    """Whole milliseconds, rounded half up and clamped at zero, so every sidecar agrees."""
    return max(0, math.floor(seconds * 1000 + 0.5))


def clock(seconds: float) -> str:
    """`M:SS`, or `H:MM:SS` from an hour on: how players show a position."""
    hours, rest = divmod(milliseconds(seconds) // 1000, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def chapter_spans(chapters: Sequence[Chapter], duration_s: float
                  ) -> list[tuple[Chapter, int, int]]:
    """Chapters in time order with their start and end in milliseconds, each ending where the
    next starts and the last at the end of the episode (never before its own start)."""
    ordered = sorted(chapters, key=lambda c: c.start_s)
    starts = [milliseconds(c.start_s) for c in ordered]
    ends = [*starts[1:], milliseconds(duration_s)]
    return [(c, start, max(start, end)) for c, start, end in zip(ordered, starts, ends)]


def timestamp(seconds: float, sep: str = ".") -> str:
    """`HH:MM:SS.mmm` (WebVTT) or, with `sep=","`, `HH:MM:SS,mmm` (SRT)."""
    hours, rest = divmod(milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def vtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file: each turn's caption cues, wrapped to LINE_WIDTH columns, every cue
    naming its speaker in a `<v Name>` voice span."""
    blocks = ["WEBVTT"]
    for cue in cues:
        name = _one_line(cue.name).translate(_VTT_ESCAPES)
        for caption in cue.caption_cues():
            lines = "\n".join(wrap(_one_line(caption.text), LINE_WIDTH)).translate(_VTT_ESCAPES)
            blocks.append(f"{_span(caption, '.')}\n<v {name}>{lines}")
    return "\n\n".join(blocks) + "\n"


def srt(cues: Sequence[Cue], *, width: int = LINE_WIDTH) -> str:
    """An SRT file: each turn's caption cues, numbered, wrapped to `width` columns.

    `Name: ` leads the first cue and every change of speaker.
    """
    blocks = []
    previous = None
    for cue in cues:
        for caption in cue.caption_cues():
            text = _one_line(caption.text)
            if cue.speaker != previous:
                text = f"{_one_line(cue.name)}: {text}"
            previous = cue.speaker
            lines = "\n".join(wrap(text, width))
            blocks.append(f"{len(blocks) + 1}\n{_span(caption, ',')}\n{lines}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def chapters_json(chapters: Sequence[Chapter], *, title: str | None = None) -> str:
    """Podcasting 2.0 JSON chapters, ascending by start time (to the millisecond)."""
    doc: dict[str, object] = {"version": _CHAPTERS_VERSION}
    if title:
        doc["title"] = title
    ordered = sorted(chapters, key=lambda c: c.start_s)
    doc["chapters"] = [
        {"startTime": milliseconds(c.start_s) / 1000, "title": c.title} for c in ordered
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def transcript_json(cues: Sequence[Cue]) -> str:
    """A Podcasting 2.0 JSON transcript: one segment per caption cue, times in seconds (to
    the ms)."""
    segments = [
        {"speaker": cue.name, "startTime": milliseconds(c.start_s) / 1000,
         "endTime": milliseconds(max(c.start_s, c.end_s)) / 1000, "body": _one_line(c.text)}
        for cue in cues for c in cue.caption_cues()
    ]
    doc = {"version": _TRANSCRIPT_VERSION, "segments": segments}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def transcript_text(cues: Sequence[Cue]) -> str:
    """The plain transcript for the USLT tag: one `Name: text` line per turn."""
    return "\n".join(f"{_one_line(cue.name)}: {_one_line(cue.text)}" for cue in cues)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by `columns`; CJK text may break between any two characters."""
    lines: list[str] = []
    line = ""
    for spaced, token in _tokens(text, width):
        candidate = f"{line} {token}" if line and spaced else line + token
        if line and columns(candidate) > width:
            lines.append(line)
            candidate = token
        line = candidate
    return [*lines, line] if line else lines


def _tokens(text: str, width: int) -> Iterator[tuple[bool, str]]:
    """Breakable pieces of `text`, each flagged when a space preceded it."""
    for match in re.finditer(r"(\s*)(\S+)", text):
        spaced = bool(match.group(1))
        for piece in _split_word(match.group(2), width):
            yield spaced, piece
            spaced = False


def _split_word(word: str, width: int) -> list[str]:
    """A word as pieces: each CJK character alone, other runs cut only when wider than a line.

    Closing punctuation sticks to the piece before it, so no line starts with `。` or `,`.
    """
    pieces: list[str] = []
    run = ""
    for char in word:
        if not run and pieces and unicodedata.category(char) in _CLOSING:
            pieces[-1] += char
        elif _CJK.match(char):
            pieces += [run, char] if run else [char]
            run = ""
        elif run and columns(run + char) > width:
            pieces.append(run)
            run = char
        else:
            run += char
    return [*pieces, run] if run else pieces


def columns(text: str) -> float:
    """A caption line's width: wide and full-width characters take LINE_WIDTH /
    CJK_LINE_CHARS columns each, so a line holds 42 Latin or 16 Chinese characters."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return len(text) - wide + wide * LINE_WIDTH / CJK_LINE_CHARS


def is_cjk(char: str) -> bool:
    """A character of a script whose lines may break anywhere (Han, kana, Hangul)."""
    return bool(_CJK.match(char))


def _one_line(text: str) -> str:
    """Whitespace collapsed to single spaces: a blank line would end a cue early."""
    return " ".join(text.split())


def _span(cue: Caption | Cue, sep: str) -> str:
    """The cue timing line; the end never precedes the start after rounding."""
    end = max(cue.start_s, cue.end_s)
    return f"{timestamp(cue.start_s, sep)} --> {timestamp(end, sep)}"
