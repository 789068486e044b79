"""Dialogue mode compiling: turns grouped into [S1]/[S2] blocks (pure, table-tested)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podcastgen import moss, source
from podcastgen.episode import Episode, validate
from podcastgen.plan import compile_episode

from .helpers import tone

SPEAKERS = {
    "alex": "Alex is speaking in this clip.",
    "anna": "And this is Anna's voice.",
    "wei": "魏博士的声音。",
}


def episode(tmp_path: Path, script: str, *, speakers: tuple[str, ...] = ("alex", "anna"),
            synthesis: str = "{mode: dialogue}") -> Episode:
    """A validated dialogue episode (every speaker with a reference clip) from a script."""
    (tmp_path / "podcastgen.yaml").write_text("")
    lines = ["title: Plan test", f"synthesis: {synthesis}", "speakers:"]
    for sid in speakers:
        tone(tmp_path / f"{sid}.wav")
        lines.append(f"  {sid}: {{reference: {{audio: {sid}.wav, text: \"{SPEAKERS[sid]}\"}}}}")
    lines.append("script:")
    lines.append(textwrap.indent(textwrap.dedent(script).strip(), "  "))
    path = tmp_path / "ep.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return validate(source.load(path, tmp_path), tmp_path)


def blocks(ep: Episode) -> list[tuple[str, str, tuple[int, ...]]]:
    """(speaker slots, text, script indexes) of each job."""
    return [(job.speaker, job.text, job.turns) for job in compile_episode(ep).jobs]


CASES = [
    ("two-speakers-one-block", """
        - alex: Welcome to the show!
        - anna: Glad to be here.
        - alex: Let's start.
     """, ("alex", "anna"), [
        ("alex+anna", "[S1]Welcome to the show.[S2]Glad to be here.[S1]Let's start.", (0, 1, 2))]),
    ("same-speaker-merged", """
        - alex: First thought.
        - alex: Second thought?
        - anna: Yes.
     """, ("alex", "anna"), [
        ("alex+anna", "[S1]First thought. Second thought.[S2]Yes.", (0, 1, 2))]),
    ("slots-follow-declaration-order", """
        - anna: I speak first.
        - alex: Then me.
     """, ("alex", "anna"), [("alex+anna", "[S2]I speak first.[S1]Then me.", (0, 1))]),
    ("chapter-pause-sound-end-blocks", """
        - alex: One.
        - chapter: Next
        - anna: Two.
        - pause: 1
        - alex: Three.
        - sound: alex.wav
        - anna: Four.
        - alex: Five.
     """, ("alex", "anna"), [
        ("alex+anna", "[S1]One.", (0,)), ("alex+anna", "[S2]Two.", (2,)),
        ("alex+anna", "[S1]Three.", (4,)), ("alex+anna", "[S2]Four.[S1]Five.", (6, 7))]),
    ("third-speaker-starts-a-block", """
        - alex: Hi Anna.
        - anna: Hi Alex.
        - wei: 大家好。
        - alex: Welcome, Wei.
        - wei: 谢谢！
        - anna: Shall we begin?
     """, ("alex", "anna", "wei"), [
        ("alex+anna", "[S1]Hi Anna.[S2]Hi Alex.", (0, 1)),
        ("alex+wei", "[S2]大家好。[S1]Welcome, Wei.[S2]谢谢。", (2, 3, 4)),
        ("anna", "[S1]Shall we begin.", (5,)),
    ]),
]


@pytest.mark.parametrize("script,speakers,expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_blocks(tmp_path: Path, script: str, speakers: tuple[str, ...],
                expected: list[tuple[str, str, tuple[int, ...]]]) -> None:
    ep = episode(tmp_path, script, speakers=speakers)
    assert blocks(ep) == expected
    for job in compile_episode(ep).jobs:
        assert moss.normalize(job.text) == job.text


def test_third_speaker_block_keeps_the_waiting_partner(tmp_path: Path) -> None:
    """A block that opens with the third speaker takes the next new speaker as its second."""
    ep = episode(tmp_path, """
        - alex: Hi.
        - anna: Hello.
        - wei: 你好。
        - anna: Welcome.
     """, speakers=("alex", "anna", "wei"))
    assert blocks(ep) == [("alex+anna", "[S1]Hi.[S2]Hello.", (0, 1)),
                          ("anna+wei", "[S2]你好。[S1]Welcome.", (2, 3))]


def test_job_fields(tmp_path: Path) -> None:
    ep = episode(tmp_path, """
        - alex: Hello “there”, friend-of-mine!
        - anna: 你好：世界。
     """, synthesis="{mode: dialogue, speed: 1.2, options: {gain: 2}}")
    (job,) = compile_episode(ep).jobs
    assert job.provider == "siliconflow" and job.model == moss.MODEL and job.voice == ""
    assert job.parts == ("Hello there, friend of mine.", "你好，世界。")
    assert job.turns == (0, 1) and job.where == f"{source.show_path(tmp_path / 'ep.yaml')}:7"
    assert job.speed == 1.2
    options = dict(job.options)
    seconds = sum(moss.expected_seconds(p, 1.2) for p in job.parts)
    assert options == {"gain": 2, "max_tokens": moss.max_tokens(seconds)}
    assert job.references == (
        (tmp_path / "alex.wav", "[S1]Alex is speaking in this clip."),
        (tmp_path / "anna.wav", "[S2]And this is Anna's voice."))
    assert compile_episode(ep).turn_jobs == {0: (0,), 1: (0,)}


def test_references_are_identical_in_every_block(tmp_path: Path) -> None:
    ep = episode(tmp_path, "\n".join(f"- {'alex' if i % 2 else 'anna'}: Line {i}.\n- pause: 0.5"
                                     for i in range(6)))
    refs = {job.references for job in compile_episode(ep).jobs}
    assert len(compile_episode(ep).jobs) == 6 and len(refs) == 1


def test_budget_closes_blocks(tmp_path: Path) -> None:
    line = "This line takes roughly five seconds to read out loud, give or take."  # 68 chars
    script = "\n".join(f"- {'alex' if i % 2 == 0 else 'anna'}: {line}" for i in range(12))
    default = compile_episode(episode(tmp_path, script)).jobs
    assert len(default) == 1
    small = compile_episode(episode(tmp_path, script,
                                    synthesis="{mode: dialogue, block_seconds: 20}")).jobs
    assert [job.turns for job in small] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]
    for job in small:
        seconds = sum(moss.expected_seconds(p) for p in job.parts)
        assert seconds <= 20 and dict(job.options)["max_tokens"] == moss.max_tokens(seconds)


def test_long_turn_is_split_across_blocks_at_sentence_ends(tmp_path: Path) -> None:
    sentence = "Each of these sentences is long enough to take a few seconds."
    ep = episode(tmp_path, f"- anna: Short intro.\n- alex: {' '.join([sentence] * 12)}\n"
                 "- anna: Done.", synthesis="{mode: dialogue, block_seconds: 20}")
    plan = compile_episode(ep)
    assert [job.turns for job in plan.jobs] == [(0, 1), (1,), (1, 2)]
    assert plan.turn_jobs == {0: (0,), 1: (0, 1, 2), 2: (2,)}
    spoken = " ".join(p for job in plan.jobs for i, p in zip(job.turns, job.parts) if i == 1)
    assert spoken == moss.clean(" ".join([sentence] * 12))
    for job in plan.jobs:
        assert sum(moss.expected_seconds(p) for p in job.parts) <= 20


def test_turns_mode_is_unchanged(tmp_path: Path) -> None:
    ep = episode(tmp_path, "- alex: One.\n- anna: Two.",
                 synthesis="{mode: turns, provider: siliconflow, model: fnlp/MOSS-TTSD-v0.5}")
    assert [(j.turns, j.text, j.parts) for j in compile_episode(ep).jobs] == [
        ((0,), "One.", ()), ((1,), "Two.", ())]
