"""Vorbis comments for the Opus and FLAC deliveries: text fields, the cover and chapters.

Chapters follow the Vorbis chapter extension, `CHAPTER001=00:00:00.000` then
`CHAPTER001NAME=Title`, in that order (ffmpeg pairs a NAME with the time written before it).
The cover is a FLAC picture block: native in FLAC, base64 in METADATA_BLOCK_PICTURE for Opus.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from mutagen.flac import FLAC, Picture
from mutagen.oggopus import OggOpus

from .model import Chapter, Loudness, Meta
from .publish import timestamp
from .tags import cover_mime, extras

FRONT_COVER = 3


def comments(meta: Meta, chapters: Sequence[Chapter], transcript: str, loudness: Loudness,
             build_hash: str) -> list[tuple[str, str]]:
    """The episode as ordered (FIELD, value) pairs; unset fields are left out."""
    pairs = [
        ("TITLE", meta.title), ("ALBUM", meta.show), ("ARTIST", ", ".join(meta.authors)),
        ("TRACKNUMBER", "" if meta.number is None else str(meta.number)),
        ("DISCNUMBER", "" if meta.season is None else str(meta.season)),
        ("DATE", meta.date or ""), ("GENRE", meta.genre), ("LANGUAGE", meta.language),
        ("DESCRIPTION", meta.description), ("LYRICS", transcript),
        *extras(loudness, build_hash).items(),
    ]
    ordered = sorted(chapters, key=lambda c: c.start_s)
    for number, chapter in enumerate(ordered, start=1):
        pairs += [(f"CHAPTER{number:03d}", timestamp(chapter.start_s)),
                  (f"CHAPTER{number:03d}NAME", chapter.title)]
    return [(field, value) for field, value in pairs if value]


def picture(cover: Path) -> Picture:
    """The cover as a FLAC picture block (front cover)."""
    data, mime = cover_mime(cover)
    pic = Picture()
    pic.type, pic.mime, pic.data = FRONT_COVER, mime, data
    return pic


def write_opus_tags(path: Path, meta: Meta, chapters: Sequence[Chapter], *, duration_s: float,
                    transcript: str, loudness: Loudness, build_hash: str) -> None:
    """Replace the Ogg Opus file's comments with the episode's; the cover goes in base64."""
    audio = OggOpus(path)
    audio.tags.clear()
    audio.tags.extend(comments(meta, chapters, transcript, loudness, build_hash))
    if meta.cover is not None:
        block = base64.b64encode(picture(meta.cover).write()).decode("ascii")
        audio.tags.append(("METADATA_BLOCK_PICTURE", block))
    audio.save()


def write_flac_tags(path: Path, meta: Meta, chapters: Sequence[Chapter], *, duration_s: float,
                    transcript: str, loudness: Loudness, build_hash: str) -> None:
    """Replace the FLAC file's comments and pictures with the episode's."""
    audio = FLAC(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.clear()
    audio.tags.extend(comments(meta, chapters, transcript, loudness, build_hash))
    audio.clear_pictures()
    if meta.cover is not None:
        audio.add_picture(picture(meta.cover))
    audio.save()
