"""The shipped show formats: scaffolded with `podcastgen new`, built offline as a folder, and
the episodes checked against their example data (turns, chapters, audio length)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from podcastgen import ffmpeg
from podcastgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("interview", "news-roundup", "solo")


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch project with one episode of each format, built with `build episodes`."""
    root = tmp_path_factory.mktemp("show")
    (root / "podcastgen.yaml").write_text("")
    for name in FORMATS:
        assert main(["new", str(root / "episodes" / f"{name}-1"), "--template", name]) == 0
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "episodes", "-o", "out",
                           "--summary", "out/summary.json", "--junit", "out/junit.xml"],
                          cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    built = [line for line in proc.stdout.splitlines() if not line.startswith(FORMATS)]
    assert [line.split(":")[0] for line in built] == [  # the rest is per-episode progress
        f"built out/{name}-1.mp3" for name in FORMATS]
    assert proc.stderr == "3 episodes: 3 built, 0 invalid, 0 failed\n"
    return root


def data(name: str) -> dict:
    return yaml.safe_load((ROOT / "templates" / f"{name}.data.yaml").read_text())


def report(show: Path, name: str) -> dict:
    return json.loads((show / "out" / f"{name}-1.report.json").read_text())


def chapters(show: Path, name: str) -> list[str]:
    doc = json.loads((show / "out" / f"{name}-1.chapters.json").read_text())
    return [c["title"] for c in doc["chapters"]]


def test_new_copies_each_template_and_its_data_stub(show: Path) -> None:
    for name in FORMATS:
        episode = show / "episodes" / f"{name}-1.yaml.j2"
        assert episode.read_text() == (ROOT / "templates" / f"{name}.yaml.j2").read_text()
        assert (show / "episodes" / f"{name}-1.data.yaml").read_text() == \
            (ROOT / "templates" / f"{name}.data.yaml").read_text()


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_builds_audio_of_the_reported_length(show: Path, name: str) -> None:
    r = report(show, name)
    samples = ffmpeg.decode(show / "out" / f"{name}-1.mp3", 44100)
    assert abs(len(samples) / 44100 - r["duration_s"]) <= 0.05
    assert r["loudness_lufs"] == pytest.approx(-16.0, abs=0.5) and r["warnings"] == []


def test_interview_asks_every_question_of_its_guest(show: Path) -> None:
    d, r = data("interview"), report(show, "interview")
    said = [(s["speaker"], s["text"]) for s in r["segments"]]
    assert said[0] == ("host", f"Welcome to {d['show']}, episode seven. I'm {d['host']['name']}.")
    for item in d["questions"]:
        i = said.index(("host", item["q"]))
        assert said[i + 1] == ("guest", item["a"])
    assert chapters(show, "interview") == ["Welcome", *[q["chapter"] for q in d["questions"]],
                                           "Goodbye"]


def test_news_roundup_has_one_chapter_and_two_voices_per_story(show: Path) -> None:
    d, r = data("news-roundup"), report(show, "news-roundup")
    stories = d["stories"]
    assert chapters(show, "news-roundup") == ["Headlines", *[s["headline"] for s in stories],
                                              "Wrap-up"]
    texts = [s["text"] for s in r["segments"]]
    assert texts[1] == f"And I'm {d['co']['name']}. We have two stories today."
    assert "the week of 1 December 2026" in texts[0]
    assert texts[2:6] == [f"First: {stories[0]['summary']}", stories[0]["comment"],
                          f"Next: {stories[1]['summary']}", stories[1]["comment"]]
    assert [s["speaker"] for s in r["segments"]][2:6] == ["anchor", "co", "anchor", "co"]


def test_solo_reads_every_paragraph_in_order(show: Path) -> None:
    d, r = data("solo"), report(show, "solo")
    paragraphs = [p for section in d["sections"] for p in section["paragraphs"]]
    texts = [s["text"] for s in r["segments"]]
    assert texts[1:-1] == paragraphs
    assert {s["speaker"] for s in r["segments"]} == {"narrator"}
    assert chapters(show, "solo") == [s["title"] for s in d["sections"]]


def test_summary_and_junit_list_every_episode(show: Path) -> None:
    summary = json.loads((show / "out" / "summary.json").read_text())
    assert summary["counts"] == {"built": 3, "invalid": 0, "failed": 0}
    assert [e["episode"] for e in summary["episodes"]] == [
        f"episodes/{n}-1.yaml.j2" for n in FORMATS]
    assert all(f"out/{n}-1.mp3" in e["outputs"] for n, e in zip(FORMATS, summary["episodes"]))
    suite = ET.parse(show / "out" / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "0")
    assert [c.get("name") for c in suite.iter("testcase")] == [
        f"episodes/{n}-1.yaml.j2" for n in FORMATS]


def test_new_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.data.yaml").write_text("mine: true\n")
    assert main(["new", "ep.yaml.j2", "--template", "solo"]) == 2
    assert capsys.readouterr().err == ("ep.data.yaml: already exists; podcastgen new never "
                                       "overwrites a file, so choose another name\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.data.yaml", "podcastgen.yaml"]
    assert (tmp_path / "ep.data.yaml").read_text() == "mine: true\n"


def test_new_with_an_unknown_template_lists_the_templates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "ep", "--template", "quiz"]) == 2
    assert capsys.readouterr().err == ("unknown template 'quiz'; templates: interview, "
                                       "news-roundup, solo, two-hosts\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project holding the example show in episodes/, as the working directory."""
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "episodes").mkdir()
    for name in ("show.yaml", "art", "music"):
        source = ROOT / "episodes" / name
        copy = shutil.copytree if source.is_dir() else shutil.copyfile
        copy(source, tmp_path / "episodes" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("where,extends", [("ep", "episodes/show.yaml"),
                                           ("drafts/soon/ep", "../../episodes/show.yaml"),
                                           ("episodes/ep", "show.yaml")])
def test_new_two_hosts_anywhere_extends_the_projects_show_and_validates(
        project: Path, capsys: pytest.CaptureFixture[str], where: str, extends: str) -> None:
    assert main(["new", where, "--template", "two-hosts"]) == 0
    made = project / f"{where}.yaml"
    assert f"\nextends: {extends}\n" in made.read_text()
    assert made.read_text().replace(f"extends: {extends}", "extends: show.yaml") == \
        (ROOT / "templates" / "two-hosts.yaml").read_text()  # nothing else changed
    capsys.readouterr()
    assert main(["check", str(made)]) == 0
    assert capsys.readouterr().err == "checked 1 episode: 0 errors, 0 warnings\n"


def test_new_two_hosts_without_one_show_file_is_refused_and_writes_nothing(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(project / "episodes")
    assert main(["new", "ep", "--template", "two-hosts"]) == 2
    assert capsys.readouterr().err == (
        "ep.yaml: not created: the two-hosts template extends show.yaml, which is not beside "
        "it, and there is none in the project; create the episode in the folder of your "
        "show.yaml\n")
    for show in ("a", "b"):
        (project / show).mkdir()
        (project / show / "show.yaml").write_text("show: S\n")
    assert main(["new", "ep", "--template", "two-hosts"]) == 2
    assert capsys.readouterr().err == (
        "ep.yaml: not created: the two-hosts template extends show.yaml, which is not beside "
        "it, and the project has several (a/show.yaml, b/show.yaml); create the episode in the "
        "folder of your show.yaml\n")
    assert not (project / "ep.yaml").exists()


def test_new_that_would_not_validate_is_removed_again(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A show file beside the episode whose speakers are not the template's."""
    (project / "show.yaml").write_text("show: S\nspeakers:\n  sam: {name: Sam}\n")
    assert main(["new", "ep", "--template", "two-hosts"]) == 2
    assert capsys.readouterr().err == (
        "ep.yaml: not created: the two-hosts template does not validate here (ep.yaml:14: "
        "script.1.alex: unknown speaker or directive 'alex'; speakers: sam; directives: "
        "chapter, pause, sound)\n")
    assert sorted(p.name for p in project.iterdir()) == ["episodes", "podcastgen.yaml",
                                                         "show.yaml"]
