"""Deterministic speech-like audio for the emulator: harmonic syllable bursts whose pitch is set
by the voice and whose length follows the text, so clients can decode and measure what they get.

The same request always yields the same bytes: every random choice is seeded from the text,
voice and settings, and encodes are memoised by that seed (tests stay fast)."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import wave
from dataclasses import dataclass

import numpy as np

SYNTH_RATE = 16_000  # rendered here, then ffmpeg resamples to the requested rate
EN_CHARS_PER_S = 14.0  # English, spaces included (~150 words a minute)
ZH_CHARS_PER_S = 4.5  # Chinese, Japanese and Korean characters
LEAD_S, TAIL_S = 0.08, 0.12  # digital silence before the first and after the last burst
SENTENCE_DIP_S = 0.12  # a short quiet dip (not silence) between sentences inside a turn
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


@dataclass(frozen=True)
class Turn:
    """One burst of speech: the words spoken and the identity its pitch and timbre come from."""

    text: str
    voice: str
    speaker: str = ""  # "S1"/"S2" in a dialogue block


@dataclass(frozen=True)
class Rendered:
    """Encoded audio plus what a test needs to check it: duration and each turn's true span."""

    data: bytes
    sample_rate: int
    duration_s: float
    bounds: tuple[tuple[float, float], ...]  # (start_s, end_s) of each turn's burst
    cut: bool = False  # stopped early at max_s, like a model running out of tokens
    pitches: tuple[float, ...] = ()  # each turn's base pitch in Hz (its voice's identity)


def spoken_seconds(text: str, speed: float = 1.0) -> float:
    """How long a plausible voice takes to say `text` at `speed`."""
    cjk = len(CJK.findall(text))
    other = len(text) - cjk
    return max(0.25, (cjk / ZH_CHARS_PER_S + other / EN_CHARS_PER_S) / speed)


def seed_of(*parts: object) -> int:
    """A stable 64-bit seed from any repr-able values (the same request, the same audio)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def pitch_of(voice: str) -> float:
    """A fundamental between 95 and 245 Hz that belongs to this voice identity."""
    return 95.0 + (seed_of("pitch", voice) % 1500) / 10.0


def distinct_pitches(voices: list[str]) -> dict[str, float]:
    """Each voice's pitch, nudged so no two voices in one request sit within 18 % of each other
    (in sorted order, so a pair of voices sounds the same whichever speaks first)."""
    found: dict[str, float] = {}
    for voice in sorted(set(voices)):
        f0 = pitch_of(voice)
        while any(abs(f0 / other - 1) < 0.18 for other in found.values()):
            f0 = f0 * 1.22 if f0 < 200 else f0 / 1.45
        found[voice] = f0
    return found


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s.strip()] or [text]


def _burst(seconds: float, f0: float, rng: np.random.Generator) -> np.ndarray:
    """Voiced syllables: harmonics under moving vowel formants, a syllable envelope that never
    drops to silence, a gentle intonation contour and a little breath noise."""
    n = max(1, round(seconds * SYNTH_RATE))
    t = np.arange(n) / SYNTH_RATE
    count = max(1, round(seconds * 4.2))
    edges = np.sort(np.concatenate([[0, n], rng.integers(1, max(2, n), count - 1)]))
    syllable = np.searchsorted(edges[1:], np.arange(n), side="right").clip(0, count - 1)
    contour = f0 * (1.06 - 0.12 * t / max(seconds, 1e-3)) * (1 + 0.04 * np.sin(2 * np.pi * 0.9 * t))
    contour *= 1 + rng.uniform(-0.05, 0.05, count)[syllable]
    phase = 2 * np.pi * np.cumsum(contour) / SYNTH_RATE
    f1, f2 = rng.uniform(300, 800, count)[syllable], rng.uniform(900, 2300, count)[syllable]
    out = np.zeros(n)
    for k in range(1, int(3800 // (f0 * 1.12)) + 1):
        fk = k * contour
        weight = 0.25 + np.exp(-((fk - f1) / 160) ** 2) + 0.7 * np.exp(-((fk - f2) / 260) ** 2)
        out += weight / k * np.sin(k * phase)
    start, stop = edges[:-1][syllable], edges[1:][syllable]
    pos = (np.arange(n) - start) / np.maximum(stop - start, 1)
    envelope = 0.3 + 0.7 * np.sin(np.pi * pos) ** 0.8
    out = out * envelope + rng.standard_normal(n) * 0.015 * envelope
    return out / (np.abs(out).max() + 1e-9)


def _turn_audio(turn: Turn, f0: float, speed: float, rng: np.random.Generator) -> np.ndarray:
    """One turn: its sentences as bursts joined by short quiet dips (real speech pauses)."""
    parts = []
    for i, sentence in enumerate(_sentences(turn.text)):
        if i:
            parts.append(rng.standard_normal(int(SENTENCE_DIP_S * SYNTH_RATE)) * 0.004)
        parts.append(_burst(spoken_seconds(sentence, speed), f0, rng))
    return np.concatenate(parts)


def synthesize(turns: tuple[Turn, ...], *, speed: float = 1.0, volume: float = 1.0,
               seed: int, max_s: float | None = None) -> tuple[np.ndarray, list, bool]:
    """Samples at SYNTH_RATE for the turns in order, 0.3-0.5 s of digital silence between them,
    and each turn's (start_s, end_s); `max_s` cuts the audio short like a model stopping early."""
    rng = np.random.default_rng(seed)
    pitches = distinct_pitches(list(dict.fromkeys(t.voice for t in turns)))
    pieces = [np.zeros(int(LEAD_S * SYNTH_RATE))]
    at, bounds = len(pieces[0]), []
    for i, turn in enumerate(turns):
        if i:
            gap = np.zeros(int(rng.uniform(0.3, 0.5) * SYNTH_RATE))
            pieces.append(gap)
            at += len(gap)
        burst = _turn_audio(turn, pitches[turn.voice], speed, rng) * 0.5
        pieces.append(burst)
        bounds.append((at / SYNTH_RATE, (at + len(burst)) / SYNTH_RATE))
        at += len(burst)
    pieces.append(np.zeros(int(TAIL_S * SYNTH_RATE)))
    samples = np.concatenate(pieces) * volume
    cut = False
    if max_s is not None and len(samples) > max_s * SYNTH_RATE:
        samples, cut = samples[: int(max_s * SYNTH_RATE)], True
        bounds = [(a, min(b, max_s)) for a, b in bounds if a < max_s]
    return np.clip(samples, -1, 1).astype(np.float32), bounds, cut


# -- encoding ---------------------------------------------------------------------------------

OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
CODECS = {  # format -> ffmpeg output arguments (container and codec)
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "pcm": ["-c:a", "pcm_s16le", "-f", "s16le"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
    "opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
    "ogg_opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
}
_memo: dict[tuple, Rendered] = {}
_memo_lock = threading.Lock()
MEMO_LIMIT = 256


def encoded_rate(fmt: str, rate: int) -> int:
    """The rate a format is really encoded at: Opus only runs at its own few rates."""
    return 48_000 if fmt in ("opus", "ogg_opus") and rate not in OPUS_RATES else rate


def encode(samples: np.ndarray, fmt: str, rate: int) -> bytes:
    """SYNTH_RATE float samples as `fmt` at `rate`, bit-exact so equal input gives equal bytes."""
    from .. import ffmpeg

    if fmt in ("pcm", "wav"):  # 16-bit PCM needs no codec: resample here, skip ffmpeg
        from ..audio import resample

        pcm = np.round(np.clip(resample(samples, SYNTH_RATE, rate), -1, 1) * 32767)
        data = pcm.astype("<i2").tobytes()
        if fmt == "pcm":
            return data
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(data)
        return out.getvalue()
    args = ["-f", "f32le", "-ar", str(SYNTH_RATE), "-ac", "1", "-i", "pipe:0",
            "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
            "-ar", str(encoded_rate(fmt, rate)), "-ac", "1", *CODECS[fmt], "pipe:1"]
    return ffmpeg.run(args, stdin=samples.tobytes(), what=f"encoding emulator {fmt}").stdout


def render(turns: tuple[Turn, ...], *, fmt: str, rate: int, speed: float = 1.0,
           volume: float = 1.0, max_s: float | None = None) -> Rendered:
    """Synthesize and encode, memoised by everything that shapes the audio."""
    seed = seed_of(turns, speed, volume, max_s)
    key = (seed, fmt, rate)
    with _memo_lock:
        found = _memo.get(key)
    if found is not None:
        return found
    samples, bounds, cut = synthesize(turns, speed=speed, volume=volume, seed=seed, max_s=max_s)
    pitches = distinct_pitches(list(dict.fromkeys(t.voice for t in turns)))
    done = Rendered(encode(samples, fmt, rate), encoded_rate(fmt, rate),
                    len(samples) / SYNTH_RATE, tuple(bounds), cut,
                    tuple(round(pitches[t.voice], 1) for t in turns))
    with _memo_lock:
        if len(_memo) >= MEMO_LIMIT:
            _memo.pop(next(iter(_memo)))
        _memo[key] = done
    return done
