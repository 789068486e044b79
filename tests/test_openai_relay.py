"""The OpenAI provider against a relay that serves exactly what its document lists (tts-1 and
tts-1-hd, six voices, mp3/opus/aac/flac, speed): the default request stays inside it, and
anything more (another model, its voices, wav/pcm, instructions, SSE) is sent only for a model
that the provider config declares, and refused at its line otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcastgen import ffmpeg
from podcastgen.cli import main
from podcastgen.emulator import Emulator

from .cloud_helpers import SCHEMAS, build

RATE = 24000
FULL = ("providers:\n  openai:\n    models:\n      gpt-4o-mini-tts:\n"
        "        instructions: true\n        sse: true\n"
        "        formats: [mp3, opus, aac, flac, wav, pcm]\n"
        "        voices: [alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer]\n")


def episode(speakers: str, script: str = "  - alex: Welcome to the show.\n") -> None:
    Path("ep.yaml").write_text(f"title: Relay\noutput: {{sample_rate: {RATE}}}\nspeakers:\n"
                               f"{speakers}script:\n{script}", encoding="utf-8")


def test_an_episode_with_no_model_builds_against_the_relay_as_documented(
        cloud: Emulator) -> None:
    episode("  alex: {provider: openai, voice: nova}\n",
            "  - alex: Welcome to the show.\n  - alex: {text: Glad you are here., speed: 1.5}\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    bodies = sorted((e.json for e in cloud.log.speech("openai")), key=lambda b: b["input"])
    assert bodies == [
        {"model": "tts-1", "input": "Glad you are here.", "voice": "nova",
         "response_format": "flac", "speed": 1.5},
        {"model": "tts-1", "input": "Welcome to the show.", "voice": "nova",
         "response_format": "flac"}]
    for body in bodies:
        SCHEMAS["openai"](body)
    assert [e.status for e in cloud.log.speech("openai")] == [200, 200]
    spoken = sum(e.audio["duration_s"] for e in cloud.log.speech("openai"))
    decoded = ffmpeg.decode(Path("out/ep.mp3"), RATE)
    assert len(decoded) / RATE > spoken and np.abs(decoded).max() > 0.1


@pytest.mark.parametrize("speakers,script,line", [
    ("  alex: {provider: openai, voice: coral}\n", "", "ep.yaml:4: speakers.alex.voice: tts-1 "
     "voices are alloy, echo, fable, onyx, nova, shimmer; got 'coral' (declare its voices for "
     "tts-1 under providers.openai.models in podcastgen.yaml if the service takes it)"),
    ("  alex: {provider: openai, voice: nova, model: gpt-4o-mini-tts}\n", "",
     "ep.yaml:4: speakers.alex.model: the relay documents models tts-1 and tts-1-hd; if the "
     "service offers gpt-4o-mini-tts, declare it and what it takes under "
     "providers.openai.models in podcastgen.yaml (e.g. gpt-4o-mini-tts: {instructions: true, "
     "voices: [...]})"),
    ("  alex: {provider: openai, voice: nova, options: {response_format: wav}}\n", "",
     "ep.yaml:4: speakers.alex.options.response_format: tts-1 takes mp3, opus, aac, flac; got "
     "'wav' (declare its formats for tts-1 under providers.openai.models in podcastgen.yaml if "
     "the service takes it)"),
    ("  alex: {provider: openai, voice: nova, options: {stream_format: sse}}\n", "",
     "ep.yaml:4: speakers.alex.options.stream_format: tts-1 does not stream SSE; declare sse: "
     "true for tts-1 under providers.openai.models in podcastgen.yaml if the service takes it"),
    ("  alex: {provider: openai, voice: nova, options: {instructions: Be warm.}}\n", "",
     "ep.yaml:4: speakers.alex.options.instructions: tts-1 takes no instructions; declare "
     "instructions: true for tts-1 under providers.openai.models in podcastgen.yaml if the "
     "service takes it"),
    ("  alex: {provider: openai, voice: nova}\n", "  - alex: {text: Hi., emotion: happy}\n",
     "ep.yaml:7: script.1.alex.emotion: tts-1 takes no instructions, so emotion cannot be "
     "honoured; remove it, or declare instructions: true for tts-1 under "
     "providers.openai.models in podcastgen.yaml if the service takes it"),
])
def test_what_the_relay_does_not_document_is_refused_at_its_line(
        cloud: Emulator, capsys: pytest.CaptureFixture[str], speakers: str, script: str,
        line: str) -> None:
    episode(speakers, "  - alex: Welcome to the show.\n" + script)
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [line]
    assert build("ep.yaml", "-q") == 2 and len(cloud.log) == 0


def test_a_declared_model_gets_what_it_declares(cloud: Emulator) -> None:
    cloud.providers["openai"].profile = "openai"  # OpenAI's own endpoint, not the relay
    Path("podcastgen.yaml").write_text(FULL)
    episode("  alex: {provider: openai, voice: coral, model: gpt-4o-mini-tts,\n"
            "         options: {stream_format: sse, response_format: pcm}}\n",
            "  - alex: {text: Welcome to the show., emotion: cheerful, instruction: Smile.}\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    [entry] = cloud.log.speech("openai")
    assert entry.json == {"model": "gpt-4o-mini-tts", "input": "Welcome to the show.",
                          "voice": "coral", "response_format": "pcm", "stream_format": "sse",
                          "instructions": "Sound cheerful. Smile."}
    headers = {k.lower(): v for k, v in entry.response_headers.items()}
    assert headers["content-type"] == "text/event-stream"
    decoded = ffmpeg.decode(Path("out/ep.mp3"), RATE)
    assert len(decoded) / RATE > entry.audio["duration_s"]


def test_a_relays_own_model_is_checked_against_its_declared_voices(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    Path("podcastgen.yaml").write_text("providers:\n  openai:\n    models:\n"
                                       "      kokoro: {voices: [af_bella, am_adam]}\n"
                                       "      tts-1-hd: {formats: [mp3, wav]}\n")
    episode("  alex: {provider: openai, voice: af_bella, model: kokoro}\n"
            "  anna: {provider: openai, voice: bob, model: kokoro}\n"
            "  wei: {provider: openai, voice: nova, model: tts-1-hd,\n"
            "        options: {response_format: wav}}\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "ep.yaml:5: speakers.anna.voice: kokoro voices are af_bella, am_adam; got 'bob' "
        "(declare its voices for kokoro under providers.openai.models in podcastgen.yaml if "
        "the service takes it)"]


def test_model_declarations_are_validated_at_their_lines(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    Path("podcastgen.yaml").write_text(
        "providers:\n  openai:\n    models:\n      m1: {sse: maybe, colour: red}\n"
        "      m2:\n        formats: [mp3, ogg]\n        voices: []\n")
    episode("  alex: {provider: openai, voice: nova}\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "podcastgen.yaml:4: providers.openai.models.m1.colour: unknown key; expected one of: "
        "voices, formats, instructions, sse",
        "podcastgen.yaml:4: providers.openai.models.m1.sse: expected true or false, got text "
        "('maybe')",
        "podcastgen.yaml:6: providers.openai.models.m2.formats.1: must be one of: mp3, opus, "
        "aac, flac, wav, pcm; got 'ogg'",
        "podcastgen.yaml:7: providers.openai.models.m2.voices: list at least one, or leave it "
        "out"]


def test_an_episode_adds_models_to_the_projects(cloud: Emulator) -> None:
    Path("podcastgen.yaml").write_text("providers:\n  openai:\n    models:\n"
                                       "      kokoro: {voices: [af_bella]}\n")
    episode("  alex: {provider: openai, voice: af_bella, model: kokoro}\n"
            "  anna: {provider: openai, voice: x1, model: other}\n")
    Path("ep.yaml").write_text(Path("ep.yaml").read_text() + "providers:\n  openai:\n"
                               "    models: {other: {voices: [x1]}}\n")
    assert main(["check", "ep.yaml"]) == 0
