"""What an input file really holds, found while the episode is validated, so a file that is not
what its key claims stops the build before anything is sent: audio (sounds, music, reference
clips) must be something ffmpeg decodes, covers whole PNG or JPEG images of a sane size.

Each file is judged once per process for its size and modification time (a folder build or
`check` names the same chime many times).
"""

from __future__ import annotations

import functools
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ffmpeg

PROBE_SECONDS = 30  # audio decoded to judge a file: enough to find a wrong or broken format
PROBE_TIMEOUT_S = 120
MIN_SIDE, MAX_SIDE = 16, 8192  # cover pixels a side (Apple asks for 1400 to 3000)
COVER_SUFFIXES = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_FFMPEG_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)*(Error opening input( files?)?:\s*)?")


@dataclass(frozen=True)
class _Audio:
    problem: str | None
    seconds: float = 0.0  # as the file's header gives it; 0 when it does not say


def problem(path: Path, kind: str, shown: str) -> str | None:
    """Why `path` (named `shown` in the episode) cannot serve as `kind` ("audio" or "image")."""
    stat = path.stat()
    if kind == "audio":
        reason = _audio(str(path), stat.st_size, stat.st_mtime_ns).problem
    else:
        reason = _image(str(path), stat.st_size, stat.st_mtime_ns)
    if reason is None:
        return None
    what = "audio" if kind == "audio" else "a cover"
    return f"cannot use {shown} as {what} ({reason})"


def audio_seconds(path: Path) -> float:
    """How long an audio file (already judged by `problem`) plays, from its header."""
    stat = path.stat()
    return _audio(str(path), stat.st_size, stat.st_mtime_ns).seconds


@functools.lru_cache(maxsize=256)
def _audio(path: str, size: int, mtime_ns: int) -> _Audio:
    """ffmpeg decodes the first PROBE_SECONDS of the first audio stream, or says why not."""
    if size == 0:
        return _Audio("the file is empty")
    cmd = [ffmpeg.exe(), "-hide_banner", "-nostdin", "-i", path, "-map", "0:a:0",
           "-t", str(PROBE_SECONDS), "-vn", "-progress", "pipe:1", "-nostats", "-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return _Audio(f"ffmpeg could not read it within {PROBE_TIMEOUT_S} s")
    errors = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "matches no streams" in errors or "option 'map'" in errors:
            return _Audio("it has no audio stream")
        last = errors.strip().splitlines()[-1:] or ["ffmpeg could not read it"]
        return _Audio(_FFMPEG_PREFIX.sub("", last[0]).strip())
    times = re.findall(r"out_time_us=(\d+)", proc.stdout.decode("ascii", "replace"))
    if not times or int(times[-1]) <= 0:
        return _Audio("it holds no audio")
    length = _DURATION.search(errors)
    hours, minutes, seconds = length.groups() if length else (0, 0, 0)
    return _Audio(None, int(hours) * 3600 + int(minutes) * 60 + float(seconds))


@functools.lru_cache(maxsize=64)
def _image(path: str, size: int, mtime_ns: int) -> str | None:
    """A PNG or JPEG named for what it is, of a sane size, whole (a truncated file fails)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _image_problem(image, Path(path).suffix.lower())
    except UnidentifiedImageError:
        return "it is not a PNG or JPEG image"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"the image is too large; covers are {MIN_SIDE} to {MAX_SIDE} pixels a side"
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's words for damaged data
        return f"the image is truncated or damaged: {exc}"


def _image_problem(image: Any, suffix: str) -> str | None:
    fmt, (width, height) = image.format, image.size
    if fmt not in COVER_SUFFIXES:
        return f"it is a {fmt} image; covers are PNG or JPEG"
    if suffix not in COVER_SUFFIXES[fmt]:
        return f"it is a {fmt} image; name it {COVER_SUFFIXES[fmt][0]}"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return (f"the image is {width}×{height} pixels; covers are {MIN_SIDE} to {MAX_SIDE} "
                "pixels a side")
    if fmt == "PNG":
        image.verify()  # every chunk read to the end, each one's checksum checked
    else:
        image.draft("RGB", (width // 8, height // 8))
        image.load()  # decoded whole, at an eighth of the size
    return None
