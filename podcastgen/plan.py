"""Compile a validated episode into synthesis jobs (pure: no I/O, table-testable)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import moss
from .episode import Episode, Speaker, Turn
from .errors import InputError
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
        speed = item.speed if item.speed is not None else speaker.speed
        first = len(jobs)
        for chunk in chunks_for(speaker, item.text, speed):
            jobs.append(Job(
                index=len(jobs),
                turns=(index,),
                speaker=item.speaker,
                text=chunk,
                provider=speaker.provider,
                voice=speaker.voice or "",
                model=speaker.model,
                speed=speed,
                options=_sized(speaker, chunk, speed, item.where),
                where=item.where,
                emotion=item.emotion,
                instruction=item.instruction,
                references=_references(speaker),
            ))
        turn_jobs[index] = tuple(range(first, len(jobs)))
    return Plan(tuple(jobs), turn_jobs)


def chunks_for(speaker: Speaker, text: str, speed: float = 1.0) -> list[str]:
    """`text` split at sentence boundaries to fit the speaker's provider and model limits."""
    provider = REGISTRY.get(speaker.provider)
    max_chars, max_bytes = provider.limits(speaker.model, speed, dict(speaker.options)) \
        if provider else (None, None)
    return split_text(text, max_chars, max_bytes) or [text]


def _sized(speaker: Speaker, text: str, speed: float, where: str) -> tuple[tuple[str, Any], ...]:
    """The speaker's options; a MOSS-TTSD request also gets the max_tokens its text needs."""
    if speaker.model != moss.MODEL:
        return speaker.options
    options = dict(speaker.options)
    return _moss_options(options, text, moss.expected_seconds(text, speed), where)


def _moss_options(options: dict[str, Any], script: str, seconds: float,
                  where: str) -> tuple[tuple[str, Any], ...]:
    """`options` with max_tokens for `seconds` of expected audio (the producer's own value
    when larger), checked against the window it shares with the script."""
    options["max_tokens"] = moss.max_tokens(seconds, options.get("max_tokens"))
    if moss.input_tokens(script) + options["max_tokens"] > moss.TOKEN_LIMIT:
        raise InputError(f"{where}: this MOSS-TTSD request's {len(script)} characters and "
                         f"max_tokens {options['max_tokens']} exceed its {moss.TOKEN_LIMIT} "
                         "tokens; lower max_tokens or shorten the turn")
    return tuple(sorted(options.items()))


def _references(speaker: Speaker) -> tuple[tuple[Path | str, str], ...]:
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

    def chars(self) -> int:
        """The script's length: each turn's text and its speaker tag (at most)."""
        return sum(len(text) + moss.TAG_CHARS for _, _, text in self.lines)

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
    """Group turns into blocks: a chapter, pause or sound ends one, as does a third speaker,
    going over `synthesis.block_seconds` of expected audio, or a script that would leave too
    little of MOSS-TTSD's token window for that audio (a longer turn is split at sentence
    ends across blocks)."""
    budget, speed = episode.synthesis.block_seconds, episode.synthesis.speed
    requested = dict(episode.synthesis.options).get("max_tokens")
    piece = moss.piece_chars(budget, speed, requested) - moss.TAG_CHARS
    blocks: list[Block] = []
    block = Block([])
    for index, item in enumerate(episode.script):
        if not isinstance(item, Turn):
            blocks, block = blocks + [block], Block([])
            continue
        for text in moss.chunks(item.text, budget * speed, piece):
            seconds = moss.expected_seconds(text, speed)
            cast = block.speakers() | {item.speaker}
            if block.lines and (len(cast) > moss.MAX_SPEAKERS or
                                block.seconds + seconds > budget or not moss.fits(
                                    block.chars() + len(text) + moss.TAG_CHARS,
                                    block.seconds + seconds, requested)):
                blocks, block = blocks + [block], Block([])
            block.add(index, item, text, seconds)
    return [b for b in blocks + [block] if b.lines]


def block_job(episode: Episode, index: int, block: Block) -> Job:
    """The request for one block: the script in S1/S2 slots, each slot's reference clip."""
    cast = _cast(episode, block)
    slot = {sid: n for n, sid in enumerate(cast, 1)}
    first = block.lines[0][1]
    text = moss.script([(slot[t.speaker], text) for _, t, text in block.lines])
    return Job(
        index=index,
        turns=tuple(i for i, _, _ in block.lines),
        speaker="+".join(cast),
        text=text,
        provider=episode.synthesis.provider,
        voice="",
        model=episode.synthesis.model,
        speed=episode.synthesis.speed,
        options=_moss_options(dict(episode.synthesis.options), text, block.seconds,
                              first.where),
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


def _slot_reference(speaker: Speaker, slot: int) -> tuple[Path | str, str]:
    ref = speaker.reference
    if ref is None:  # validation requires one in dialogue mode
        raise ValueError(f"dialogue speaker {speaker.id} has no reference")
    return ref.audio, f"[S{slot}]{moss.clean(ref.text)}"
