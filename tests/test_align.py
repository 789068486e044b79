"""Per-turn timing recovered from a dialogue block's audio, on synthetic speech whose true
turn boundaries are known."""

from __future__ import annotations

import numpy as np
import pytest

from podcastgen import moss
from podcastgen.align import cuts, slots, split, turn_clips
from podcastgen.moss import expected_seconds
from podcastgen.providers import Audio, Job

RATE = 24000
TURNS = [  # (speaker, text): long and short turns, English and Chinese
    (1, "Welcome back to the show. Today we talk about dialogue synthesis."),
    (2, "Thanks for having me."),
    (1, "So how does a model keep two voices apart over a long conversation?"),
    (2, "Mostly by listening to the reference clips. 这就是关键。"),
    (1, "Right."),
    (2, "And by keeping each request short enough that the voices do not drift."),
]


def speechlike(seconds: float, f0: float, rng: np.random.Generator) -> np.ndarray:
    """Voiced sound with syllable-rate loudness changes, short word gaps (under 60 ms) and a
    sentence pause (200 ms) every few seconds: what a turn of speech looks like to an
    energy envelope."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    syllables = 0.35 + 0.65 * np.abs(np.sin(2 * np.pi * rng.uniform(2.0, 2.6) * t))
    out = 0.2 * voice * syllables
    for gap in rng.uniform(0.3, seconds - 0.3, size=int(seconds * 1.5)) if seconds > 0.8 else []:
        out[int(gap * RATE): int((gap + rng.uniform(0.02, 0.05)) * RATE)] = 0
    for pause in np.arange(2.5, seconds - 1.0, 2.5):
        out[int(pause * RATE): int((pause + 0.2) * RATE)] = 0
    ramp = np.minimum(1, np.minimum(t, seconds - t) / 0.01)
    return (out * ramp).astype(np.float32)


def block(gaps: list[float], *, noise_db: float | None = None, seed: int = 0,
          rate_error: float = 0.2) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A block of TURNS with the given pauses between them; returns the samples and each
    turn's true (start, end) in seconds."""
    rng = np.random.default_rng(seed)
    pieces, truth, at = [np.zeros(int(0.4 * RATE), np.float32)], [], 0.4
    for k, (slot, text) in enumerate(TURNS):
        seconds = expected_seconds(text) * rng.uniform(1 - rate_error, 1 + rate_error)
        voice = speechlike(seconds, 120.0 if slot == 1 else 210.0, rng)
        pieces.append(voice)
        truth.append((at, at + len(voice) / RATE))
        at += len(voice) / RATE
        gap = gaps[k] if k < len(gaps) else 0.5
        pieces.append(np.zeros(int(gap * RATE), np.float32))
        at += int(gap * RATE) / RATE
    samples = np.concatenate(pieces)
    if noise_db is not None:
        level = 10 ** (noise_db / 20) * 0.2
        samples = samples + (rng.normal(0, level, len(samples))
                             + level * np.sin(2 * np.pi * 50 * np.arange(len(samples)) / RATE))
    return samples.astype(np.float32), truth


def check_pieces(samples: np.ndarray, truth: list[tuple[float, float]],
                 tolerance: float = 0.05, voices: bool = False) -> list[Audio]:
    known = [slot for slot, _ in TURNS] if voices else None
    pieces = split(Audio(samples, RATE), [text for _, text in TURNS], known)
    starts, at = [], 0
    for piece in pieces:  # find each piece back in the block, to read its start time
        at = _find(samples, piece.samples, at)
        starts.append(at / RATE)
    for (start, end), got, piece in zip(truth, starts, pieces):
        assert abs(got - start) < tolerance
        assert abs(got + piece.duration_s - end) < tolerance
    return pieces


def _find(haystack: np.ndarray, needle: np.ndarray, after: int) -> int:
    """Where `needle` sits in `haystack` (at or after `after`), sample for sample."""
    first = int(np.flatnonzero(needle)[0])
    for i in np.flatnonzero(haystack[after:] == needle[first]) + after - first:
        if i >= after and np.array_equal(haystack[i:i + len(needle)], needle):
            return int(i)
    raise AssertionError("piece not found in the block")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_block(seed: int) -> None:
    samples, truth = block([0.45, 0.3, 0.6, 0.35, 0.5], seed=seed)
    pieces = check_pieces(samples, truth)
    assert all(p.warnings == () for p in pieces)


@pytest.mark.parametrize("noise_db", [-40.0, -30.0])
def test_noisy_block(noise_db: float) -> None:
    samples, truth = block([0.45, 0.3, 0.6, 0.35, 0.5], noise_db=noise_db, seed=3)
    check_pieces(samples, truth)


def test_short_turn_pauses_shorter_than_sentence_pauses() -> None:
    """Turns 120 ms apart while the long turns pause 200 ms inside: the turn lengths decide."""
    samples, truth = block([0.12, 0.12, 0.12, 0.12, 0.12], seed=4, rate_error=0.1)
    check_pieces(samples, truth)


@pytest.mark.parametrize("seed", [1, 10])
def test_change_of_voice_settles_pauses_the_lengths_cannot(seed: int) -> None:
    """Every pause 200 ms, like the sentence pauses inside turns, and turns 40% off their
    expected length: which pauses are turn changes is heard in the voices on either side."""
    samples, truth = block([0.2] * 5, seed=seed, rate_error=0.4)
    check_pieces(samples, truth, voices=True)


def test_slots_are_read_back_from_the_block_script() -> None:
    parts = [moss.clean(t) for t in ("Hello.", "How are you?", "Fine!", "你好。", "我很好。")]
    script = moss.script(list(zip([1, 1, 2, 1, 1], parts)))
    assert script == "[S1]Hello. How are you.[S2]Fine.[S1]你好，我很好。"
    assert slots(script, parts) == [1, 1, 2, 1, 1]
    assert slots(script, parts[:3]) is None and slots("[S1]Hi.", ["Bye."]) is None


def test_turns_run_together_fall_back_to_the_expected_place() -> None:
    samples, truth = block([0.45, 0.0, 0.6, 0.35, 0.5], seed=5, rate_error=0.05)
    found = cuts(samples, RATE, [expected_seconds(t) for _, t in TURNS])
    assert [c.soft for c in found] == [False, True, False, False, False]
    boundary = truth[2][0]
    assert abs(found[1].at - boundary) < 0.6  # estimated from the text lengths
    for cut, (_, end), (start, _) in zip(found, truth, truth[1:]):
        if not cut.soft:
            assert end - 0.02 <= cut.at <= start + 0.02
    pieces = split(Audio(samples, RATE), [t for _, t in TURNS])
    warned = [bool(p.warnings) for p in pieces]
    assert warned == [False, True, True, False, False, False]
    assert "ran turns together" in pieces[1].warnings[0]


def test_single_part_is_trimmed_and_silence_gives_empty_clips() -> None:
    samples, truth = block([], seed=6)
    one = samples[: int((truth[0][1] + 0.3) * RATE)]
    (piece,) = split(Audio(one, RATE), [TURNS[0][1]])
    assert abs(piece.duration_s - (truth[0][1] - truth[0][0]) - 0.055) < 0.02
    empty = split(Audio(np.zeros(RATE, np.float32), RATE), ["a", "b"])
    assert [len(p.samples) for p in empty] == [0, 0]


def test_turn_clips_pass_single_turns_and_split_blocks() -> None:
    samples, truth = block([0.45, 0.3, 0.6, 0.35, 0.5], seed=7)
    solo = Audio(np.ones(100, np.float32), RATE)
    jobs = [Job(0, (0,), "x", "Hi.", "local", "joe"),
            Job(1, (2, 3, 4, 5, 6, 7), "a+b", "...", "siliconflow", "",
                parts=tuple(t for _, t in TURNS)),
            Job(2, (7,), "x", "More.", "local", "joe"),
            Job(3, (9,), "x", "Part one.", "local", "joe"),
            Job(4, (9,), "x", "Part two.", "local", "joe")]
    clips = [solo, Audio(samples, RATE), solo, solo, solo]
    out = turn_clips(jobs, clips)
    assert sorted(out) == [0, 2, 3, 4, 5, 6, 7, 9]
    assert out[0] == [solo] and out[9] == [solo, solo]
    assert len(out[7]) == 2 and out[7][1] is solo  # block's last turn, then its continuation
    lengths = [out[i][0].duration_s for i in (2, 3, 4, 5, 6, 7)]
    assert lengths == pytest.approx([e - s + 0.055 for s, e in truth], abs=0.05)


def test_an_estimated_cut_reaches_the_report_as_a_warning_on_the_turns_line(
        tmp_path, monkeypatch) -> None:
    from podcastgen.assemble import assemble
    from podcastgen.pipeline import BuildOptions, load_episode

    monkeypatch.chdir(tmp_path)
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text("title: T\nspeakers:\n  a: {}\nscript:\n"
                                      "  - a: One.\n  - a: Two.\n")
    episode = load_episode(tmp_path / "ep.yaml", BuildOptions())
    noise = np.random.default_rng(2).standard_normal(22050).astype(np.float32) * 0.1
    note = "the dialogue model ran turns together here; the turn's timing is estimated"
    clips = {0: [Audio(noise, 22050)], 1: [Audio(noise, 22050, warnings=(note,))]}
    _, placed = assemble(episode, clips)
    assert placed.warnings == (f"ep.yaml:6: script.1.a: warning: {note}",)
