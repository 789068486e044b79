"""Run synthesis jobs: cache first, then side by side within each provider's limits.

Every finished segment is stored in the cache the moment it arrives, so a build killed at any
point resumes by sending only what is missing. A provider failure names the turn that failed
and cancels the jobs not yet started.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from .cache import SegmentCache, segment_key
from .errors import PodcastgenError, ProviderError
from .progress import Progress
from .providers import Audio, Job, Provider, ProviderConfig, get
from .redaction import provider_text


@dataclass
class SynthStats:
    sent: int = 0  # segments synthesized (paid for)
    retried: int = 0  # extra attempts beyond the first
    cached: int = 0  # segments taken from the cache


@dataclass(frozen=True)
class SynthOptions:
    cache: SegmentCache | None = None
    jobs: int | None = None  # cap on requests in flight for the whole build
    configs: dict[str, ProviderConfig] = field(default_factory=dict)
    progress: Progress | None = None


def providers_for(jobs: tuple[Job, ...], configs: dict[str, ProviderConfig]) -> dict[str, Provider]:
    return {name: get(name, configs.get(name)) for name in sorted({j.provider for j in jobs})}


def job_keys(jobs: tuple[Job, ...], providers: dict[str, Provider]) -> list[str]:
    return [segment_key(j, providers[j.provider].wire(j)) for j in jobs]


def synthesize(jobs: tuple[Job, ...], stats: SynthStats,
               options: SynthOptions = SynthOptions()) -> list[Audio]:
    """Audio for every job in job order; cached segments are marked `cached`."""
    providers = providers_for(jobs, options.configs)
    keys = job_keys(jobs, providers)
    results: list[Audio | None] = [None] * len(jobs)
    if options.cache:
        for i, key in enumerate(keys):
            hit = options.cache.get(key)
            if hit is not None:
                results[i] = replace(hit, cached=True)
                stats.cached += 1
    missing = [i for i, r in enumerate(results) if r is None]
    for name, provider in providers.items():  # what only a service's free lists can refuse
        provider.preflight([jobs[i] for i in missing if jobs[i].provider == name])
    if options.progress:
        options.progress.start(len(jobs), len(jobs) - len(missing))
    if missing:
        _run(jobs, keys, missing, providers, results, stats, options)
    if options.progress:
        options.progress.finish()
    return [r for r in results if r is not None]


def _run(jobs: tuple[Job, ...], keys: list[str], missing: list[int],
         providers: dict[str, Provider], results: list[Audio | None], stats: SynthStats,
         options: SynthOptions) -> None:
    workers = sum(p.config.concurrency for p in providers.values())
    workers = max(1, min(workers, options.jobs or workers, len(missing)))
    lock = threading.Lock()

    def one(i: int) -> None:
        job = jobs[i]
        provider = providers[job.provider]
        with provider.job_slot():
            audio = _call(provider, job)
        if options.cache:
            options.cache.put(keys[i], audio)
        with lock:
            results[i] = audio
            stats.sent += 1
            stats.retried += audio.attempts - 1
        if options.progress:
            options.progress.advance(audio.attempts - 1)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth")
    try:
        futures: list[Future[None]] = [pool.submit(one, i) for i in missing]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and f.exception() is not None]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _call(provider: Provider, job: Job) -> Audio:
    try:
        return provider.synthesize(job)
    except PodcastgenError as exc:
        if isinstance(exc, ProviderError) and not exc.where:
            raise ProviderError(str(exc), where=job.where) from None
        raise
    except Exception as exc:  # a provider's own failure, translated at this boundary
        text = provider_text(str(exc), provider.config.api_key)
        raise ProviderError(f"{job.provider} could not synthesize this turn: {text}",
                            where=job.where) from None
