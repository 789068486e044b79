"""Place turns, pauses, sounds, intro and outro on the sample-accurate timeline.

Each clip is resampled once to the output rate and levelled on its own (the "leveler": voices
that came out quiet or loud end up alike before the final normalization). Cue and chapter times
are read from exact sample positions, never from rounded milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import master
from .audio import Timeline, fade_edges, gain, load_clip, resample, trim_silence
from .episode import ChapterMark, Episode, Pause, Sound, Turn
from .errors import AudioError
from .model import Chapter, Cue, Placed
from .providers import Audio

SPEECH_LUFS = -20.0  # working level for every turn before the final normalization
SOUND_LUFS = SPEECH_LUFS - 3.0  # effects and music sit a little under the voices
MAX_LEVEL_GAIN_DB = 24.0
LEAD_IN_S = 0.3
TAIL_S = 0.8
JOIN_PAUSE_S = 0.25  # between the pieces of a turn split for a provider's input limit


def levelled(clip: np.ndarray, rate: int, target: float) -> np.ndarray:
    db = master.level_gain_db(clip, rate, target)
    return gain(clip, float(np.clip(db, -MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB)))


def turn_audio(clips: list[Audio], rate: int) -> np.ndarray:
    """A turn's chunks joined, resampled once to the output rate, and levelled."""
    parts = [resample(c.samples, c.sample_rate, rate) for c in clips]
    if len(parts) > 1:
        parts = joined(parts, rate)
    return levelled(np.concatenate(parts) if parts else np.zeros(0, np.float32), rate, SPEECH_LUFS)


def joined(parts: list[np.ndarray], rate: int) -> list[np.ndarray]:
    """The pieces of one long turn as one utterance: each trimmed, its edges faded (no click
    where the cut falls), with a sentence-length pause between them."""
    pause = np.zeros(int(round(JOIN_PAUSE_S * rate)), np.float32)
    out: list[np.ndarray] = []
    for part in parts:
        part = fade_edges(trim_silence(part, rate), rate)
        if len(part):
            out.extend([pause, part] if out else [part])
    return out


def sound_audio(path: Path, rate: int, where: str) -> np.ndarray:
    """An audio file decoded and levelled; a file ffmpeg cannot read names the script line."""
    try:
        clip = load_clip(path, rate)
    except AudioError as exc:
        raise AudioError(f"{where}: cannot use {path.name} as audio ({exc})") from None
    if not len(clip):
        raise AudioError(f"{where}: {path.name} holds no audio")
    return levelled(clip, rate, SOUND_LUFS)


class _Placer:
    """Walks the script once, keeping the gap rule and pending chapters in one place."""

    def __init__(self, episode: Episode, rate: int):
        self.episode, self.rate = episode, rate
        self.timeline = Timeline(rate)
        self.cues: list[Cue] = []
        self.chapters: list[Chapter] = []
        self.pending: list[str] = []
        self.spoken = False  # any script audio placed yet
        self.after_audio = False  # a gap is due before the next clip

    def clip(self, samples: np.ndarray) -> tuple[float, float]:
        if self.after_audio:
            self.timeline.silence(self.episode.production.gap)
        start, end = self.timeline.add(samples)
        self.after_audio = True
        at = 0.0 if not self.spoken and self.chapters == [] else self.timeline.seconds(start)
        self.chapters += [Chapter(title, at) for title in self.pending]
        self.pending = []
        return self.timeline.seconds(start), self.timeline.seconds(end)

    def turn(self, item: Turn, samples: np.ndarray, provider: str) -> None:
        start, end = self.clip(samples)
        self.spoken = True
        name = self.episode.speakers[item.speaker].name
        self.cues.append(Cue(len(self.cues), item.speaker, name, item.text, start, end, provider))


def assemble(episode: Episode, clips: dict[int, list[Audio]]) -> tuple[np.ndarray, Placed]:
    """The episode's audio at the output rate, with its cues and chapters; `clips` holds each
    turn's audio by script index."""
    rate = episode.output.sample_rate
    placer = _Placer(episode, rate)
    placer.timeline.silence(LEAD_IN_S)
    prod = episode.production
    if prod.intro:
        placer.timeline.add(sound_audio(prod.intro, rate, "production.intro"))
        placer.after_audio = True
    for index, item in enumerate(episode.script):
        if isinstance(item, ChapterMark):
            placer.pending.append(item.title)
        elif isinstance(item, Pause):
            placer.timeline.silence(item.seconds)
        elif isinstance(item, Sound):
            placer.clip(sound_audio(item.path, rate, item.where))
            placer.spoken = True
        elif isinstance(item, Turn):
            samples = turn_audio(clips.get(index, []), rate)
            placer.turn(item, samples, episode.speakers[item.speaker].provider)
    if prod.outro:
        placer.clip(sound_audio(prod.outro, rate, "production.outro"))
    placer.chapters += [Chapter(t, placer.timeline.seconds()) for t in placer.pending]
    placer.timeline.silence(TAIL_S)
    samples = placer.timeline.render()
    placed = Placed(tuple(placer.cues), tuple(placer.chapters), placer.timeline.seconds())
    return samples, placed
