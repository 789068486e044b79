"""The one place that finds and runs ffmpeg (no ffprobe is ever needed)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .errors import AudioError


@functools.cache
def exe() -> str:
    """A system ffmpeg when there is one (or PODCASTGEN_FFMPEG), else the imageio-ffmpeg binary."""
    chosen = os.environ.get("PODCASTGEN_FFMPEG") or shutil.which("ffmpeg")
    if chosen:
        return chosen
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run(args: list[str], *, stdin: bytes | memoryview | None = None, what: str = "ffmpeg") -> subprocess.CompletedProcess:
    """Run ffmpeg with `args`; a failure becomes one AudioError line with ffmpeg's last words."""
    cmd = [exe(), "-hide_banner", "-nostdin", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"{what} failed: {tail[0]}")
    return proc


def decode(path: Path, sample_rate: int, *, channels: int = 1) -> np.ndarray:
    """Decode any audio file to float32 samples at `sample_rate` (interleaved if stereo)."""
    proc = run(
        ["-i", str(path), "-vn", "-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "-"],
        what=f"decoding {path.name}",
    )
    return np.frombuffer(proc.stdout, dtype="<f4").copy()
