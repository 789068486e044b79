"""`podcastgen feed` over folders that are not one tidy show: draft builds (left out unless
asked for), two shows, an episode number or a guid claimed twice, an undated episode, an
episode without chapters. Every feed is read back with feedparser, an independent parser."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import feedparser
import pytest

from podcastgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUILT_AT = dt.datetime(2026, 1, 2, 8, 0, tzinfo=dt.timezone.utc)  # the undated one's first build
SHOW = """\
show: Signal
season: 1
cover: cover.png
speakers:
  alex: {name: Alex}
output: {formats: [mp3], transcript: [vtt]}
feed: {description: A show about signals., author: Alex, email: alex@example.org}
"""
EPISODES = {  # stem: (title, the lines that make it what it is)
    "one": ("One", "number: 1\ndate: 2026-01-05\n", "  - chapter: Start\n"),
    "two": ("Two", "number: 2\ndate: 2026-01-12\n", ""),
    "again": ("Again", "number: 1\ndate: 2026-01-19\n", ""),
    "undated": ("Undated", "number: 3\n", ""),
    "season-two": ("Season Two", "season: 2\nnumber: 1\ndate: 2026-03-02\n", ""),
    "other": ("Elsewhere", "show: Other Show\nnumber: 1\ndate: 2026-01-07\n", ""),
    "pinned-a": ("Pinned A", "number: 4\ndate: 2026-01-20\nfeed: {guid: pinned}\n", ""),
    "pinned-b": ("Pinned B", "number: 5\ndate: 2026-01-21\nfeed: {guid: pinned}\n", ""),
}


def run(*args: str) -> int:
    return main(list(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every episode above built once into one folder, and `one` once more with --draft."""
    project = tmp_path_factory.mktemp("hygiene")
    (project / "podcastgen.yaml").write_text("")
    shutil.copyfile(ROOT / "episodes" / "art" / "cover.png", project / "cover.png")
    (project / "show.yaml").write_text(SHOW)
    for stem, (title, head, chapter) in EPISODES.items():
        (project / f"{stem}.yaml").write_text(f"extends: show.yaml\ntitle: {title}\n{head}"
                                              f"script:\n{chapter}  - alex: {title}.\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.setenv("SOURCE_DATE_EPOCH", str(int(BUILT_AT.timestamp())))
        assert run("build", *[f"{s}.yaml" for s in EPISODES], "-o", "built", "-q") == 0
        assert run("build", "one.yaml", "--draft", "-o", "built", "-q") == 0
    return project / "built"


def report(built: Path, stem: str) -> dict[str, Any]:
    return json.loads((built / f"{stem}.report.json").read_text())


def files_of(entry: Any) -> list[str]:
    """Every file name a report's `files` lists."""
    if isinstance(entry, dict):
        return [name for value in entry.values() for name in files_of(value)]
    return [entry] if isinstance(entry, str) else []


@pytest.fixture
def feed(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """feed(stems, *flags): copy those builds into `src/`, run `podcastgen feed` on it, and
    return (exit status, stderr lines without the `wrote` line, feedparser's reading)."""
    monkeypatch.chdir(tmp_path)

    def make(stems: list[str], *flags: str) -> tuple[int, list[str], Any]:
        src = tmp_path / "src"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir()
        for stem in stems:
            for name in files_of(report(built, stem)["files"]):
                shutil.copyfile(built / name, src / name)
        capsys.readouterr()
        code = run("feed", "src", "--base-url", "https://example.org/pod/", "-o",
                   "src/feed.xml", *flags)
        out, err = capsys.readouterr()
        parsed = feedparser.parse(str(src / "feed.xml")) if code == 0 else None
        if parsed is not None:
            assert out == f"wrote src/feed.xml: {len(parsed.entries)} episode" + \
                ("s" if len(parsed.entries) != 1 else "") + "\n"
            check_entries(parsed, src)
        return code, err.splitlines(), parsed

    return make


def check_entries(parsed: Any, src: Path) -> None:
    """What feedparser reads is well formed and points at the real files of each build."""
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    reports = [json.loads(p.read_text()) for p in src.glob("*.report.json")]
    by_audio = {r["files"]["audio"]["mp3"]: r for r in reports}
    for entry in parsed.entries:
        [enclosure] = entry.enclosures
        name = enclosure.href.removeprefix("https://example.org/pod/")
        r = by_audio[name]
        assert entry.title == r["item"]["title"]
        assert int(enclosure.length) == (src / name).stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert entry.id == r["item"]["guid"] and entry.published_parsed is not None


def test_a_draft_build_is_marked_and_its_files_are_named_apart(built: Path) -> None:
    final, draft = report(built, "one"), report(built, "one.draft")
    assert (final["draft"], draft["draft"]) == (False, True)
    assert draft["item"]["guid"] == final["item"]["guid"]  # a preview of the same episode
    for name in files_of(draft["files"]):
        assert name.startswith("one.draft.") or name.startswith("cover-"), name
        assert (built / name).is_file()
    assert {s["provider"] for s in draft["segments"]} == {"local"}


def test_a_draft_is_left_out_of_the_feed_unless_asked_for(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["one", "one.draft", "two"])
    assert code == 0
    assert [e.title for e in parsed.entries] == ["Two", "One"]
    assert err == ["note: left out the draft build src/one.draft.report.json; "
                   "--include-drafts adds it"]
    code, err, parsed = feed(["one", "one.draft", "two"], "--include-drafts")
    assert code == 0
    assert [e.enclosures[0].href.rsplit("/", 1)[1] for e in parsed.entries] == [
        "two.mp3", "one.draft.mp3", "one.mp3"]
    assert err[0] == ("warning: src/one.draft.report.json is a draft build (--draft, local "
                      "stand-in voices); it is in the feed because of --include-drafts")
    assert len(err) == 3  # the draft shares its episode's number and guid: both said below
    assert err[1].startswith("warning: episode 1 of season 1 is claimed by 2 builds: "
                             "src/one.draft.report.json, src/one.report.json")
    assert err[2].startswith("warning: guid ") and "src/one.draft.report.json, " \
        "src/one.report.json" in err[2]


def test_a_folder_of_drafts_only_is_refused(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, _ = feed(["one.draft"])
    assert code == 2
    assert err == ["src: only draft builds here (src/one.draft.report.json); build without "
                   "--draft to publish, or pass --include-drafts"]
    assert not Path("src/feed.xml").exists()


def test_a_tidy_folder_has_no_warnings(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["one", "two", "pinned-a", "season-two"])
    assert (code, err) == (0, [])  # episode 1 of season 1 and of season 2 are two episodes
    assert [e.title for e in parsed.entries] == ["Season Two", "Pinned A", "Two", "One"]
    assert parsed.feed.title == "Signal"


def test_builds_of_two_shows_are_a_warning_naming_the_files(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["one", "two", "other"])
    assert code == 0
    assert err == ["warning: these builds are of 2 shows: 'Signal' (src/one.report.json, "
                   "src/two.report.json) and 'Other Show' (src/other.report.json); the channel "
                   "takes the newest episode's, 'Signal'; give each show its own folder"]
    assert parsed.feed.title == "Signal"


def test_an_episode_number_claimed_twice_in_a_season_is_a_warning(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["one", "two", "again"])
    assert code == 0 and len(parsed.entries) == 3
    assert err == ["warning: episode 1 of season 1 is claimed by 2 builds: "
                   "src/again.report.json, src/one.report.json; give each its own number"]


def test_a_guid_claimed_twice_is_a_warning(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["pinned-a", "pinned-b"])
    assert code == 0
    assert [e.id for e in parsed.entries] == ["pinned", "pinned"]
    assert err == ["warning: guid pinned is shared by src/pinned-a.report.json, "
                   "src/pinned-b.report.json: podcast apps keep only one of them; pin a "
                   "different feed.guid in the others"]


def test_an_undated_episode_is_a_warning_with_its_publication_time(feed) -> None:  # type: ignore[no-untyped-def]
    code, err, parsed = feed(["one", "undated"])
    assert code == 0
    assert err == ["warning: src/undated.report.json has no date: it is published at its first "
                   "build, Fri, 02 Jan 2026 08:00:00 +0000; set date: in the episode to choose"]
    undated = next(e for e in parsed.entries if e.title == "Undated")
    assert undated.published == "Fri, 02 Jan 2026 08:00:00 +0000"


def test_an_episode_without_chapters_has_no_chapters_file_or_tag(
        built: Path, feed) -> None:  # type: ignore[no-untyped-def]
    assert report(built, "two")["files"]["chapters"] is None
    assert not (built / "two.chapters.json").exists()
    assert (built / "one.chapters.json").is_file()
    _, _, parsed = feed(["one", "two"])
    chapters = {e.title: e.get("podcast_chapters") for e in parsed.entries}
    assert chapters == {"One": {"url": "https://example.org/pod/one.chapters.json",
                                "type": "application/json+chapters"}, "Two": None}
    assert json.loads((built / "one.chapters.json").read_text())["chapters"] == [
        {"startTime": 0.0, "title": "Start"}]
