"""What every synthesis provider declares and receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Job:
    """One synthesis request: a turn, a chunk of a long turn, or a dialogue block of turns."""

    index: int  # position among the build's jobs
    turns: tuple[int, ...]  # script indexes it voices (several for a dialogue block)
    speaker: str  # speaker id ("alex+anna" for a dialogue block)
    text: str  # exactly what is sent (a dialogue block: "[S1]...[S2]...")
    provider: str
    voice: str
    model: str | None = None
    speed: float = 1.0
    options: tuple[tuple[str, Any], ...] = ()
    where: str = ""  # "path:line" of the (first) turn, for error messages
    emotion: str | None = None
    instruction: str | None = None
    parts: tuple[str, ...] = ()  # dialogue block: each turn's text in order, for alignment
    references: tuple[tuple[Path, str], ...] = ()  # reference clips (audio file, transcript)

    @property
    def turn(self) -> int:
        return self.turns[0]


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` (which may be any positive rate)."""

    samples: np.ndarray
    sample_rate: int
    warnings: tuple[str, ...] = field(default=())
    attempts: int = 1  # requests it took, retries included
    cached: bool = False  # came from the segment cache: nothing was sent

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach and pace one provider: files (podcastgen.yaml, the episode's `providers:`)
    give defaults, the environment wins. The key is never logged, cached or reported."""

    name: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 4  # requests in flight at once
    rpm: int | None = None  # requests per minute, when the account is limited
    timeout: float = 120.0  # seconds per request
    max_retries: int = 6
    price_per_char: float | None = None  # for --dry-run cost estimates
    price_per_request: float | None = None


class Provider:
    """A synthesis backend. Subclasses set the class attributes and implement synthesize().

    synthesize() is called from several threads at once and must be thread-safe.
    """

    name: ClassVar[str]
    needs_voice: ClassVar[bool] = True
    default_model: ClassVar[str | None] = None
    turn_fields: ClassVar[frozenset[str]] = frozenset({"speed"})  # per-turn fields it honours

    def __init__(self, config: ProviderConfig | None = None):
        self.config = config or ProviderConfig(self.name)

    def voices(self) -> dict[str, str]:
        """Voice id -> one-line description."""
        raise NotImplementedError

    def wire(self, job: Job) -> str:
        """What else shapes this job's audio besides the job itself (request format, sample
        rate, engine version): part of the segment cache key."""
        return ""

    def synthesize(self, job: Job) -> Audio:
        raise NotImplementedError
