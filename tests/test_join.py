"""A turn split for a provider's input limit is rejoined as one utterance: each piece trimmed,
faded at the cut (no click), with a short sentence pause between pieces."""

from __future__ import annotations

import numpy as np

from podcastgen.assemble import JOIN_PAUSE_S, joined, turn_audio
from podcastgen.providers import Audio

RATE = 24000


def tone(seconds: float, level: float = 0.5) -> np.ndarray:
    """A tone that starts and stops at full amplitude, as a clip cut mid-waveform does."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.cos(2 * np.pi * 220 * t)).astype(np.float32)


def padded(seconds: float) -> np.ndarray:
    """A tone that fades in and out, with silence around it, as synthesized speech comes."""
    body = tone(seconds) * np.hanning(int(seconds * RATE)).astype(np.float32)
    quiet = np.zeros(int(0.3 * RATE), np.float32)
    return np.concatenate([quiet, body, quiet])


def test_cut_edges_are_faded_and_a_pause_joins_the_pieces() -> None:
    parts = joined([tone(1.0), tone(0.5)], RATE)
    first, pause, second = parts
    assert len(pause) == round(JOIN_PAUSE_S * RATE) and not pause.any()
    assert (len(first), len(second)) == (RATE, RATE // 2)  # nothing of the speech lost
    for part in (first, second):
        assert abs(part[0]) < 1e-3 and abs(part[-1]) < 0.01  # no step at the cut
    assert np.max(np.abs(np.diff(np.concatenate(parts)))) < 0.05  # no click anywhere


def test_silence_around_each_piece_is_trimmed() -> None:
    first, pause, second = joined([padded(1.0), padded(0.5)], RATE)
    assert 0.8 <= len(first) / RATE <= 1.06 and 0.3 <= len(second) / RATE <= 0.56


def test_a_turn_of_one_piece_is_left_as_it_came() -> None:
    clip = padded(0.4)
    alone = turn_audio([Audio(clip, RATE)], RATE)
    assert len(alone) == len(clip)
    two = turn_audio([Audio(clip, RATE), Audio(clip, RATE)], RATE)
    assert len(two) < 2 * len(clip)  # each piece's own silence trimmed, one pause added
