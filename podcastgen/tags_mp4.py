"""MP4 atoms for the M4A delivery, and the FFMETADATA text its chapters are written from.

mutagen writes the iTunes atoms (`©nam`, `©ART`, `©alb`, `trkn`, `covr`, `stik` = 21 for a
podcast, ...) but cannot write MP4 chapters (mutagen #295), so ffmpeg writes those while
encoding, from `ffmetadata()`; mutagen then rewrites only the `ilst` atom and keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

from .model import Chapter, Loudness, Meta
from .publish import chapter_spans
from .tags import cover_mime, extras

PODCAST = 21  # the `stik` media kind Apple's apps file as a podcast episode
_SHORT = 255  # `desc` holds a short description; `ldes` the whole of it
_FREEFORM = "----:com.apple.iTunes:"


def write_m4a_tags(path: Path, meta: Meta, chapters: Sequence[Chapter], *, duration_s: float,
                   transcript: str, loudness: Loudness, build_hash: str) -> None:
    """Replace the M4A file's iTunes atoms with the episode's; ffmpeg's chapters stay."""
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.clear()
    audio.tags.update(_atoms(meta, transcript))
    if meta.cover is not None:
        data, mime = cover_mime(meta.cover)
        kind = MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG
        audio.tags["covr"] = [MP4Cover(data, imageformat=kind)]
    for name, value in extras(loudness, build_hash).items():
        audio.tags[_FREEFORM + name] = [MP4FreeForm(value.encode())]
    audio.save()


def _atoms(meta: Meta, transcript: str) -> dict[str, list]:
    """Every text and number atom whose value is set."""
    atoms: dict[str, list] = {
        "©nam": [meta.title], "©alb": [meta.show], "©ART": [", ".join(meta.authors)],
        "©gen": [meta.genre], "stik": [PODCAST], "pcst": True,
    }
    if meta.number is not None:
        atoms["trkn"] = [(meta.number, 0)]
    if meta.season is not None:
        atoms["disk"] = [(meta.season, 0)]
    if meta.date:
        atoms["©day"] = [meta.date]
    if meta.description:
        atoms["desc"] = [meta.description[:_SHORT]]
        atoms["ldes"] = [meta.description]
        atoms["©cmt"] = [meta.description]
    if transcript:
        atoms["©lyr"] = [transcript]
    return {name: value for name, value in atoms.items() if value != [""]}


def ffmetadata(chapters: Sequence[Chapter], duration_s: float) -> str:
    """An FFMETADATA1 file holding the chapters in time order (ms), each ending at the next."""
    lines = [";FFMETADATA1"]
    for chapter, start, end in chapter_spans(chapters, duration_s):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={end}",
                  f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """FFMETADATA escaping: `=`, `;`, `#`, backslash and newline take a backslash."""
    for char in "\\=;#\n":
        text = text.replace(char, "\\" + char)
    return text
