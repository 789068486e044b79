"""Local builds as a producer runs them: Chinese turns are spoken (measured in the decoded
file), in drafts too, and the same script builds to the same samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from podcastgen import ffmpeg

from .helpers import frame_levels_db

RATE = 44100
CHINESE = "大家好，欢迎收听我们的节目。今天我们聊一聊播客是怎样制作的。"  # 25 syllables
EPISODE = f"""\
title: Local
speakers:
  li: {{name: Li Lei, voice: joe-deep}}
  ann: {{name: Ann, voice: joe-bright}}
output: {{formats: [flac]}}
script:
  - ann: Welcome back. Today we have a guest.
  - li: {CHINESE}
  - ann: 我们今天聊 Python, and then we go on in English.
"""


def build(project: Path, out: str, *args: str) -> Path:
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "ep.yaml", "-o", out,
                           "-q", "--no-cache", *args], cwd=project, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return project / out


def project_with(tmp_path: Path, episode: str) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text(episode, encoding="utf-8")
    return tmp_path


def voiced_seconds(samples: np.ndarray) -> float:
    """Seconds of 10 ms frames within 30 dB of the loudest: speech, not silence or hiss."""
    levels = frame_levels_db(samples, RATE)
    return float((levels > levels.max() - 30).sum() * 0.01)


def test_a_chinese_turn_is_spoken_for_about_as_long_as_it_takes_to_say(tmp_path: Path) -> None:
    out = build(project_with(tmp_path, EPISODE), "out")
    report = json.loads((out / "ep.report.json").read_text())
    assert report["warnings"] == []  # nothing left unspoken
    turn = next(s for s in report["segments"] if s["speaker"] == "li")
    audio = ffmpeg.decode(out / "ep.flac", RATE)
    clip = audio[int(turn["start_s"] * RATE):int(turn["end_s"] * RATE)]
    # 25 syllables: a speaking pace is 3 to 7 a second, and the pauses
    assert 3.0 <= len(clip) / RATE <= 10.0
    assert voiced_seconds(clip) >= 0.6 * len(clip) / RATE
    mixed = next(s for s in report["segments"] if s["text"].startswith("我们"))
    english_only = report["segments"][0]["end_s"] - report["segments"][0]["start_s"]
    assert mixed["end_s"] - mixed["start_s"] > english_only  # both languages were spoken


def test_a_draft_speaks_a_cloud_speakers_chinese_offline(tmp_path: Path) -> None:
    episode = ("title: Draft\nspeakers:\n  wei: {name: Wei, provider: stepfun, voice: v1}\n"
               f"output: {{formats: [flac]}}\nscript:\n  - wei: {CHINESE}\n")
    out = build(project_with(tmp_path, episode), "out", "--draft")
    audio = ffmpeg.decode(out / "ep.draft.flac", RATE)
    assert voiced_seconds(audio) >= 3.0


def test_two_builds_without_a_cache_give_the_same_samples(tmp_path: Path) -> None:
    project = project_with(tmp_path, EPISODE)
    first = ffmpeg.decode(build(project, "one") / "ep.flac", RATE)
    second = ffmpeg.decode(build(project, "two") / "ep.flac", RATE)
    assert len(first) > 5 * RATE and np.array_equal(first, second)
