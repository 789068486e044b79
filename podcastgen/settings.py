"""The `production`, `output` and `feed` sections of an episode: frozen records and their checks.

Kept apart from episode.py (the script and its speakers) because these sections describe how
an episode is produced and delivered, and grow with every output the project learns to write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import Checker, describe
from .source import KeyPath

FORMATS = ("mp3", "m4a", "opus", "flac", "wav")
TRANSCRIPTS = ("vtt", "srt", "json")
MUSIC_KEYS = ("file", "gain", "fade_in", "fade_out", "crossfade")
BED_KEYS = ("file", "level", "duck", "gain", "fade_in", "fade_out", "attack", "release")
FEED_KEYS = ("description", "author", "email", "copyright", "type", "image", "guid",
             "episode_type")
OUTPUT_KEYS = ("formats", "bitrate", "sample_rate", "channels", "transcript", "chapters",
               "show_notes")
PRODUCTION_KEYS = ("gap", "loudness", "true_peak", "intro", "outro", "bed")
BITRATE = re.compile(r"(\d{2,3})k\Z")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
MAX_FADE_S = 30.0
GAIN_DB = (-40.0, 20.0)  # the range of every `gain:` (intro, outro, bed, sound)


@dataclass(frozen=True)
class Music:
    """An intro or outro: levelled like a sound, then `gain` dB, faded, maybe overlapping speech."""

    path: Path
    where: str  # path:line of the key that named it
    gain: float = 0.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    crossfade: float = 0.0  # seconds the music overlaps the speech next to it


@dataclass(frozen=True)
class Bed:
    """A music bed under the script: looped, at `level` LUFS in gaps, `duck` dB under speech."""

    path: Path
    where: str
    level: float = -24.0
    duck: float = 12.0
    gain: float = 0.0
    fade_in: float = 2.0
    fade_out: float = 3.0
    attack: float = 0.25  # seconds to duck, finishing as the voice starts
    release: float = 0.6  # seconds to come back after the voice ends


@dataclass(frozen=True)
class Production:
    gap: float = 0.35
    loudness: float = -16.0
    true_peak: float = -1.0
    intro: Music | None = None
    outro: Music | None = None
    bed: Bed | None = None


@dataclass(frozen=True)
class Output:
    formats: tuple[str, ...] = ("mp3",)
    bitrate: str = "128k"
    sample_rate: int = 44100
    channels: int = 1
    transcript: tuple[str, ...] = ("vtt", "srt", "json")
    chapters: bool = True
    show_notes: bool = True  # <stem>.md and the episode page <stem>.html
    notes_template: Path | None = None  # Markdown show notes (Jinja2); None: the built-in one
    page_template: Path | None = None  # the HTML episode page (Jinja2); None: the built-in one


@dataclass(frozen=True)
class Feed:
    """What the RSS feed says beyond the episode's own fields (usually set once in show.yaml)."""

    description: str = ""  # the show's description; episodes keep `description` for themselves
    author: str | None = None
    email: str | None = None
    copyright: str | None = None
    type: str = "episodic"
    image: Path | None = None  # channel artwork; default: the cover
    guid: str | None = None  # pins an episode's guid; default: derived from show and file name
    episode_type: str = "full"


def _num(ck: Checker, key: KeyPath, value: Any, lo: float, hi: float) -> float:
    checked = ck.number(key, value, lo, hi)
    return float(checked) if checked is not None else 0.0


def production(ck: Checker, value: Any) -> Production:
    key: KeyPath = ("production",)
    data = ck.mapping(key, value, PRODUCTION_KEYS) or {}
    return Production(
        gap=_num(ck, key + ("gap",), data.get("gap", 0.35), 0.0, 10.0),
        loudness=_num(ck, key + ("loudness",), data.get("loudness", -16.0), -40.0, -5.0),
        true_peak=_num(ck, key + ("true_peak",), data.get("true_peak", -1.0), -9.0, 0.0),
        intro=music(ck, key + ("intro",), data["intro"]) if "intro" in data else None,
        outro=music(ck, key + ("outro",), data["outro"]) if "outro" in data else None,
        bed=bed(ck, key + ("bed",), data["bed"]) if "bed" in data else None,
    )


def file_and_fields(ck: Checker, key: KeyPath, value: Any,
                    allowed: tuple[str, ...]) -> tuple[Path | None, dict[str, Any]]:
    """An audio file given alone, or a mapping with `file` and the other `allowed` keys."""
    if isinstance(value, str):
        return ck.path(key, value, "audio"), {}
    if not isinstance(value, dict):
        ck.fail(key, f"expected a file or a mapping with file: and {', '.join(allowed[1:])}; "
                f"got {describe(value)}")
        return None, {}
    data = ck.mapping(key, value, allowed, required=("file",)) or {}
    path = ck.path(key + ("file",), data["file"], "audio") if "file" in data else None
    return path, data


def number_field(ck: Checker, key: KeyPath, data: dict[str, Any], name: str, default: float,
                 lo: float, hi: float) -> float:
    """`data[name]` (else `default`) checked to lie in [lo, hi], reported at `key.name`."""
    return _num(ck, key + (name,), data.get(name, default), lo, hi)


def music(ck: Checker, key: KeyPath, value: Any) -> Music | None:
    """`intro:`/`outro:` as a file, or {file, gain, fade_in, fade_out, crossfade}."""
    path, data = file_and_fields(ck, key, value, MUSIC_KEYS)
    fields = {name: number_field(ck, key, data, name, 0.0, 0.0, MAX_FADE_S)
              for name in ("fade_in", "fade_out", "crossfade")}
    gain = number_field(ck, key, data, "gain", 0.0, *GAIN_DB)
    return Music(path, ck.where(key), gain, **fields) if path else None


def bed(ck: Checker, key: KeyPath, value: Any) -> Bed | None:
    """`bed:` as a file, or {file, level, duck, gain, fade_in, fade_out, attack, release}."""
    path, data = file_and_fields(ck, key, value, BED_KEYS)
    d = Bed(Path(), "")
    found = Bed(
        path or Path(), ck.where(key),
        level=number_field(ck, key, data, "level", d.level, -60.0, -10.0),
        duck=number_field(ck, key, data, "duck", d.duck, 0.0, 40.0),
        gain=number_field(ck, key, data, "gain", d.gain, *GAIN_DB),
        fade_in=number_field(ck, key, data, "fade_in", d.fade_in, 0.0, MAX_FADE_S),
        fade_out=number_field(ck, key, data, "fade_out", d.fade_out, 0.0, MAX_FADE_S),
        attack=number_field(ck, key, data, "attack", d.attack, 0.01, 5.0),
        release=number_field(ck, key, data, "release", d.release, 0.01, 5.0),
    )
    return found if path else None


def output(ck: Checker, value: Any) -> Output:
    key: KeyPath = ("output",)
    data = ck.mapping(key, value, OUTPUT_KEYS) or {}
    formats = choices(ck, key + ("formats",), data.get("formats", ["mp3"]), FORMATS)
    if data.get("formats") == []:
        ck.fail(key + ("formats",), "name at least one format, e.g. [mp3]")
    bitrate = data.get("bitrate", "128k")
    match = BITRATE.match(bitrate) if isinstance(bitrate, str) else None
    if not match or not 32 <= int(match.group(1)) <= 320:
        ck.fail(key + ("bitrate",), f"expected a bitrate like 128k (32k to 320k), got "
                f"{describe(bitrate)}")
    rate = ck.choice(key + ("sample_rate",), data.get("sample_rate", 44100),
                     (22050, 24000, 32000, 44100, 48000))
    channels = ck.choice(key + ("channels",), data.get("channels", 1), (1, 2))
    transcript = choices(ck, key + ("transcript",),
                         data.get("transcript", list(TRANSCRIPTS)), TRANSCRIPTS)
    chapters = ck.boolean(key + ("chapters",), data.get("chapters", True))
    notes, notes_t, page_t = show_notes(ck, key + ("show_notes",), data.get("show_notes", True))
    return Output(tuple(dict.fromkeys(formats)) or ("mp3",), bitrate if match else "128k",
                  rate or 44100, channels or 1, tuple(dict.fromkeys(transcript)),
                  chapters is not False, notes, notes_t, page_t)


def show_notes(ck: Checker, key: KeyPath,
               value: Any) -> tuple[bool, Path | None, Path | None]:
    """`show_notes:` true/false, or {markdown: template, html: template} to use your own."""
    if isinstance(value, bool):
        return value, None, None
    if not isinstance(value, dict):
        ck.fail(key, f"expected true, false or a mapping with markdown: and html: templates; "
                f"got {describe(value)}")
        return True, None, None
    data = ck.mapping(key, value, ("markdown", "html")) or {}
    found = [ck.path(key + (name,), data[name]) if name in data else None
             for name in ("markdown", "html")]
    return True, found[0], found[1]


def choices(ck: Checker, key: KeyPath, value: Any, options: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list):
        ck.fail(key, f"expected a list such as [{options[0]}], got {describe(value)}")
        return []
    return [v for i, v in enumerate(value) if ck.choice(key + (i,), v, options)]


def feed(ck: Checker, value: Any) -> Feed:
    """The `feed:` section: channel fields and an episode's guid and type."""
    key: KeyPath = ("feed",)
    data = ck.mapping(key, value, FEED_KEYS) or {}

    def text(name: str) -> str | None:
        return ck.text(key + (name,), data[name]) if name in data else None

    email = text("email")
    if email and not EMAIL.match(email.strip()):
        ck.fail(key + ("email",), f"expected an e-mail address like host@example.org, got "
                f"{email!r}")
    kind = ck.choice(key + ("type",), data.get("type", "episodic"), ("episodic", "serial"))
    episode_type = ck.choice(key + ("episode_type",), data.get("episode_type", "full"),
                             ("full", "trailer", "bonus"))
    image = ck.path(key + ("image",), data["image"], "image") if "image" in data else None
    return Feed((text("description") or "").strip(), text("author"), email, text("copyright"),
                kind or "episodic", image, text("guid"), episode_type or "full")
