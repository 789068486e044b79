"""Tags and chapters for every delivered format; every mutagen call stays behind this module
and its two siblings (tags_mp4 for M4A, tags_vorbis for Opus and FLAC).

MP3 and WAV carry the same ID3v2.3 tag (WAV in its `id3 ` chunk, which ffmpeg and most
players read): title, show, artist, number, season, date, genre, description, transcript,
duration, cover, loudness figures, build hash and chapters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    PRIV,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLEN,
    TPE1,
    TPOS,
    TRCK,
    TXXX,
    USLT,
    CTOCFlags,
    Encoding,
    Frame,
    PictureType,
)

# Private in mutagen, but the only way to measure a frame exactly as `ID3.save` will write it.
from mutagen.id3._tags import ID3SaveConfig, save_frame
from mutagen.wave import WAVE

from .errors import DISK_ERRNOS, AudioError
from .model import Chapter, Loudness, Meta
from .publish import chapter_spans, milliseconds  # the sidecars' rounding, so times agree

_V23 = ID3SaveConfig(3, "/")
_PAD_OWNER = "podcastgen:pad"
_LANGUAGES = {"en": "eng", "zh": "zho"}
_COVER_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
_UTF8 = Encoding.UTF8  # mutagen re-encodes as UTF-16 when saving v2.3


def write_tags(path: Path, fmt: str, meta: Meta, chapters: Sequence[Chapter], *,
               duration_s: float, transcript: str, loudness: Loudness, build_hash: str) -> None:
    """Tag a freshly encoded `fmt` file (mp3, m4a, opus, flac or wav) in place; whatever goes
    wrong (a missing file, a cover that is neither PNG nor JPEG, mutagen refusing the file) is
    an AudioError naming the file."""
    from . import tags_mp4, tags_vorbis  # they use this module's helpers

    writers = {"mp3": write_mp3_tags, "wav": write_wav_tags, "m4a": tags_mp4.write_m4a_tags,
               "opus": tags_vorbis.write_opus_tags, "flac": tags_vorbis.write_flac_tags}
    try:
        writers[fmt](path, meta, chapters, duration_s=duration_s, transcript=transcript,
                     loudness=loudness, build_hash=build_hash)
    except (MutagenError, OSError, ValueError) as exc:
        disk = exc if isinstance(exc, OSError) else exc.__context__
        if isinstance(disk, OSError) and disk.errno in DISK_ERRNOS:
            raise OSError(disk.errno, disk.strerror, str(path)) from None  # `path: reason`
        raise AudioError(f"tagging {Path(path).name}: {exc}") from exc


def write_mp3_tags(
    path: Path,
    meta: Meta,
    chapters: Sequence[Chapter],
    *,
    duration_s: float,
    transcript: str,
    loudness: Loudness,
    build_hash: str,
) -> None:
    """Replace any tag on the MP3 at `path` with an ID3v2.3 tag describing the episode."""
    tags = ID3()
    _fill(tags, meta, chapters, duration_s, transcript, loudness, build_hash)
    with open(path, "r+b") as mp3:  # an existing file only: never create one
        tags.save(mp3, v2_version=3, v1=0)


def write_wav_tags(path: Path, meta: Meta, chapters: Sequence[Chapter], *, duration_s: float,
                   transcript: str, loudness: Loudness, build_hash: str) -> None:
    """The MP3's ID3v2.3 tag, written into the WAV file's `id3 ` chunk."""
    wave = WAVE(path)
    if wave.tags is None:
        wave.add_tags()
    _fill(wave.tags, meta, chapters, duration_s, transcript, loudness, build_hash)
    wave.save(v2_version=3)


def _fill(tags: ID3, meta: Meta, chapters: Sequence[Chapter], duration_s: float,
          transcript: str, loudness: Loudness, build_hash: str) -> None:
    """Put every episode frame, the cover and the chapters into `tags`, ready for v2.3."""
    tags.clear()
    for frame in _episode_frames(meta, duration_s, transcript, loudness, build_hash):
        tags.add(frame)
    if meta.cover is not None:
        tags.add(_cover_frame(meta.cover))
    for frame in _chapter_frames(chapters, duration_s):
        tags.add(frame)
    tags.update_to_v23()
    _equalize_chapter_sizes(tags.getall("CHAP"))


def _episode_frames(
    meta: Meta, duration_s: float, transcript: str, loudness: Loudness, build_hash: str
) -> Iterator[Frame]:
    """Every non-chapter, non-picture frame whose value is set."""
    lang = language_code(meta.language)
    texts = [
        (TIT2, meta.title),
        (TPE1, ", ".join(meta.authors)),
        (TALB, meta.show),
        (TRCK, None if meta.number is None else str(meta.number)),
        (TPOS, None if meta.season is None else str(meta.season)),
        (TDRC, meta.date),
        (TCON, meta.genre),
        (TLEN, str(milliseconds(duration_s))),
    ]
    for kind, value in texts:
        if value:
            yield kind(encoding=_UTF8, text=[value])
    if meta.description:
        yield COMM(encoding=_UTF8, lang=lang, desc="", text=[meta.description])
    if transcript:
        yield USLT(encoding=_UTF8, lang=lang, desc="", text=transcript)
    for desc, value in extras(loudness, build_hash).items():
        yield TXXX(encoding=_UTF8, desc=desc, text=[value])


def extras(loudness: Loudness, build_hash: str) -> dict[str, str]:
    """The measured figures and build hash, as every format's custom text fields carry them."""
    found = {
        "LOUDNESS_LUFS": f"{loudness.integrated_lufs:.1f}",
        "TRUE_PEAK_DBTP": f"{loudness.true_peak_dbtp:.1f}",
        "PODCASTGEN_BUILD": build_hash,
    }
    return {name: value for name, value in found.items() if value}


def language_code(language: str) -> str:
    """The ISO 639-2 code COMM/USLT frames need, from a tag like `en` or `zh-CN`."""
    primary = language.replace("_", "-").split("-")[0].lower()
    return _LANGUAGES.get(primary, "eng")


def cover_mime(cover: Path) -> tuple[bytes, str]:
    """The cover's bytes and MIME type, taken from the file's magic bytes (PNG or JPEG)."""
    data = Path(cover).read_bytes()
    for magic, mime in _COVER_TYPES:
        if data.startswith(magic):
            return data, mime
    raise ValueError(f"cover {Path(cover).name} is neither PNG nor JPEG")


def _cover_frame(cover: Path) -> APIC:
    """The front-cover picture."""
    data, mime = cover_mime(cover)
    return APIC(encoding=_UTF8, mime=mime, type=PictureType.COVER_FRONT, desc="", data=data)


def _chapter_frames(chapters: Sequence[Chapter], duration_s: float) -> list[Frame]:
    """One CHAP per chapter in time order (each ends where the next starts) and a top-level CTOC."""
    if not chapters:
        return []
    spans = chapter_spans(chapters, duration_s)
    width = max(3, len(str(len(spans) - 1)))  # equal widths keep string order = time order
    ids = [f"chp{i:0{width}d}" for i in range(len(spans))]
    frames: list[Frame] = [
        CHAP(element_id=element_id, start_time=start, end_time=end,
             sub_frames=[TIT2(encoding=_UTF8, text=[chapter.title])])
        for element_id, (chapter, start, end) in zip(ids, spans)
    ]
    flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    frames.append(CTOC(element_id="toc", flags=flags, child_element_ids=ids, sub_frames=[]))
    return frames


def _equalize_chapter_sizes(chaps: Sequence[CHAP]) -> None:
    """Pad every CHAP with a PRIV sub-frame to one serialized length.

    mutagen writes frames ordered by size, then HashKey (mutagen #506) and ffmpeg lists chapters
    in file order; with equal sizes the element ids (`CHAP:chp000`, ...) decide, i.e. time order.
    """
    sizes = [len(save_frame(chap, config=_V23)) for chap in chaps]
    target = max(sizes, default=0)
    for chap, size in zip(chaps, sizes):
        chap.sub_frames.add(PRIV(owner=_PAD_OWNER, data=bytes(target - size)))
    padded = {len(save_frame(chap, config=_V23)) for chap in chaps}
    if len(padded) > 1:
        raise ValueError(f"chapter frames still differ in size after padding: {sorted(padded)}")

