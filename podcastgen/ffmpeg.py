"""The one place that finds, checks and runs ffmpeg (no ffprobe is ever needed).

The bundled binary (imageio-ffmpeg) is used unless PODCASTGEN_FFMPEG names another one. A named
binary is probed once for everything the pipeline asks of ffmpeg (its components and the
options it sets on them) and refused with one line naming what it lacks. A failed run reports
ffmpeg's own first error line, not its closing "Conversion failed!".
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .errors import DISK_ERRNOS, AudioError, InputError

ENV = "PODCASTGEN_FFMPEG"
# every log line says its level, so the first error line can be told from the chatter
LOG = ["-hide_banner", "-nostdin", "-loglevel", "level+info"]

# What the pipeline asks of ffmpeg: kind -> component -> the options it sets on it. "a|b":
# either will do. Decoders and demuxers are those of the formats it writes or asks providers for.
NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "filter": {"ebur128": ("peak", "dualmono"), "aresample": ("osf", "dither_method"),
               "volume": (), "pan": (), "anull": ()},
    "encoder": {"libmp3lame": (), "aac": (), "libopus": ("application",), "flac": (),
                "pcm_s16le": ()},
    "decoder": {"mp3|mp3float": (), "aac": (), "opus|libopus": (), "flac": (), "pcm_s16le": ()},
    "muxer": {"mp3": ("write_xing", "id3v2_version", "write_id3v1"), "mp4": ("movflags",),
              "ogg": (), "flac": (), "wav": ("rf64",), "adts": (), "tee": (), "null": (),
              "f32le": (), "s16le": ()},
    "demuxer": {"mp3": (), "aac": (), "ogg": (), "flac": (), "wav": (), "mov": (), "f32le": (),
                "ffmetadata": ()},
}
_LISTS = {"filter": "-filters", "encoder": "-encoders", "decoder": "-decoders",
          "muxer": "-muxers", "demuxer": "-demuxers"}


@dataclass(frozen=True)
class Binary:
    """The ffmpeg in use and what it can do beyond the minimum."""

    path: str
    version: str
    quiet_meter: bool  # ebur128 takes framelog=quiet (not in ffmpeg 5.1)


def binary() -> Binary:
    """The bundled ffmpeg, or the one PODCASTGEN_FFMPEG names once it passed the probe."""
    return _binary(os.environ.get(ENV) or None)


def exe() -> str:
    return binary().path


@functools.cache
def _binary(named: str | None) -> Binary:
    if named is None:
        import imageio_ffmpeg

        return Binary(imageio_ffmpeg.get_ffmpeg_exe(), "bundled", True)
    return probe(named)


def probe(named: str) -> Binary:
    """Check a named ffmpeg for every component and option the pipeline uses; InputError with
    one line naming what it lacks."""
    path = shutil.which(named)
    if path is None:
        raise InputError(f"{ENV}={named}: no such program; name an ffmpeg executable, or unset "
                         f"{ENV} to use the bundled one")
    version = _version(path, named)
    lacks = _lacks(path)
    if lacks:
        raise InputError(f"{ENV}={named} (ffmpeg {version}) lacks {', '.join(lacks)}; install "
                         f"a complete ffmpeg, or unset {ENV} to use the bundled one")
    quiet = re.search(r"^\s+quiet\s", _help(path, "filter", "ebur128"), re.M) is not None
    return Binary(path, version, quiet)


def _lacks(path: str) -> list[str]:
    """Every component and option in NEEDS that the binary at `path` does not list."""
    lacks: list[str] = []
    for kind, wanted in NEEDS.items():
        names = _names(path, kind)
        for name, options in wanted.items():
            if not set(name.split("|")) & names:
                lacks.append(f"{kind} {name.replace('|', ' or ')}")
            elif options:
                have = _options(path, kind, name)
                lacks += [f"{kind} {name} option {o}" for o in options if o not in have]
    return lacks


def _query(path: str, *args: str) -> str:
    try:
        proc = subprocess.run([path, *LOG, *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"{ENV}={path}: cannot be run ({exc})") from None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def _version(path: str, named: str) -> str:
    """ffmpeg's version; one that does not answer `-version` with the log levels the pipeline
    reads errors by (ffmpeg 4.4 and later) is refused."""
    found = re.match(r"ffmpeg version (\S+)", _query(path, "-version"))
    if found is None:
        raise InputError(f"{ENV}={named} is not an ffmpeg this pipeline can use (it does not "
                         f"answer -version with -loglevel level+info, as ffmpeg 4.4 and later "
                         f"do); unset {ENV} to use the bundled one")
    return found.group(1)


@functools.cache
def _names(path: str, kind: str) -> frozenset[str]:
    """The components of one kind that `ffmpeg -filters` (-encoders, ...) lists."""
    names: set[str] = set()
    for line in _query(path, _LISTS[kind]).splitlines():
        words = line.split()
        if len(words) >= 2 and re.fullmatch(r"[A-Z.|]+", words[0]) and words[1] != "=":
            names.update(words[1].split(","))
    return frozenset(names)


@functools.cache
def _help(path: str, kind: str, name: str) -> str:
    return _query(path, "-h", f"{kind}={name}")


def _options(path: str, kind: str, name: str) -> set[str]:
    return set(re.findall(r"^\s+-?(\w+)\s+<", _help(path, kind, name), re.M))


def run(args: list[str], *, stdin: bytes | memoryview | None = None,
        what: str = "ffmpeg") -> subprocess.CompletedProcess:
    """Run ffmpeg with `args`; a failure becomes one AudioError line with ffmpeg's first error."""
    proc = subprocess.run([exe(), *LOG, *args], input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise _failure(what, proc.stderr)
    return proc


_LEVEL = re.compile(r"^((?:\[[^\]]*\]\s*)*?)\[(\w+)\]\s?(.*)$")


def first_error(stderr: bytes) -> str:
    """ffmpeg's first error line, as `component: message`; its last line when it named none."""
    lines = stderr.decode("utf-8", "replace").splitlines()
    for line in lines:
        found = _LEVEL.match(line)
        if found and found.group(2) in ("error", "fatal") and found.group(3).strip():
            context = re.match(r"\[(?:Parsed_)?([^\]@]+?)(?:_\d+)?\s*(?:@[^\]]*)?\]",
                               found.group(1))
            return (f"{context.group(1)}: " if context else "") + found.group(3).strip()
    last = [line for line in lines if line.strip()][-1:] or ["no output"]
    found = _LEVEL.match(last[0])
    return found.group(3).strip() if found else last[0].strip()


def _failure(what: str, stderr: bytes) -> AudioError:
    """One line: what failed, and ffmpeg's first error line (or the disk's, when a write
    failed: ffmpeg ends with "Conversion failed!" after saying why)."""
    text = stderr.decode("utf-8", "replace")
    for number in sorted(DISK_ERRNOS):
        if os.strerror(number) in text:
            error = AudioError(f"{what} failed: {os.strerror(number)}")
            error.errno = number
            return error
    return AudioError(f"{what} failed: {first_error(stderr)}")


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
    base = [exe(), *LOG]
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
