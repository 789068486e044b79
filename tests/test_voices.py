"""`podcastgen voices`: list, upload once (the project's record is reused), delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podcastgen.cli import main
from podcastgen.emulator import Emulator

from .cloud_helpers import write_clip


def test_upload_list_delete_on_siliconflow(cloud: Emulator,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    write_clip(Path("host.wav"))
    args = ["voices", "upload", "siliconflow", "host.wav", "--name", "my host", "--text",
            "This is how I sound."]
    assert main(args) == 0
    uri = capsys.readouterr().out.removeprefix("uploaded: ").strip()
    assert uri.startswith("speech:my-host:")
    assert main(args) == 0  # the same clip and text: taken from the record, not sent again
    assert capsys.readouterr().out == f"already uploaded: {uri}\n"
    uploads = [e for e in cloud.log if e.endpoint == "/uploads/audio/voice"]
    assert len(uploads) == 1 and uploads[0].json["customName"] == "my-host"
    record = json.loads(Path(".podcastgen/voices.json").read_text())
    assert [(r["voice"], r["clip"], r["text"]) for r in record.values()] == [
        (uri, "host.wav", "This is how I sound.")]

    assert main(["voices", "list", "siliconflow"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("alex ") and len(listed) == 9
    assert listed[-1].startswith(uri) and "This is how I sound." in listed[-1]

    assert main(["voices", "delete", "siliconflow", uri]) == 0
    assert capsys.readouterr().out == f"deleted: {uri}\n"
    assert json.loads(Path(".podcastgen/voices.json").read_text()) == {}
    assert cloud.providers["siliconflow"].voices == {}


def test_stepfun_clone_uploads_the_file_then_makes_the_voice(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    write_clip(Path("host.wav"), seconds=6)
    assert main(["voices", "upload", "stepfun", "host.wav", "--name", "host", "--text",
                 "你好。", "--model", "step-tts-2"]) == 0
    voice = capsys.readouterr().out.removeprefix("uploaded: ").strip()
    files, made = [e for e in cloud.log if not e.speech]
    assert files.endpoint == "/files" and files.form["purpose"] == "storage"
    assert files.form["file"]["filename"] == "host.wav"
    assert made.json == {"model": "step-tts-2", "file_id": made.json["file_id"], "text": "你好。"}
    assert voice.startswith("voice-tone-")
    assert main(["voices", "list", "stepfun"]) == 0
    assert "cixingnansheng" in capsys.readouterr().out


def test_upload_without_a_key_names_the_variable(cloud: Emulator,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILICONFLOW_API_KEY")
    write_clip(Path("host.wav"))
    assert main(["voices", "upload", "siliconflow", "host.wav", "--name", "h", "--text",
                 "Hi."]) == 2
    assert capsys.readouterr().err == (
        "podcastgen voices: siliconflow needs an API key: set SILICONFLOW_API_KEY in the "
        "environment\n")
    assert len(cloud.log) == 0


def test_providers_that_cannot_clone_say_so(cloud: Emulator,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_clip(Path("host.wav"))
    assert main(["voices", "upload", "openai", "host.wav", "--name", "h", "--text", "Hi."]) == 2
    assert capsys.readouterr().err == (
        "openai cannot make voices from clips; providers that can: siliconflow, stepfun\n")
