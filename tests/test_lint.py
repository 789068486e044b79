"""`podcastgen check`: validation plus provider-aware warnings, nothing sent; --strict fails on
warnings. Cloud providers are stand-ins registered through the real registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcastgen import providers
from podcastgen.cli import main
from podcastgen.lint import input_limit, moss_changes
from podcastgen.providers.base import Provider

from .helpers import tone

HEADER = "title: T\nspeakers:\n  alex: {name: Alex}\n  anna: {name: Anna}\nscript:\n"


class FakeStepFun(Provider):
    name = "stepfun"
    max_chars = 60

    def voices(self) -> dict[str, str]:
        return {"v1": "a test voice"}


class FakeCoze(Provider):
    name = "coze"
    max_bytes = 30


class FakeSiliconFlow(Provider):
    name = "siliconflow"
    default_model = "fnlp/MOSS-TTSD-v0.5"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "show"
    root.mkdir()
    (root / "podcastgen.yaml").write_text("")
    tone(root / "wei.wav")
    monkeypatch.chdir(root)
    for cls in (FakeStepFun, FakeCoze, FakeSiliconFlow):
        monkeypatch.setitem(providers.REGISTRY, cls.name, cls)
    return root


def check(capsys: pytest.CaptureFixture[str], text: str, *flags: str,
          dated: bool = True) -> tuple[int, str, str]:
    """`check` on `text` as ep.yaml, dated at its end unless `dated` is false (so the
    undated-episode warning shows only in its own test)."""
    Path("ep.yaml").write_text(text + ("date: 2026-01-01\n" if dated else ""), encoding="utf-8")
    code = main(["check", "ep.yaml", *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_clean_episode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, HEADER + "  - alex: Hello.\n") == (
        0, "", "checked 1 episode: 0 errors, 0 warnings\n")


def test_an_undated_episode_warns(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warning = ("ep.yaml:1: date: warning: no date; the feed will publish the episode when it "
               "is first built (set date: YYYY-MM-DD to choose)\n")
    assert check(capsys, HEADER + "  - alex: Hello.\n", dated=False) == (
        0, warning, "checked 1 episode: 0 errors, 1 warning\n")


def test_errors_are_listed_and_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, HEADER + "  - alex: Hello.\n  - bob: Hi.\n")
    assert (code, err) == (2, "checked 1 episode: 1 error, 0 warnings\n")
    assert out == ("ep.yaml:7: script.1.bob: unknown speaker or directive 'bob'; speakers: alex, "
                   "anna; directives: chapter, pause, sound\n")


LONG_TURN = "  - alex: " + "A sentence of words. " * 100 + "\n"
LONG_WARNING = ("ep.yaml:6: script.0.alex: warning: turn is 2,099 characters (about 2:29 of "
                "speech); consider splitting it (turns are refused from 10,000)\n")


def test_warnings_show_beside_an_error_in_validation(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, HEADER + LONG_TURN + "  - bob: Hi.\n")
    assert (code, err) == (2, "checked 1 episode: 1 error, 1 warning\n")
    assert out == ("ep.yaml:7: script.1.bob: unknown speaker or directive 'bob'; speakers: alex, "
                   "anna; directives: chapter, pause, sound\n" + LONG_WARNING)


def test_warnings_show_beside_an_error_found_after_validation(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A show-notes template that does not render is found once the episode is valid."""
    Path("notes.md.j2").write_text("{{ episode.subtitel }}\n")
    code, out, err = check(capsys, HEADER + LONG_TURN +
                           "output: {show_notes: {markdown: notes.md.j2}}\n")
    assert (code, err) == (2, "checked 1 episode: 1 error, 1 warning\n")
    assert out == ("notes.md.j2:1: template error: 'dict object' has no attribute 'subtitel'\n"
                   + LONG_WARNING)


def test_text_the_local_voice_cannot_speak_warns_and_strict_fails(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEADER + "  - alex: Hello.\n  - anna: Привет, мир\n"
    warning = ("ep.yaml:7: script.1.anna: warning: the local voices (English and Mandarin) "
               "cannot speak 'Приветмир'; those characters are left out (use a cloud provider "
               "for this text)\n")
    assert check(capsys, text) == (0, warning, "checked 1 episode: 0 errors, 1 warning\n")
    assert check(capsys, text, "--strict") == (2, warning,
                                               "checked 1 episode: 0 errors, 1 warning\n")


def test_turns_over_a_providers_limit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_turn = "This sentence is short. " * 3 + "So is this one."
    one_sentence = "This single sentence runs on and on without a stop for far too long"
    text = ("title: T\nspeakers:\n  wei: {provider: stepfun, voice: v1}\nscript:\n"
            f"  - wei: {long_turn}\n  - wei: Fine.\n  - wei: {one_sentence}\n")
    code, out, _ = check(capsys, text)
    assert code == 0
    assert out.splitlines() == [
        "ep.yaml:5: script.0.wei: warning: turn is 87 characters, over the stepfun limit of 60 "
        "per request; it is sent in parts split at sentence ends",
        "ep.yaml:7: script.2.wei: warning: turn is 67 characters, over the stepfun limit of 60 "
        "per request; it is sent in parts split at sentence ends, but one sentence alone is 67 "
        "characters and will be cut mid-sentence; shorten it"]
    assert (len(long_turn), len(one_sentence)) == (87, 67)


def test_limits_counted_in_bytes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("title: T\nspeakers:\n  wei: {provider: coze, voice: v1}\nscript:\n"
            "  - wei: 今天我们聊一聊。明天再见。\n  - wei: 你好。\n")
    code, out, _ = check(capsys, text)
    assert (code, out) == (0, "ep.yaml:5: script.0.wei: warning: turn is 39 bytes, over the "
                              "coze limit of 30 per request; it is sent in parts split at "
                              "sentence ends\n")
    assert input_limit("local", None) is None and input_limit("coze", None).size == 30


def test_dialogue_mode_moss_characters_and_missing_references(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("title: T\nsynthesis: {provider: siliconflow, mode: dialogue}\nspeakers:\n"
            "  alex:\n    reference: {audio: wei.wav, text: Hi.}\n"
            "  wei:\n    reference: {audio: wei.wav, text: Hello there.}\nscript:\n"
            "  - alex: A well-known fact, at 10:30!\n  - wei: Is it “true”?\n")
    code, out, _ = check(capsys, text)
    assert code == 0
    assert out.splitlines() == [
        "ep.yaml:9: script.0.alex: warning: MOSS-TTSD drops or turns into commas - : ! in this "
        "turn; rephrase, or spell out times and numbers",
        "ep.yaml:10: script.1.wei: warning: MOSS-TTSD drops or turns into commas “ ” ? in this "
        "turn; rephrase, or spell out times and numbers"]
    no_reference = text.replace("  alex:\n    reference: {audio: wei.wav, text: Hi.}\n",
                                "  alex: {name: Alex}\n")
    code, out, _ = check(capsys, no_reference)
    assert code == 2
    assert out.splitlines()[0] == (
        "ep.yaml:4: speakers.alex: dialogue mode (MOSS-TTSD) clones every voice from a "
        "reference clip; add reference: {audio: <clip>, text: <its transcript>}")


def test_moss_versions_after_v05_keep_question_marks() -> None:
    assert moss_changes("Really? 《Book》 well-known!", "fnlp/MOSS-TTSD-v0.7") == "《》-"
    assert moss_changes("Really? 《Book》 well-known!", "fnlp/MOSS-TTSD-v0.5") == "?《》-!"
    assert moss_changes("Plain words, nothing else.", None) == ""


def test_check_a_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("eps").mkdir()
    Path("eps/show.yaml").write_text("speakers:\n  alex: {name: Alex}\n")
    Path("eps/one.yaml").write_text("extends: show.yaml\ntitle: One\ndate: 2026-01-01\nscript:\n"
                                    "  - alex: Hi.\n")
    Path("eps/two.yaml").write_text("extends: show.yaml\ntitle: Two\nscript:\n  - alx: Hi.\n")
    assert main(["check", "eps"]) == 2
    out, err = capsys.readouterr()
    assert out == "eps/two.yaml:4: script.0.alx: unknown speaker or directive 'alx'; did you " \
                  "mean 'alex'?\n"
    assert err == "checked 2 episodes: 1 error, 0 warnings\n"
