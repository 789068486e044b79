"""The one place that finds and runs ffmpeg (no ffprobe is ever needed)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO

import numpy as np

from .errors import DISK_ERRNOS, AudioError


@functools.cache
def exe() -> str:
    """A system ffmpeg when there is one (or PODCASTGEN_FFMPEG), else the imageio-ffmpeg binary."""
    chosen = os.environ.get("PODCASTGEN_FFMPEG") or shutil.which("ffmpeg")
    if chosen:
        return chosen
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run(args: list[str], *, stdin: bytes | memoryview | None = None,
        what: str = "ffmpeg") -> subprocess.CompletedProcess:
    """Run ffmpeg with `args`; a failure becomes one AudioError line with ffmpeg's last words."""
    cmd = [exe(), "-hide_banner", "-nostdin", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise _failure(what, proc.stderr)
    return proc


def _failure(what: str, stderr: bytes) -> AudioError:
    """One line: what failed, and ffmpeg's last words on it (or the disk's, when a write
    failed: ffmpeg ends with "Conversion failed!" after saying why)."""
    text = stderr.decode("utf-8", "replace")
    for number in sorted(DISK_ERRNOS):
        if os.strerror(number) in text:
            error = AudioError(f"{what} failed: {os.strerror(number)}")
            error.errno = number
            return error
    tail = text.strip().splitlines()[-1:] or ["no output"]
    return AudioError(f"{what} failed: {tail[0]}")


def decode(path: Path, sample_rate: int, *, channels: int = 1) -> np.ndarray:
    """Decode any audio file to float32 samples at `sample_rate` (interleaved if stereo)."""
    proc = run(
        ["-i", str(path), "-vn", "-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "-"],
        what=f"decoding {path.name}",
    )
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def run_into(first: list[str], second: list[str], *, stdin: memoryview, cwd: Path | None = None,
             what: str = "ffmpeg", then: str = "ffmpeg") -> bytes:
    """Run ffmpeg `first` with `stdin` as its input and its output piped into ffmpeg `second`,
    both at once (two cores, one pass); returns `second`'s stderr. A failure of either becomes
    one AudioError line."""
    base = [exe(), "-hide_banner", "-nostdin"]
    one = subprocess.Popen([*base, *first], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=cwd)
    two = subprocess.Popen([*base, *second], stdin=one.stdout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, cwd=cwd)
    assert one.stdin and one.stdout and one.stderr and two.stderr
    one.stdout.close()  # `second` holds the only reading end now
    errors: dict[int, bytes] = {}

    def drain(index: int, stream: IO[bytes]) -> None:
        with stream:
            errors[index] = stream.read()

    drains = [threading.Thread(target=drain, args=(i, p.stderr), daemon=True)
              for i, p in enumerate((one, two))]
    for t in drains:
        t.start()
    try:
        step = 1 << 20
        for lo in range(0, len(stdin), step):
            one.stdin.write(stdin[lo:lo + step])
    except BrokenPipeError:
        pass  # ffmpeg stopped reading; its exit status and last words say why
    except BaseException:
        one.kill()
        two.kill()
        raise
    finally:
        try:
            one.stdin.close()
        except BrokenPipeError:
            pass
        one.wait()
        two.wait()
        for t in drains:
            t.join()
    for proc, index, label in ((one, 0, what), (two, 1, then)):
        if proc.returncode != 0:
            raise _failure(label, errors.get(index, b""))
    return errors.get(1, b"")
