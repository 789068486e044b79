"""Segment cache, resume, up-to-date builds, concurrency limits and --dry-run."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from podcastgen import cache as cache_mod
from podcastgen.cache import SegmentCache, segment_key
from podcastgen.cli import main
from podcastgen.progress import Progress
from podcastgen.providers import REGISTRY, Audio, Job, Provider, ProviderConfig
from podcastgen.synth import SynthOptions, SynthStats, synthesize

from .helpers import BUILD, build_env, kill_build_once_cached

RATE = 16000


class ToneProvider(Provider):
    """A fast, deterministic stand-in registered through the real registry."""

    name = "local"
    needs_voice = False
    calls: list[str] = []
    in_flight = peak = 0
    delay = 0.0
    lock = threading.Lock()

    def voices(self) -> dict[str, str]:
        return {v: v for v in ("joe", "joe-bright", "joe-deep", "joe-lively", "joe-calm")}

    def wire(self, job: Job) -> str:
        return "tone"

    def synthesize(self, job: Job) -> Audio:
        cls = type(self)
        with cls.lock:
            cls.calls.append(job.text)
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        time.sleep(cls.delay)
        with cls.lock:
            cls.in_flight -= 1
        seconds = 0.3 + 0.02 * len(job.text)
        t = np.arange(int(seconds * RATE)) / RATE
        pitch = 150 + 40 * ("bright" in job.voice) + 30 * job.speed
        return Audio((0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32), RATE)


@pytest.fixture
def tones(monkeypatch: pytest.MonkeyPatch) -> type[ToneProvider]:
    monkeypatch.setitem(REGISTRY, "local", ToneProvider)
    ToneProvider.calls, ToneProvider.peak, ToneProvider.delay = [], 0, 0.0
    return ToneProvider


EPISODE = """\
title: Cache test
speakers:
  alex: {voice: joe}
  anna: {voice: joe-bright}
output: {bitrate: 128k}
script:
  - alex: One.
  - anna: Two.
  - alex: Three.
  - anna:
      text: Four.
      speed: 1.1
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "podcastgen.yaml").write_text("")
    (tmp_path / "ep.yaml").write_text(EPISODE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PODCASTGEN_CACHE_DIR", raising=False)
    return tmp_path


def build(*extra: str) -> dict:
    assert main(["build", "ep.yaml", "-q", *extra]) == 0
    return json.loads(Path("build/ep.report.json").read_text())


def edit(old: str, new: str) -> None:
    text = Path("ep.yaml").read_text()
    assert old in text
    Path("ep.yaml").write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("old,new,misses", [
    ("  - alex: One.", "  - alex: One!", 1),  # compiled text
    ("alex: {voice: joe}", "alex: {voice: joe-deep}", 2),  # voice
    ("      speed: 1.1", "      speed: 1.2", 1),  # a turn's speed
    ("  anna: {voice: joe-bright}", "  anna: {voice: joe-bright, speed: 0.9}", 1),  # speaker
    ("  - anna: Two.", "  - anna: Two.\n  - anna: Five.", 1),  # a new turn
])
def test_audio_affecting_changes_miss_the_cache(project: Path, tones: type[ToneProvider],
                                                old: str, new: str, misses: int) -> None:
    first = build()
    assert first["requests"] == {"sent": 4, "retried": 0, "cached": 0}
    edit(old, new)
    again = build()
    assert again["requests"]["sent"] == misses
    assert len(tones.calls) == 4 + misses


@pytest.mark.parametrize("old,new", [
    ("title: Cache test", "title: A new title"),
    ("output: {bitrate: 128k}", "output: {bitrate: 96k}"),
    ("speakers:", "description: Now with notes.\nnumber: 7\nspeakers:"),
])
def test_changes_that_do_not_touch_audio_hit_the_cache(project: Path, tones: type[ToneProvider],
                                                       old: str, new: str) -> None:
    build()
    edit(old, new)
    again = build()
    assert again["requests"] == {"sent": 0, "retried": 0, "cached": 4}
    assert all(s["cached"] for s in again["segments"])
    assert len(tones.calls) == 4


def test_key_covers_every_audio_field(tmp_path: Path) -> None:
    clip = tmp_path / "ref.wav"
    clip.write_bytes(b"one")
    job = Job(0, (0,), "a", "Hello.", "siliconflow", "v", model="m", references=((clip, "Hi"),))
    base = segment_key(job, "mp3@44100")
    from dataclasses import replace

    variants = [replace(job, provider="openai"), replace(job, model="n"),
                replace(job, voice="w"), replace(job, text="Hello!"), replace(job, speed=1.1),
                replace(job, emotion="happy"), replace(job, instruction="softly"),
                replace(job, options=(("gain", 2),)), replace(job, parts=("Hello.",)),
                replace(job, references=((clip, "Hello"),))]
    keys = {segment_key(v, "mp3@44100") for v in variants} | {segment_key(job, "wav@24000")}
    assert base not in keys and len(keys) == len(variants) + 1
    assert segment_key(replace(job, index=5, turns=(9,), where="x:1", speaker="b"),
                       "mp3@44100") == base  # bookkeeping is not audio
    clip.write_bytes(b"two")  # same path, new recording
    assert segment_key(job, "mp3@44100") != base


def test_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    job = Job(0, (0,), "a", "Hello.", "local", "joe")
    before = segment_key(job)
    monkeypatch.setattr(cache_mod, "CACHE_VERSION", cache_mod.CACHE_VERSION + 1)
    assert segment_key(job) != before


def test_corrupt_entry_is_discarded_and_resynthesized(project: Path,
                                                      tones: type[ToneProvider]) -> None:
    build()
    entries = SegmentCache(project / ".podcastgen" / "cache").entries()
    assert len(entries) == 4
    data = bytearray(entries[0].read_bytes())
    data[-3] ^= 0xFF
    entries[0].write_bytes(bytes(data))
    entries[1].write_bytes(entries[1].read_bytes()[:-100])  # torn
    again = build("--force")
    assert again["requests"] == {"sent": 2, "retried": 0, "cached": 2}


def test_failed_write_leaves_no_entry_and_no_temp_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = SegmentCache(tmp_path)

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        store.put("ab" * 32, Audio(np.ones(10, np.float32), RATE))
    assert list(tmp_path.rglob("*")) == [tmp_path / "ab"]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    store = SegmentCache(tmp_path)
    samples = np.random.default_rng(1).standard_normal(999).astype(np.float32)
    store.put("cd" * 32, Audio(samples, 23456))
    back = store.get("cd" * 32)
    assert back is not None and back.sample_rate == 23456
    assert np.array_equal(back.samples, samples)


def test_unchanged_episode_is_up_to_date(project: Path, tones: type[ToneProvider],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    build()
    mp3 = Path("build/ep.mp3")
    stamp = mp3.stat().st_mtime_ns
    assert main(["build", "ep.yaml"]) == 0
    assert "is up to date" in capsys.readouterr().out
    assert mp3.stat().st_mtime_ns == stamp and len(tones.calls) == 4
    again = build("--force")
    assert again["requests"] == {"sent": 0, "retried": 0, "cached": 4}
    assert mp3.stat().st_mtime_ns != stamp


def test_no_cache_neither_reads_nor_writes(project: Path, tones: type[ToneProvider]) -> None:
    build("--no-cache")
    assert not (project / ".podcastgen").exists()
    assert build("--no-cache", "--force")["requests"]["sent"] == 4


def test_cache_dir_flag_and_environment(project: Path, tones: type[ToneProvider],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    build("--cache-dir", "elsewhere")
    assert len(SegmentCache(project / "elsewhere").entries()) == 4
    monkeypatch.setenv("PODCASTGEN_CACHE_DIR", str(project / "from-env"))
    build("--force")
    assert len(SegmentCache(project / "from-env").entries()) == 4


def test_dry_run_sends_nothing_and_predicts_the_build(project: Path, tones: type[ToneProvider],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def planned() -> list[str]:
        assert main(["build", "ep.yaml", "--dry-run"]) == 0
        out = capsys.readouterr().out.splitlines()
        return next(line for line in out if line.startswith("local")).split()

    assert planned()[1:5] == ["4", "19", "0", "4"]  # requests, chars, cached, to send
    assert tones.calls == [] and sorted(p.name for p in project.iterdir()) == [
        "ep.yaml", "podcastgen.yaml"]
    assert build()["requests"]["sent"] == 4
    edit("  - alex: Three.", "  - alex: Three, again.")
    assert planned()[3:5] == ["3", "1"]
    assert build()["requests"]["sent"] == 1


def test_concurrency_per_provider_and_jobs_cap(tones: type[ToneProvider]) -> None:
    jobs = tuple(Job(i, (i,), "a", f"Turn {i}.", "local", "joe") for i in range(12))
    tones.delay = 0.05
    synthesize(jobs, SynthStats(), SynthOptions(configs={
        "local": ProviderConfig("local", concurrency=3)}))
    assert tones.peak == 3
    tones.peak = 0
    synthesize(jobs, SynthStats(), SynthOptions(jobs=2, configs={
        "local": ProviderConfig("local", concurrency=8)}))
    assert tones.peak == 2


def test_requests_per_minute_spaces_the_starts(tones: type[ToneProvider]) -> None:
    """With rpm 600 the pacer lets one request start every 0.1 s. A thread may wake late
    after its turn, never early, so the k-th request to start does so at least k * 0.1 s
    after synthesis began, however busy the machine."""
    starts: list[float] = []
    original = ToneProvider.synthesize

    def timed(self: ToneProvider, job: Job) -> Audio:
        starts.append(time.monotonic())
        return original(self, job)

    jobs = tuple(Job(i, (i,), "a", f"T{i}.", "local", "joe") for i in range(4))
    ToneProvider.synthesize = timed  # type: ignore[method-assign]
    began = time.monotonic()
    try:
        synthesize(jobs, SynthStats(), SynthOptions(configs={
            "local": ProviderConfig("local", concurrency=4, rpm=600)}))
    finally:
        ToneProvider.synthesize = original  # type: ignore[method-assign]
    assert len(starts) == 4
    for k, start in enumerate(sorted(starts)):
        assert start - began >= k * 0.1 - 1e-6, k


def test_progress_lines(tmp_path: Path) -> None:
    import io

    plain = io.StringIO()
    p = Progress("ep", stream=plain, live=False)
    p.start(3, 1)
    p.advance()
    p.advance(retries=2)
    p.finish()
    lines = plain.getvalue().splitlines()
    assert lines[0] == "ep: 1/3 segments, 1 cached, 0 retries"
    assert lines[-1] == "ep: 3/3 segments, 1 cached, 2 retries"
    live = io.StringIO()
    p = Progress("ep", stream=live, live=True)
    p.start(2, 0)
    p.advance()
    assert live.getvalue().count("\r\033[K") == 2
    quiet = io.StringIO()
    p = Progress("ep", stream=quiet, quiet=True)
    p.start(2, 0)
    p.advance()
    assert quiet.getvalue() == ""


def test_progress_estimates_time_left_from_fresh_segments_only(monkeypatch) -> None:
    """The ETA counts only segments actually synthesized (cache hits are instant), and reads
    as a player would show a time: M:SS, or H:MM:SS from an hour on."""
    import io

    now = [100.0]
    monkeypatch.setattr("podcastgen.progress.time.monotonic", lambda: now[0])
    p = Progress("ep", stream=io.StringIO(), live=False)
    p.start(5, 2)
    assert p.line() == "ep: 2/5 segments, 2 cached, 0 retries"  # nothing fresh yet: no guess
    now[0] += 12.0
    p.advance()
    assert p.line().endswith(", about 0:24 left")  # 2 left at 12 s each
    long = Progress("ep", stream=io.StringIO(), live=False)
    long.start(1000, 0)
    now[0] += 10.0
    long.advance()
    assert long.line().endswith(", about 2:46:30 left")  # 999 left at 10 s each


def test_cache_stats_and_prune(project: Path, tones: type[ToneProvider],
                               capsys: pytest.CaptureFixture[str]) -> None:
    build()
    capsys.readouterr()
    assert main(["cache", "stats"]) == 0
    assert capsys.readouterr().out.startswith(".podcastgen/cache: 4 segments, ")
    entries = SegmentCache(project / ".podcastgen" / "cache").entries()
    for age_days, entry in zip([40] + [1] * 3, entries):  # every age from the clock prune reads
        os.utime(entry, (time.time() - age_days * 86400,) * 2)
    assert main(["cache", "prune", "--older-than", "30"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 segments")
    assert main(["cache", "prune", "--max-size", "0"]) == 0
    assert SegmentCache(project / ".podcastgen" / "cache").entries() == []
    assert main(["cache", "prune"]) == 2


def test_killed_build_resumes_without_paying_twice(tmp_path: Path) -> None:
    """SIGKILL mid-synthesis, then rerun: every segment is synthesized exactly once."""
    (tmp_path / "podcastgen.yaml").write_text("")
    turns = "".join(f"  - {'ab'[i % 2]}: This is turn number {i}.\n" for i in range(16))
    (tmp_path / "ep.yaml").write_text(
        f"title: Kill\nspeakers:\n  a: {{}}\n  b: {{}}\nscript:\n{turns}")
    store = SegmentCache(tmp_path / ".podcastgen" / "cache")
    env = build_env()
    kill_build_once_cached(tmp_path, env, 5, timeout_s=120)
    done = store.entries()
    assert 5 <= len(done) < 16 and not (tmp_path / "build").exists()
    assert all(store.get(p.stem) is not None for p in done)  # nothing torn
    subprocess.run(BUILD, cwd=tmp_path, env=env, check=True)
    report = json.loads((tmp_path / "build" / "ep.report.json").read_text())
    assert report["requests"]["sent"] + len(done) == 16
    assert report["requests"]["cached"] == len(done)
    subprocess.run([*BUILD, "--force"], cwd=tmp_path, env=env, check=True)
    report = json.loads((tmp_path / "build" / "ep.report.json").read_text())
    assert report["requests"] == {"sent": 0, "retried": 0, "cached": 16}
