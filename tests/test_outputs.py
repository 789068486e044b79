"""Where a build writes: output folder and cache problems are found before any request is sent
(the emulator counts them), I/O failures during a build are one line naming the file, and a
build killed while encoding leaves a staging folder that the next build removes.

Read-only and full file systems are real where the machine allows it: a tmpfs mounted
read-only or a few kilobytes large (root), or a folder without write permission (not root);
elsewhere those cases are skipped. The write seam cases inject the OSError a full or read-only
disk raises, and run everywhere."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcastgen import deliver, outputs
from podcastgen.cli import main
from podcastgen.emulator import Emulator

from .helpers import BUILD, build_env, ffmpeg_stand_in

EPISODE = """\
title: Where it goes
speakers:
  alex: {provider: openai, voice: onyx}
output: {formats: [wav], sample_rate: 24000}
script:
  - alex: Hello there, this is a short test of where a build writes.
  - alex: And a second turn, so there is something to encode.
"""
LONG = "a" * 300


def files_in(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def build(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["build", "ep.yaml", "-q", *args])
    return code, capsys.readouterr().err.splitlines()


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted on `folder` (skips the test where mounting is not allowed)."""
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """A folder this process cannot write in: a read-only mount for root (permissions do not
    stop root), else the permission bits."""
    if os.geteuid() == 0:
        with tmpfs(folder, "ro,size=64k") as mounted:
            yield mounted
        return
    folder.mkdir()
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


@pytest.fixture
def project(cloud: Emulator) -> Path:
    Path("ep.yaml").write_text(EPISODE)
    return Path.cwd()


@pytest.mark.parametrize("case", ["out-is-a-file", "out-under-a-file", "out-name-too-long",
                                  "cache-is-a-file", "cache-name-too-long",
                                  "episode-name-too-long"])
def test_output_problems_are_found_before_any_request(
        project: Path, cloud: Emulator, capsys: pytest.CaptureFixture[str], case: str) -> None:
    Path("taken").write_text("a file\n")
    args, expected = {
        "out-is-a-file": (["-o", "taken"], "taken: cannot use it as the output folder: it is a "
                          "file, not a folder"),
        "out-under-a-file": (["-o", "taken/out"], "taken/out: cannot use it as the output "
                             "folder: taken is a file, not a folder"),
        "out-name-too-long": (["-o", f"out/{LONG}"], f"out/{LONG}: the name {LONG[:40]}… is too "
                              "long for a folder (at most 255 bytes)"),
        "cache-is-a-file": (["--cache-dir", "taken"], "taken: cannot use it as the segment "
                            "cache: it is a file, not a folder"),
        "cache-name-too-long": (["--cache-dir", LONG], f"{LONG}: the name {LONG[:40]}… is too "
                                "long for a folder (at most 255 bytes)"),
        "episode-name-too-long": (["-o", "out"], None),
    }[case]
    if expected is None:  # the episode's own name fits, but not with `.transcript.json` added
        name = "e" * 240
        Path("ep.yaml").rename(f"{name}.yaml")
        Path("ep.yaml").symlink_to(f"{name}.yaml")
        args = ["-o", "out", "--no-cache"]
        expected = (f"out/{name}.transcript.json: the name is too long for the file system "
                    "(names at most 255 bytes, paths 4096); use a shorter episode file name or "
                    "output folder")
    before = files_in(project)
    assert build(capsys, *args) == (2, [expected])
    assert len(cloud.log) == 0  # nothing was sent
    assert files_in(project) == before


@pytest.mark.parametrize("role", ["-o", "--cache-dir"])
def test_a_read_only_output_or_cache_is_refused_before_any_request(
        project: Path, cloud: Emulator, capsys: pytest.CaptureFixture[str], role: str) -> None:
    with read_only(project / "locked"):
        before = files_in(project)
        code, lines = build(capsys, role, "locked/sub")
        assert len(cloud.log) == 0 and files_in(project) == before
    what = "output folder" if role == "-o" else "segment cache"
    reason = "locked is on a read-only file system" if os.geteuid() == 0 \
        else "no permission to write in locked"
    assert (code, lines) == (2, [f"locked/sub: cannot use it as the {what}: {reason}"])


def test_a_disk_without_room_is_refused_before_any_request(
        project: Path, cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(project / "small", "size=64k"):
        before = files_in(project)
        code, lines = build(capsys, "-o", "small/out")
        assert len(cloud.log) == 0 and files_in(project) == before
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(
        "small: not enough free space: the build needs about ")
    assert lines[0].endswith(", 64 KiB is free")


def test_a_disk_that_fills_during_the_build_is_one_line(
        project: Path, cloud: Emulator, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else fills the disk after the check: ffmpeg's own failure names the file."""
    monkeypatch.setattr(outputs, "check_space", lambda *args: None)
    with tmpfs(project / "small", "size=16k"):
        code, lines = build(capsys, "-o", "small/out")
        assert os.listdir("small") == []  # no staging folder, no partial file
    assert (code, lines) == (1, ["small/out/ep.wav: No space left on device"])
    assert len(cloud.log.speech(ok=True)) == 2  # paid for, and kept in the cache:
    assert build(capsys, "-o", "out") == (0, [])
    assert len(cloud.log.speech(ok=True)) == 2  # the rebuild sends nothing


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EROFS, errno.ENAMETOOLONG])
def test_an_io_failure_while_writing_outputs_is_one_line_naming_the_file(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        number: int) -> None:
    def failing(stage: Path, *args: object, **kwargs: object) -> None:
        raise OSError(number, os.strerror(number), str(stage / "ep.vtt"))

    monkeypatch.setattr(deliver, "write_sidecars", failing)
    assert build(capsys, "-o", "out") == (1, [f"out/ep.vtt: {os.strerror(number)}"])
    assert not Path("out").exists()  # the folder it made is gone again, staging and all


def test_a_cache_that_cannot_be_written_stops_the_build_with_one_line(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from podcastgen import cache

    def full(path: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(cache, "write_atomic", full)
    code, lines = build(capsys, "-o", "out")
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(".podcastgen/cache/")
    assert lines[0].endswith(".seg: No space left on device")
    assert not Path("out").exists()


def test_a_build_killed_while_encoding_leaves_a_staging_folder_the_next_build_removes(
        tmp_path: Path) -> None:
    project = tmp_path / "show"
    project.mkdir()
    (project / "podcastgen.yaml").write_text("")
    (project / "ep.yaml").write_text("title: Killed\nspeakers:\n  alex: {voice: joe}\n"
                                     "script:\n  - alex: Hello.\n")
    reached = tmp_path / "encoding"
    stand_in = ffmpeg_stand_in(tmp_path, f"head -c 65536 /dev/zero > partial.mp3; : > {reached}"
                                         "; exec sleep 300")
    build = subprocess.Popen([*BUILD, "-o", "out"], cwd=project, env=stand_in,
                             start_new_session=True)  # its group: the build and its ffmpeg
    deadline = time.monotonic() + 120
    while not reached.exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert reached.exists(), "the build never reached encoding"
    left = list((project / "out").glob(".podcastgen-*"))
    assert len(left) == 1 and (left[0] / "partial.mp3").stat().st_size == 65536
    again = subprocess.run([*BUILD, "-o", "out"], cwd=project, env=build_env(),
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert list((project / "out").glob(".podcastgen-*")) == []
    report = json.loads((project / "out" / "ep.report.json").read_text())
    assert report["requests"]["cached"] == 1  # it resumed from the cache


def test_only_staging_folders_no_live_build_holds_are_removed(tmp_path: Path) -> None:
    live, stale = tmp_path / ".podcastgen-live", tmp_path / ".podcastgen-stale"
    for folder in (live, stale):
        folder.mkdir()
        (folder / "ep.mp3").write_bytes(b"partial")
    (tmp_path / ".podcastgen-not-a-folder").write_text("left alone\n")
    held = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a build in another process holds its own
        assert outputs.remove_stale(tmp_path) == [stale]
        assert (live / "ep.mp3").exists() and not stale.exists()
    finally:
        os.close(held)
    assert (tmp_path / ".podcastgen-not-a-folder").exists()


def test_a_build_in_progress_keeps_its_staging_folder_from_a_sweep(tmp_path: Path) -> None:
    with outputs.staging(tmp_path / "out") as stage:
        assert outputs.remove_stale(tmp_path / "out") == []
        (stage / "ep.mp3").write_bytes(b"done")
    assert (tmp_path / "out" / "ep.mp3").read_bytes() == b"done"
    assert os.listdir(tmp_path / "out") == ["ep.mp3"]


def test_an_output_problem_in_a_subprocess_is_one_line(project: Path, cloud: Emulator) -> None:
    Path("taken").write_text("a file\n")
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "ep.yaml", "-o",
                           "taken"], capture_output=True, text=True, env=build_env(cloud.env()))
    assert (proc.returncode, proc.stderr) == (2, "taken: cannot use it as the output folder: it "
                                                 "is a file, not a folder\n")


def test_an_up_to_date_build_needs_no_room(project: Path, cloud: Emulator,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert build(capsys, "-o", "out") == (0, [])
    usage = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(path)._replace(free=0))
    assert main(["build", "ep.yaml", "-o", "out"]) == 0
    assert capsys.readouterr().out == ("out/ep.wav is up to date (nothing sent; --force "
                                       "re-encodes)\n")
    code, lines = build(capsys, "-o", "out", "--force")
    assert code == 2 and lines[0].startswith("out: not enough free space: the build needs about ")
