"""Shared test tools that look at audio the way a listener's software does, and run builds the
way a producer's shell does."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from podcastgen import ffmpeg
from podcastgen.cache import SegmentCache

BUILD = [sys.executable, "-m", "podcastgen", "build", "ep.yaml", "-q"]

FRAME_S = 0.01


def ffmpeg_metadata(path: Path, *, copyts: bool = True
                    ) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The file's tags (keys lower-cased) and each chapter's fields (TIMEBASE, START, END,
    title), in the order ffmpeg lists them. Ogg keeps its comments on the audio stream, so an
    Opus file's tags are read from there."""
    # -copyts: otherwise the CLI shifts chapters by the stream start (LAME delay, ~25 ms).
    args = ["-copyts"] if copyts else []
    stream = ["-map_metadata", "0:s:a:0"] if path.suffix == ".opus" else []
    out = ffmpeg.run([*args, "-i", str(path), *stream, "-f", "ffmetadata", "-"]).stdout
    head, *sections = out.decode().replace("\\\n", " ").split("[CHAPTER]")
    tags = dict(line.split("=", 1) for line in head.splitlines()[1:] if "=" in line)
    chapters = [dict(line.split("=", 1) for line in section.strip().splitlines() if "=" in line)
                for section in sections]
    return {k.lower(): v for k, v in tags.items()}, chapters


def ffmpeg_chapters(path: Path, *, copyts: bool = True) -> list[tuple[int, int, str]]:
    """(start ms, end ms, title) of each chapter, in the order ffmpeg lists them."""
    found = []
    for fields in ffmpeg_metadata(path, copyts=copyts)[1]:
        assert fields["TIMEBASE"] == "1/1000"
        found.append((int(fields["START"]), int(fields["END"]), fields["title"]))
    return found


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg measures the file, mono as dual-mono."""
    err = ffmpeg.run(["-i", str(path), "-af", "ebur128=peak=true:dualmono=true",
                      "-f", "null", "-"]).stderr.decode()
    summary = err[err.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def frame_levels_db(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS level of each 10 ms frame in dBFS."""
    n = int(rate * FRAME_S)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    return 20 * np.log10(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-9)


def onsets(samples: np.ndarray, rate: int, *, min_silence_s: float = 0.15,
           floor_db: float = -50.0) -> list[float]:
    """Times where sound starts after at least `min_silence_s` of silence (below floor_db)."""
    loud = frame_levels_db(samples, rate) > floor_db
    need = int(round(min_silence_s / FRAME_S))
    found, quiet = [], need
    for i, is_loud in enumerate(loud):
        if is_loud and quiet >= need:
            found.append(i * FRAME_S)
        quiet = 0 if is_loud else quiet + 1
    return found


def build_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment for a build in a subprocess, with the project's own cache (no
    PODCASTGEN_CACHE_DIR) and `extra` on top."""
    env = {k: v for k, v in os.environ.items() if k != "PODCASTGEN_CACHE_DIR"}
    return {**env, **(extra or {})}


def kill_build_once_cached(project: Path, env: dict[str, str], segments: int,
                           timeout_s: float) -> None:
    """Start `podcastgen build ep.yaml` in `project` and SIGKILL it as soon as its cache holds
    `segments` entries (or the build ends, or `timeout_s` passes)."""
    store = SegmentCache(project / ".podcastgen" / "cache")
    proc = subprocess.Popen(BUILD, cwd=project, env=env)
    deadline = time.monotonic() + timeout_s
    while len(store.entries()) < segments and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Float samples in [-1, 1] (one column per channel for stereo) as a 16-bit WAV file."""
    frames = (np.asarray(samples) * 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if frames.ndim == 1 else frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path


def tone(path: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    """A short sine tone as a 16-bit WAV file: a real clip for checks that decode their inputs."""
    t = np.arange(int(seconds * rate)) / rate
    return write_wav(path, 0.3 * np.sin(2 * np.pi * 220 * t), rate)


def ffmpeg_stand_in(folder: Path, staged: str) -> dict[str, str]:
    """The environment for a build whose ffmpeg runs the shell commands `staged` instead of
    encoding whenever it is asked to write into a staging folder (`out/.podcastgen-*`), and is
    the real ffmpeg for everything else."""
    script = folder / "ffmpeg-stand-in"
    script.write_text(f'#!/bin/sh\ncase "$PWD $*" in *"/.podcastgen-"*) {staged} ;; esac\n'
                      f'exec {shlex.quote(ffmpeg.exe())} "$@"\n')
    script.chmod(0o755)
    return build_env({"PODCASTGEN_FFMPEG": str(script)})
