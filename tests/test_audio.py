"""Timeline, resampling and compile: the sample arithmetic the transcripts rely on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcastgen import source
from podcastgen.audio import Timeline, resample, trim_silence
from podcastgen.episode import validate
from podcastgen.plan import compile_episode


def test_resample_keeps_frequency_and_length() -> None:
    src, dst = 22050, 44100
    t = np.arange(src) / src
    out = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), src, dst)
    assert len(out) == dst
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == 440  # 1 s at 44.1 kHz: bin n is n Hz
    mid = out[4410:-4410]
    assert np.abs(mid).max() == pytest.approx(1.0, abs=0.01)


def test_resample_to_an_odd_rate_keeps_duration() -> None:
    out = resample(np.ones(23362, np.float32), 23362, 44100)
    assert len(out) == 44100


def test_timeline_positions_are_exact_samples() -> None:
    tl = Timeline(44100)
    tl.silence(0.3)
    first = tl.add(np.ones(1000, np.float32))
    tl.silence(0.35)
    second = tl.add(np.ones(10, np.float32))
    assert first == (13230, 14230)
    assert second == (14230 + 15435, 14230 + 15435 + 10)
    audio = tl.render()
    assert len(audio) == tl.length == second[1]
    assert audio[first[0]] == 1 and audio[first[0] - 1] == 0


def test_trim_keeps_a_short_lead_in() -> None:
    rate = 22050
    clip = np.concatenate([np.zeros(rate), 0.5 * np.ones(rate), np.zeros(rate)]).astype(np.float32)
    trimmed = trim_silence(clip, rate)
    assert len(trimmed) / rate == pytest.approx(1.0 + 0.012 + 0.04, abs=0.006)
    assert len(trim_silence(np.zeros(rate, np.float32), rate)) == 0


def test_compile_makes_one_job_per_turn_with_turn_speed(tmp_path: Path) -> None:
    (tmp_path / "podcastgen.yaml").write_text("")
    ep = tmp_path / "ep.yaml"
    ep.write_text("title: T\nspeakers:\n  a: {speed: 1.2}\n  b: {}\nscript:\n"
                  "  - chapter: One\n  - a: Hi.\n  - pause: 1\n  - b:\n      text: Yo.\n"
                  "      speed: 0.9\n")
    episode = validate(source.load(ep, tmp_path), tmp_path)
    plan = compile_episode(episode)
    assert [(j.turns, j.speaker, j.text, j.voice, j.speed) for j in plan.jobs] == [
        ((1,), "a", "Hi.", "joe", 1.2), ((3,), "b", "Yo.", "joe-bright", 0.9)]
    assert plan.turn_jobs == {1: (0,), 3: (1,)}
    shown = source.show_path(ep)
    assert [j.where for j in plan.jobs] == [f"{shown}:7", f"{shown}:9"]


def test_timeline_grows_past_its_first_guess_without_losing_a_sample() -> None:
    rng = np.random.default_rng(3)
    clips = [rng.standard_normal(n).astype(np.float32) for n in (30000, 70000, 5, 120000)]
    tl = Timeline(44100, capacity=1000)
    expected = []
    for clip in clips:
        tl.silence(0.01)
        tl.add(clip)
        expected += [np.zeros(441, np.float32), clip]
    assert np.array_equal(tl.render(), np.concatenate(expected))
