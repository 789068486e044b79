"""Run synthesis jobs through their providers, keeping every clip in job order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import ProviderError
from .providers import Audio, Job, ProviderConfig, get


@dataclass
class SynthStats:
    sent: int = 0
    retried: int = 0
    cached: int = 0


def synthesize(jobs: tuple[Job, ...], stats: SynthStats,
               progress: Callable[[int, int], None] | None = None,
               configs: Mapping[str, ProviderConfig] | None = None) -> list[Audio]:
    """Synthesize every job; a provider failure names the turn that failed."""
    configs = configs or {}
    providers = {name: get(name, configs.get(name)) for name in {j.provider for j in jobs}}
    clips: list[Audio] = []
    for job in jobs:
        try:
            clips.append(providers[job.provider].synthesize(job))
        except ProviderError:
            raise
        except Exception as exc:  # a provider's own failure, translated at this boundary
            raise ProviderError(f"{job.provider} could not synthesize this turn: {exc}",
                                where=job.where) from None
        stats.sent += 1  # segments paid for; extra attempts are counted as retried
        stats.retried += clips[-1].attempts - 1
        if progress:
            progress(len(clips), len(jobs))
    return clips
