"""Every delivery format from one build of the shipped music example, read back the way players
and directories read them: ffmpeg and mutagen for tags, cover and chapters, ffmpeg's meter for
loudness, an XML parser for the feed, an HTML parser for the episode page."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import mutagen
import pytest

from podcastgen import ffmpeg

from .caption_checks import check_sidecars
from .helpers import ebur128, ffmpeg_metadata

ROOT = Path(__file__).resolve().parent.parent
RATE = 44100
FORMATS = ("mp3", "m4a", "opus", "flac", "wav")
STEM = "behind-the-sound"
CHAPTERS = ["The intro", "The bed", "The outro"]
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0"}
# Apple Podcasts' RSS requirements (Podcasts Connect, "A Podcaster's Guide to RSS"): the tags a
# feed must carry to pass validation, then those Apple recommends; both are checked.
APPLE_CHANNEL_REQUIRED = ["title", "description", "itunes:image", "language", "itunes:category",
                          "itunes:explicit"]
APPLE_CHANNEL_RECOMMENDED = ["itunes:author", "link"]
APPLE_ITEM_REQUIRED = ["title", "enclosure"]
APPLE_ITEM_RECOMMENDED = ["guid", "pubDate", "description", "itunes:duration", "link",
                          "itunes:image", "itunes:explicit"]
TRAILER = """\
extends: show.yaml
title: "Trailer: <soon> & more"
description: A first taste of the show.
feed: {episode_type: trailer}
output:
  formats: [mp3]
  show_notes: {markdown: notes/short.md.j2}
script:
  - alex: Signal and Noise starts next week.
"""


# The trailer has no date: it is published when first built, which the build reads from
# SOURCE_DATE_EPOCH (a week before the dated episode), never from the wall clock.
TRAILER_BUILT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
TRAILER_PUBDATE = "Sat, 21 Nov 2026 09:30:00 +0000"
YEAR = dt.timedelta(days=366)


def run(project: Path, *args: str,
        built: dt.datetime = TRAILER_BUILT) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(built.timestamp()))}
    proc = subprocess.run([sys.executable, "-m", "podcastgen", *args], cwd=project,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example show in a scratch project, the music episode built in every format,
    a one-line trailer beside it, and the feed for both."""
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "episodes", project / "episodes",
                    ignore=shutil.ignore_patterns("build"))
    (project / "podcastgen.yaml").write_text("")
    (project / "episodes" / "notes").mkdir()
    (project / "episodes" / "notes" / "short.md.j2").write_text(
        "{{ episode.title }} ({{ episode.duration_s | clock }}): {{ segments | length }} "
        "line(s)\n")
    (project / "episodes" / "trailer.yaml").write_text(TRAILER)
    run(project, "build", f"episodes/{STEM}.yaml", "episodes/trailer.yaml", "-o", "out")
    run(project, "feed", "out", "--base-url", "https://example.org/pod/", "-o", "out/feed.xml")
    return project


@pytest.fixture(scope="module")
def out(project: Path) -> Path:
    return project / "out"


@pytest.fixture(scope="module")
def report(out: Path) -> dict:
    return json.loads((out / f"{STEM}.report.json").read_text())


def ffmetadata(path: Path) -> tuple[dict[str, str], list[tuple[float, str]]]:
    """Tags (lower-case keys) and (start s, title) chapters in the order ffmpeg lists them."""
    tags, sections = ffmpeg_metadata(path)
    chapters = []
    for fields in sections:
        num, den = map(int, fields["TIMEBASE"].split("/"))
        chapters.append((int(fields["START"]) * num / den, fields["title"]))
    return tags, chapters


def ffmpeg_cover(path: Path) -> bytes:
    """The attached picture as ffmpeg extracts it."""
    return ffmpeg.run(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "image2pipe",
                       "-"]).stdout


def test_outputs_are_exactly_the_promised_files(out: Path, report: dict) -> None:
    cover = report["files"]["cover"]
    assert re.fullmatch(r"cover-[0-9a-f]{12}\.png", cover)
    ours = sorted(p.name for p in out.iterdir() if p.name.startswith(STEM))
    assert ours == sorted([f"{STEM}.{ext}" for ext in (
        *FORMATS, "vtt", "srt", "transcript.json", "chapters.json", "md", "html",
        "report.json")])
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(("trailer", STEM))) \
        == [cover, "feed.xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_ffmpeg_reads_title_show_number_cover_and_chapters_in_order(
        fmt: str, out: Path, report: dict) -> None:
    path = out / f"{STEM}.{fmt}"
    tags, chapters = ffmetadata(path)
    assert (tags["title"], tags["album"], tags["track"]) == ("Behind the Sound",
                                                             "Signal and Noise", "2")
    assert tags["artist"] == "Alex Chen, Anna Li"
    assert ffmpeg_cover(path) == (ROOT / "episodes" / "art" / "cover.png").read_bytes()
    assert [title for _, title in chapters] == CHAPTERS
    for (start, _), expected in zip(chapters, report["chapters"]):
        assert abs(start - expected["start_s"]) <= 0.001
    decoded = ffmpeg.decode(path, RATE, channels=2)
    assert abs(len(decoded) / 2 / RATE - report["duration_s"]) <= 0.03


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutagen_reads_the_same_tags_and_cover(fmt: str, out: Path, report: dict) -> None:
    audio = mutagen.File(out / f"{STEM}.{fmt}")
    cover = (ROOT / "episodes" / "art" / "cover.png").read_bytes()
    assert audio.info.channels == 2
    assert abs(audio.info.length - report["duration_s"]) <= 0.06
    if fmt in ("mp3", "wav"):
        tags = audio.tags
        assert [str(tags[f]) for f in ("TIT2", "TALB", "TRCK")] == [
            "Behind the Sound", "Signal and Noise", "2"]
        assert tags.getall("APIC")[0].data == cover
        chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
        assert [c.sub_frames["TIT2"].text[0] for c in chaps] == CHAPTERS
    elif fmt == "m4a":
        tags = audio.tags
        assert (tags["©nam"], tags["©alb"], tags["trkn"], tags["stik"]) == (
            ["Behind the Sound"], ["Signal and Noise"], [(2, 0)], [21])
        assert bytes(tags["covr"][0]) == cover
        assert tags["ldes"][0].startswith("A short tour of the music")
    else:
        tags = audio.tags
        assert (tags["title"], tags["album"], tags["tracknumber"]) == (
            ["Behind the Sound"], ["Signal and Noise"], ["2"])
        names = [tags[f"chapter{i:03d}name"][0] for i in (1, 2, 3)]
        assert names == CHAPTERS
        assert tags["chapter002"] == [_clock(report["chapters"][1]["start_s"])]
        if fmt == "flac":
            assert audio.pictures[0].data == cover and audio.pictures[0].type == 3
        else:
            assert "metadata_block_picture" in tags


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_loudness_and_true_peak_hold_after_encoding(fmt: str, out: Path, report: dict) -> None:
    integrated, peak = ebur128(out / f"{STEM}.{fmt}")
    assert abs(integrated - (-16.0)) <= 0.5 and peak <= -1.0, (integrated, peak)
    figures = report["formats"][fmt]
    assert abs(figures["loudness_lufs"] - integrated) <= 0.11  # one ebur128 display step
    assert abs(figures["true_peak_dbtp"] - peak) <= 0.11
    assert figures["bytes"] == (out / f"{STEM}.{fmt}").stat().st_size


def test_transcript_json_is_podcasting20(out: Path, report: dict) -> None:
    doc = json.loads((out / f"{STEM}.transcript.json").read_text())
    assert doc["version"] == "1.0.0"
    names = {"alex": "Alex Chen", "anna": "Anna Li"}
    for turn in report["segments"]:  # one segment per caption cue, each inside its turn
        inside = [s for s in doc["segments"] if turn["start_s"] <= s["startTime"] < turn["end_s"]]
        assert (inside[0]["startTime"], inside[-1]["endTime"]) == (turn["start_s"], turn["end_s"])
        assert {s["speaker"] for s in inside} == {names[turn["speaker"]]}
        assert " ".join(s["body"] for s in inside).split() == turn["text"].split()
    check_sidecars(out, STEM, set(names.values()))  # the example's captions fit a viewer


def test_show_notes_markdown(out: Path, report: dict) -> None:
    notes = (out / f"{STEM}.md").read_text()
    assert notes.startswith("# Behind the Sound\n\nSignal and Noise · Season 1 · Episode 2 · "
                            "2026-11-28 · 0:")
    assert "the **intro**, the bed" in notes
    starts = [c["start_s"] for c in report["chapters"]]
    lines = [f"- {int(s // 60)}:{int(s % 60):02d} {t}" for s, t in zip(starts, CHAPTERS)]
    assert "## Chapters\n\n" + "\n".join(lines) + "\n" in notes
    assert "## Speakers\n\n- Alex Chen\n- Anna Li\n" in notes
    assert "- Music: intro.flac, bed.flac, outro.flac\n" in notes


class _Page(HTMLParser):
    """Collects what a static page needs: links, media sources, seek targets, transcript."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.seeks: list[tuple[str, float]] = []
        self.script = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = dict(attrs)
        for key in ("src", "href"):
            if key in attr:
                self.links.append(attr[key])
        if tag == "button" and "seek" in attr.get("class", ""):
            self.seeks.append(("button", float(attr["data-start"])))
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script += data


def test_episode_page_plays_seeks_and_works_from_disk(out: Path, report: dict) -> None:
    html = (out / f"{STEM}.html").read_text()
    page = _Page()
    page.feed(html)
    local = [link for link in page.links if not link.startswith("https://")]
    assert all((out / link).is_file() for link in local), local
    assert [f"{STEM}.{f}" for f in ("m4a", "mp3", "opus", "flac", "wav")] == \
        re.findall(r'<source src="([^"]+)"', html)
    assert [link for link in page.links if link.startswith("https://")] == [
        "https://example.org/signal"]  # the description's own link, nothing loaded from afar
    seeks = [t for _, t in page.seeks]
    chapters = [c["start_s"] for c in report["chapters"]]
    segments = [s["start_s"] for s in report["segments"]]
    assert seeks == chapters + segments
    assert "player.currentTime = parseFloat(button.dataset.start)" in page.script


def test_the_page_escapes_html_and_a_show_template_replaces_the_notes(out: Path) -> None:
    page = (out / "trailer.html").read_text()
    assert "<title>Trailer: &lt;soon&gt; &amp; more · Signal and Noise</title>" in page
    assert "<soon>" not in page
    # the show's own Markdown template (output.show_notes.markdown), not autoescaped
    assert re.fullmatch(r"Trailer: <soon> & more \(0:0\d\): 1 line\(s\)\n",
                        (out / "trailer.md").read_text())


def _feed(out: Path) -> ET.Element:
    return ET.parse(out / "feed.xml").getroot()


def test_feed_has_every_tag_apple_requires(out: Path) -> None:
    root = _feed(out)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for tag in APPLE_CHANNEL_REQUIRED + APPLE_CHANNEL_RECOMMENDED:
        assert channel.find(tag, NS) is not None, tag
    assert channel.findtext("title") == "Signal and Noise"
    assert channel.findtext("description").startswith("Every week Alex and Anna")
    assert channel.find("itunes:category", NS).get("text") == "Technology"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.find("itunes:owner/itunes:email", NS).text == "hello@example.org"
    image = channel.find("itunes:image", NS).get("href")
    assert image.startswith("https://example.org/pod/cover-") and (out / image[24:]).is_file()
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Behind the Sound",
                                                    "Trailer: <soon> & more"]  # newest first
    for item in items:
        for tag in APPLE_ITEM_REQUIRED + APPLE_ITEM_RECOMMENDED:
            assert item.find(tag, NS) is not None, (item.findtext("title"), tag)


def test_feed_items_point_at_the_real_files(out: Path, report: dict) -> None:
    item = _feed(out).find("channel/item")
    enclosure = item.find("enclosure")
    assert enclosure.get("url") == f"https://example.org/pod/{STEM}.mp3"
    assert enclosure.get("type") == "audio/mpeg"
    assert int(enclosure.get("length")) == (out / f"{STEM}.mp3").stat().st_size
    assert item.findtext("itunes:duration", namespaces=NS) == str(round(report["duration_s"]))
    assert (item.findtext("itunes:episode", namespaces=NS),
            item.findtext("itunes:season", namespaces=NS)) == ("2", "1")
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("guid") == report["item"]["guid"]
    assert item.findtext("pubDate") == "Sat, 28 Nov 2026 00:00:00 +0000"
    trailer = _feed(out).findall("channel/item")[1]
    assert trailer.findtext("pubDate") == TRAILER_PUBDATE
    transcripts = {t.get("type"): t.get("url") for t in item.findall("podcast:transcript", NS)}
    assert transcripts == {"text/vtt": f"https://example.org/pod/{STEM}.vtt",
                           "application/x-subrip": f"https://example.org/pod/{STEM}.srt",
                           "application/json": f"https://example.org/pod/{STEM}.transcript.json"}
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("url") == f"https://example.org/pod/{STEM}.chapters.json"
    assert chapters.get("type") == "application/json+chapters"
    alternates = item.findall("podcast:alternateEnclosure", NS)
    assert [a.get("type") for a in alternates] == ["audio/x-m4a", "audio/ogg", "audio/flac",
                                                   "audio/wav"]
    for alt in alternates:
        name = alt.find("podcast:source", NS).get("uri").rsplit("/", 1)[1]
        assert int(alt.get("length")) == (out / name).stat().st_size


def test_rebuilding_keeps_the_guid(project: Path, out: Path) -> None:
    before = {i.findtext("title"): i.findtext("guid") for i in _feed(out).iter("item")}
    episode = project / "episodes" / "trailer.yaml"
    episode.write_text(TRAILER.replace("A first taste", "A new first taste"))
    old_hash = json.loads((out / "trailer.report.json").read_text())["build_hash"]
    run(project, "build", "episodes/trailer.yaml", "-o", "out", built=TRAILER_BUILT + YEAR)
    assert json.loads((out / "trailer.report.json").read_text())["build_hash"] != old_hash
    run(project, "feed", "out", "--base-url", "https://example.org/pod", "-o", "out/feed.xml")
    items = list(_feed(out).iter("item"))
    assert {i.findtext("title"): i.findtext("guid") for i in items} == before
    trailer = items[1]
    assert trailer.findtext("pubDate") == TRAILER_PUBDATE  # first built, not rebuilt
    assert trailer.findtext("itunes:episodeType", namespaces=NS) == "trailer"
    assert int(trailer.find("enclosure").get("length")) == (out / "trailer.mp3").stat().st_size


def test_an_undated_episode_keeps_its_pubdate_in_a_copied_folder_rebuilt_with_force(
        project: Path, out: Path) -> None:
    copy = project / "copied"
    shutil.copytree(out, copy, copy_function=shutil.copyfile)  # every file written anew
    later = TRAILER_BUILT + 3 * YEAR
    run(project, "build", "episodes/trailer.yaml", "-o", "copied", "--force", built=later)
    report = json.loads((copy / "trailer.report.json").read_text())
    assert report["item"]["first_built"] == "2026-11-21T09:30:00+00:00"
    run(project, "feed", "copied", "--base-url", "https://example.org/pod", "-o",
        "copied/feed.xml", built=later)
    pubdates = {i.findtext("title"): i.findtext("pubDate") for i in _feed(copy).iter("item")}
    assert pubdates == {"Behind the Sound": "Sat, 28 Nov 2026 00:00:00 +0000",
                        "Trailer: <soon> & more": TRAILER_PUBDATE}


def test_a_first_build_records_its_time_from_the_clock(project: Path, tmp_path: Path) -> None:
    run(project, "build", "episodes/trailer.yaml", "-o", str(tmp_path / "new"),
        built=TRAILER_BUILT + YEAR)
    report = json.loads((tmp_path / "new" / "trailer.report.json").read_text())
    assert report["item"]["first_built"] == "2027-11-22T09:30:00+00:00"
