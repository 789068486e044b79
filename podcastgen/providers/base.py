"""What every synthesis provider declares and receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
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
    # reference clips: (audio file, or an http(s) URL the service fetches itself; transcript)
    references: tuple[tuple[Path | str, str], ...] = ()

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
    # what the service's models take, where the provider lets the config declare it (openai)
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class Pacer:
    """At most `concurrency` requests in flight, and their starts spaced for `rpm` if set:
    hold it (`with pacer:`) for the length of one request. `sleep` waits out the spacing."""

    def __init__(self, config: ProviderConfig, sleep: Callable[[float], None] = time.sleep):
        self.slots = threading.BoundedSemaphore(max(1, config.concurrency))
        self.interval = 60.0 / config.rpm if config.rpm else 0.0
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_start = 0.0

    def __enter__(self) -> None:
        self.slots.acquire()
        if self.interval:
            with self.lock:
                now = time.monotonic()
                start = max(now, self.next_start)
                self.next_start = start + self.interval
            if start > now:
                self.sleep(start - now)

    def __exit__(self, *exc: object) -> None:
        self.slots.release()


class Provider:
    """A synthesis backend. Subclasses set the class attributes and implement synthesize().

    synthesize() is called from several threads at once and must be thread-safe. The check_*
    class methods let validation refuse, at the episode's line, anything this provider cannot
    honour, before any request is sent; `config` is the provider's resolved settings (files
    only), for providers whose config declares what the service offers.
    """

    name: ClassVar[str]
    needs_voice: ClassVar[bool] = True
    default_model: ClassVar[str | None] = None
    models: ClassVar[tuple[str, ...]] = ()  # the models it knows; empty: no model choice
    turn_fields: ClassVar[frozenset[str]] = frozenset({"speed"})  # per-turn fields it honours
    speed_range: ClassVar[tuple[float, float]] = (0.25, 4.0)
    max_chars: ClassVar[int | None] = None  # longest input one request takes
    max_bytes: ClassVar[int | None] = None  # the same limit in UTF-8 bytes, where it is bytes
    can_clone: ClassVar[bool] = False  # can make a voice from a reference clip
    reference_urls: ClassVar[bool] = False  # takes a reference clip by http(s) URL
    config_keys: ClassVar[tuple[str, ...]] = ()  # keys of its own in a `providers:` entry

    def __init__(self, config: ProviderConfig | None = None):
        self.config = config or ProviderConfig(self.name)
        self.pacer = Pacer(self.config, self.pause)

    def pause(self, seconds: float) -> None:
        """How the pacer waits to space requests for `rpm`."""
        time.sleep(seconds)

    def job_slot(self) -> Any:
        """What one job holds while it is synthesized: the pacer, for a provider that answers
        a job in one call. HTTP providers pace each request instead (retries, the parts of a
        split turn and voice uploads each count), and hold nothing for the job as a whole."""
        return self.pacer

    @classmethod
    def limits(cls, model: str | None, speed: float = 1.0,
               options: Mapping[str, Any] | None = None) -> tuple[int | None, int | None]:
        """(max characters, max UTF-8 bytes) of one request's text for `model`, spoken at
        `speed` with the speaker's `options` (which may shape the limit)."""
        return cls.max_chars, cls.max_bytes

    @classmethod
    def check_config(cls, ck: Any, key: tuple[Any, ...], name: str, value: Any) -> Any:
        """One of `config_keys` in a `providers:` entry, validated with the schema's Checker;
        returns the value the config keeps."""
        raise NotImplementedError

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any],
                   config: ProviderConfig | None = None) -> list[tuple[str, str]]:
        """(field, message) for each of a turn's emotion/instruction/speed it cannot honour."""
        problems = [(f, f"the {cls.name} provider does not support {f}; remove it or choose a "
                     "provider that does") for f in fields if f not in cls.turn_fields]
        speed = fields.get("speed")
        if "speed" in cls.turn_fields and speed is not None and cls.speed_problem(speed):
            problems.append(("speed", cls.speed_problem(speed) or ""))
        return problems

    @classmethod
    def turn_warnings(cls, model: str | None, options: Mapping[str, Any], text: str,
                      speed: float) -> list[str]:
        """What `check` should warn about in a turn sent to this provider and model that
        validation cannot call wrong: text the service treats as something other than words
        to say, a speed only some of its voices take."""
        return []

    def preflight(self, jobs: list[Job]) -> None:
        """Before the first paid request: refuse (InputError, one `path:line` line each) what
        only the service's free lists can tell is wrong with these jobs."""

    @classmethod
    def speed_problem(cls, speed: float) -> str | None:
        lo, hi = cls.speed_range
        if lo <= speed <= hi:
            return None
        return f"{cls.name} speaks at speeds from {lo:g} to {hi:g}, got {speed:g}"

    @classmethod
    def check_speaker(cls, model: str | None, voice: str | None, reference: bool,
                      options: dict[str, Any], config: ProviderConfig | None = None
                      ) -> list[tuple[tuple[str, ...], str]]:
        """(key under the speaker, message) for each setting this provider cannot honour."""
        return []

    def voices(self) -> dict[str, str]:
        """Voice id -> one-line description."""
        raise NotImplementedError

    def wire(self, job: Job) -> str:
        """What else shapes this job's audio besides the job itself (request format, sample
        rate, engine version): part of the segment cache key."""
        return ""

    def synthesize(self, job: Job) -> Audio:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called when a build is done with the provider."""
