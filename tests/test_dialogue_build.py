"""MOSS-TTSD dialogue episodes built end to end through the CLI against the provider emulator:
what was sent (the request log, field by field) and where each turn landed (decoded audio)."""

from __future__ import annotations

import base64
import os
import re
import textwrap
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from podcastgen import ffmpeg, moss, source
from podcastgen.cli import main
from podcastgen.emulator import Emulator
from podcastgen.episode import validate
from podcastgen.plan import compile_episode

from .helpers import onsets, write_wav

RATE = 44100
RATES = (8000, 16000, 24000, 32000, 44100)  # wav and pcm in the MOSS-TTSD-v0.5 schema
TRIM_PAD_S = 0.055  # align keeps 15 ms before and 40 ms after each turn's sound
REFS = {"alex": "Hi, I'm Alex, and this is how I sound.", "anna": "大家好，我是安娜。",
        "wei": "This is Doctor Wei speaking, clearly and slowly."}

TWO = """\
title: Two hosts
synthesis: {mode: dialogue, block_seconds: 20}
speakers:
  alex: {name: Alex Chen, reference: {audio: voices/alex.wav, text: "%(alex)s"}}
  anna: {name: Anna Li, reference: {audio: voices/anna.wav, text: "%(anna)s"}}
script:
  - chapter: Opening
  - alex: Welcome to Signal and Noise! Today we talk about dialogue synthesis.
  - anna: "Thanks, Alex. It's a well-known trick: one model, two voices."
  - alex: How long can one request be?
  - anna: About three minutes. We keep blocks short, so the voices do not drift.
  - alex: Right.
  - anna: 我们也说中文：今天的节目好听吗？
  - alex: Very much so, and the timing comes back from the audio itself.
  - pause: 0.6
  - chapter: Details
  - anna: Let's look at the details, starting at 10:30.
  - alex: First, the references. Each speaker sends the same clip every time.
  - anna: Then the script, cleaned so the server changes nothing.
""" % REFS

THREE = """\
title: Three voices
synthesis: {mode: dialogue}
speakers:
  alex: {name: Alex Chen, reference: {audio: voices/alex.wav, text: "%(alex)s"}}
  anna: {name: Anna Li, reference: {audio: voices/anna.wav, text: "%(anna)s"}}
  wei: {name: Dr. Wei, reference: {audio: voices/wei.wav, text: "%(wei)s"}}
script:
  - alex: Today we have a guest.
  - anna: Doctor Wei, welcome to the show!
  - wei: Thank you both, it is a pleasure to be here.
  - alex: What brought you to speech synthesis?
  - wei: Long conversations. They are harder than single sentences.
  - anna: Why is that?
  - wei: Voices drift, and turns blur together.
  - alex: Then let us keep our turns crisp.
""" % REFS


def reference_clip(path: Path, f0: float, seconds: float = 3.0) -> None:
    """A short 24 kHz stereo WAV (so the provider has to convert it to 16 kHz mono MP3)."""
    rate = 24000
    t = np.arange(int(seconds * rate)) / rate
    mono = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5)) * 0.2
    write_wav(path, np.repeat(mono[:, None], 2, axis=1), rate)


@pytest.fixture(scope="module")
def emu() -> Emulator:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dialogue")
    (root / "podcastgen.yaml").write_text("")
    for name, f0 in (("alex", 110.0), ("anna", 220.0), ("wei", 160.0)):
        reference_clip(root / "voices" / f"{name}.wav", f0)
    (root / "two.yaml").write_text(TWO, encoding="utf-8")
    (root / "three.yaml").write_text(THREE, encoding="utf-8")
    return root


def build(project: Path, emu: Emulator, name: str) -> tuple[int, list]:
    """`podcastgen build NAME.yaml -o out` with the emulator's environment; the MOSS requests
    it made (in the order sent)."""
    emu.reset()
    cwd = os.getcwd()
    os.chdir(project)
    try:
        with mock.patch.dict(os.environ, emu.env()):
            code = main(["build", f"{name}.yaml", "-o", "out", "--quiet"])
    finally:
        os.chdir(cwd)
    entries = {e.json["input"]: e for e in emu.log.speech("siliconflow", ok=True)}
    if code == 0:  # in the plan's order, whatever order they were sent in
        entries = {job.text: entries[job.text] for job in plan_of(project, name).jobs}
    return code, list(entries.values())


@pytest.fixture(scope="module")
def two(project: Path, emu: Emulator) -> list:
    code, entries = build(project, emu, "two")
    assert code == 0
    assert all(e.speech for e in emu.log)  # references go inline: no voice is uploaded
    return entries


@pytest.fixture(scope="module")
def three(project: Path, emu: Emulator) -> list:
    code, entries = build(project, emu, "three")
    assert code == 0
    assert all(e.speech for e in emu.log)  # references go inline: no voice is uploaded
    return entries


def plan_of(project: Path, name: str):  # type: ignore[no-untyped-def]
    return compile_episode(validate(source.load(project / f"{name}.yaml", project), project))


def check_request(body: dict) -> None:
    """One block request, field by field against the MOSS-TTSD-v0.5 schema and our promises."""
    assert set(body) <= {"model", "input", "max_tokens", "references", "voice",
                         "response_format", "sample_rate", "stream", "speed", "gain"}
    assert body["model"] == moss.MODEL and body.get("voice", "") == ""
    assert re.fullmatch(r"(\[S[12]\][^\[\]\n]+)+", body["input"])
    assert moss.normalize(body["input"]) == body["input"]  # the server would change nothing
    seconds = sum(moss.expected_seconds(t) for t in re.split(r"\[S\d\]", body["input"]))
    assert body["max_tokens"] >= seconds * moss.TOKENS_PER_SECOND * 1.5
    assert body["max_tokens"] + len(body["input"]) < moss.TOKEN_LIMIT
    rates = {"mp3": (32000, 44100), "opus": (48000,), "wav": RATES, "pcm": RATES}
    fmt = body.get("response_format", "mp3")
    assert body.get("sample_rate", rates[fmt][-1]) in rates[fmt]
    assert isinstance(body.get("stream", True), bool)
    assert 0.25 <= body.get("speed", 1.0) <= 4 and -10 <= body.get("gain", 0) <= 10
    for ref in body["references"]:
        assert set(ref) == {"audio", "text"}
        assert re.fullmatch(r"\[S[12]\].+", ref["text"])
        assert re.fullmatch(r"data:audio/mp3;base64,[A-Za-z0-9+/=]+", ref["audio"])


def clip_format(data_uri: str, tmp: Path) -> str:
    """ffmpeg's description of a data-URI's audio stream, e.g. 'mp3, 16000 Hz, mono'."""
    tmp.write_bytes(base64.b64decode(data_uri.split(",", 1)[1]))
    err = ffmpeg.run(["-i", str(tmp), "-f", "null", "-"]).stderr.decode()
    return re.search(r"Audio: (\w+)[^,]*, (\d+ Hz), (\w+)", err).groups()


def test_two_speakers_requests(two: list, project: Path, tmp_path: Path) -> None:
    plan = plan_of(project, "two")
    assert [e.json["input"] for e in two] == [job.text for job in plan.jobs]
    # 20 s of expected audio ends the first block, the pause and chapter the second
    assert [job.turns for job in plan.jobs] == [(1, 2, 3, 4, 5, 6), (7,), (10, 11, 12)]
    for entry in two:
        check_request(entry.json)
    refs = {tuple((r["audio"], r["text"]) for r in e.json["references"]) for e in two}
    assert len(refs) == 1  # the same two references, in the same slots, for every block
    (pair,) = refs
    assert [text for _, text in pair] == [f"[S1]{moss.clean(REFS['alex'])}",
                                          f"[S2]{moss.clean(REFS['anna'])}"]
    for audio, _ in pair:
        assert clip_format(audio, tmp_path / "ref.mp3") == ("mp3", "16000 Hz", "mono")


def test_three_speakers_map_each_block_to_s1_s2(three: list, project: Path) -> None:
    plan = plan_of(project, "three")
    assert [e.json["input"] for e in three] == [job.text for job in plan.jobs]
    assert [job.speaker for job in plan.jobs] == ["alex+anna", "alex+wei", "anna+wei", "alex"]
    sent: dict[str, set] = {}
    for entry, job in zip(three, plan.jobs):
        check_request(entry.json)
        assert len(entry.json["references"]) == len(job.speaker.split("+"))
        for sid, ref in zip(job.speaker.split("+"), entry.json["references"]):
            sent.setdefault(sid, set()).add((ref["audio"], ref["text"][4:]))
    assert {sid: len(found) for sid, found in sent.items()} == {"alex": 1, "anna": 1, "wei": 1}
    assert {sid: next(iter(found))[1] for sid, found in sent.items()} == {
        sid: moss.clean(text) for sid, text in REFS.items()}


def cues(vtt: str) -> list[tuple[float, float, str]]:
    """(start, end, speaker name) of each WebVTT cue."""
    stamp = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"
    found = re.findall(rf"{stamp} --> {stamp}\n<v ([^>]+)>", vtt)
    seconds = [[int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
                for h, m, s, ms in (f[0:4], f[4:8])] for f in found]
    return [(a, b, f[8]) for (a, b), f in zip(seconds, found)]


@pytest.mark.parametrize("name", ["two", "three"])
def test_every_cue_sits_on_its_true_turn(name: str, project: Path, request: pytest.FixtureRequest
                                         ) -> None:
    """Each cue starts within 50 ms of where its turn's sound starts in the episode, and lasts
    as long as the emulator says the turn did: the block was cut at the true boundaries."""
    entries = request.getfixturevalue(name)
    truth = [b for e in entries for b in e.turn_bounds_s]
    found = cues((project / "out" / f"{name}.vtt").read_text())
    script = textwrap.dedent(TWO if name == "two" else THREE)
    assert len(found) == len(truth) == script.count("\n  - ") - script.count("  - chapter") \
        - script.count("  - pause")
    decoded = ffmpeg.decode(project / "out" / f"{name}.mp3", RATE)
    heard = onsets(decoded, RATE, min_silence_s=0.2)
    assert len(heard) == len(found)  # no stray fragment of a neighbouring turn anywhere
    for (start, end, _), onset, turn in zip(found, heard, truth):
        assert abs(start - onset) <= 0.05, (start, onset)
        true_length = turn["end_s"] - turn["start_s"]
        assert abs((end - start) - (true_length + TRIM_PAD_S)) <= 0.05, (turn, start, end)


def test_missing_reference_is_one_line_and_nothing_is_sent(
        project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.yaml").write_text(TWO.replace(
        '  anna: {name: Anna Li, reference: {audio: voices/anna.wav, text: "大家好，我是安娜。"}}',
        "  anna: {name: Anna Li}"), encoding="utf-8")
    before = sorted(p.name for p in project.iterdir())
    code, entries = build(project, emu, "bad")
    assert (code, len(emu.log)) == (2, 0)
    assert capsys.readouterr().err.splitlines() == [
        "bad.yaml:5: speakers.anna: dialogue mode (MOSS-TTSD) clones every voice from a "
        "reference clip; add reference: {audio: <clip>, text: <its transcript>}"]
    assert sorted(p.name for p in project.iterdir()) == before
