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
    # designed: bright +5, lively +2, calm -2, deep -4 semitones (pitch moved, formants kept)
    pitch = {voice: median_f0(samples) for voice, samples in renders.items()}
    assert pitch["joe-bright"] > pitch["joe"] * 1.2, pitch  # +3.2 semitones at least
    assert pitch["joe-deep"] < pitch["joe"] / 1.15, pitch
    assert pitch["joe-deep"] < pitch["joe-calm"] < pitch["joe"] < pitch["joe-lively"] \
        < pitch["joe-bright"], pitch


def test_voices_differ_in_pace(renders: dict[str, np.ndarray]) -> None:
    seconds = {voice: len(samples) / RATE for voice, samples in renders.items()}
    assert seconds["joe-lively"] < seconds["joe"] * 0.95 < seconds["joe"] * 1.05 \
        < seconds["joe-calm"], seconds


def test_voices_differ_in_timbre(renders: dict[str, np.ndarray]) -> None:
    """Brighter voices carry more of their energy high: the spectral centroid orders them."""
    def centroid(samples: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(samples)) ** 2
        return float((power * np.fft.rfftfreq(len(samples), 1 / RATE)).sum() / power.sum())
    bright = {voice: centroid(samples) for voice, samples in renders.items()}
    assert bright["joe-deep"] < bright["joe"] / 1.1 < bright["joe"] * 1.2 < bright["joe-bright"]


def test_the_same_job_gives_the_same_samples() -> None:
    """Piper's noise and PSOLA's choices are seeded by the segment, in any order."""
    first = synth("joe-lively", "Repeat after me, please. Once more.")
    synth("joe-lively", "Something else in between.")
    assert np.array_equal(first, synth("joe-lively", "Repeat after me, please. Once more."))
    assert not np.array_equal(first[: int(0.5 * RATE)],
                              synth("joe-calm", "Repeat after me, please. Once more.")[
                                  : int(0.5 * RATE)])


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


def test_only_scripts_neither_engine_speaks_are_left_out() -> None:
    assert unspeakable("Hello 你好, Zoë! Привет") == "Привет"
    assert speakable("Hello 你好, Привет world") == "Hello 你好, world"
    silent = synth("joe", "Привет мир")
    assert np.abs(silent).max() == 0 and len(silent) / RATE == pytest.approx(2.2, abs=0.01)


def test_chinese_is_spoken_in_mandarin_at_each_voices_pitch() -> None:
    text = "大家好，欢迎收听我们的节目。"
    low, high = synth("joe-deep", text), synth("joe-bright", text)
    for clip in (low, high):
        levels = 20 * np.log10(np.sqrt(np.mean(
            clip[: len(clip) // 441 * 441].reshape(-1, 441) ** 2, axis=1)) + 1e-9)
        assert (levels > -35).mean() > 0.5  # mostly voiced: speech, not silence
        assert 2.0 < len(clip) / RATE < 6.0  # 14 syllables at a speaking pace
    assert median_f0(high) > median_f0(low) * 1.3


def test_a_mixed_line_goes_to_both_engines() -> None:
    english = synth("joe", "Python is great.")
    mixed = synth("joe", "我们今天聊 Python is great.")
    assert len(mixed) > len(english) + 0.8 * RATE  # the Chinese was spoken too
