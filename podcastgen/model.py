"""Small frozen records passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Meta:
    """What the tags, sidecars and feed say about an episode."""

    title: str
    show: str
    number: int | None = None
    season: int | None = None
    date: str | None = None  # ISO 8601 date, YYYY-MM-DD
    language: str = "en"
    authors: tuple[str, ...] = ()
    description: str = ""
    cover: Path | None = None
    explicit: bool = False
    category: str | None = None
    website: str | None = None
    genre: str = "Podcast"


@dataclass(frozen=True)
class Chapter:
    title: str
    start_s: float


@dataclass(frozen=True)
class Caption:
    """A piece of a turn short enough to read while it is spoken, on the episode's timeline."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Cue:
    """One spoken turn placed on the finished episode's timeline."""

    index: int
    speaker: str  # speaker id
    name: str  # speaker's display name
    text: str
    start_s: float
    end_s: float
    provider: str = "local"
    cached: bool = False
    captions: tuple[Caption, ...] = ()  # the turn as caption cues, timed from its audio

    def caption_cues(self) -> tuple[Caption, ...]:
        """The captions, or the whole turn as one where none were made."""
        return self.captions or (Caption(self.text, self.start_s, self.end_s),)


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class Placed:
    """The assembled timeline: cues and chapters in seconds from the start of the audio."""

    cues: tuple[Cue, ...] = ()
    chapters: tuple[Chapter, ...] = field(default_factory=tuple)
    duration_s: float = 0.0
    warnings: tuple[str, ...] = ()  # what the audio itself showed (path:line: key: warning: ...)
