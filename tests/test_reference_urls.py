"""A reference clip may be an http(s) URL (SiliconFlow's schema: "URL or base64"): it is sent
as that URL, never uploaded or read from disk, in dialogue blocks and per-turn requests alike;
a provider that needs the clip's bytes refuses it at its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podcastgen.cache import segment_key
from podcastgen.cli import main
from podcastgen.emulator import Emulator
from podcastgen.providers import Job

from .cloud_helpers import SCHEMAS, build, write_clip

URL = "https://example.org/voices/anna.mp3"
DATA_URI = re.compile(r"^data:audio/mp3;base64,[A-Za-z0-9+/=]+$")


def test_a_dialogue_reference_by_url_is_sent_as_that_url(cloud: Emulator) -> None:
    write_clip(Path("alex.wav"))
    Path("ep.yaml").write_text(
        "title: URL\nsynthesis: {mode: dialogue}\nspeakers:\n"
        "  alex: {reference: {audio: alex.wav, text: Hello from Alex.}}\n"
        f"  anna: {{reference: {{audio: \"{URL}\", text: Hello from Anna.}}}}\n"
        "script:\n  - alex: Welcome to the show.\n  - anna: Glad to be here.\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    [entry] = cloud.log.speech("siliconflow")
    SCHEMAS["siliconflow"](entry.json)
    refs = entry.json["references"]
    assert DATA_URI.match(refs[0]["audio"]) and refs[0]["text"] == "[S1]Hello from Alex."
    assert refs[1] == {"audio": URL, "text": "[S2]Hello from Anna."}
    assert [e.endpoint for e in cloud.log] == ["/audio/speech"]  # nothing uploaded


def test_a_per_turn_reference_by_url_goes_with_each_request(cloud: Emulator) -> None:
    Path("ep.yaml").write_text(
        "title: URL\nspeakers:\n"
        f"  anna: {{provider: siliconflow, reference: {{audio: \"{URL}\", text: Hi there.}}}}\n"
        "script:\n  - anna: Glad to be here.\n  - anna: Goodbye.\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    bodies = [e.json for e in cloud.log.speech("siliconflow")]
    assert [e.endpoint for e in cloud.log] == ["/audio/speech"] * 2  # no upload, no clone
    assert all(b["references"] == [{"audio": URL, "text": "Hi there."}] and "voice" not in b
               for b in bodies)
    for body in bodies:
        SCHEMAS["siliconflow"](body)
    assert not Path(".podcastgen/voices.json").exists()


def test_a_provider_that_needs_the_clip_refuses_a_url(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    Path("ep.yaml").write_text(
        "title: URL\nspeakers:\n"
        f"  wei: {{provider: stepfun, reference: {{audio: \"{URL}\", text: 你好。}}}}\n"
        "script:\n  - wei: 你好。\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out == ("ep.yaml:3: speakers.wei.reference.audio: stepfun "
                                       "cannot take a reference clip by URL (siliconflow can); "
                                       "give a file in the project\n")


def test_the_cache_key_follows_the_url() -> None:
    job = Job(0, (0,), "anna", "Hi.", "siliconflow", "", references=((URL, "Hi."),))
    other = Job(0, (0,), "anna", "Hi.", "siliconflow", "",
                references=((URL.replace("anna", "wei"), "Hi."),))
    assert segment_key(job) != segment_key(other)
