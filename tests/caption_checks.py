"""Captions read back with independent parsers (webvtt-py, srt) and held to what a viewer
needs: at most two lines of at most 42 characters (16 Chinese), at most 7.5 seconds, in order
without overlap, every WebVTT cue naming its speaker."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import srt
import webvtt

MAX_LINES, MAX_CHARS, MAX_CJK_CHARS, MAX_SECONDS = 2, 42, 16, 7.5


@dataclass(frozen=True)
class Read:
    start: float
    end: float
    lines: list[str]  # as a viewer sees them (no voice tag)
    speaker: str | None  # the VTT voice, or the SRT `Name:` prefix where there is one


def vtt_cues(path: Path) -> list[Read]:
    return [Read(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000,
                 c.text.split("\n"), c.voice) for c in webvtt.read(str(path)).captions]


def srt_cues(path: Path, names: set[str]) -> list[Read]:
    """The SRT cues; `names` are the speakers whose `Name: ` may lead a cue."""
    found = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.index for s in found] == list(range(1, len(found) + 1))  # numbered in order
    out = []
    for s in found:
        lines = s.content.split("\n")
        speaker = next((n for n in names if lines[0].startswith(f"{n}: ")), None)
        out.append(Read(s.start.total_seconds(), s.end.total_seconds(), lines, speaker))
    return out


def fits_a_viewer(cues: list[Read]) -> None:
    """Every cue within the limits, in order, none overlapping the next."""
    assert cues
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES, cue
        for line in cue.lines:
            wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in line)
            assert len(line) - wide + wide * MAX_CHARS / MAX_CJK_CHARS <= MAX_CHARS, line
        assert 0 < cue.end - cue.start <= MAX_SECONDS, cue
    for before, after in zip(cues, cues[1:]):
        assert before.end <= after.start, (before, after)


def check_sidecars(folder: Path, stem: str, names: set[str]) -> list[Read]:
    """The VTT, SRT and JSON transcript of a build agree cue for cue and fit a viewer; the VTT
    cues."""
    vtt = vtt_cues(folder / f"{stem}.vtt")
    subs = srt_cues(folder / f"{stem}.srt", names)
    fits_a_viewer(vtt)
    fits_a_viewer(subs)
    assert all(cue.speaker in names for cue in vtt)  # `<v Name>` on every cue
    assert [(c.start, c.end) for c in vtt] == [(c.start, c.end) for c in subs]
    segments = json.loads((folder / f"{stem}.transcript.json").read_text())["segments"]
    assert [(s["startTime"], s["endTime"], s["speaker"]) for s in segments] == [
        (c.start, c.end, c.speaker) for c in vtt]  # one segment per cue
    return vtt
