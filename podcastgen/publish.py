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

from .model import Chapter, Cue

SRT_WIDTH = 42
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
    """A WebVTT file: one cue per turn, the speaker as a `<v Name>` voice span."""
    blocks = ["WEBVTT"]
    for cue in cues:
        name = _one_line(cue.name).translate(_VTT_ESCAPES)
        text = _one_line(cue.text).translate(_VTT_ESCAPES)
        blocks.append(f"{_span(cue, '.')}\n<v {name}>{text}")
    return "\n\n".join(blocks) + "\n"


def srt(cues: Sequence[Cue], *, width: int = SRT_WIDTH) -> str:
    """An SRT file: one numbered cue per turn, wrapped to `width` columns.

    `Name: ` leads the first cue and every change of speaker.
    """
    blocks = []
    previous = None
    for number, cue in enumerate(cues, start=1):
        text = _one_line(cue.text)
        if cue.speaker != previous:
            text = f"{cue.name}: {text}"
        previous = cue.speaker
        lines = "\n".join(wrap(text, width))
        blocks.append(f"{number}\n{_span(cue, ',')}\n{lines}")
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
    """A Podcasting 2.0 JSON transcript: one segment per turn, times in seconds (to the ms)."""
    segments = [
        {"speaker": cue.name, "startTime": milliseconds(cue.start_s) / 1000,
         "endTime": milliseconds(max(cue.start_s, cue.end_s)) / 1000, "body": _one_line(cue.text)}
        for cue in cues
    ]
    doc = {"version": _TRANSCRIPT_VERSION, "segments": segments}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def transcript_text(cues: Sequence[Cue]) -> str:
    """The plain transcript for the USLT tag: one `Name: text` line per turn."""
    return "\n".join(f"{_one_line(cue.name)}: {_one_line(cue.text)}" for cue in cues)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by display columns; CJK text may break between any two characters."""
    lines: list[str] = []
    line = ""
    for spaced, token in _tokens(text, width):
        candidate = f"{line} {token}" if line and spaced else line + token
        if line and _columns(candidate) > width:
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
        elif run and _columns(run + char) > width:
            pieces.append(run)
            run = char
        else:
            run += char
    return [*pieces, run] if run else pieces


def _columns(text: str) -> int:
    """Display width: wide and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _one_line(text: str) -> str:
    """Whitespace collapsed to single spaces: a blank line would end a cue early."""
    return " ".join(text.split())


def _span(cue: Cue, sep: str) -> str:
    """The cue timing line; the end never precedes the start after rounding."""
    end = max(cue.start_s, cue.end_s)
    return f"{timestamp(cue.start_s, sep)} --> {timestamp(end, sep)}"
