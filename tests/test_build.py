"""End to end: the example episode built through the real CLI, then measured as a listener's
software would see it (decoded audio, ffmpeg's loudness meter and chapter list, mutagen)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3

from podcastgen import ffmpeg, master

from .caption_checks import check_sidecars
from .helpers import ebur128, ffmpeg_chapters, ffmpeg_stand_in, onsets

ROOT = Path(__file__).resolve().parent.parent
RATE = 44100


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example, copied into a scratch project and built with the console command."""
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "episodes", project / "episodes",
                    ignore=shutil.ignore_patterns("build"))
    (project / "podcastgen.yaml").write_text("")
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build",
                           "episodes/welcome.yaml", "-o", "out"],
                          cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert re.search(r"^built out/welcome\.mp3: 2:\d\d\.\d, -16\.0 LUFS, true peak -\d\.\d "
                     r"dBTP, 26 turns, 26 synthesized, 0 cached\n\Z", proc.stdout, re.M)
    return project / "out"


@pytest.fixture(scope="module")
def report(built: Path) -> dict:
    return json.loads((built / "welcome.report.json").read_text())


@pytest.fixture(scope="module")
def decoded(built: Path) -> np.ndarray:
    return ffmpeg.decode(built / "welcome.mp3", RATE)


def test_outputs_are_exactly_the_promised_files(built: Path, report: dict) -> None:
    assert sorted(p.name for p in built.iterdir()) == sorted([
        "welcome.chapters.json", "welcome.mp3", "welcome.report.json", "welcome.srt",
        "welcome.vtt", "welcome.transcript.json", "welcome.md", "welcome.html",
        report["files"]["cover"]])


def test_duration_loudness_and_true_peak_of_the_encoded_file(
        built: Path, report: dict, decoded: np.ndarray) -> None:
    assert 120 <= report["duration_s"] <= 240
    assert abs(len(decoded) / RATE - report["duration_s"]) <= 0.05
    integrated, peak = ebur128(built / "welcome.mp3")
    assert abs(integrated - (-16.0)) <= 0.5
    assert peak <= -1.0
    assert abs(report["loudness_lufs"] - integrated) <= 0.11  # one ebur128 display step
    assert abs(report["true_peak_dbtp"] - peak) <= 0.11


def test_report_lists_every_turn_in_script_order(report: dict) -> None:
    import yaml

    script = yaml.safe_load((ROOT / "episodes" / "welcome.yaml").read_text())["script"]
    turns = [(k, v if isinstance(v, str) else v["text"]) for item in script
             for k, v in item.items() if k not in ("chapter", "pause", "sound")]
    segments = report["segments"]
    assert [(s["speaker"], s["text"]) for s in segments] == turns
    assert [s["index"] for s in segments] == list(range(len(turns)))
    assert all(s["provider"] == "local" and s["cached"] is False for s in segments)
    starts = [s["start_s"] for s in segments]
    assert starts == sorted(starts)
    assert report["requests"] == {"sent": len(turns), "retried": 0, "cached": 0}


def test_ffmpeg_lists_chapters_in_script_order(built: Path, report: dict) -> None:
    titles = ["Cold open", "How the show is made", "Listener questions", "Goodbye"]
    chapters = ffmpeg_chapters(built / "welcome.mp3")
    assert [c[2] for c in chapters] == titles
    assert [c["title"] for c in report["chapters"]] == titles
    for (start_ms, _, _), expected in zip(chapters, report["chapters"]):
        assert abs(start_ms / 1000 - expected["start_s"]) <= 0.001
    # Each chapter after the first starts where its first turn's audio starts.
    firsts = {"How the show is made": "So let's explain.", "Listener questions": "We asked",
              "Goodbye": "That's all"}
    for title, opening in firsts.items():
        seg = next(s for s in report["segments"] if s["text"].startswith(opening))
        chapter = next(c for c in report["chapters"] if c["title"] == title)
        assert chapter["start_s"] == seg["start_s"]
    assert json.loads((built / "welcome.chapters.json").read_text()) == {
        "version": "1.2.0", "title": "Welcome to Signal and Noise",
        "chapters": [{"startTime": c["start_s"], "title": c["title"]} for c in report["chapters"]]}


def test_mutagen_reads_back_every_tag(built: Path, report: dict) -> None:
    tag = ID3(built / "welcome.mp3")
    text = {fid: str(tag[fid].text[0]) for fid in ("TIT2", "TALB", "TPE1", "TRCK", "TPOS",
                                                    "TCON", "TLEN")}
    assert text == {"TIT2": "Welcome to Signal and Noise", "TALB": "Signal and Noise",
                    "TPE1": "Alex Chen, Anna Li", "TRCK": "1", "TPOS": "1", "TCON": "Podcast",
                    "TLEN": str(round(report["duration_s"] * 1000))}
    assert str(tag["TDRC"].text[0]) == "2026-11-21"  # stored as v2.3 TYER + TDAT
    assert tag.getall("COMM")[0].text[0].startswith("Alex and Anna introduce the show")
    assert tag.getall("USLT")[0].text.splitlines()[0] == (
        "Alex Chen: Welcome to Signal and Noise. I'm Alex.")
    cover = tag.getall("APIC")[0]
    assert (cover.type, cover.mime) == (3, "image/png")
    assert cover.data == (ROOT / "episodes" / "art" / "cover.png").read_bytes()
    txxx = {f.desc: f.text[0] for f in tag.getall("TXXX")}
    assert float(txxx["LOUDNESS_LUFS"]) == pytest.approx(report["loudness_lufs"], abs=0.05)
    assert float(txxx["TRUE_PEAK_DBTP"]) == pytest.approx(report["true_peak_dbtp"], abs=0.05)
    assert txxx["PODCASTGEN_BUILD"] == report["build_hash"]
    assert len(tag.getall("CHAP")) == 4 and len(tag.getall("CTOC")) == 1


def test_captions_fit_a_viewer_and_start_each_turn_where_it_speaks(
        built: Path, report: dict, decoded: np.ndarray) -> None:
    names = {"Alex Chen", "Anna Li"}
    cues = check_sidecars(built, "welcome", names)
    segments = report["segments"]
    assert len(cues) > len(segments)  # long turns are cut into several cues
    found = onsets(decoded, RATE)
    for segment in segments:  # each turn's first cue starts where the audio starts speaking
        first = next(c for c in cues if c.start == round(segment["start_s"], 3))
        assert first.speaker == {"alex": "Alex Chen", "anna": "Anna Li"}[segment["speaker"]]
        nearest = min(found, key=lambda t: abs(t - first.start))
        assert abs(nearest - first.start) <= 0.05, (first, nearest)
    words = " ".join(" ".join(c.lines) for c in cues).split()
    assert words == " ".join(s["text"] for s in segments).split()  # every word, in order


def test_voices_are_levelled_alike(report: dict, decoded: np.ndarray) -> None:
    by_speaker: dict[str, list[np.ndarray]] = {}
    for s in report["segments"]:
        clip = decoded[int(s["start_s"] * RATE): int(s["end_s"] * RATE)]
        by_speaker.setdefault(s["speaker"], []).append(clip)
    levels = {sid: master.loudness(np.concatenate(clips), RATE)
              for sid, clips in by_speaker.items()}
    assert max(levels.values()) - min(levels.values()) <= 1.5, levels


def test_failed_build_leaves_previous_outputs_alone(built: Path) -> None:
    """A build that fails while encoding leaves the previous outputs untouched and no stray
    files (its staging folder included)."""
    project = built.parent
    before = {p.name: p.read_bytes() for p in built.iterdir()}
    env = ffmpeg_stand_in(project, "echo simulated encoder failure >&2; exit 1")
    (project / "episodes" / "broken.yaml").write_text(
        "extends: show.yaml\ntitle: Broken\nscript:\n  - alex: Hi.\n")
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build",
                           "episodes/broken.yaml", "-o", "out"],
                          cwd=project, capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert proc.stderr == "encoding broken.mp3 failed: simulated encoder failure\n"
    assert {p.name: p.read_bytes() for p in built.iterdir()} == before
