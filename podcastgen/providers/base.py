"""What every synthesis provider declares and receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Job:
    """One synthesis request: a turn (or a chunk of one) for one provider and voice."""

    index: int  # position among the build's jobs
    turn: int  # index of the script item it voices
    speaker: str
    text: str
    provider: str
    voice: str
    model: str | None = None
    speed: float = 1.0
    options: tuple[tuple[str, Any], ...] = ()
    where: str = ""  # "path:line" of the turn, for error messages


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` (which may be any positive rate)."""

    samples: np.ndarray
    sample_rate: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class Provider:
    """A synthesis backend. Subclasses set the class attributes and implement synthesize()."""

    name: ClassVar[str]
    needs_voice: ClassVar[bool] = True
    default_model: ClassVar[str | None] = None
    turn_fields: ClassVar[frozenset[str]] = frozenset({"speed"})  # per-turn fields it honours

    def voices(self) -> dict[str, str]:
        """Voice id -> one-line description."""
        raise NotImplementedError

    def synthesize(self, job: Job) -> Audio:
        raise NotImplementedError
