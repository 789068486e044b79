"""Compile a validated episode into synthesis jobs (pure: no I/O, table-testable)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import moss
from .episode import Episode, Speaker, Turn
from .providers import REGISTRY, Job
from .text import split_text


@dataclass(frozen=True)
class Plan:
    jobs: tuple[Job, ...]
    turn_jobs: dict[int, tuple[int, ...]]  # script index -> the jobs that voice it, in order

    def characters(self) -> int:
        return sum(len(j.text) for j in self.jobs)


def compile_episode(episode: Episode) -> Plan:
    """One job per turn (several for a turn over its provider's input limit) or per dialogue
    block, in script order, each carrying everything that shapes its audio."""
    if episode.synthesis.mode == "dialogue":
        return dialogue_plan(episode)
    jobs: list[Job] = []
    turn_jobs: dict[int, tuple[int, ...]] = {}
    for index, item in enumerate(episode.script):
        if not isinstance(item, Turn):
            continue
        speaker = episode.speakers[item.speaker]
        first = len(jobs)
        for chunk in chunks_for(speaker, item.text):
            jobs.append(Job(
                index=len(jobs),
                turns=(index,),
                speaker=item.speaker,
                text=chunk,
                provider=speaker.provider,
                voice=speaker.voice or "",
                model=speaker.model,
                speed=item.speed if item.speed is not None else speaker.speed,
                options=speaker.options,
                where=item.where,
                emotion=item.emotion,
                instruction=item.instruction,
                references=_references(speaker),
            ))
        turn_jobs[index] = tuple(range(first, len(jobs)))
    return Plan(tuple(jobs), turn_jobs)


def chunks_for(speaker: Speaker, text: str) -> list[str]:
    """`text` split at sentence boundaries to fit the speaker's provider and model limits."""
    provider = REGISTRY.get(speaker.provider)
    max_chars, max_bytes = provider.limits(speaker.model) if provider else (None, None)
    return split_text(text, max_chars, max_bytes) or [text]


def _references(speaker: Speaker) -> tuple[tuple[Path, str], ...]:
    ref = speaker.reference
    return ((ref.audio, ref.text),) if ref else ()


# -- dialogue mode: consecutive turns voiced together in [S1]...[S2]... blocks ------------------

@dataclass
class Block:
    """Consecutive turns voiced by one request: (script index, cleaned text) in order."""

    lines: list[tuple[int, Turn, str]]
    seconds: float = 0.0

    def speakers(self) -> set[str]:
        return {turn.speaker for _, turn, _ in self.lines}

    def add(self, index: int, turn: Turn, text: str, seconds: float) -> None:
        if self.lines and self.lines[-1][0] == index:  # the rest of a turn split at sentences
            text = moss.clean(f"{self.lines[-1][2]} {text}")
            self.lines.pop()
        self.lines.append((index, turn, text))
        self.seconds += seconds


def dialogue_plan(episode: Episode) -> Plan:
    """One job per block; a turn split across blocks is voiced by each of them in order."""
    jobs = [block_job(episode, i, b) for i, b in enumerate(dialogue_blocks(episode))]
    turn_jobs: dict[int, tuple[int, ...]] = {}
    for job in jobs:
        for turn in dict.fromkeys(job.turns):
            turn_jobs[turn] = turn_jobs.get(turn, ()) + (job.index,)
    return Plan(tuple(jobs), turn_jobs)


def dialogue_blocks(episode: Episode) -> list[Block]:
    """Group turns into blocks: a chapter, pause or sound ends one, as does a third speaker
    or going over `synthesis.block_seconds` of expected audio (a longer turn is split at
    sentence ends across blocks)."""
    budget, speed = episode.synthesis.block_seconds, episode.synthesis.speed
    blocks: list[Block] = []
    block = Block([])
    for index, item in enumerate(episode.script):
        if not isinstance(item, Turn):
            blocks, block = blocks + [block], Block([])
            continue
        for text in moss.chunks(item.text, budget * speed):
            seconds = moss.expected_seconds(text, speed)
            cast = block.speakers() | {item.speaker}
            if block.lines and (len(cast) > moss.MAX_SPEAKERS or
                                block.seconds + seconds > budget):
                blocks, block = blocks + [block], Block([])
            block.add(index, item, text, seconds)
    return [b for b in blocks + [block] if b.lines]


def block_job(episode: Episode, index: int, block: Block) -> Job:
    """The request for one block: the script in S1/S2 slots, each slot's reference clip."""
    cast = _cast(episode, block)
    slot = {sid: n for n, sid in enumerate(cast, 1)}
    first = block.lines[0][1]
    options = dict(episode.synthesis.options)
    options["max_tokens"] = max(int(options.get("max_tokens", 0)),
                                moss.max_tokens(block.seconds))
    return Job(
        index=index,
        turns=tuple(i for i, _, _ in block.lines),
        speaker="+".join(cast),
        text=moss.script([(slot[t.speaker], text) for _, t, text in block.lines]),
        provider=episode.synthesis.provider,
        voice="",
        model=episode.synthesis.model,
        speed=episode.synthesis.speed,
        options=tuple(sorted(options.items())),
        where=first.where,
        parts=tuple(text for _, _, text in block.lines),
        references=tuple(_slot_reference(episode.speakers[sid], n) for sid, n in slot.items()),
    )


def _cast(episode: Episode, block: Block) -> list[str]:
    """The block's speakers in declaration order; a two-speaker show always sends both, so
    every block carries the same S1 and S2."""
    speaking = block.speakers()
    if len(episode.speakers) <= moss.MAX_SPEAKERS:
        speaking = set(episode.speakers)
    return [sid for sid in episode.speakers if sid in speaking]


def _slot_reference(speaker: Speaker, slot: int) -> tuple[Path, str]:
    ref = speaker.reference
    if ref is None:  # validation requires one in dialogue mode
        raise ValueError(f"dialogue speaker {speaker.id} has no reference")
    return ref.audio, f"[S{slot}]{moss.clean(ref.text)}"
