"""Per-turn timing inside a dialogue block, recovered from the audio.

A dialogue model returns one clip for several turns. We find the pauses in it (an energy
envelope against an adaptive floor) and choose the len(parts) - 1 pauses that best explain
the expected turn lengths (dynamic programming: each turn's duration should match its text,
longer pauses are likelier turn changes, and so are pauses across which the voice changes
where the speaker does). Where the model ran turns together and no pause fits, the cut falls
on the quietest moment near the expected place, with a warning.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .moss import clean, expected_seconds
from .providers import Audio, Job

FRAME_S = 0.01
MIN_PAUSE_S = 0.08  # a quiet stretch this long may be a turn change
LEAD_S, TAIL_S = 0.015, 0.04  # kept around each turn, so no consonant is clipped
SIGMA = np.log(1.4)  # how far a turn's length may stray from its text's (as a ratio)
SMOOTH_S = 0.5  # very short turns are judged on (length + this), not their bare ratio
SOFT_PENALTY = 1.5  # cost of cutting where there is no pause
SOFT_WINDOW_S = 0.4  # search this far around the expected place for the quietest moment
VOICE_WINDOW_S = 1.0  # speech compared on either side of a pause for a change of voice
VOICE_WEIGHT = 0.5  # how much a change of voice counts, per robust standard deviation


@dataclass(frozen=True)
class Cut:
    """A boundary between two turns, in seconds from the start of the block."""

    start: float  # the pause around the boundary (start == end for a cut with no pause)
    end: float
    soft: bool = False  # no pause was found: the place is estimated

    @property
    def at(self) -> float:
        return (self.start + self.end) / 2


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS level of each 10 ms frame in dB (floored at -100)."""
    n = max(1, int(rate * FRAME_S))
    frames = samples[: len(samples) // n * n].astype(np.float64).reshape(-1, n)
    return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-5)


def loud_frames(env: np.ndarray) -> np.ndarray:
    """Which frames are speech: above a threshold set between the noise floor (the quietest
    50 ms, which holds even when a block has almost no silence) and the voice."""
    if not len(env):
        return np.zeros(0, bool)
    power = np.convolve(10 ** (env / 10), np.ones(5) / 5, mode="valid") if len(env) >= 5 \
        else 10 ** (env / 10)
    floor, voice = 10 * np.log10(power.min()), np.percentile(env, 95)
    threshold = min(max(floor + 8, voice - 35), (floor + voice) / 2)
    return env > threshold


def pauses(loud: np.ndarray) -> list[tuple[int, int]]:
    """Quiet runs (first frame, end frame) of at least MIN_PAUSE_S between speech."""
    edges = np.flatnonzero(np.diff(np.concatenate([[1], loud.astype(np.int8), [1]])))
    runs = edges.reshape(-1, 2)  # [start, end) of each quiet run
    need = round(MIN_PAUSE_S / FRAME_S)
    return [(int(a), int(b)) for a, b in runs
            if b - a >= need and a > 0 and b < len(loud)]


def cuts(samples: np.ndarray, rate: int, weights: Sequence[float],
         slots: Sequence[int] | None = None) -> list[Cut]:
    """The len(weights) - 1 boundaries that best split `samples` into turns whose lengths
    are in proportion to `weights`; with each turn's speaker slot, a change of voice across
    a pause makes it likelier to be where the speakers change."""
    env = envelope(samples, rate)
    loud = loud_frames(env)
    if len(weights) < 2 or not loud.any():
        return [Cut(0.0, 0.0, True) for _ in weights[1:]]
    speech = np.flatnonzero(loud)
    first, last = speech[0] * FRAME_S, (speech[-1] + 1) * FRAME_S
    found = [Cut(a * FRAME_S, b * FRAME_S) for a, b in pauses(loud)]
    longest = sorted((c.end - c.start for c in found), reverse=True)[: len(weights) - 1]
    talk = max(last - first - sum(longest), (last - first) / 2)  # speech, pauses between out
    expected = np.asarray(weights, float) / sum(weights) * talk
    places = first + np.cumsum(expected)[:-1] + (last - first - talk) * np.arange(
        1, len(weights)) / len(weights)
    candidates = sorted(found + _soft_cuts(env, places), key=lambda c: c.at)
    change = _voice_change(samples, rate, loud, candidates) if slots else None
    switches = [a != b for a, b in itertools.pairwise(slots)] if slots else []
    path = _best_path(candidates, first, last, expected, change, switches)
    return path if path is not None else [Cut(float(t), float(t), True) for t in places]


def _soft_cuts(env: np.ndarray, places: np.ndarray) -> list[Cut]:
    """Fallback candidates for each expected boundary: the quietest 10 ms near it, and the
    place itself (so a path always exists, however the model ran turns together)."""
    out = []
    for at in places:
        lo = max(0, int((at - SOFT_WINDOW_S) / FRAME_S))
        hi = min(len(env), int((at + SOFT_WINDOW_S) / FRAME_S) + 1)
        if hi > lo:
            t = (lo + int(np.argmin(env[lo:hi])) + 0.5) * FRAME_S
            out.append(Cut(t, t, True))
        out.append(Cut(float(at), float(at), True))
    return out


def _best_path(candidates: list[Cut], first: float, last: float, expected: np.ndarray,
               change: np.ndarray | None = None, switches: Sequence[bool] = ()
               ) -> list[Cut] | None:
    """Dynamic programming over candidates: best[j] is the cheapest way to end turn k at j."""
    starts = np.array([first] + [c.start for c in candidates] + [last])
    ends = np.array([first] + [c.end for c in candidates] + [last])
    bonus = np.array([np.inf] + [_cut_cost(c) for c in candidates] + [np.inf])
    span = starts[None, :] - ends[:, None]  # span[i, j]: speech from cut i to cut j
    times = starts
    best = np.full(len(times), np.inf)
    best[0] = 0.0
    back = []
    for k, want in enumerate(expected):
        seg = (np.log((np.maximum(span, 1e-3) + SMOOTH_S) / (want + SMOOTH_S)) / SIGMA) ** 2
        total = np.where(span > FRAME_S, best[:, None] + seg, np.inf)
        back.append(np.argmin(total, axis=0))
        best = total[back[-1], np.arange(len(times))]
        if k < len(expected) - 1:
            best = best + bonus  # ending here means cutting here
            if change is not None and switches[k]:
                best = best - VOICE_WEIGHT * np.concatenate([[0.0], change, [0.0]])
    if not np.isfinite(best[-1]):
        return None
    j, path = len(times) - 1, []
    for k in range(len(expected) - 1, 0, -1):
        j = int(back[k][j])
        path.append(candidates[j - 1])
    return path[::-1]


def _voice_change(samples: np.ndarray, rate: int, loud: np.ndarray,
                  candidates: list[Cut]) -> np.ndarray:
    """For each candidate, how different the voice sounds in the second of speech before and
    after it (band energies, loudness removed), as a robust z-score across candidates."""
    bands, step = _band_levels(samples, rate), 2  # one band frame per two 10 ms frames
    voiced = loud[::step][: len(bands)]
    span = int(VOICE_WINDOW_S / FRAME_S / step)
    out = np.zeros(len(candidates))
    for i, cut in enumerate(candidates):
        a, b = int(cut.start / FRAME_S / step), int(np.ceil(cut.end / FRAME_S / step))
        left = bands[max(0, a - span):a][voiced[max(0, a - span):a]]
        right = bands[b:b + span][voiced[b:b + span]]
        if len(left) >= 5 and len(right) >= 5:
            diff = left.mean(0) - right.mean(0)
            out[i] = float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))
    mid = np.median(out)
    spread = np.median(np.abs(out - mid)) * 1.4826 + 1e-3
    return np.clip((out - mid) / spread, -2.0, 4.0)


def _band_levels(samples: np.ndarray, rate: int) -> np.ndarray:
    """Log energy (dB) in 24 log-spaced bands from 80 Hz to 4 kHz, every 20 ms."""
    hop, size = max(1, int(rate * FRAME_S * 2)), 1 << int(np.ceil(np.log2(rate * 0.02)))
    n = len(samples) // hop
    padded = np.concatenate([samples, np.zeros(size, samples.dtype)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][:n]
    power = np.abs(np.fft.rfft(frames * np.hanning(size).astype(np.float32), axis=1)) ** 2
    which = np.digitize(np.fft.rfftfreq(size, 1 / rate),
                        np.geomspace(80, min(4000, rate / 2 - 1), 25)) - 1
    levels = np.stack([power[:, which == k].sum(1) for k in range(24)], axis=1)
    return 10 * np.log10(levels + 1e-10)


def _cut_cost(cut: Cut) -> float:
    """Longer pauses are likelier turn changes; a cut without one costs a lot."""
    if cut.soft:
        return SOFT_PENALTY
    return -float(np.log1p((cut.end - cut.start) / 0.1))


def split(audio: Audio, parts: Sequence[str], slots: Sequence[int] | None = None
          ) -> list[Audio]:
    """One clip per part, each trimmed to its speech; estimated cuts add a warning."""
    rate, samples = audio.sample_rate, audio.samples
    found = cuts(samples, rate, [max(expected_seconds(p), 0.05) for p in parts], slots)
    loud = loud_frames(envelope(samples, rate))
    edges = [0.0] + [c.at for c in found] + [len(samples) / rate]
    clips = []
    for k in range(len(parts)):
        piece = _trimmed(samples, rate, loud, edges[k], edges[k + 1])
        warn = () if all(not c.soft for c in found[max(0, k - 1): k + 1]) else (
            "the dialogue model ran turns together here; the turn's timing is estimated",)
        clips.append(replace(audio, samples=piece, warnings=audio.warnings + warn))
    return clips


def _trimmed(samples: np.ndarray, rate: int, loud: np.ndarray, start: float,
             end: float) -> np.ndarray:
    """The samples between two cuts, less the silence at either end."""
    a, b = int(start / FRAME_S), int(np.ceil(end / FRAME_S))
    speech = np.flatnonzero(loud[a:b])
    if not len(speech):
        return samples[:0]
    lo = max(int(start * rate), int(((a + speech[0]) * FRAME_S - LEAD_S) * rate))
    hi = min(int(end * rate), int(((a + speech[-1] + 1) * FRAME_S + TAIL_S) * rate))
    return samples[lo:hi]


def turn_clips(jobs: Sequence[Job], clips: Sequence[Audio]) -> dict[int, list[Audio]]:
    """Each script turn's clips in order: a job voicing one turn passes through, a dialogue
    block is split into its turns."""
    out: dict[int, list[Audio]] = {}
    for job, clip in zip(jobs, clips):
        pieces = split(clip, job.parts, slots(job.text, job.parts)) if job.parts else [clip]
        for turn, piece in zip(job.turns, pieces):
            out.setdefault(turn, []).append(piece)
    return out


def slots(script: str, parts: Sequence[str]) -> list[int] | None:
    """Each part's speaker slot, read back from a block's `[S1]...[S2]...` text (where
    consecutive parts of one speaker were joined); None if they do not add up."""
    found: list[int] = []
    todo = list(parts)
    for slot, said in re.findall(r"\[S(\d+)\]([^\[]*)", script):
        if not todo:
            return None
        joined = todo.pop(0)
        found.append(int(slot))
        while joined != said and todo:
            joined = clean(f"{joined} {todo.pop(0)}")
            found.append(int(slot))
        if joined != said:
            return None
    return found if not todo else None
