"""Delivery encoding: every format from the one master, each file measured again after encoding
because lossy codecs can raise the true peak (docs/audio.md, "Encoding").

mp3 is LAME CBR with a gapless header; m4a is ffmpeg's AAC in MP4 (chapters from an FFMETADATA
file, since mutagen cannot write MP4 chapters); opus is libopus in Ogg at 48 kHz (the only rate
Opus codes); flac and wav are 16-bit PCM with triangular dither.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .errors import AudioError
from .master import as_f32, ebur128, estimate, master, measure_file, parse_ebur128
from .model import Loudness

ATTEMPTS = 3
MARGIN_DB = 0.3  # extra room taken below the ceiling when a retry lowers the level
TOLERANCE_LU = 0.5
_DITHER = "aresample=osf=s16:dither_method=triangular"


@dataclass(frozen=True)
class Codec:
    encoder: tuple[str, ...]  # codec arguments
    muxer: str  # the file's container
    options: str  # its muxer options, tee style (k=v:k=v)
    stream: str  # the container (and options) of the copy piped to the meter
    lossy: bool  # takes a bitrate
    fixed_rate: int | None = None


# LAME's Xing/Info frame carries encoder delay and padding so decoders trim them (gapless);
# no ID3 from ffmpeg: mutagen writes the only tag later. WAV is written bitexact, so ffmpeg adds
# no LIST/INFO chunk naming itself: readers such as ffmpeg 5.1 prefer that chunk to our ID3 one.
CODECS: dict[str, Codec] = {
    "mp3": Codec(("-c:a", "libmp3lame"), "mp3", "write_xing=1:id3v2_version=0:write_id3v1=0",
                 "mp3:write_xing=0:id3v2_version=0", True),
    "m4a": Codec(("-c:a", "aac"), "mp4", "movflags=+faststart", "adts", True),
    "opus": Codec(("-c:a", "libopus", "-application", "audio"), "ogg", "", "ogg", True, 48000),
    "flac": Codec(("-c:a", "flac", "-compression_level", "8"), "flac", "", "flac", False),
    "wav": Codec(("-c:a", "pcm_s16le"), "wav", "rf64=auto:fflags=+bitexact", "wav", False),
}
# LAME scales CBR input by its preset's factor (lame_set_scale, which ffmpeg does not expose);
# measured with the bundled build at 44.1 kHz, mono and stereo alike. encode() undoes it.
_LAME_SCALE = ((160, 0.95), (192, 0.97), (224, 0.98))
OPUS_MAX_KBPS = 256  # a channel: libopus refuses more, so a higher `bitrate` is capped here


def _kbps(bitrate: str) -> float:
    """A bitrate such as "128k" (or "128000") in kbit/s."""
    text = bitrate.strip().lower()
    try:
        return float(text[:-1]) if text.endswith("k") else float(text) / 1000
    except ValueError:
        raise AudioError(f"not a bitrate: {bitrate!r}") from None


def _lame_scale(bitrate: str) -> float:
    """LAME's input scale for a CBR bitrate such as "128k"."""
    kbps = _kbps(bitrate)
    return next((scale for top, scale in _LAME_SCALE if kbps <= top), 1.0)


def _bitrate_args(fmt: str, bitrate: str, channels: int) -> list[str]:
    """`-b:a` for a lossy codec; Opus at most OPUS_MAX_KBPS a channel, so a show's one
    `bitrate: 320k` builds its MP3 and its Opus alike."""
    if not CODECS[fmt].lossy:
        return []
    if fmt == "opus" and _kbps(bitrate) > OPUS_MAX_KBPS * channels:
        bitrate = f"{OPUS_MAX_KBPS * channels}k"
    return ["-b:a", bitrate]


def encode(samples: np.ndarray, sample_rate: int, dest: Path, *, fmt: str = "mp3",
           bitrate: str = "128k", channels: int = 1, chapters: str | None = None,
           measure: bool = False) -> Loudness | None:
    """Encode mono samples to an untagged `fmt` file at `sample_rate` (opus: 48 kHz).

    Samples go in as f32le: every codec takes float input, so the only quantisation is the
    codec's own (or the dithered 16-bit step of flac and wav). The level is kept: LAME's CBR
    scaling is undone, and stereo carries the mono signal on both channels. `chapters` is
    FFMETADATA text whose chapters ffmpeg writes into the file (used for m4a).

    `measure=True` also measures what was encoded, in the same pass: ffmpeg's tee muxer writes
    the encoded stream both to the file and into a second ffmpeg that decodes it and runs
    ebur128 (the same frames the file holds; only the container differs). Returns its figures.
    """
    if fmt not in CODECS:
        raise AudioError(f"cannot encode {fmt!r}: formats are {', '.join(CODECS)}")
    codec = CODECS[fmt]
    dest = Path(dest).absolute()
    x = as_f32(samples, writable=False)
    rate = str(sample_rate)
    args = ["-nostats", "-y", "-f", "f32le", "-ar", rate, "-ac", "1", "-i", "pipe:0"]
    meta = dest.with_name(f".{dest.name}.ffmeta")
    if chapters is not None:  # its chapters (with titles) and its empty global metadata
        meta.write_text(chapters, "utf-8")
        args += ["-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_chapters", "1",
                 "-map_metadata", "1"]
    else:
        args += ["-map", "0:a", "-map_metadata", "-1"]
    args += ["-af", _chain(fmt, bitrate, channels), *_bitrate_args(fmt, bitrate, channels),
             "-ar", str(codec.fixed_rate or rate), *codec.encoder]
    # ffmpeg runs in the destination's folder and writes a name with no characters the tee
    # muxer would read as syntax; it becomes `dest` once complete
    work = f".encoding.{fmt}"
    options = f"f={codec.muxer}" + (f":{codec.options}" if codec.options else "")
    what = f"encoding {dest.name}"
    try:
        if not measure or chapters is not None:  # the tee muxer drops chapters
            ffmpeg.run([*args, "-f", codec.muxer, *_flags(codec.options), str(dest)],
                       stdin=memoryview(x).cast("B"), what=what)
            return measure_file(dest) if measure else None
        stderr = ffmpeg.run_into(
            [*args, "-f", "tee", f"[{options}]{work}|[f={codec.stream}]pipe:1"],
            ["-nostats", "-i", "pipe:0", "-vn", "-af", ebur128(), "-f", "null", "-"],
            stdin=memoryview(x).cast("B"), cwd=dest.parent, what=what,
            then=f"measuring {dest.name}")
        os.replace(dest.parent / work, dest)
        return parse_ebur128(stderr)
    except AudioError as exc:
        if exc.errno:  # the disk failed, not the audio: the error names the file being written
            raise OSError(exc.errno, os.strerror(exc.errno), str(dest)) from None
        raise
    finally:
        meta.unlink(missing_ok=True)
        (dest.parent / work).unlink(missing_ok=True)


def _flags(options: str) -> list[str]:
    """Tee-style muxer options (k=v:k=v) as command-line flags."""
    return [part for kv in options.split(":") if kv
            for part in (f"-{kv.partition('=')[0]}", kv.partition("=")[2])]


def _chain(fmt: str, bitrate: str, channels: int) -> str:
    """The filter chain: LAME's level compensation, the mono-to-stereo copy, the dither."""
    steps = [f"volume={1 / _lame_scale(bitrate):.6f}"] if fmt == "mp3" else []
    if channels == 2:  # not -ac 2: ffmpeg's upmix puts the centre 3 dB down on each side
        steps.append("pan=stereo|c0=c0|c1=c0")
    elif channels != 1:
        raise AudioError(f"cannot encode {channels} channels: mono or stereo only")
    if not CODECS[fmt].lossy:
        steps.append(_DITHER)
    return ",".join(steps) or "anull"


def _fits(got: Loudness, loudness: float, true_peak: float) -> bool:
    """Whether encoded figures are on target: loudness within tolerance, peak at most the cap
    with one ebur128 display step (0.1 dB) to spare, since the stream measured in the same
    pass and the file itself may read a step apart."""
    return (abs(got.integrated_lufs - loudness) <= TOLERANCE_LU - 0.1
            and got.true_peak_dbtp <= true_peak - 0.1)


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
    before = estimate(x, sample_rate)
    rise = max(0.0, got.true_peak_dbtp - before.true_peak_dbtp)
    master(x, sample_rate, loudness=loudness, true_peak=true_peak - rise - MARGIN_DB + 1.0)


def encode_checked(samples: np.ndarray, sample_rate: int, dest: Path, *, fmt: str = "mp3",
                   loudness: float = -16.0, true_peak: float = -1.0, bitrate: str = "128k",
                   channels: int = 1, chapters: str | None = None) -> Loudness:
    """Encode, measure the file itself, and correct and re-encode until it is on target.

    At most three encodes, then AudioError with the figures. `samples` is never changed: a
    retry corrects a private copy, so every format of a build is encoded from the same master.
    Returns the final file's loudness.
    """
    x = as_f32(samples, writable=False)
    for attempt in range(1, ATTEMPTS + 1):
        got = encode(x, sample_rate, dest, fmt=fmt, bitrate=bitrate, channels=channels,
                     chapters=chapters, measure=True)
        assert got is not None
        if _fits(got, loudness, true_peak):
            return got
        if attempt < ATTEMPTS:
            if x is samples or not x.flags.writeable:
                x = x.copy()
            _correct(x, sample_rate, got, loudness, true_peak)
    raise AudioError(
        f"{Path(dest).name} reads {got.integrated_lufs:.1f} LUFS, {got.true_peak_dbtp:.1f} dBTP "
        f"after {ATTEMPTS} encodes (wanted {loudness:.1f} ±{TOLERANCE_LU} LUFS, "
        f"<= {true_peak:.1f} dBTP)")
