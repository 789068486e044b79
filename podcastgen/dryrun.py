"""`--dry-run`: what a build would send, per provider, without sending or writing anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import voices
from .cache import SegmentCache
from .episode import Episode, planned_seconds
from .moss import expected_seconds
from .plan import Plan
from .providers import Job, ProviderConfig
from .publish import clock
from .source import project_root
from .synth import job_keys, providers_for


@dataclass
class Row:
    provider: str
    requests: int = 0  # segments in the plan
    characters: int = 0
    hits: int = 0
    misses: int = 0  # requests a build would send
    seconds: float = 0.0  # expected audio
    cost: float | None = None  # for the misses, when the provider declares prices


def with_recorded_voices(episode: Episode) -> tuple[Episode, list[str]]:
    """The episode with the voices a build would clone for it, read from the project's record
    of uploads (nothing is uploaded), so the plan's cache keys are the build's. Also the
    speakers whose clip has no voice yet: the build uploads it first, and all their segments
    are new."""
    state = voices.load_state(project_root(episode.source))
    speakers = dict(episode.speakers)
    uploads: list[str] = []
    for sid, speaker, model in voices.to_clone(episode):
        known = state.get(voices.state_key(speaker.provider, model, speaker.reference.audio,
                                           speaker.reference.text))
        if known:
            speakers[sid] = replace(speaker, voice=known["voice"])
        else:
            uploads.append(sid)
    return replace(episode, speakers=speakers), uploads


def summarize(episode: Episode, plan: Plan, cache: SegmentCache | None,
              configs: dict[str, ProviderConfig] | None = None) -> list[Row]:
    providers = providers_for(plan.jobs, configs or {})
    keys = job_keys(plan.jobs, providers)
    rows: dict[str, Row] = {}
    for job, key in zip(plan.jobs, keys):
        row = rows.setdefault(job.provider, Row(job.provider))
        hit = cache is not None and cache.intact(key)  # a torn entry is sent again
        row.requests += 1
        row.characters += len(job.text)
        row.hits += hit
        row.misses += not hit
        row.seconds += expected_seconds(job.text, job.speed)
        _add_cost(row, providers[job.provider].config, job, hit)
    return list(rows.values())


def _add_cost(row: Row, config: ProviderConfig, job: Job, hit: bool) -> None:
    """A provider that declares prices costs 0 when everything is cached, not "unknown"."""
    if config.price_per_char is None and config.price_per_request is None:
        return
    cost = (config.price_per_char or 0.0) * len(job.text) + (config.price_per_request or 0.0)
    row.cost = (row.cost or 0.0) + (0.0 if hit else cost)


def render(episode: Episode, rows: list[Row], uploads: Sequence[str] = ()) -> str:
    head = f"{'provider':<12} {'requests':>8} {'chars':>8} {'cached':>7} {'to send':>8} " \
           f"{'audio':>8} {'cost':>9}"
    lines = [f"plan for {episode.stem}: nothing is sent", head]
    for r in rows:
        cost = f"{r.cost:.4f}" if r.cost is not None else "-"
        lines.append(f"{r.provider:<12} {r.requests:>8} {r.characters:>8} {r.hits:>7} "
                     f"{r.misses:>8} {clock(r.seconds):>8} {cost:>9}")
    length = planned_seconds(episode.script, episode.speakers, episode.production)
    lines.append(f"estimated episode length {clock(length)}")
    for sid in uploads:
        lines.append(f"{sid}: the reference clip is uploaded to {episode.speakers[sid].provider} "
                     "first, to make a voice")
    return "\n".join(lines)
