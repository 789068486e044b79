"""Music on the timeline: faded intros and outros, and a looped bed ducked under the voices.

The bed is written into the episode's float32 samples in place, a chunk at a time, so a bed
under an hour-long episode costs a few megabytes beyond the episode itself. Every gain change
is a raised-cosine ramp: no step in level, so no click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .audio import ramp

CHUNK = 1 << 18  # samples per pass over the episode (6 s at 44.1 kHz, 1 MB of float32)
LOOP_SEAM_S = 0.05  # a looping bed's end crossfades into its start over this long


def loop_body(clip: np.ndarray, rate: int) -> np.ndarray:
    """One period of a seamless loop: the clip's last LOOP_SEAM_S crossfades into its first.

    Played back to back, period after period, the wrap goes from the clip's sample M-1 to its
    sample M (M = the period), which is how the clip itself runs: no jump at the seam. The
    crossfade keeps equal gain (the two ends are usually the same music), so a file that
    already loops plays on with no bump in level.
    """
    seam = min(int(LOOP_SEAM_S * rate), len(clip) // 4)
    if seam == 0:
        return np.asarray(clip, np.float32)
    period = len(clip) - seam
    body = np.array(clip[:period], dtype=np.float32)
    up = ramp(seam) ** 2  # sin² + cos² = 1
    body[:seam] = body[:seam] * up + clip[period:] * (1 - up)
    return body


def merged(voiced: Sequence[tuple[int, int]], bridge: int) -> tuple[np.ndarray, np.ndarray]:
    """Voiced spans sorted and joined where the gap between them is under `bridge` samples,
    so the bed stays down between close turns instead of pumping."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(voiced):
        if starts and start - ends[-1] < bridge:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return np.array(starts, np.int64), np.array(ends, np.int64)


def duck_depth(pos: np.ndarray, starts: np.ndarray, ends: np.ndarray, attack: int,
               release: int) -> np.ndarray:
    """How far ducked (0 = full level, 1 = fully down) the bed is at each sample position.

    Down over `attack` samples before each span (look-ahead: the script is known), held for
    the span, up over `release` after it. Spans are merged first, so ramps never overlap.
    """
    depth = np.zeros(len(pos), np.float32)
    if len(starts) == 0:
        return depth
    k = np.searchsorted(starts - attack, pos, side="right") - 1
    inside = k >= 0
    s, e = starts[k[inside]], ends[k[inside]]
    p = pos[inside]
    before = np.clip((p - (s - attack)) / attack, 0.0, 1.0)
    after = np.clip(1.0 - (p - e) / release, 0.0, 1.0)
    phase = np.where(p < s, before, np.where(p > e, after, 1.0))
    depth[inside] = 0.5 - 0.5 * np.cos(np.pi * phase)
    return depth


@dataclass(frozen=True)
class BedPlacement:
    """Where a bed plays on the episode's timeline, in samples, and what it ducks under."""

    start: int
    end: int
    voiced: tuple[tuple[int, int], ...]
    fade_in: int
    fade_out: int
    attack: int
    release: int
    duck_db: float


def _fade_gain(pos: np.ndarray, where: BedPlacement) -> np.ndarray:
    """The bed's own fade-in and fade-out as equal-power curves over positions `pos`."""
    rise = np.clip((pos - where.start + 0.5) / max(where.fade_in, 1), 0.0, 1.0)
    fall = np.clip((where.end - pos - 0.5) / max(where.fade_out, 1), 0.0, 1.0)
    return np.sin(0.5 * np.pi * np.minimum(rise, fall)).astype(np.float32)


def mix_bed(samples: np.ndarray, bed: np.ndarray, where: BedPlacement) -> None:
    """Add `bed` (levelled, one loop period) to `samples` in place over `where`, looped,
    faded and ducked; memory stays a few chunk-sized temporaries whatever the length.

    The gain is computed sample by sample only where it moves (fades, attacks, releases);
    between those it is one number, so an hour of bed costs little more than its copy.
    """
    if len(bed) == 0 or where.end <= where.start:
        return
    starts, ends = merged(where.voiced, where.attack + where.release)
    duck = np.float32(1.0 - 10 ** (-where.duck_db / 20))
    stop = min(where.end, len(samples))
    points = np.concatenate([[where.start, stop, where.start + where.fade_in,
                              where.end - where.fade_out], starts - where.attack, starts, ends,
                             ends + where.release])
    points = np.unique(np.clip(points, where.start, stop))
    for lo, hi in zip(points[:-1], points[1:]):
        for a in range(int(lo), int(hi), CHUNK):
            b = min(a + CHUNK, int(hi))
            moving = _moving((a + b) // 2, where, starts, ends)
            pos = np.arange(a, b, dtype=np.int64) if moving else np.array([a])
            gain = _fade_gain(pos, where)
            gain *= 1.0 - duck * duck_depth(pos, starts, ends, where.attack, where.release)
            _add_looped(samples, bed, a, b, where.start, gain if moving else float(gain[0]))


def _moving(p: int, where: BedPlacement, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether the bed's gain changes around sample `p` (a fade, an attack or a release)."""
    if p < where.start + where.fade_in or p >= where.end - where.fade_out:
        return True
    k = int(np.searchsorted(starts - where.attack, p, side="right")) - 1
    return k >= 0 and (p < starts[k] or ends[k] < p <= ends[k] + where.release)


def _add_looped(samples: np.ndarray, bed: np.ndarray, a: int, b: int, origin: int,
                gain: np.ndarray | float) -> None:
    """samples[a:b] += the bed looped from `origin`, times `gain` (per sample, or one number)."""
    pos = a
    while pos < b:
        k = (pos - origin) % len(bed)
        n = min(b - pos, len(bed) - k)
        g = np.float32(gain) if isinstance(gain, float) else gain[pos - a: pos - a + n]
        samples[pos:pos + n] += bed[k:k + n] * g
        pos += n
