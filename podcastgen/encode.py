"""Delivery encoding: a gapless CBR MP3 from ffmpeg's libmp3lame, re-measured after encoding
because MP3 can raise the true peak (docs/audio.md, "Encoding")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import ffmpeg
from .errors import AudioError
from .master import as_f32, master, measure, measure_file
from .model import Loudness

ATTEMPTS = 3
MARGIN_DB = 0.3  # extra room taken below the ceiling when a retry lowers the level
TOLERANCE_LU = 0.5
# LAME's Xing/Info frame carries encoder delay and padding so decoders trim them (gapless);
# no ID3 from ffmpeg: mutagen writes the only tag later.
_MP3 = ["-c:a", "libmp3lame", "-write_xing", "1", "-id3v2_version", "0", "-write_id3v1", "0",
        "-f", "mp3"]
# LAME scales CBR input by its preset's factor (lame_set_scale, which ffmpeg does not expose);
# measured with the bundled build at 44.1 kHz, mono and stereo alike. encode() undoes it.
_LAME_SCALE = ((160, 0.95), (192, 0.97), (224, 0.98))


def _lame_scale(bitrate: str) -> float:
    """LAME's input scale for a CBR bitrate such as "128k"."""
    text = bitrate.strip().lower()
    try:
        kbps = float(text[:-1]) if text.endswith("k") else float(text) / 1000
    except ValueError:
        raise AudioError(f"not a bitrate: {bitrate!r}") from None
    return next((scale for top, scale in _LAME_SCALE if kbps <= top), 1.0)


def encode(samples: np.ndarray, sample_rate: int, dest: Path, *, fmt: str = "mp3",
           bitrate: str = "128k", channels: int = 1) -> None:
    """Encode mono samples to an untagged, gapless CBR MP3 at `sample_rate` and `bitrate`.

    Samples go in as f32le, not dithered s16: LAME encodes float input natively, so the only
    quantisation is the encoder's own, and a 16-bit step first would just add noise. The level
    is kept: LAME's CBR scaling is undone, and stereo carries the mono signal on both channels.
    """
    if fmt != "mp3":
        raise AudioError(f"cannot encode {fmt!r}: only mp3 is supported")
    x = as_f32(samples, writable=False)
    rate = str(sample_rate)
    chain = f"volume={1 / _lame_scale(bitrate):.6f}"
    if channels == 2:  # not -ac 2: ffmpeg's upmix puts the centre 3 dB down on each side
        chain += ",pan=stereo|c0=c0|c1=c0"
    elif channels != 1:
        raise AudioError(f"cannot encode {channels} channels: mono or stereo only")
    args = ["-nostats", "-y", "-f", "f32le", "-ar", rate, "-ac", "1", "-i", "pipe:0",
            "-map_metadata", "-1", "-af", chain, "-b:a", bitrate, "-ar", rate, *_MP3]
    ffmpeg.run([*args, str(dest)], stdin=memoryview(x).cast("B"),
               what=f"encoding {Path(dest).name}")


def _fits(got: Loudness, loudness: float, true_peak: float) -> bool:
    """Whether encoded figures are on target: loudness within tolerance, peak at most the cap."""
    return abs(got.integrated_lufs - loudness) <= TOLERANCE_LU and got.true_peak_dbtp <= true_peak


def _correct(x: np.ndarray, sample_rate: int, got: Loudness, loudness: float,
             true_peak: float) -> None:
    """Adjust the pre-encode samples in place so the next encode lands on target.

    A plain gain when that keeps loudness in tolerance; otherwise re-master with the limiter
    ceiling lowered by what the encoder added to the true peak, plus the margin.
    """
    wanted = loudness - got.integrated_lufs
    allowed = true_peak - MARGIN_DB - got.true_peak_dbtp
    gain = min(wanted, allowed)
    if abs(got.integrated_lufs + gain - loudness) <= TOLERANCE_LU - 0.1:
        x *= np.float32(10 ** (gain / 20))
        return
    before = measure(x, sample_rate)
    rise = max(0.0, got.true_peak_dbtp - before.true_peak_dbtp)
    master(x, sample_rate, loudness=loudness, true_peak=true_peak - rise - MARGIN_DB + 1.0)


def encode_checked(samples: np.ndarray, sample_rate: int, dest: Path, *, loudness: float = -16.0,
                   true_peak: float = -1.0, bitrate: str = "128k") -> Loudness:
    """Encode, measure the MP3 itself, and correct and re-encode until it is on target.

    At most three encodes, then AudioError with the figures. A retry corrects `samples` in
    place when they are a writable float32 array, so the caller's array ends as the audio that
    was encoded (keep it as the lossless master). Returns the final file's loudness.
    """
    x = as_f32(samples)
    for attempt in range(1, ATTEMPTS + 1):
        encode(x, sample_rate, dest, bitrate=bitrate)
        got = measure_file(dest)
        if _fits(got, loudness, true_peak):
            return got
        if attempt < ATTEMPTS:
            _correct(x, sample_rate, got, loudness, true_peak)
    raise AudioError(
        f"{Path(dest).name} reads {got.integrated_lufs:.1f} LUFS, {got.true_peak_dbtp:.1f} dBTP "
        f"after {ATTEMPTS} encodes (wanted {loudness:.1f} ±{TOLERANCE_LU} LUFS, "
        f"<= {true_peak:.1f} dBTP)")
