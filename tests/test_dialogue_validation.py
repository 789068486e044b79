"""Dialogue mode's demands on an episode: exact one-line errors, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcastgen import moss
from podcastgen.cli import main

from .helpers import tone

HEADER = """\
title: Dialogue test
synthesis: {mode: dialogue}
speakers:
  alex:
    reference: {audio: alex.wav, text: This is Alex.}
  anna:
    reference: {audio: anna.wav, text: This is Anna.}
"""
SCRIPT = """\
script:
  - alex: Hello there.
  - anna: Hi, Alex.
"""
FIELD = "MOSS-TTSD dialogue mode cannot honour a per-turn {}; remove it, or use mode: turns"

CASES = [
    ("missing-reference", HEADER + "  wei: {name: Dr. Wei}\n" + SCRIPT,
     "ep.yaml:8: speakers.wei: dialogue mode (MOSS-TTSD) clones every voice from a reference "
     "clip; add reference: {audio: <clip>, text: <its transcript>}"),
    ("missing-reference-with-voice", HEADER + "  wei: {voice: 'fnlp/MOSS-TTSD-v0.5:alex'}\n"
     + SCRIPT,
     "ep.yaml:8: speakers.wei: dialogue mode (MOSS-TTSD) clones every voice from a reference "
     "clip; add reference: {audio: <clip>, text: <its transcript>}"),
    ("turn-emotion", HEADER + "script:\n  - alex:\n      text: Yay.\n      emotion: happy\n",
     "ep.yaml:11: script.0.alex.emotion: " + FIELD.format("emotion")),
    ("turn-instruction", HEADER + "script:\n  - anna:\n      text: Hm.\n      instruction: sly\n",
     "ep.yaml:11: script.0.anna.instruction: " + FIELD.format("instruction")),
    ("turn-speed", HEADER + "script:\n  - anna:\n      text: Quick.\n      speed: 1.3\n",
     "ep.yaml:11: script.0.anna.speed: " + FIELD.format("speed")),
    ("other-provider", HEADER.replace("{mode: dialogue}", "{mode: dialogue, provider: openai}")
     + SCRIPT,
     "ep.yaml:2: synthesis.provider: dialogue mode needs provider siliconflow (MOSS-TTSD), "
     "got 'openai'; or use mode: turns"),
    ("other-model", HEADER.replace(
        "{mode: dialogue}", "{mode: dialogue, provider: siliconflow, model: "
        "FunAudioLLM/CosyVoice2-0.5B}") + SCRIPT,
     "ep.yaml:2: synthesis.model: dialogue mode needs model fnlp/MOSS-TTSD-v0.5, got "
     "'FunAudioLLM/CosyVoice2-0.5B'; or use mode: turns"),
    ("speaker-speed", HEADER.replace("  anna:\n", "  anna:\n    speed: 1.1\n") + SCRIPT,
     "ep.yaml:7: speakers.anna.speed: in dialogue mode every speaker uses synthesis.speed "
     "(1.0); remove it, or set synthesis.speed"),
    ("speaker-provider", HEADER.replace("  anna:\n", "  anna:\n    provider: openai\n") + SCRIPT,
     "ep.yaml:7: speakers.anna.provider: in dialogue mode every speaker uses "
     "synthesis.provider (siliconflow); remove it, or set synthesis.provider"),
    ("speaker-options", HEADER.replace("  anna:\n", "  anna:\n    options: {gain: 3}\n")
     + SCRIPT,
     "ep.yaml:7: speakers.anna.options: in dialogue mode options apply to whole blocks; move "
     "them to synthesis.options"),
    ("block-seconds-range", HEADER.replace("{mode: dialogue}",
                                           "{mode: dialogue, block_seconds: 5}") + SCRIPT,
     "ep.yaml:2: synthesis.block_seconds: must be between 20 and 600, got 5"),
    ("nothing-to-say", HEADER + "script:\n  - alex: '——'\n",
     "ep.yaml:9: script.0.alex: nothing is left for MOSS-TTSD to speak once its unspoken marks "
     "are removed; write the words out"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    for name in ("alex", "anna"):
        tone(tmp_path / f"{name}.wav")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_dialogue_episode(project: Path, capsys: pytest.CaptureFixture[str], text: str,
                                  expected: str) -> None:
    (project / "ep.yaml").write_text(text, encoding="utf-8")
    before = sorted(p.name for p in project.iterdir())
    assert main(["build", "ep.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [expected]
    assert sorted(p.name for p in project.iterdir()) == before


def test_dialogue_defaults_to_moss_on_siliconflow(project: Path) -> None:
    from podcastgen import source
    from podcastgen.episode import validate

    (project / "ep.yaml").write_text(HEADER.replace("  anna:\n", "  anna:\n    voice: x\n")
                                     + SCRIPT)
    ep = validate(source.load(project / "ep.yaml", project), project)
    assert (ep.synthesis.provider, ep.synthesis.model, ep.synthesis.block_seconds) == (
        "siliconflow", moss.MODEL, 180.0)
    assert {s.provider for s in ep.speakers.values()} == {"siliconflow"}
    assert {s.model for s in ep.speakers.values()} == {moss.MODEL}
    assert ep.warnings == ("ep.yaml:7: speakers.anna.voice: warning: voice is not used in "
                           "dialogue mode: MOSS-TTSD speaks with the voice of the reference "
                           "clip",)


def test_draft_previews_a_dialogue_turn_by_turn_with_local_voices(project: Path) -> None:
    from podcastgen.pipeline import BuildOptions, load_episode
    from podcastgen.plan import compile_episode

    (project / "ep.yaml").write_text(HEADER + "script:\n  - alex:\n      text: Yay.\n"
                                     "      emotion: happy\n  - anna: Hi.\n")
    ep = load_episode(Path("ep.yaml"), BuildOptions(draft=True))
    assert ep.synthesis.mode == "turns"
    assert [(j.provider, j.turns) for j in compile_episode(ep).jobs] == [
        ("local", (0,)), ("local", (1,))]
    assert ep.warnings == ("ep.yaml:11: script.0.alex.emotion: warning: emotion is ignored by "
                           "the local voices of --draft",)
