"""Loudness: a numpy BS.1770-4 meter for levelling turns, ffmpeg's ebur128 as the authority,
and the final master (static gain, plus a true-peak look-ahead limiter only when needed).

Every figure here is the dual-mono loudness of a mono signal (+3.01 dB over plain mono), the
number a listener hears on stereo playback (see docs/audio.md, "Loudness").
"""

from __future__ import annotations

import functools
import math
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soxr

from . import ffmpeg
from .errors import AudioError
from .model import Loudness

DUAL_MONO_DB = 10 * math.log10(2)
SILENCE = float("-inf")  # loudness() of silence, and of anything under the -70 LUFS gate
_GAIN_BLOCK = 64  # samples per limiter gain step (1.45 ms at 44.1 kHz)
_OS_FFT = 4096  # FFT size of one true-peak oversampling window ...
_OS_PAD = 256  # ... of which this much context each side is thrown away
_RAMP_S = 0.010  # limiter gain ramps take twice this before and after a peak
_PASSES = 3
_MAX_MAKEUP = 6.0  # dB the limiter may add back to keep loudness


# --- BS.1770-4 K-weighted loudness in numpy ---------------------------------------------------


@functools.cache
def k_biquads(sample_rate: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The two K-weighting stages (high shelf, then high pass) as (b, a) for any rate.

    Bilinear transform of the analog prototypes behind BS.1770's 48 kHz table (shelf +4 dB
    at 1682 Hz, high pass at 38.1 Hz), so 48 kHz reproduces the table and other rates match it.
    """
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    den = np.array([1 + k / q + k * k, 2 * (k * k - 1), 1 - k / q + k * k])
    shelf = np.array([vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k])
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    hp_den = np.array([1 + k / q + k * k, 2 * (k * k - 1), 1 - k / q + k * k])
    return (shelf / den[0], den / den[0]), (np.array([1.0, -2.0, 1.0]), hp_den / hp_den[0])


@functools.cache
def _k_impulse(sample_rate: int) -> np.ndarray:
    """The causal impulse response of the K-weighting cascade, cut where its energy ends.

    Why not run the IIR: numpy has no vectorised recursive filter. Sampling H(z) on a dense
    unit-circle grid and inverting it gives the same causal response (phase included, so gating
    sees what an IIR meter sees); FFT convolution with it is then exact to ~1e-6.
    """
    n = 1 << max(17, math.ceil(math.log2(sample_rate * 2)))
    z = np.exp(-2j * np.pi * np.arange(n // 2 + 1) / n)
    resp = np.ones_like(z)
    for b, a in k_biquads(sample_rate):
        resp *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    h = np.fft.irfft(resp, n)
    tail = np.cumsum((h * h)[::-1])[::-1]
    return h[: int(np.argmax(tail < 1e-12 * tail[0])) or n]


def _k_weighted(x: np.ndarray, sample_rate: int):
    """Yield the K-weighted signal in consecutive pieces (overlap-add FFT convolution)."""
    h = _k_impulse(sample_rate)
    nfft = max(1 << 14, 1 << math.ceil(math.log2(4 * len(h))))  # small FFTs run fastest
    chunk = nfft - len(h) + 1
    spectrum = np.fft.rfft(h, nfft)
    tail = np.zeros(len(h) - 1)
    for lo in range(0, len(x), chunk):
        piece = x[lo : lo + chunk].astype(np.float64)
        y = np.fft.irfft(np.fft.rfft(piece, nfft) * spectrum, nfft)
        y[: len(tail)] += tail
        tail = y[len(piece) : len(piece) + len(tail)].copy()
        yield y[: len(piece)]


def _k_sums(x: np.ndarray, sample_rate: int, size: int) -> tuple[np.ndarray, float]:
    """K-weighted energy of each whole `size`-sample block of x, and of all of x."""
    sums, total, carry = [np.zeros(0)], 0.0, np.zeros(0)
    for piece in _k_weighted(x, sample_rate):
        sq = np.concatenate((carry, piece * piece))
        total += float(sq[len(carry) :].sum())
        full = len(sq) // size * size
        sums.append(sq[:full].reshape(-1, size).sum(axis=1))
        carry = sq[full:]
    return np.concatenate(sums), total


def _lufs(power):
    """Dual-mono loudness of a K-weighted mean square (either channel weighs 1.0)."""
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(power) + DUAL_MONO_DB


def _gated(steps: np.ndarray) -> float:
    """Integrated loudness from 100 ms mean squares: 400 ms blocks, -70 LUFS and -10 LU gates."""
    blocks = np.convolve(steps, np.full(4, 0.25), mode="valid")
    blocks = blocks[_lufs(blocks) > -70]
    if blocks.size == 0:
        return SILENCE
    blocks = blocks[_lufs(blocks) > _lufs(blocks.mean()) - 10]
    return float(_lufs(blocks.mean()))


def loudness(samples: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 integrated loudness (dual-mono LUFS) of a mono clip; SILENCE (-inf) if none.

    Gated 400 ms blocks every 100 ms (absolute -70 LUFS, relative -10 LU); a clip shorter than
    one block gets its ungated K-weighted mean square. Below -70 LUFS counts as silence.
    """
    x = np.asarray(samples).reshape(-1)
    if x.size == 0:
        return SILENCE
    step = round(sample_rate * 0.1)
    sums, total = _k_sums(x, sample_rate, step)
    if len(sums) >= 4:
        return _gated(sums / step)
    value = float(_lufs(total / x.size))
    return value if value > -70 else SILENCE


def level_gain_db(samples: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    """The gain in dB that brings a clip to `target_lufs`; 0 for silence."""
    measured = loudness(samples, sample_rate)
    return 0.0 if math.isinf(measured) else target_lufs - measured


# --- ffmpeg's ebur128: the authoritative figures -----------------------------------------------


def ebur128() -> str:
    """ffmpeg's meter as the pipeline runs it: true peak, mono measured as dual-mono. Its
    per-frame log is silenced where the binary can (`framelog=quiet` is not in ffmpeg 5.1);
    the summary is read from the end of the log either way."""
    quiet = ":framelog=quiet" if ffmpeg.binary().quiet_meter else ""
    return f"ebur128=peak=true:dualmono=true{quiet}"


def parse_ebur128(stderr: bytes) -> Loudness:
    """Integrated loudness and true peak from the summary block ebur128 logs at the end."""
    text = stderr.decode("utf-8", "replace")
    summary = text[text.rfind("Summary:") :]
    found_i = re.search(r"\bI:\s*(\S+)\s+LUFS", summary)
    found_tp = re.search(r"\bPeak:\s*(\S+)\s+dBFS", summary)
    if "Summary:" not in text or not found_i or not found_tp:
        raise AudioError("ebur128 printed no loudness summary")
    return Loudness(float(found_i.group(1)), float(found_tp.group(1)))


def measure(samples: np.ndarray, sample_rate: int) -> Loudness:
    """ffmpeg's dual-mono integrated loudness and true peak of mono samples (streamed, no copy)."""
    x = as_f32(samples, writable=False)
    args = ["-nostats", "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0"]
    proc = ffmpeg.run([*args, "-af", ebur128(), "-f", "null", "-"],
                      stdin=memoryview(x).cast("B"), what="loudness measurement")
    return parse_ebur128(proc.stderr)


def measure_file(path: Path) -> Loudness:
    """ffmpeg's dual-mono integrated loudness and true peak of an audio file, decoded by ffmpeg."""
    args = ["-nostats", "-i", str(path), "-vn", "-af", ebur128(), "-f", "null", "-"]
    return parse_ebur128(ffmpeg.run(args, what=f"measuring {Path(path).name}").stderr)


def estimate(samples: np.ndarray, sample_rate: int) -> Loudness:
    """The same figures as `measure`, computed here (no ffmpeg pass over the whole episode):
    the BS.1770-4 meter above and a 4x oversampled true peak, side by side on two threads
    (both release the GIL). Mastering steers by these; the encoded file is then measured by
    ffmpeg, which has the last word."""
    x = as_f32(samples, writable=False)
    if x.size == 0:
        return Loudness(-70.0, -144.0)
    with ThreadPoolExecutor(1) as pool:
        peak = pool.submit(oversampled_peak, x, sample_rate)
        integrated = loudness(x, sample_rate)
        tp = peak.result()
    return Loudness(max(integrated, -70.0), 20 * math.log10(max(tp, 1e-7)))


def oversampled_peak(x: np.ndarray, sample_rate: int, piece: int = 1 << 20) -> float:
    """The true peak (linear) of x: upsampled 4x by libsoxr, streamed a piece at a time."""
    stream = soxr.ResampleStream(sample_rate, 4 * sample_rate, 1, dtype="float32",
                                 quality="HQ")
    peak = 0.0
    for lo in range(0, len(x), piece):
        up = stream.resample_chunk(x[lo:lo + piece], last=lo + piece >= len(x))
        if len(up):
            peak = max(peak, float(np.abs(up).max()))
    return peak


def as_f32(samples: np.ndarray, *, writable: bool = True) -> np.ndarray:
    """Samples as one contiguous little-endian float32 vector; a copy only when needed."""
    x = np.asarray(samples, dtype="<f4")
    if x.ndim != 1 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x).reshape(-1)
    return x.copy() if writable and not x.flags.writeable else x


# --- true-peak look-ahead limiter --------------------------------------------------------------


def _block_peaks(x: np.ndarray) -> np.ndarray:
    """Sample peak of every gain block, over the whole signal in bounded pieces."""
    out = np.zeros(-(-len(x) // _GAIN_BLOCK))
    piece = _GAIN_BLOCK << 16
    for lo in range(0, len(x), piece):
        part = np.abs(x[lo : lo + piece])
        padded = np.pad(part, (0, -len(part) % _GAIN_BLOCK))
        out[lo // _GAIN_BLOCK : lo // _GAIN_BLOCK + len(padded) // _GAIN_BLOCK] = (
            padded.reshape(-1, _GAIN_BLOCK).max(axis=1))
    return out


def _oversampled_peaks(x: np.ndarray, lo: int, body: int) -> np.ndarray:
    """True peak (4x band-limited FFT interpolation) of each gain block in x[lo:lo+body]."""
    window = np.zeros(_OS_FFT)
    src = x[max(lo - _OS_PAD, 0) : lo + body + _OS_PAD]
    start = _OS_PAD - (lo - max(lo - _OS_PAD, 0))
    window[start : start + len(src)] = src
    spec = np.fft.rfft(window)
    spec[-1] *= 0.5  # split the Nyquist bin between its two images
    up = np.fft.irfft(spec, 4 * _OS_FFT) * 4
    mid = np.abs(up[4 * _OS_PAD : 4 * (_OS_PAD + body)])
    return mid.reshape(-1, 4 * _GAIN_BLOCK).max(axis=1)


def true_peaks(x: np.ndarray, screen: float = 0.0) -> np.ndarray:
    """Per gain-block true peak; windows whose sample peak is under `screen` keep sample peaks.

    Inter-sample overs beyond 6 dB need content near Nyquist, so the limiter screens 6 dB
    under its ceiling (less its make-up room) and oversamples only windows that could reach it.
    """
    peaks = _block_peaks(x)
    body = _OS_FFT - 2 * _OS_PAD
    per = body // _GAIN_BLOCK
    padded = np.pad(peaks, (0, -len(peaks) % per)).reshape(-1, per).max(axis=1)
    for w in np.flatnonzero(padded >= screen):
        lo = w * body
        blocks = min(per, len(peaks) - w * per)
        window = _oversampled_peaks(x, lo, per * _GAIN_BLOCK)
        peaks[w * per : w * per + blocks] = window[:blocks]
    return peaks


def _gain_curve(need: np.ndarray, sample_rate: int) -> np.ndarray:
    """Smooth per-block gains that never exceed `need` at any sample between block centres.

    A minimum over +-(s+1) blocks (look-ahead and hold), then a Hann average over +-s blocks:
    every value averaged at block k already respects k's need, and so does the linear
    interpolation to the neighbouring centre. Ramps are 2s blocks long on both sides.
    """
    s = max(1, round(_RAMP_S * sample_rate / _GAIN_BLOCK))
    pad = 2 * s + 2
    ext = np.pad(need, pad + s + 1, constant_values=1.0)
    held = np.lib.stride_tricks.sliding_window_view(ext, 2 * s + 3).min(axis=1)
    kernel = np.hanning(2 * s + 3)[1:-1]
    smooth = np.convolve(held, kernel / kernel.sum(), mode="valid")
    return smooth[pad - s : pad - s + len(need)]


def _apply_curve(samples: np.ndarray, gains: np.ndarray) -> None:
    """Multiply in place by per-block gains, linearly interpolated between block centres."""
    centres = np.arange(len(gains)) * _GAIN_BLOCK + (_GAIN_BLOCK - 1) / 2
    group = 4096  # gain blocks per piece: 262144 samples, 2 MB of float64 gains
    lows = np.pad(gains, (0, -len(gains) % group)).reshape(-1, group).min(axis=1)
    for g in np.flatnonzero(lows < 1.0):
        lo, hi = g * group * _GAIN_BLOCK, min((g + 1) * group * _GAIN_BLOCK, len(samples))
        samples[lo:hi] *= np.interp(np.arange(lo, hi), centres, gains)


def _makeup(peaks: np.ndarray, powers: np.ndarray, step_of: np.ndarray, ceiling: float,
            sample_rate: int) -> tuple[float, np.ndarray]:
    """Make-up gain (dB, 0.._MAX_MAKEUP) and limiter curve that predict no loudness change.

    Prediction: K-weighted energy per gain block times the squared gain, gated like a meter.
    Secant steps on the loudness difference, which rises by at most 1 dB per dB of make-up.
    """
    steps = max(1, int(step_of.max()) + 1)

    def outcome(makeup_db: float) -> tuple[float, np.ndarray]:
        m = 10 ** (makeup_db / 20)
        curve = _gain_curve(np.minimum(1.0, ceiling / np.maximum(peaks * m, 1e-12)), sample_rate)
        heard = np.bincount(step_of, powers * (m * curve) ** 2, steps)
        return _gated(heard) - reference, curve

    reference = _gated(np.bincount(step_of, powers, steps))
    prev_m, (prev_f, curve) = 0.0, outcome(0.0)
    m = min(_MAX_MAKEUP, -prev_f)
    for _ in range(4):
        f, curve = outcome(m)
        if abs(f) < 0.01 or m == prev_m:
            break
        slope = max(0.1, (f - prev_f) / (m - prev_m))
        prev_m, prev_f, m = m, f, min(_MAX_MAKEUP, max(0.0, m - f / slope))
    return m, curve


def limit(samples: np.ndarray, sample_rate: int, ceiling_dbtp: float) -> float:
    """Hold true peaks to `ceiling_dbtp`, in place, with the make-up gain that keeps the
    integrated loudness where it was; returns that make-up in dB (0.0 when nothing is over)."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    peaks = true_peaks(samples, screen=ceiling / 2 / 10 ** (_MAX_MAKEUP / 20))
    if peaks.max() <= ceiling:
        return 0.0
    step = round(sample_rate * 0.1)
    powers = np.zeros(len(peaks))
    found, _ = _k_sums(samples, sample_rate, _GAIN_BLOCK)
    powers[: len(found)] = found / step  # per-block share of its 100 ms step's mean square
    step_of = np.arange(len(peaks)) * _GAIN_BLOCK // step
    powers[step_of >= len(samples) // step] = 0.0  # a part-filled last step is not metered
    makeup, curve = _makeup(peaks, powers, step_of, ceiling, sample_rate)
    _apply_curve(samples, curve)
    _scale(samples, makeup)
    return makeup


# --- mastering ---------------------------------------------------------------------------------


def _scale(x: np.ndarray, gain_db: float) -> None:
    """Multiply in place by a gain in dB."""
    x *= np.float32(10 ** (gain_db / 20))


def master(samples: np.ndarray, sample_rate: int, *, loudness: float = -16.0,
           true_peak: float = -1.0) -> np.ndarray:
    """Master to `loudness` (dual-mono LUFS, +-0.2) with true peak <= `true_peak` - 0.8 dBTP.

    Works IN PLACE on a writable float32 array (an hour is 636 MB; a copy would double it) and
    returns it. Static gain when it fits, else gain + limiter at `true_peak` - 1.0 and a
    re-measured gain correction, at most three rounds. Audio under the -70 LUFS gate (silence)
    comes back unchanged.
    """
    x = as_f32(samples)
    ceiling, accept = true_peak - 1.0, true_peak - 0.8
    got = estimate(x, sample_rate)
    if got.integrated_lufs <= -70:
        return x
    for round_ in range(_PASSES + 1):
        gain = loudness - got.integrated_lufs
        if got.true_peak_dbtp + gain <= accept - 0.05:
            _scale(x, gain)
            return x
        if round_ == _PASSES:
            break
        _scale(x, gain)
        limit(x, sample_rate, ceiling)
        got = estimate(x, sample_rate)
        ceiling -= max(0.0, got.true_peak_dbtp - ceiling - 0.05)  # the estimate fell short
    if abs(gain) <= 0.2 and got.true_peak_dbtp <= accept:
        return x
    raise AudioError(f"mastering did not converge: {got.integrated_lufs:.1f} LUFS, "
                     f"{got.true_peak_dbtp:.1f} dBTP (wanted {loudness:.1f}, <= {accept:.1f})")
