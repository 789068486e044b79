"""Text splitting for providers with an input limit: a long turn is cut at sentence ends
(Chinese and English punctuation), else at clause punctuation, else at spaces, so that each
piece fits in characters and in UTF-8 bytes. The pieces, read in order, are the whole text."""

from __future__ import annotations

import re
from collections.abc import Callable

CLOSERS = "\"'”’」』）)\\]"  # may follow a sentence's final mark
SENTENCE_MARKS = "。！？!?…"  # end a sentence wherever they are (a full stop only before a space)
CLAUSE_MARKS = "，,；;：:、—–"
SENTENCE_END = re.compile(rf"(?:[{SENTENCE_MARKS}]+|\.+(?=\s|$))[{CLOSERS}]*\s*")
CLAUSE_END = re.compile(rf"[{CLAUSE_MARKS}]+\s*")
SPACE = re.compile(r"\s+")
LEVELS = (SENTENCE_END, CLAUSE_END, SPACE)

Fits = Callable[[str], bool]


def split_text(text: str, max_chars: int | None = None,
               max_bytes: int | None = None) -> list[str]:
    """`text` as few pieces as possible, each within `max_chars` and `max_bytes`."""
    def fits(s: str) -> bool:
        return ((max_chars is None or len(s) <= max_chars)
                and (max_bytes is None or len(s.encode("utf-8")) <= max_bytes))

    pieces = (p.strip() for p in _split(text, fits, LEVELS))
    return [p for p in pieces if p]


def _pieces(text: str, boundary: re.Pattern[str]) -> list[str]:
    """`text` cut after each boundary match; the pieces concatenate back to `text`."""
    out, start = [], 0
    for match in boundary.finditer(text):
        if match.end() > start:
            out.append(text[start:match.end()])
            start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _split(text: str, fits: Fits, levels: tuple[re.Pattern[str], ...]) -> list[str]:
    """Greedy packing of the pieces at this level; a piece too long goes one level finer."""
    if fits(text.strip()):
        return [text]
    if not levels:
        return _hard(text, fits)
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, levels[0]):
        if fits((current + piece).strip()):
            current += piece
            continue
        if current:
            chunks.append(current)
        current = ""
        if fits(piece.strip()):
            current = piece
        else:
            chunks.extend(_split(piece, fits, levels[1:]))
    if current:
        chunks.append(current)
    return chunks


def _hard(text: str, fits: Fits) -> list[str]:
    """Last resort for a run with no break at all: cut by characters."""
    chunks, current = [], ""
    for ch in text:
        if current and not fits(current + ch):
            chunks.append(current)
            current = ""
        current += ch
    return chunks + [current] if current else chunks
