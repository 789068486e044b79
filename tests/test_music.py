"""Music on the timeline, measured on built audio: a bed ducked under the voices and restored in
the gaps without clicks, an intro crossfading into the first words, bounded memory.

The test bed carries a steady 13 kHz marker tone. The two local voices used hold nothing above
11.1 kHz, so that band of the finished (lossless) episode shows the bed's level alone, under
speech and between turns; the band above 18 kHz holds only dither, so a click shows up there
(a step of 0.1 % full scale reads about 8 dB over the dither; the test allows 6).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from podcastgen import assemble, ffmpeg, master, music
from podcastgen.pipeline import BuildOptions, build_episode
from podcastgen.settings import Bed

RATE = 44100
HOP = 220  # 5 ms analysis hop: a click is never more than 2.5 ms from a frame's centre
WINDOW = 882  # 20 ms frames: 50 Hz bins, 13 kHz is bin 260
ATTACK, RELEASE = 0.25, 0.6
EPISODE = f"""\
title: Ducking
speakers:
  alex: {{voice: joe}}
  anna: {{voice: joe-deep}}
production:
  intro: {{file: intro.flac, crossfade: 1.5}}
  bed: {{file: bed.flac, level: -24, duck: 12, attack: {ATTACK}, release: {RELEASE}}}
output: {{formats: [flac]}}
script:
  - pause: 2
  - alex: Here is the first thing I want to say today.
  - anna: And here is my answer to it.
  - pause: 2.5
  - alex: After a pause, the bed came back up, and now it goes down again.
  - pause: 2.5
  - anna: The end.
"""


def soft_intro(seconds: float = 4.0) -> np.ndarray:
    """A chord that swells in and out with no edge: the crossfade is the only thing tested."""
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (330.0, 415.3, 494.0)) / 3
    return (0.3 * chord * np.sin(np.pi * t / seconds)).astype("<f4")


def write_flac(samples: np.ndarray, dest: Path) -> None:
    ffmpeg.run(["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "-", "-c:a", "flac",
                str(dest)], stdin=samples.tobytes())


def marker_bed(seconds: float = 3.0) -> np.ndarray:
    """Two low tones and the 13 kHz marker, whole cycles in the file and in its loop period."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.2 * np.sin(2 * np.pi * 200 * t) + 0.15 * np.sin(2 * np.pi * 300 * t)
            + 0.1 * np.sin(2 * np.pi * 13000 * t)).astype("<f4")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, dict]:
    root = tmp_path_factory.mktemp("ducking")
    (root / "podcastgen.yaml").write_text("")
    write_flac(soft_intro(), root / "intro.flac")
    write_flac(marker_bed(), root / "bed.flac")
    (root / "ep.yaml").write_text(EPISODE)
    result = build_episode(root / "ep.yaml", BuildOptions(outdir=root / "out"))
    return ffmpeg.decode(root / "out" / "ep.flac", RATE), result.report


def _frames(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blackman-Harris windowed spectra every 5 ms (sidelobes under -92 dB, so loud speech
    does not leak into the bands measured) and each frame's centre time."""
    starts = np.arange(0, len(x) - WINDOW, HOP)
    n = np.arange(WINDOW)
    a = (0.35875, 0.48829, 0.14128, 0.01168)
    w = a[0] - a[1] * np.cos(2 * np.pi * n / WINDOW) + a[2] * np.cos(4 * np.pi * n / WINDOW) \
        - a[3] * np.cos(6 * np.pi * n / WINDOW)
    frames = np.lib.stride_tricks.sliding_window_view(x, WINDOW)[starts]
    return np.abs(np.fft.rfft(frames * w, axis=1)) / (w.sum() / 2), (starts + WINDOW / 2) / RATE


def bed_level_db(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level of the 13 kHz marker (the bed alone) per frame, in dBFS."""
    spec, t = _frames(x)
    return 20 * np.log10(spec[:, 259:262].max(axis=1) + 1e-12), t


def air_db(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energy above 18 kHz per frame (dB): dither only, unless something clicks."""
    spec, t = _frames(x)
    return 10 * np.log10((spec[:, 360:421] ** 2).sum(axis=1) + 1e-20), t


def test_bed_is_ducked_under_speech_and_restored_in_gaps(built) -> None:
    x, report = built
    level, t = bed_level_db(x)
    segments = [(s["start_s"], s["end_s"]) for s in report["segments"]]
    under = np.concatenate([level[(t > a + 0.02) & (t < b - 0.02)] for a, b in segments])
    gaps = [(segments[1][1] + RELEASE + 0.05, segments[2][0] - ATTACK - 0.05),
            (segments[2][1] + RELEASE + 0.05, segments[3][0] - ATTACK - 0.05)]
    restored = np.concatenate([level[(t > a) & (t < b)] for a, b in gaps])
    assert len(under) > 600 and len(restored) > 300
    drop = np.median(restored) - np.median(under)
    assert 10.0 <= drop <= 13.0, drop  # duck: 12
    assert np.ptp(restored) < 0.5  # full level all through each gap
    for start, _ in segments:  # look-ahead: already down when each voice starts
        at = level[np.argmin(np.abs(t - (start + 0.01)))]
        assert at <= np.median(restored) - 10.0, (start, at)


def test_no_clicks_where_the_bed_moves_or_the_intro_crossfades(built) -> None:
    x, report = built
    air, t = air_db(x)
    floor = np.median(air)
    starts = [s["start_s"] for s in report["segments"]]
    ends = [s["end_s"] for s in report["segments"]]
    windows = [(s - ATTACK - 0.05, s + 0.05) for s in starts]  # ducking down, voice in
    windows += [(e - 0.05, e + RELEASE + 0.05) for e in ends]  # voice out, coming back up
    windows += [(2.8 - 0.05, 4.3 + 0.05)]  # the intro's tail under the bed's fade-in
    near = np.concatenate([air[(t >= a) & (t <= b)] for a, b in windows])
    assert len(near) > 800
    assert near.max() <= floor + 6.0, (near.max(), floor)
    assert air.max() <= floor + 6.0, (air.max(), t[np.argmax(air)])  # nor anywhere else
    clicked = x.copy()  # the same measure catches a 1 % step at one of those moments
    clicked[int(starts[2] * RATE):] += 0.01
    air2, _ = air_db(clicked)
    assert air2[np.abs(t - starts[2]) < 0.015].max() > floor + 20.0


def test_intro_crossfade_brings_the_first_words_in_under_its_tail(built) -> None:
    _, report = built
    # lead-in 0.3 s + the 4.0 s intro - its 1.5 s crossfade, then the 2 s pause
    assert report["segments"][0]["start_s"] == pytest.approx(4.8, abs=1 / RATE)


def test_ducking_curve_is_smooth_and_bridges_short_gaps() -> None:
    attack, release = 100, 300
    starts, ends = music.merged([(1000, 2000), (2200, 3000), (5000, 6000)], attack + release)
    assert list(zip(starts, ends)) == [(1000, 3000), (5000, 6000)]  # a 200-sample gap bridged
    depth = music.duck_depth(np.arange(7000), starts, ends, attack, release)
    assert depth[899] == 0.0 and depth[1000:3001].min() == 1.0 and depth[3301] == 0.0
    assert np.abs(np.diff(depth)).max() < 2.5 * np.pi / 2 / attack  # raised-cosine slope


def test_looped_bed_has_no_jump_at_the_seam() -> None:
    t = np.arange(RATE) / RATE
    clip = np.sin(2 * np.pi * 110.3 * t).astype(np.float32)  # does not loop on its own
    body = music.loop_body(clip, RATE)
    looped = np.concatenate([body, body])
    typical = np.abs(np.diff(clip)).max()
    assert np.abs(np.diff(looped)).max() <= typical * 1.05
    assert abs(clip[0] - clip[-1]) > 10 * typical  # looped as it is, the wrap would jump


def test_bed_memory_does_not_grow_with_the_episode() -> None:
    bed = marker_bed(2.0)
    peaks = []
    for minutes in (1, 6):
        samples = np.zeros(minutes * 60 * RATE, np.float32)
        voiced = tuple((s, s + 3 * RATE) for s in range(RATE, len(samples) - 4 * RATE, 5 * RATE))
        where = music.BedPlacement(0, len(samples), voiced, RATE, 2 * RATE, 11025, 26460, 12.0)
        tracemalloc.start()
        music.mix_bed(samples, bed, where)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] and peaks[1] < 32 * 2**20, peaks


def test_outro_crossfade_and_item_gains_on_the_timeline(tmp_path: Path) -> None:
    """Assembled from stand-in voices (noise bursts): the outro starts its crossfade before the
    last words end, and a sound's `gain` moves its level by exactly that much."""
    from podcastgen import master
    from podcastgen.align import turn_clips
    from podcastgen.assemble import SOUND_LUFS, TAIL_S, assemble
    from podcastgen.pipeline import BuildOptions, load_episode
    from podcastgen.plan import compile_episode
    from podcastgen.providers import Audio

    (tmp_path / "podcastgen.yaml").write_text("")
    write_flac(soft_intro(), tmp_path / "outro.flac")
    write_flac(marker_bed(1.0), tmp_path / "chime.flac")
    (tmp_path / "ep.yaml").write_text(
        "title: T\nspeakers:\n  a: {}\nproduction:\n  outro: {file: outro.flac, crossfade: 1.0}\n"
        "script:\n  - a: One.\n  - sound: {file: chime.flac, gain: -6}\n  - a: Two.\n")
    episode = load_episode(tmp_path / "ep.yaml", BuildOptions())
    plan = compile_episode(episode)
    noise = np.random.default_rng(1).standard_normal(22050 * 2).astype(np.float32) * 0.1
    samples, placed = assemble(episode, turn_clips(plan.jobs, [Audio(noise, 22050)
                                                               for _ in plan.jobs]))
    last_end = placed.cues[-1].end_s
    assert placed.duration_s == pytest.approx(last_end - 1.0 + 4.0 + TAIL_S, abs=1 / RATE)
    sound_start = placed.cues[0].end_s + episode.production.gap
    chime = samples[int(sound_start * RATE) + 10: int((sound_start + 1.0) * RATE) - 10]
    assert master.loudness(chime, RATE) == pytest.approx(SOUND_LUFS - 6, abs=0.2)


def test_bed_mix_equals_the_sample_by_sample_curve() -> None:
    """The fast path (one gain between ramps) adds exactly what the full curve would."""
    rng = np.random.default_rng(3)
    bed = rng.standard_normal(int(2.3 * RATE)).astype(np.float32) * 0.1
    n, t, voiced = 90 * RATE, RATE, []
    while t < n - 5 * RATE:
        d = int(rng.uniform(0.3, 4) * RATE)
        voiced.append((t, t + d))
        t += d + int(rng.uniform(0.05, 3) * RATE)
    where = music.BedPlacement(RATE // 2, n - RATE, tuple(voiced), RATE, 2 * RATE, 11025,
                               26460, 12.0)
    fast = np.zeros(n, np.float32)
    music.mix_bed(fast, bed, where)
    pos = np.arange(where.start, where.end)
    starts, ends = music.merged(where.voiced, where.attack + where.release)
    depth = music.duck_depth(pos, starts, ends, where.attack, where.release)
    gain = music._fade_gain(pos, where) * (1 - (1 - 10 ** (-12 / 20)) * depth)
    full = np.zeros(n, np.float32)
    full[where.start:where.end] = bed[(pos - where.start) % len(bed)] * gain
    assert np.array_equal(fast, full)


@pytest.mark.parametrize("level, amplitude", [(-60.0, 0.9), (-24.0, 0.9), (-10.0, 0.05),
                                              (-10.0, 0.001)])
def test_bed_comes_in_at_its_level_from_any_file(tmp_path: Path, level: float,
                                                 amplitude: float) -> None:
    """However loud the file, the bed is levelled once to its working level: speech sits at
    SPEECH_LUFS while mastering aims at `loudness`, so `level` lands `level - loudness` above
    it. Quiet files are raised (up to MAX_BOOST_DB); a loud file is cut as far as it takes."""
    write_flac(amplitude / 0.45 * marker_bed(), tmp_path / "bed.flac")
    loudness = -16.0
    clip = assemble.bed_audio(Bed(tmp_path / "bed.flac", "ep.yaml:9", level=level), RATE,
                              loudness, span=RATE)
    want = assemble.SPEECH_LUFS + level - loudness
    raw = master.loudness(ffmpeg.decode(tmp_path / "bed.flac", RATE), RATE)
    if want - raw > assemble.MAX_BOOST_DB:  # near silence: raised no further than the limit
        want = raw + assemble.MAX_BOOST_DB
    assert master.loudness(clip, RATE) == pytest.approx(want, abs=0.3)
