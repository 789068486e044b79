"""Loudness meter against ffmpeg's ebur128, and mastering measured by ffmpeg."""

import math

import numpy as np
import pytest

from podcastgen import master as m

SR = 44100


def speechlike(seconds: float, sr: int = SR, *, seed: int = 1, hot: int = 0,
               crest: float = 0.0) -> np.ndarray:
    """Talk-like bursts: 90 Hz-6 kHz tilted noise with a syllable envelope, pauses, levels
    spread over 8 dB, and `hot` near-full-scale 3 kHz clicks; `crest` softly bounds the noise
    to that many standard deviations."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    f = np.fft.rfftfreq(n, 1 / sr)
    shape = ((f > 90) & (f < 6000)) / np.maximum(f, 150) ** 0.7
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape, n)
    noise /= noise.std()
    if crest:
        noise = crest * np.tanh(noise / crest)
    x, t = np.zeros(n, np.float32), 0
    while t < n:
        d = min(int(rng.uniform(0.3, 2.5) * sr), n - t)
        env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * np.arange(d) / sr + rng.uniform(0, 6))
        x[t : t + d] = noise[t : t + d] * env * 10 ** (rng.uniform(-32, -24) / 20)
        t += d + int(rng.uniform(0.2, 0.8) * sr)
    for p in rng.integers(0, n - sr, hot):
        x[p : p + 200] += 0.95 * np.sin(2 * np.pi * 3000 * np.arange(200) / sr)
    return x


def tone(freq: float, seconds: float, amp: float = 0.1, sr: int = SR) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def test_k_weighting_reproduces_the_bs1770_48k_table():
    (b1, a1), (b2, a2) = m.k_biquads(48000)
    assert np.allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-9)
    assert np.allclose(a1, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-9)
    assert np.allclose(b2, [1.0, -2.0, 1.0])
    assert np.allclose(a2, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-9)


@pytest.mark.parametrize(
    "signal, sr",
    [
        (speechlike(20), SR),
        (speechlike(15, 48000, seed=2), 48000),
        (speechlike(15, 22050, seed=3), 22050),
        (tone(100, 10), SR),
        (tone(1000, 10), SR),
        (tone(5000, 10, amp=0.5), SR),
    ],
    ids=["speech-44k", "speech-48k", "speech-22k", "100Hz", "1kHz", "5kHz"],
)
def test_loudness_agrees_with_ffmpeg_ebur128(signal, sr):
    ours = m.loudness(signal, sr)
    theirs = m.measure(signal, sr).integrated_lufs
    assert abs(ours - theirs) <= 0.2  # requirement 0.5; ebur128 prints 0.1 steps


@pytest.mark.parametrize("signal, sr", [
    (speechlike(20, hot=3), SR),
    (speechlike(12, 48000, seed=5, hot=2), 48000),
    # a quarter-rate sine sampled 45 degrees off its crests: true peak 3 dB over the samples
    ((0.8 * np.sin(np.pi / 2 * np.arange(3 * SR) + np.pi / 4) * np.hanning(3 * SR))
     .astype(np.float32), SR),
], ids=["speech-clicks-44k", "speech-clicks-48k", "overs-between-samples"])
def test_estimate_agrees_with_ffmpeg_ebur128(signal, sr):
    """Mastering steers by estimate(); it must read what ebur128 reads (0.1 dB steps)."""
    ours, theirs = m.estimate(signal, sr), m.measure(signal, sr)
    assert abs(ours.integrated_lufs - theirs.integrated_lufs) <= 0.2
    assert abs(ours.true_peak_dbtp - theirs.true_peak_dbtp) <= 0.2
    assert ours.true_peak_dbtp > 20 * math.log10(np.abs(signal).max())  # not the sample peak


def test_full_scale_997hz_sine_reads_0_lufs_dual_mono():
    # BS.1770: 0 dBFS 997 Hz on one channel is -3.01 LKFS, so dual-mono mono reads 0.0.
    assert m.loudness(tone(997, 5, amp=1.0), SR) == pytest.approx(0.0, abs=0.05)


def test_short_clip_falls_back_to_ungated_mean_square():
    long, short = tone(1000, 5), tone(1000, 0.25)
    assert m.measure(short, SR).integrated_lufs == -70.0  # ebur128 has no block to gate
    assert m.loudness(short, SR) == pytest.approx(m.loudness(long, SR), abs=0.1)


def test_silence_reads_minus_infinity_and_needs_no_gain():
    for clip in (np.zeros(SR, np.float32), np.zeros(100, np.float32), np.zeros(0, np.float32)):
        assert m.loudness(clip, SR) == -math.inf
        assert m.level_gain_db(clip, SR, -19.0) == 0.0
    assert m.loudness(tone(1000, 2, amp=1e-5), SR) == -math.inf  # under the -70 LUFS gate


def test_level_gain_brings_a_turn_to_target():
    turn = speechlike(4, seed=5)
    gain = m.level_gain_db(turn, SR, -19.0)
    assert m.loudness(turn * np.float32(10 ** (gain / 20)), SR) == pytest.approx(-19.0, abs=0.01)


def test_master_episode_with_hot_transients():
    x = speechlike(60, seed=7, hot=5)
    before = m.measure(x, SR)
    assert before.true_peak_dbtp > -1.0 and before.integrated_lufs < -25
    y = m.master(x.copy(), SR)
    after = m.measure(y, SR)
    assert after.integrated_lufs == pytest.approx(-16.0, abs=0.2)
    assert after.true_peak_dbtp <= -1.8
    # the limiter acted, smoothly: the applied gain varies, but never jumps between samples
    live = np.flatnonzero(np.abs(x) > 1e-3)
    gain = y[live] / x[live]
    assert gain.min() < 0.9 * gain.max()
    neighbours = np.diff(live) == 1
    assert np.abs(np.diff(gain)[neighbours]).max() < 0.002 * gain.max()


def test_quiet_signal_gets_a_pure_gain():
    x = speechlike(30, seed=11, crest=2.0) * np.float32(0.3)
    y = m.master(x.copy(), SR)
    live = np.abs(x) > 1e-6
    ratio = y[live] / x[live]
    assert ratio.std() / ratio.mean() < 1e-6
    assert m.measure(y, SR).integrated_lufs == pytest.approx(-16.0, abs=0.2)


def test_master_works_in_place_and_leaves_silence_alone():
    x = speechlike(10, seed=3)
    assert m.master(x, SR) is x
    silent = np.zeros(SR * 2, np.float32)
    assert not m.master(silent, SR).any()


def test_limit_holds_the_ceiling_and_keeps_loudness():
    x = speechlike(20, seed=13, hot=3) * np.float32(4)
    before = m.measure(x, SR)
    makeup = m.limit(x, SR, -3.0)
    after = m.measure(x, SR)
    assert makeup > 0
    assert after.true_peak_dbtp <= -2.9
    assert 20 * np.log10(m.true_peaks(x).max()) <= -3.0 + 1e-3
    assert after.integrated_lufs == pytest.approx(before.integrated_lufs, abs=0.2)
