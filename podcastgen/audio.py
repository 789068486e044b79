"""Sample-accurate timeline: every clip is resampled once to the output rate and the episode
is joined with one concatenate (pydub's `+=` in a loop is quadratic; see audio.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import ffmpeg

FRAME_S = 0.005


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
    """Band-limited resampling by FFT, with zero padding so the clip's ends don't wrap."""
    if src == dst or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    pad = 2048
    padded = np.concatenate([np.zeros(pad, np.float32), samples, np.zeros(pad, np.float32)])
    n_in = len(padded)
    n_out = int(round(n_in * dst / src))
    spec = np.fft.rfft(padded)
    keep = min(len(spec), n_out // 2 + 1)
    out_spec = np.zeros(n_out // 2 + 1, dtype=spec.dtype)
    out_spec[:keep] = spec[:keep]
    out = np.fft.irfft(out_spec, n_out) * (n_out / n_in)
    cut = int(round(pad * dst / src))
    want = int(round(len(samples) * dst / src))
    return out[cut: cut + want].astype(np.float32)


def load_clip(path: Path, rate: int) -> np.ndarray:
    """Decode any audio file to mono float32 at the output rate, in one ffmpeg pass."""
    return ffmpeg.decode(path, rate)


def fade_edges(samples: np.ndarray, rate: int, seconds: float = 0.005) -> np.ndarray:
    """Short linear fades at both ends, so a clip cut mid-waveform does not click."""
    n = min(len(samples) // 2, int(rate * seconds))
    if n == 0:
        return samples
    out = samples.astype(np.float32, copy=True)
    ramp = np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    return (samples * np.float32(10 ** (db / 20))).astype(np.float32)


class Timeline:
    """Clips and silences appended in order; positions are exact sample counts."""

    def __init__(self, rate: int):
        self.rate = rate
        self.parts: list[np.ndarray] = []
        self.length = 0  # samples

    def seconds(self, samples: int | None = None) -> float:
        return (self.length if samples is None else samples) / self.rate

    def silence(self, seconds: float) -> None:
        n = int(round(seconds * self.rate))
        if n > 0:
            self.parts.append(np.zeros(n, dtype=np.float32))
            self.length += n

    def add(self, clip: np.ndarray) -> tuple[int, int]:
        """Append a clip; returns its (start, end) in samples."""
        start = self.length
        self.parts.append(clip.astype(np.float32, copy=False))
        self.length += len(clip)
        return start, self.length

    def render(self) -> np.ndarray:
        """The whole episode, joined once."""
        if not self.parts:
            return np.zeros(0, dtype=np.float32)
        out = np.concatenate(self.parts)
        self.parts = [out]
        return out
