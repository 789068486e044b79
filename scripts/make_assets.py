#!/usr/bin/env python3
"""Regenerate the example show's small assets: a chime, intro and outro stings, a music bed
loop and the cover art.

The files are committed (they are tiny); this script shows how they were made and remakes
them deterministically: `python scripts/make_assets.py`.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from podcastgen import ffmpeg  # noqa: E402

RATE = 44100


def tone(freq: float, seconds: float, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    partials = sum(np.sin(2 * np.pi * freq * k * t) / k ** 1.5 for k in (1, 2, 3, 4.2))
    return (partials * np.exp(-t * decay)).astype(np.float32)


def chime() -> np.ndarray:
    out = np.zeros(int(1.6 * RATE), np.float32)
    for i, f in enumerate((880.0, 1318.5)):  # A5 then E6
        start = int(i * 0.18 * RATE)
        note = tone(f, 1.6, 3.5)[: len(out) - start]
        out[start:start + len(note)] += note
    return fade(out * 0.3)


def sting(seconds: float, pad: tuple[float, ...], fade_in: float, fade_out: float,
          notes: tuple[float, ...], step: float, ring: float, decay: float,
          level: float) -> np.ndarray:
    """An arpeggio of `notes`, one every `step` seconds, over a soft pad chord that fades in
    and out."""
    out = np.zeros(int(seconds * RATE), np.float32)
    t = np.arange(len(out)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in pad) * 0.08
    envelope = np.minimum(1, t / fade_in) * np.minimum(1, (seconds - t) / fade_out)
    out += (chord * envelope).astype(np.float32)
    for i, f in enumerate(notes):
        start = int(i * step * RATE)
        note = tone(f, ring, decay)[: len(out) - start] * level
        out[start:start + len(note)] += note
    return fade(out)


def intro() -> np.ndarray:
    """A four-second rising arpeggio over a soft pad."""
    return sting(4.0, (220.0, 277.2, 329.6), 1.0, 1.2,
                 (440.0, 554.4, 659.3, 880.0, 1108.7), 0.35, 2.0, 2.2, 0.22)


def outro() -> np.ndarray:
    """The intro's arpeggio falling instead of rising, over a longer pad."""
    return sting(5.0, (196.0, 246.9, 293.7), 0.6, 2.0,
                 (880.0, 659.3, 554.4, 440.0, 329.6), 0.4, 2.5, 1.8, 0.2)


BED_RATE = 22050  # a bed sits under speech: half the bandwidth keeps the file tiny


def bed(seconds: float = 6.0) -> np.ndarray:
    """A calm loop: two soft chords, three seconds each, with a slow pulse; whole cycles only,
    so it repeats without a seam."""
    n = int(seconds * BED_RATE)
    t = np.arange(n) / BED_RATE
    out = np.zeros(n)
    for i, chord in enumerate(((220.0, 261.6, 329.6), (196.0, 246.9, 293.7))):
        part = (t >= i * seconds / 2) & (t < (i + 1) * seconds / 2)
        local = t[part] - i * seconds / 2
        swell = np.sin(np.pi * local / (seconds / 2)) ** 0.5
        out[part] = swell * sum(np.sin(2 * np.pi * f * t[part]) for f in chord) / 3
    pulse = 0.75 + 0.25 * np.cos(2 * np.pi * t * 4 / seconds)
    return (0.25 * out * pulse).astype(np.float32)


def fade(x: np.ndarray, seconds: float = 0.02) -> np.ndarray:
    n = int(seconds * RATE)
    ramp = np.linspace(0, 1, n, dtype=np.float32)
    x[:n] *= ramp
    x[-n:] *= ramp[::-1]
    return x


def write_flac(samples: np.ndarray, dest: Path, rate: int = RATE) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg.run(["-y", "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "-",
                "-sample_fmt", "s16", "-map_metadata", "-1", "-c:a", "flac",
                "-compression_level", "8", str(dest)], stdin=samples.astype("<f4").tobytes())


def cover(size: int = 1400) -> bytes:
    """A dark blue gradient with concentric sound-wave rings, as an RGB PNG."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    r = np.hypot(x - 0.5, y - 0.62)
    rings = (np.cos(r * 60) > 0.93) & (r < 0.42) & (y < 0.62 + 0.05)
    img = np.stack([20 + 40 * y, 30 + 60 * y, 70 + 120 * (1 - y)], axis=-1)
    img[rings] = (250, 200, 80)
    img[np.hypot(x - 0.5, y - 0.62) < 0.04] = (250, 200, 80)
    return png(img.astype(np.uint8))


def png(img: np.ndarray) -> bytes:
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main() -> None:
    show = ROOT / "episodes"
    write_flac(chime(), show / "sfx" / "chime.flac")
    write_flac(intro(), show / "music" / "intro.flac")
    write_flac(outro(), show / "music" / "outro.flac")
    write_flac(bed(), show / "music" / "bed.flac", BED_RATE)
    (show / "art").mkdir(parents=True, exist_ok=True)
    (show / "art" / "cover.png").write_bytes(cover())
    for f in ("sfx/chime.flac", "music/intro.flac", "music/outro.flac", "music/bed.flac",
              "art/cover.png"):
        print(f"wrote episodes/{f} ({(show / f).stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
