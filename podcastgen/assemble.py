"""Place turns, pauses, sounds, intro and outro on the sample-accurate timeline.

Each clip is resampled once to the output rate and levelled on its own (the "leveler": voices
that came out quiet or loud end up alike before the final normalization). Cue and chapter times
are read from exact sample positions, never from rounded milliseconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import master
from . import music
from .audio import Timeline, faded, gain, load_clip, resample, trim_silence
from .captions import caption_cues
from .episode import ChapterMark, Episode, Pause, Sound, Turn
from .errors import AudioError
from .model import Chapter, Cue, Placed
from .providers import Audio
from .settings import Bed, Music, Production

SPEECH_LUFS = -20.0  # working level for every turn before the final normalization
SOUND_LUFS = SPEECH_LUFS - 3.0  # effects and music sit a little under the voices
MAX_BOOST_DB = 24.0  # a near-silent clip is not raised into audible noise; cuts are unlimited
LEAD_IN_S = 0.3
TAIL_S = 0.8
JOIN_PAUSE_S = 0.25  # between the pieces of a turn split for a provider's input limit


def level_db(clip: np.ndarray, rate: int, target: float) -> float:
    """The gain that brings `clip` to `target` LUFS, raising it by at most MAX_BOOST_DB."""
    return min(master.level_gain_db(clip, rate, target), MAX_BOOST_DB)


def levelled(clip: np.ndarray, rate: int, target: float) -> np.ndarray:
    return gain(clip, level_db(clip, rate, target))


def turn_audio(clips: list[Audio], rate: int) -> np.ndarray:
    """A turn's chunks joined, levelled, resampled once to the output rate, and given 5 ms
    edges: a clip trimmed of silence starts on a small non-zero sample, which would click."""
    rates = {c.sample_rate for c in clips}
    src = rates.pop() if len(rates) == 1 else rate  # joined and metered at the provider's rate
    parts = [resample(c.samples, c.sample_rate, src) for c in clips]
    if len(parts) > 1:
        parts = joined(parts, src)
    whole = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    db = level_db(whole, src, SPEECH_LUFS)  # metered before resampling, applied after
    return faded(gain(resample(whole, src, rate), db), rate)


def prepared(clips: dict[int, list[Audio]], rate: int, ahead: int = 8
             ) -> Iterator[tuple[np.ndarray, bool, tuple[str, ...]]]:
    """Each turn's finished audio, whether all of it came from the cache, and the warnings its
    clips carry, in script order.

    Two turns are prepared at a time (resampling and metering release the GIL) and at most
    `ahead` wait to be placed; a turn's source clips leave `clips` as its work starts."""
    order = sorted(clips)
    with ThreadPoolExecutor(2) as pool:
        pending: deque[Future[tuple[np.ndarray, bool, tuple[str, ...]]]] = deque()
        for index in order:
            parts = clips.pop(index)
            pending.append(pool.submit(
                lambda p=parts: (turn_audio(p, rate), bool(p) and all(c.cached for c in p),
                                 tuple(dict.fromkeys(w for c in p for w in c.warnings)))))
            del parts
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _expected_length(episode: Episode, clips: dict[int, list[Audio]], rate: int) -> int:
    """A close guess at the episode's length in samples, so the timeline seldom grows."""
    spoken = sum(len(c.samples) * rate / c.sample_rate for parts in clips.values() for c in parts)
    pauses = sum(item.seconds for item in episode.script if isinstance(item, Pause))
    gaps = len(episode.script) * episode.production.gap
    return int(spoken + (pauses + gaps + LEAD_IN_S + TAIL_S + 30) * rate)


def joined(parts: list[np.ndarray], rate: int) -> list[np.ndarray]:
    """The pieces of one long turn as one utterance: each trimmed, its edges faded (no click
    where the cut falls), with a sentence-length pause between them."""
    pause = np.zeros(int(round(JOIN_PAUSE_S * rate)), np.float32)
    out: list[np.ndarray] = []
    for part in parts:
        part = faded(trim_silence(part, rate), rate)
        if len(part):
            out.extend([pause, part] if out else [part])
    return out


def decoded(path: Path, rate: int, where: str) -> np.ndarray:
    """An audio file decoded at the output rate; a file ffmpeg cannot read, or one holding no
    audio, names the script line."""
    try:
        clip = load_clip(path, rate)
    except AudioError as exc:
        raise AudioError(f"{where}: cannot use {path.name} as audio ({exc})") from None
    if not len(clip):
        raise AudioError(f"{where}: {path.name} holds no audio")
    return clip


def sound_audio(path: Path, rate: int, where: str, gain_db: float = 0.0) -> np.ndarray:
    """An audio file decoded and levelled like the voices (plus `gain_db`)."""
    return faded(levelled(decoded(path, rate, where), rate, SOUND_LUFS + gain_db), rate)


def music_audio(item: Music, rate: int, *, fade_in: float, fade_out: float) -> np.ndarray:
    """An intro or outro, levelled like a sound, with its gain and fades."""
    clip = sound_audio(item.path, rate, item.where, item.gain)
    if item.crossfade * rate > len(clip):
        raise AudioError(f"{item.where}: crossfade {item.crossfade:g} s is longer than "
                         f"{item.path.name} ({len(clip) / rate:.1f} s)")
    return faded(clip, rate, fade_in, fade_out)


def bed_audio(bed: Bed, rate: int, loudness: float, span: int) -> np.ndarray:
    """The bed at its working level: `level` is LUFS in the finished episode, and speech sits at
    SPEECH_LUFS here for `loudness` there. Longer than `span`: played once, else looped."""
    target = SPEECH_LUFS + bed.level - loudness + bed.gain
    clip = faded(levelled(decoded(bed.path, rate, bed.where), rate, target), rate)
    return clip if len(clip) >= span else music.loop_body(clip, rate)


class _Placer:
    """Walks the script once, keeping the gap rule and pending chapters in one place."""

    def __init__(self, episode: Episode, rate: int, capacity: int = 0):
        self.episode, self.rate = episode, rate
        self.timeline = Timeline(rate, capacity)
        self.cues: list[Cue] = []
        self.chapters: list[Chapter] = []
        self.pending: list[str] = []
        self.spoken = False  # any script audio placed yet
        self.after_audio = False  # a gap is due before the next clip
        self.voiced: list[tuple[int, int]] = []  # turns and sounds, in samples: the bed ducks
        self.overlays: list[tuple[int, np.ndarray]] = []  # music mixed over the timeline later
        self.warnings: list[str] = []
        self.script_span = (0, 0)  # samples from the end of the intro to the start of the outro

    def clip(self, samples: np.ndarray, voiced: bool = True) -> tuple[float, float]:
        if self.after_audio:
            self.timeline.silence(self.episode.production.gap)
        start, end = self.timeline.add(samples)
        if voiced:
            self.voiced.append((start, end))
        self.after_audio = True
        at = 0.0 if not self.spoken and self.chapters == [] else self.timeline.seconds(start)
        self.chapters += [Chapter(title, at) for title in self.pending]
        self.pending = []
        return self.timeline.seconds(start), self.timeline.seconds(end)

    def turn(self, item: Turn, samples: np.ndarray, provider: str, cached: bool) -> None:
        start, end = self.clip(samples)
        self.spoken = True
        name = self.episode.speakers[item.speaker].name
        captions = caption_cues(item.text, start, end, samples, self.rate,
                                lead=f"{' '.join(name.split())}: ")
        self.cues.append(Cue(len(self.cues), item.speaker, name, item.text, start, end, provider,
                             cached, captions))


def assemble(episode: Episode, clips: dict[int, list[Audio]]) -> tuple[np.ndarray, Placed]:
    """The episode's audio at the output rate, with its cues and chapters; `clips` holds each
    turn's audio by script index, and is emptied as the turns are placed (so each turn's
    source audio can be freed once it is on the timeline)."""
    rate = episode.output.sample_rate
    placer = _Placer(episode, rate, _expected_length(episode, clips, rate))
    placer.timeline.silence(LEAD_IN_S)
    prod = episode.production
    if prod.intro:
        _place_intro(placer, prod.intro)
    script_start = placer.timeline.length
    have = set(clips)  # prepared() empties `clips` as it goes
    voiced = prepared(clips, rate)
    for index, item in enumerate(episode.script):
        if isinstance(item, ChapterMark):
            placer.pending.append(item.title)
        elif isinstance(item, Pause):
            placer.timeline.silence(item.seconds)
        elif isinstance(item, Sound):
            placer.clip(sound_audio(item.path, rate, item.where, item.gain))
            placer.spoken = True
        elif isinstance(item, Turn):
            samples, cached, notes = next(voiced) if index in have else (
                np.zeros(0, np.float32), False, ())
            placer.turn(item, samples, episode.speakers[item.speaker].provider, cached)
            placer.warnings += [f"{item.where}: script.{index}.{item.speaker}: warning: {note}"
                                for note in notes]
    placer.script_span = (script_start, placer.timeline.length)
    if prod.outro:
        _place_outro(placer, prod.outro)
    placer.chapters += [Chapter(t, placer.timeline.seconds()) for t in placer.pending]
    bed_tail = prod.bed.fade_out if prod.bed and not prod.outro else 0.0
    placer.timeline.silence(max(TAIL_S, bed_tail))
    samples = placer.timeline.render()
    _mix_music(samples, placer, prod)
    placed = Placed(tuple(placer.cues), tuple(placer.chapters), placer.timeline.seconds(),
                    tuple(placer.warnings))
    return samples, placed


def _place_intro(placer: _Placer, intro: Music) -> None:
    """The intro after the lead-in; with a crossfade its fading tail lies under the first words."""
    rate = placer.rate
    clip = music_audio(intro, rate, fade_in=intro.fade_in,
                       fade_out=max(intro.fade_out, intro.crossfade))
    head = len(clip) - int(round(intro.crossfade * rate))
    start, _ = placer.timeline.add(clip[:head])
    if head < len(clip):
        placer.overlays.append((start + head, clip[head:]))
    placer.after_audio = head == len(clip)  # the usual gap, unless the music overlaps speech


def _place_outro(placer: _Placer, outro: Music) -> None:
    """The outro after the last item; with a crossfade it rises under the last words."""
    rate = placer.rate
    clip = music_audio(outro, rate, fade_in=max(outro.fade_in, outro.crossfade),
                       fade_out=outro.fade_out)
    overlap = min(int(round(outro.crossfade * rate)), placer.timeline.length)
    if overlap == 0:
        placer.clip(clip, voiced=False)
        return
    at = placer.timeline.length - overlap
    placer.chapters += [Chapter(title, at / rate) for title in placer.pending]
    placer.pending = []
    placer.overlays.append((at, clip[:overlap]))
    placer.timeline.add(clip[overlap:])


def _mix_music(samples: np.ndarray, placer: _Placer, prod: Production) -> None:
    """Mix the intro/outro overlaps and the bed into the rendered timeline, in place."""
    for at, clip in placer.overlays:
        samples[at:at + len(clip)] += clip
    bed = prod.bed
    if bed is None:
        return
    rate = placer.rate
    start, end = placer.script_span
    if prod.outro is None:  # ring out over the tail, which is made long enough
        end += int(round(bed.fade_out * rate))
    elif not prod.outro.crossfade:  # give way where the outro starts, after the gap
        end += int(round(prod.gap * rate))
    where = music.BedPlacement(start, end, tuple(placer.voiced), *[
        int(round(s * rate)) for s in (bed.fade_in, bed.fade_out, bed.attack, bed.release)],
        duck_db=bed.duck)
    music.mix_bed(samples, bed_audio(bed, rate, prod.loudness, end - start), where)
