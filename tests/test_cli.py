"""The command line's contract: one line per failure, the documented exit codes."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from podcastgen import ffmpeg
from podcastgen.cli import main


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build"])
    assert exc.value.code == 2
    assert "the following arguments are required: EPISODE" in capsys.readouterr().err


def test_voices_local_lists_the_named_voices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "local"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["joe", "joe-bright", "joe-deep", "joe-lively", "joe-calm"]
    assert main(["voices", "list", "local"]) == 0


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"podcastgen {metadata.version('podcastgen')}\n"


@pytest.mark.parametrize("action,rest", [("list", ""), ("delete", " VOICE"), (
    "upload", " CLIP --name NAME --text TRANSCRIPT [--model MODEL]")])
def test_voices_action_without_a_provider_says_what_to_add(
        capsys: pytest.CaptureFixture[str], action: str, rest: str) -> None:
    assert main(["voices", action]) == 2
    assert capsys.readouterr().err == (
        f"voices {action} needs a provider: podcastgen voices {action} PROVIDER{rest} "
        "(providers: local, siliconflow, openai, stepfun, coze)\n")


def test_unknown_provider_for_voices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "acme"]) == 2
    assert capsys.readouterr().err == ("unknown provider 'acme'; please select one of: "
                                       "local, siliconflow, openai, stepfun, coze\n")


def test_undecodable_sound_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "bad.wav").write_bytes(b"this is not audio at all")
    (tmp_path / "ep.yaml").write_text("title: T\nspeakers:\n  a: {}\nscript:\n"
                                      "  - a: Hello.\n  - sound: bad.wav\n")
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "ep.yaml"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == ("ep.yaml:6: script.1.sound: cannot use bad.wav as audio (Invalid data "
                           "found when processing input)\n")
    assert not (tmp_path / "build").exists()


def test_feed_refuses_a_folder_without_builds_and_a_bad_base_url(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feed", str(tmp_path), "--base-url", "https://example.org/",
                 "-o", str(tmp_path / "feed.xml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path}: no built episodes here (no *.report.json " \
        "files)\n"
    assert main(["feed", str(tmp_path), "--base-url", "example.org"]) == 2
    assert capsys.readouterr().err == "--base-url must start with http:// or https://, got " \
        "'example.org'\n"
    assert not (tmp_path / "feed.xml").exists()


def test_settings_that_once_could_never_build_now_do(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in page without a VTT to caption the player with, and Opus asked for more
    than libopus carries in one channel."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text(
        "title: T\nspeakers:\n  a: {voice: joe}\n"
        "output: {formats: [opus], bitrate: 320k, transcript: [srt]}\nscript:\n  - a: Hello.\n")
    assert main(["build", "ep.yaml", "-o", "out", "-q"]) == 0
    out = tmp_path / "out"
    assert (out / "ep.srt").is_file() and not (out / "ep.vtt").exists()
    page = (out / "ep.html").read_text()
    assert "<audio" in page and "<track" not in page
    assert len(ffmpeg.decode(out / "ep.opus", 48000)) > 48000 // 2
