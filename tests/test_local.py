"""The offline local engine: real Piper synthesis, measured."""

from __future__ import annotations

import numpy as np
import pytest

from podcastgen.audio import resample
from podcastgen.providers import Job, get
from podcastgen.providers.local import SENTENCE_PAUSE_S, VOICES, speakable, unspeakable

RATE = 44100
SENTENCE = ("The quick brown fox jumps over the lazy dog, and then it runs away. We asked a few "
            "friends to send questions before we launched. That is all for our first episode.")


def synth(voice: str, text: str = SENTENCE, speed: float = 1.0) -> np.ndarray:
    audio = get("local").synthesize(Job(0, (0,), "a", text, "local", voice, speed=speed))
    return resample(audio.samples, audio.sample_rate, RATE)


def median_f0(samples: np.ndarray, rate: int = RATE) -> float:
    """Median fundamental over voiced 40 ms frames, by autocorrelation (60-400 Hz)."""
    n, f0s = int(0.04 * rate), []
    lo, hi = rate // 400, rate // 60
    for start in range(0, len(samples) - n, n):
        frame = samples[start:start + n] - samples[start:start + n].mean()
        if np.sqrt(np.mean(frame ** 2)) < 0.02:
            continue
        ac = np.correlate(frame, frame, "full")[n - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            f0s.append(rate / lag)
    return float(np.median(f0s))


@pytest.fixture(scope="module")
def renders() -> dict[str, np.ndarray]:
    return {voice: synth(voice) for voice in VOICES}


def test_at_least_three_voices_differ_in_pitch(renders: dict[str, np.ndarray]) -> None:
    # Piper samples its prosody at random, so margins sit well inside the designed shifts
    # (bright +3.5, deep -4, lively +1.5, calm -1.5 semitones; measured over several runs).
    pitch = {voice: median_f0(samples) for voice, samples in renders.items()}
    assert pitch["joe-bright"] > pitch["joe"] * 1.1, pitch
    assert pitch["joe-deep"] < pitch["joe"] / 1.08, pitch
    assert pitch["joe-calm"] < pitch["joe"] < pitch["joe-lively"], pitch


def test_voices_differ_in_pace(renders: dict[str, np.ndarray]) -> None:
    seconds = {voice: len(samples) / RATE for voice, samples in renders.items()}
    assert seconds["joe-lively"] < seconds["joe"] < seconds["joe-calm"]


def test_speed_shortens_the_turn() -> None:
    assert len(synth("joe", "Hello there, how are you?", 1.5)) < \
        0.85 * len(synth("joe", "Hello there, how are you?", 1.0))  # Piper rounds phoneme lengths


def test_clips_are_trimmed_and_sentences_joined_with_a_short_pause() -> None:
    one = synth("joe", "Hello there.")
    level = 20 * np.log10(np.abs(one[: int(0.03 * RATE)]).max() + 1e-9)
    assert level > -48  # speech starts within the first 30 ms: no leading silence
    two = synth("joe", "Hello there. Good to see you.")
    silent = np.abs(two) < 1e-3  # the inserted pause: silence (resampling leaves faint ripple)
    runs, run = [], 0
    for s in silent:
        run = run + 1 if s else 0
        runs.append(run)
    assert SENTENCE_PAUSE_S - 0.01 <= max(runs) / RATE <= SENTENCE_PAUSE_S + 0.12


def test_chinese_is_left_out_of_the_english_voice() -> None:
    assert unspeakable("Hello 你好, Zoë!") == "你好"
    assert speakable("Hello 你好, world") == "Hello , world"
    silent = synth("joe", "你好世界")
    assert np.abs(silent).max() == 0 and len(silent) / RATE == pytest.approx(0.88, abs=0.01)
