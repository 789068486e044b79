"""MOSS-TTSD's window: input + output tokens stay within 32k for every request, in dialogue
blocks and in per-turn requests, whatever the speed, the block length, the language or a
producer's own max_tokens, and never ask for fewer tokens than the audio needs; a max_tokens
that leaves the script no room is refused at its line before anything is sent."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from podcastgen import moss, source
from podcastgen.cli import main
from podcastgen.episode import Episode, validate
from podcastgen.errors import ValidationError
from podcastgen.plan import compile_episode
from podcastgen.providers.siliconflow import SiliconFlowProvider

from .helpers import tone

EN = "This sentence takes a few seconds to say out loud. "  # 52 characters
ZH = "这句话需要几秒钟才能读完。"  # 13 characters


def write(tmp_path: Path, synthesis: str, script: str, speaker: str = "") -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    for sid in ("alex", "anna"):
        tone(tmp_path / f"{sid}.wav")
    path = tmp_path / "ep.yaml"
    path.write_text(
        f"title: Budget\nsynthesis: {synthesis}\nspeakers:\n"
        f"  alex: {{reference: {{audio: alex.wav, text: Hello.}}{speaker}}}\n"
        f"  anna: {{reference: {{audio: anna.wav, text: Hi.}}{speaker}}}\n"
        f"script:\n{script}", encoding="utf-8")
    return path


def load(tmp_path: Path, *args: str) -> Episode:
    path = write(tmp_path, *args)
    return validate(source.load(path, tmp_path), tmp_path)


def assert_within_the_window(ep: Episode) -> None:
    """Every request's max_tokens, as the provider sends it, fits beside its input and
    covers the audio its text is expected to take."""
    provider = SiliconFlowProvider()
    for job in compile_episode(ep).jobs:  # a dialogue block's body would need real clips
        body = provider.request(job, moss.MODEL).body if job.voice else \
            {"input": job.text, "max_tokens": dict(job.options)["max_tokens"]}
        seconds = moss.expected_seconds(re.sub(r"\[S\d\]", "", body["input"]), job.speed)
        assert 1 <= body["max_tokens"] and len(body["input"]) + body["max_tokens"] <= 32000
        assert body["max_tokens"] >= seconds * moss.TOKENS_PER_SECOND * 1.5


@pytest.mark.parametrize("chars", [2_000, 10_000])
def test_a_long_turn_on_moss_is_sized_to_the_window(tmp_path: Path, chars: int) -> None:
    """The automatic value was 1000 for 31,000 characters and -8000 for 40,000; a turn now
    stops at 10,000 characters, and every request up to it keeps input + output in 32k."""
    text = (EN * (chars // len(EN) + 1))[:chars]
    ep = load(tmp_path, "{provider: siliconflow, model: fnlp/MOSS-TTSD-v0.5}",
              f"  - alex: \"{text}\"\n", ", voice: alex")
    jobs = compile_episode(ep).jobs
    assert "".join(j.text for j in jobs).replace(" ", "") == text.replace(" ", "")
    assert_within_the_window(ep)


def test_a_turn_past_any_window_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (EN * (31_000 // len(EN) + 1))[:31_000]
    with pytest.raises(ValidationError) as caught:
        load(tmp_path, "{provider: siliconflow, model: fnlp/MOSS-TTSD-v0.5}",
             f"  - alex: \"{text}\"\n", ", voice: alex")
    assert [(p.line, p.key) for p in caught.value.problems] == [(7, "script.0.alex")]
    assert "at most 10,000" in caught.value.problems[0].message


@pytest.mark.parametrize("speed,block,language,requested", list(itertools.product(
    [0.25, 1.0, 4.0], [20, 180, 600], ["en", "zh"], [None, 12_000, 30_000])))
def test_every_dialogue_block_fits_the_window(tmp_path: Path, speed: float, block: int,
                                              language: str, requested: int | None) -> None:
    sentence = EN if language == "en" else ZH
    turn = sentence * (2400 // len(sentence))  # a long turn, 2,400 characters
    script = "".join(f"  - {sid}: \"{turn}\"\n" for sid in ("alex", "anna", "alex"))
    extra = f", options: {{max_tokens: {requested}}}" if requested else ""
    ep = load(tmp_path, f"{{mode: dialogue, speed: {speed}, block_seconds: {block}{extra}}}",
              script)
    assert_within_the_window(ep)


def test_a_producers_max_tokens_must_leave_room_for_the_script(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "{mode: dialogue, options: {max_tokens: 32000}}", "  - alex: Hello.\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "ep.yaml:2: synthesis.options.max_tokens: input + output must stay within 32000 "
        "tokens, so max_tokens is at most 30000, leaving 2000 for the script; got 32000"]
    write(tmp_path, "{provider: siliconflow, model: fnlp/MOSS-TTSD-v0.5}", "  - alex: Hi.\n",
          ", voice: alex, options: {max_tokens: 31000}")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"ep.yaml:{n}: speakers.{sid}.options.max_tokens: input + output must stay within "
        "32000 tokens, so max_tokens is at most 30000, leaving 2000 for the script; got 31000"
        for n, sid in ((4, "alex"), (5, "anna"))]


def test_a_producers_larger_max_tokens_is_sent(tmp_path: Path) -> None:
    ep = load(tmp_path, "{mode: dialogue, options: {max_tokens: 9000}}",
              "  - alex: Hello.\n  - anna: Hi.\n")
    [job] = compile_episode(ep).jobs
    assert dict(job.options)["max_tokens"] == 9000
