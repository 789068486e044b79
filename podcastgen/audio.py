"""Sample-accurate timeline: every clip is resampled once to the output rate and the episode
is joined with one concatenate (pydub's `+=` in a loop is quadratic; see audio.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soxr

from . import ffmpeg

FRAME_S = 0.005
EDGE_S = 0.005  # the shortest fade any clip edge gets, so a hard cut never clicks


def trim_silence(samples: np.ndarray, rate: int, *, floor_db: float = -42.0,
                 lead_s: float = 0.012, tail_s: float = 0.04) -> np.ndarray:
    """Cut leading and trailing near-silence (below `floor_db` under the loudest 5 ms frame),
    keeping a short lead-in and decay so no consonant is clipped."""
    frame = max(1, int(rate * FRAME_S))
    n = len(samples) // frame
    if n == 0:
        return samples[:0]
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1))
    limit = max(rms.max() * 10 ** (floor_db / 20), 1e-4)
    loud = np.flatnonzero(rms > limit)
    if len(loud) == 0:
        return samples[:0]
    start = max(0, loud[0] * frame - int(lead_s * rate))
    end = min(len(samples), (loud[-1] + 1) * frame + int(tail_s * rate))
    return samples[start:end]


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling (libsoxr, high quality: flat to 20 kHz, no audible aliasing),
    exactly round(len * dst / src) samples long so positions on the timeline stay exact."""
    x = np.asarray(samples, dtype=np.float32)
    if src == dst or len(x) == 0:
        return x
    out = soxr.resample(x, src, dst, quality="HQ")
    want = int(round(len(x) * dst / src))
    if len(out) < want:
        out = np.concatenate([out, np.zeros(want - len(out), np.float32)])
    return out[:want].astype(np.float32, copy=False)


def load_clip(path: Path, rate: int) -> np.ndarray:
    """Decode any audio file to mono float32 at the output rate, in one ffmpeg pass."""
    return ffmpeg.decode(path, rate)


def ramp(n: int) -> np.ndarray:
    """An equal-power fade-in of n samples (quarter sine from exactly 0), float32; reversed it
    fades out to exactly 0."""
    return np.sin(0.5 * np.pi * np.arange(max(n, 0)) / max(n, 1)).astype(np.float32)


def faded(clip: np.ndarray, rate: int, fade_in_s: float = 0.0,
          fade_out_s: float = 0.0) -> np.ndarray:
    """A copy of `clip` with equal-power fades at each end (each at least EDGE_S long, so
    even "no fade" never starts or stops on a step: no click at a cut)."""
    out = np.array(clip, dtype=np.float32)
    for seconds, head in ((fade_in_s, True), (fade_out_s, False)):
        n = min(len(out), max(int(round(seconds * rate)), int(EDGE_S * rate)))
        if head:
            out[:n] *= ramp(n)
        else:
            out[len(out) - n:] *= ramp(n)[::-1]
    return out


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    return (samples * np.float32(10 ** (db / 20))).astype(np.float32)


class Timeline:
    """Clips and silences appended in order; positions are exact sample counts.

    Audio is copied straight into one buffer as it arrives, so the episode exists once in
    memory (never as a list of pieces plus their concatenation). `capacity` is a first guess
    at the length in samples; the buffer grows by half when the guess was short. Silence costs
    nothing: the buffer starts zeroed, and untouched pages are never even mapped in.
    """

    def __init__(self, rate: int, capacity: int = 0):
        self.rate = rate
        self.length = 0  # samples
        self._buffer = np.zeros(max(capacity, rate), dtype=np.float32)

    def seconds(self, samples: int | None = None) -> float:
        return (self.length if samples is None else samples) / self.rate

    def _reserve(self, n: int) -> None:
        if self.length + n > len(self._buffer):
            grown = np.zeros(max(self.length + n, len(self._buffer) * 3 // 2), np.float32)
            grown[: self.length] = self._buffer[: self.length]
            self._buffer = grown

    def silence(self, seconds: float) -> None:
        n = int(round(seconds * self.rate))
        if n > 0:
            self._reserve(n)
            self.length += n

    def add(self, clip: np.ndarray) -> tuple[int, int]:
        """Append a clip; returns its (start, end) in samples."""
        start = self.length
        self._reserve(len(clip))
        self._buffer[start:start + len(clip)] = clip
        self.length += len(clip)
        return start, self.length

    def render(self) -> np.ndarray:
        """The whole episode (a view of the buffer: no copy)."""
        return self._buffer[: self.length]
