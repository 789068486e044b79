"""Compile a validated episode into synthesis jobs (pure: no I/O, table-testable)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .episode import Episode, Speaker, Turn
from .providers import Job


@dataclass(frozen=True)
class Plan:
    jobs: tuple[Job, ...]
    turn_jobs: dict[int, tuple[int, ...]]  # script index -> the jobs that voice it, in order

    def characters(self) -> int:
        return sum(len(j.text) for j in self.jobs)


def compile_episode(episode: Episode) -> Plan:
    """One job per turn, in script order, carrying everything that shapes its audio."""
    jobs: list[Job] = []
    turn_jobs: dict[int, tuple[int, ...]] = {}
    for index, item in enumerate(episode.script):
        if not isinstance(item, Turn):
            continue
        speaker = episode.speakers[item.speaker]
        job = Job(
            index=len(jobs),
            turns=(index,),
            speaker=item.speaker,
            text=item.text,
            provider=speaker.provider,
            voice=speaker.voice or "",
            model=speaker.model,
            speed=item.speed if item.speed is not None else speaker.speed,
            options=speaker.options,
            where=item.where,
            emotion=item.emotion,
            instruction=item.instruction,
            references=_references(speaker),
        )
        turn_jobs[index] = (job.index,)
        jobs.append(job)
    return Plan(tuple(jobs), turn_jobs)


def _references(speaker: Speaker) -> tuple[tuple[Path, str], ...]:
    ref = speaker.reference
    return ((ref.audio, ref.text),) if ref else ()


def estimate_seconds(text: str) -> float:
    """Expected speech length: about 14 characters a second in English, 4.5 CJK characters."""
    wide = sum(1 for ch in text if "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    return wide / 4.5 + (len(text) - wide) / 14.0
