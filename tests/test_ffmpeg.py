"""Which ffmpeg runs, and what happens when it cannot do the job: the bundled binary unless
PODCASTGEN_FFMPEG names another, a named one probed and refused in one line naming what it
lacks, Debian 12's ffmpeg 5.1 building every format, and ffmpeg's own first error line."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from podcastgen import ffmpeg
from podcastgen.errors import AudioError

from .helpers import ebur128, ffmpeg_metadata

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = Path("/usr/bin/ffmpeg")
EPISODE = "title: Probe\nspeakers:\n  alex: {name: Alex}\nscript:\n  - alex: Hello there.\n"


def bundled() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def wrapper(folder: Path, when: str, drop: str) -> Path:
    """An ffmpeg that is the bundled one, except that its answer to a command line holding
    `when` leaves out the lines holding `drop` (a component or option it lacks)."""
    script = folder / "ffmpeg"
    script.write_text(f'#!/bin/sh\ncase " $* " in\n  *" {when} "*) "{bundled()}" "$@" | '
                      f'grep -v -- "{drop}" ;;\n  *) exec "{bundled()}" "$@" ;;\nesac\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def podcastgen(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "podcastgen", *args], cwd=project,
                          capture_output=True, text=True, env={**os.environ, **env})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text(EPISODE)
    return tmp_path



@pytest.mark.parametrize("when,drop,lacks", [
    ("-filters", " ebur128 ", "filter ebur128"),
    ("-encoders", " libopus ", "encoder libopus"),
    ("filter=ebur128", "dualmono", "filter ebur128 option dualmono"),
    ("muxer=mp3", "write_xing", "muxer mp3 option write_xing"),
])
def test_a_named_ffmpeg_that_lacks_something_is_refused_in_one_line(
        project: Path, when: str, drop: str, lacks: str) -> None:
    fake = wrapper(project, when, drop)
    proc = podcastgen(project, "build", "ep.yaml", "-o", "out", PODCASTGEN_FFMPEG=str(fake))
    version = ffmpeg.probe(bundled()).version
    assert proc.returncode == 2
    assert proc.stderr == (f"PODCASTGEN_FFMPEG={fake} (ffmpeg {version}) lacks {lacks}; install "
                           "a complete ffmpeg, or unset PODCASTGEN_FFMPEG to use the bundled "
                           "one\n")
    assert not (project / "out").exists() and not (project / ".podcastgen").exists()


def test_a_named_program_that_is_not_ffmpeg_is_refused(project: Path) -> None:
    proc = podcastgen(project, "build", "ep.yaml", PODCASTGEN_FFMPEG="true")
    assert proc.returncode == 2
    assert proc.stderr.startswith("PODCASTGEN_FFMPEG=true is not an ffmpeg this pipeline can "
                                  "use")
    proc = podcastgen(project, "build", "ep.yaml", PODCASTGEN_FFMPEG="no-such-ffmpeg-here")
    assert proc.returncode == 2
    assert proc.stderr == ("PODCASTGEN_FFMPEG=no-such-ffmpeg-here: no such program; name an "
                           "ffmpeg executable, or unset PODCASTGEN_FFMPEG to use the bundled "
                           "one\n")


def test_the_bundled_ffmpeg_is_used_whatever_ffmpeg_is_on_the_path(project: Path) -> None:
    broken = project / "bin"
    broken.mkdir()
    (broken / "ffmpeg").write_text("#!/bin/sh\necho 'not this one' >&2\nexit 1\n")
    (broken / "ffmpeg").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PODCASTGEN_FFMPEG"}
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "ep.yaml", "-o", "out",
                           "-q"], cwd=project, capture_output=True, text=True,
                          env={**env, "PATH": f"{broken}{os.pathsep}{env.get('PATH', '')}"})
    assert proc.returncode == 0, proc.stderr
    integrated, peak = ebur128(project / "out" / "ep.mp3")
    assert abs(integrated + 16) <= 0.5 and peak <= -1.0


def test_a_failure_reports_ffmpegs_first_error_line() -> None:
    with pytest.raises(AudioError) as caught:
        ffmpeg.run(["-f", "lavfi", "-i", "sine=d=0.1", "-af", "ebur128=framelog=loudly", "-f",
                    "null", "-"], what="measuring x.mp3")
    assert str(caught.value) == ("measuring x.mp3 failed: ebur128: Undefined constant or "
                                 "missing '(' in 'loudly'")


@pytest.mark.parametrize("stderr,line", [
    (b"[info] Input #0, lavfi\n[ebur128 @ 0x55] [Eval @ 0x7f] [error] Undefined constant\n"
     b"[ebur128 @ 0x55] [error] Unable to parse option value\n[fatal] Conversion failed!\n",
     "ebur128: Undefined constant"),
    (b"[Parsed_volume_0 @ 0x1] [error] Invalid volume\n", "volume: Invalid volume"),
    (b"[warning] odd\n[fatal] Error opening input files: Invalid data\n",
     "Error opening input files: Invalid data"),
    (b"[info] Stream mapping:\n[info] Conversion failed!\n", "Conversion failed!"),
    (b"", "no output"),
])
def test_first_error_line(stderr: bytes, line: str) -> None:
    assert ffmpeg.first_error(stderr) == line


@pytest.mark.skipif(not SYSTEM.is_file(), reason="no system ffmpeg at /usr/bin/ffmpeg "
                    "(Debian: apt-get install ffmpeg)")
def test_debian_ffmpeg_builds_every_format(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The five-format example with music, built and measured with the system's ffmpeg (5.1 on
    Debian 12, whose ebur128 has no framelog=quiet and whose WAV reader prefers a LIST chunk
    to the ID3 one)."""
    shutil.copytree(ROOT / "episodes", tmp_path / "episodes",
                    ignore=shutil.ignore_patterns("build"))
    (tmp_path / "podcastgen.yaml").write_text("")
    proc = podcastgen(tmp_path, "build", "episodes/behind-the-sound.yaml", "-o", "out", "-q",
                      PODCASTGEN_FFMPEG=str(SYSTEM))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    monkeypatch.setenv("PODCASTGEN_FFMPEG", str(SYSTEM))
    assert ffmpeg.exe() == str(SYSTEM)
    for fmt in ("mp3", "m4a", "opus", "flac", "wav"):
        path = tmp_path / "out" / f"behind-the-sound.{fmt}"
        integrated, peak = ebur128(path)  # measured by the system's ffmpeg
        assert abs(integrated + 16) <= 0.5 and peak <= -1.0, fmt
        tags, chapters = ffmpeg_metadata(path)
        assert tags["title"] == "Behind the Sound" and len(chapters) == 3, fmt
