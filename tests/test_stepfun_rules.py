"""StepFun's own rules, against the emulator: stepaudio-2.5-tts takes text in () or （） as an
unspoken direction (so `check` warns, the length check leaves it out, and `parentheses: spoken`
has it said), and every emotion goes out as the Chinese label of StepFun's voice-label table
or is refused at its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podcastgen.cli import main
from podcastgen.emulator import Emulator

from .cloud_helpers import build

V25 = "stepaudio-2.5-tts"
DIRECTION = "（他停顿了一下，慢慢地环顾整个房间，看了看每一位观众，然后露出了一个意味深长的微笑）"


def episode(speaker: str, script: str) -> None:
    Path("ep.yaml").write_text(f"title: StepFun\ndate: 2026-11-21\noutput: {{sample_rate: 24000}}\nspeakers:\n"
                               f"  wei: {{provider: stepfun, voice: cixingnansheng{speaker}}}\n"
                               f"script:\n{script}", encoding="utf-8")


def test_a_direction_in_brackets_is_sent_and_not_judged_as_speech(cloud: Emulator) -> None:
    """The audio holds only 好的。; judged against the bracketed text too, it was retried as
    far too short until the build failed."""
    episode(f", model: {V25}", f"  - wei: {DIRECTION}好的。\n")
    assert build("ep.yaml", "-o", "out", "-q") == 0
    [entry] = cloud.log.speech("stepfun")
    assert entry.json["input"] == f"{DIRECTION}好的。"
    assert entry.turn_bounds_s[0]["text"] == "好的。"  # what the service said
    report = json.loads(Path("out/ep.report.json").read_text())
    assert report["requests"] == {"sent": 1, "retried": 0, "cached": 0}


def test_check_warns_about_brackets_on_stepaudio_25(cloud: Emulator,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    episode(f", model: {V25}", "  - wei: I was (barely) awake (really).\n"
            "  - wei: 没有括号。\n")
    assert main(["check", "ep.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ep.yaml:7: script.0.wei: warning: stepaudio-2.5-tts takes (barely) (really) as a "
        "direction and does not say it; if it should be heard, set options: {parentheses: "
        "spoken} on the speaker, or write it without brackets"]
    episode("", "  - wei: I was (barely) awake.\n")  # step-tts-mini says brackets
    assert main(["check", "ep.yaml"]) == 0
    assert capsys.readouterr().out == ""


def test_parentheses_spoken_sends_them_as_commas(cloud: Emulator,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    episode(f", model: {V25}, options: {{parentheses: spoken}}",
            "  - wei: I was (barely) awake.\n  - wei: 你好（笑）。\n")
    assert main(["check", "ep.yaml"]) == 0 and capsys.readouterr().out == ""
    assert build("ep.yaml", "-o", "out", "-q") == 0
    sent = sorted(e.json["input"] for e in cloud.log.speech("stepfun"))
    assert sent == ["I was, barely, awake.", "你好，笑。"]
    assert all("parentheses" not in e.json for e in cloud.log.speech("stepfun"))
    spoken = sorted(e.turn_bounds_s[0]["text"] for e in cloud.log.speech("stepfun"))
    assert spoken == sent  # every word is said


def test_the_escape_is_only_for_stepaudio_25(cloud: Emulator,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    episode(", options: {parentheses: spoken}", "  - wei: Hi.\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out == ("ep.yaml:5: speakers.wei.options.parentheses: "
                                       "parentheses is only for stepaudio-2.5-tts\n")


@pytest.mark.parametrize("model", ["", f", model: {V25}"])
def test_an_emotion_without_a_stepfun_label_is_refused(
        cloud: Emulator, capsys: pytest.CaptureFixture[str], model: str) -> None:
    episode(model, "  - wei: {text: 你好。, emotion: hate}\n")
    assert main(["check", "ep.yaml"]) == 2
    assert capsys.readouterr().out == (
        "ep.yaml:7: script.0.wei.emotion: stepfun emotions are happy, angry, sad, surprised, "
        "fear, excited, calm (sent as 高兴、生气、悲伤、惊讶、害怕、兴奋、平静), or those labels; "
        "got 'hate'\n")
    assert build("ep.yaml", "-q") == 2 and len(cloud.log) == 0


def test_every_emotion_goes_out_as_its_label(cloud: Emulator) -> None:
    episode("", "  - wei: {text: 你好。, emotion: fear}\n  - wei: {text: 再见。, emotion: 生气}\n")
    Path("ep.yaml").write_text(Path("ep.yaml").read_text() + "  - anna: {text: 好。, "
                               "emotion: excited}\n")
    Path("ep.yaml").write_text(Path("ep.yaml").read_text().replace(
        "script:", f"  anna: {{provider: stepfun, voice: wenrounvsheng, model: {V25}}}\n"
        "script:"))
    assert build("ep.yaml", "-o", "out", "-q") == 0
    bodies = {e.json["input"]: e.json for e in cloud.log.speech("stepfun")}
    assert bodies["你好。"]["voice_label"] == {"emotion": "害怕"}
    assert bodies["再见。"]["voice_label"] == {"emotion": "生气"}
    assert bodies["好。"]["instruction"] == "语气兴奋。" and "voice_label" not in bodies["好。"]
