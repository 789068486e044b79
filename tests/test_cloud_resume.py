"""Resume and --dry-run against the provider emulator, through the real cloud clients: a build
killed mid-way pays again only for the requests it had in flight, and --dry-run predicts, per
provider, exactly the requests a build then sends."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcastgen.cache import SegmentCache
from podcastgen.cli import main
from podcastgen.emulator import Emulator, Entry
from podcastgen.pipeline import BuildOptions, load_episode
from podcastgen.plan import compile_episode
from podcastgen.synth import job_keys, providers_for

from .helpers import BUILD, build_env, kill_build_once_cached

TURNS = 30
SPEAKERS = """\
speakers:
  olga: {provider: openai, voice: nova, model: tts-1}
  sam: {provider: siliconflow, voice: alex, options: {response_format: pcm, sample_rate: 24000}}
"""


def episode_text(turns: int = TURNS) -> str:
    lines = "".join(f"  - {('olga', 'sam')[i % 2]}: Turn {i} of the resume test.\n"
                    for i in range(turns))
    return f"title: Resume\noutput: {{sample_rate: 24000}}\n{SPEAKERS}script:\n{lines}"


def segment_keys(project: Path, episode: str = "ep.yaml") -> dict[str, str]:
    """Each planned segment's text -> its cache key, as a build computes it."""
    loaded = load_episode(project / episode, BuildOptions(), need_keys=False)
    jobs = compile_episode(loaded).jobs
    keys = dict(zip((j.text for j in jobs), job_keys(jobs, providers_for(jobs, loaded.configs))))
    assert len(keys) == len(jobs)  # every text is its own segment
    return keys


@pytest.fixture(scope="module")
def slow_server() -> Iterator[Emulator]:
    """An emulator whose answers take a while, so a build can be caught mid-way."""
    with Emulator(latency_ms=120) as running:
        yield running


@pytest.fixture
def slow(slow_server: Emulator, tmp_path: Path) -> Emulator:
    slow_server.reset()
    slow_server.latency_ms = 120
    project(tmp_path, "{concurrency: 2}")
    return slow_server


def project(root: Path, settings: str, turns: int = TURNS) -> None:
    """A project whose two providers both get `settings`, and its episode."""
    (root / "podcastgen.yaml").write_text(f"providers:\n  openai: {settings}\n"
                                          f"  siliconflow: {settings}\n")
    (root / "ep.yaml").write_text(episode_text(turns))


def settle(emu: Emulator, quiet_s: float = 0.4, timeout_s: float = 10.0) -> list[Entry]:
    """The speech log once every request the emulator received has been answered and no new
    one has arrived for `quiet_s` (a killed client's last requests are still being served)."""
    deadline = time.monotonic() + timeout_s
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        entries = emu.log.speech()
        if len(entries) != seen or any(e.answered_at is None for e in entries):
            seen, since = len(entries), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return entries
        time.sleep(0.02)
    raise AssertionError("the emulator never went quiet")


def texts(entries: list[Entry]) -> Counter[str]:
    return Counter(e.json["input"] for e in entries)


def test_killed_build_pays_again_only_for_requests_in_flight(slow: Emulator,
                                                            tmp_path: Path) -> None:
    """SIGKILL mid-synthesis, then rerun. A request in flight at the kill was answered (and
    would be billed) but never stored, so it is sent again: in total the two runs send one
    request per segment plus those in flight, and nothing stored before the kill again."""
    keys = segment_keys(tmp_path)
    store = SegmentCache(tmp_path / ".podcastgen" / "cache")
    env = build_env(slow.env())
    kill_build_once_cached(tmp_path, env, 8, timeout_s=60)
    first = settle(slow)
    assert all(e.status == 200 and e.fault is None and e.audio for e in first)
    cached = {p.stem for p in store.entries()}
    assert all(store.get(k) is not None for k in cached)  # nothing torn
    assert 8 <= len(cached) < TURNS and not (tmp_path / "build").exists()
    sent_first = texts(first)
    assert max(sent_first.values()) == 1 and set(sent_first) <= set(keys)
    assert cached <= {keys[t] for t in sent_first}  # the cache holds only what was answered
    # answered by the emulator (so paid for) but never stored: the requests in flight at the
    # kill; at most as many as the providers' concurrency allows
    in_flight = {t for t in sent_first if keys[t] not in cached}
    assert len(in_flight) <= 4

    slow.log.clear()
    subprocess.run(BUILD, cwd=tmp_path, env=env, check=True)
    second = texts(slow.log.speech(ok=True))
    assert len(slow.log) == len(slow.log.speech(ok=True))  # nothing failed or retried
    # every segment that was stored before the kill is never asked for again; every other one
    # is asked for exactly once
    assert second == Counter({t: 1 for t, k in keys.items() if k not in cached})
    assert sum(sent_first.values()) + sum(second.values()) == TURNS + len(in_flight)
    report = json.loads((tmp_path / "build" / "ep.report.json").read_text())
    assert report["requests"] == {"sent": TURNS - len(cached), "retried": 0,
                                  "cached": len(cached)}
    assert {p.stem for p in store.entries()} == set(keys.values())
    assert all(store.get(k) is not None for k in keys.values())

    slow.log.clear()
    subprocess.run([*BUILD, "--force"], cwd=tmp_path, env=env, check=True)
    assert list(slow.log) == []
    report = json.loads((tmp_path / "build" / "ep.report.json").read_text())
    assert report["requests"] == {"sent": 0, "retried": 0, "cached": TURNS}


def test_build_killed_between_requests_pays_for_each_segment_once(slow: Emulator,
                                                                  tmp_path: Path) -> None:
    """Killed at a moment when nothing was in flight, a build and its resumption send, in
    total, exactly one successful request per segment."""
    turns = 24
    slow.latency_ms = 20
    project(tmp_path, "{concurrency: 1, rpm: 200}", turns)  # a start every 0.3 s each
    keys = segment_keys(tmp_path)
    store = SegmentCache(tmp_path / ".podcastgen" / "cache")
    env = build_env(slow.env())
    proc = subprocess.Popen(BUILD, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    between = False
    while not between and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.03)
        if len(store.entries()) < 4:
            continue
        # frozen, the client sends nothing more; once the emulator has answered all it got,
        # a request answered but not stored is one the client was still reading (0.3 s of
        # quiet: time for a busy emulator to log what was already in its socket)
        proc.send_signal(signal.SIGSTOP)
        answered = settle(slow, quiet_s=0.3)
        cached = {p.stem for p in store.entries()}
        between = {keys[e.json["input"]] for e in answered} == cached
        if not between:
            proc.send_signal(signal.SIGCONT)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert between and proc.returncode == -signal.SIGKILL and 4 <= len(cached) < turns
    assert settle(slow) == answered  # nothing was still on its way
    assert all(e.status == 200 and e.fault is None and e.audio for e in answered)
    assert all(store.get(k) is not None for k in cached)
    slow.log.clear()
    subprocess.run(BUILD, cwd=tmp_path, env=env, check=True)
    second = texts(slow.log.speech(ok=True))
    assert second == Counter({t: 1 for t, k in keys.items() if k not in cached})
    assert len(answered) + sum(second.values()) == turns  # each segment paid for once
    report = json.loads((tmp_path / "build" / "ep.report.json").read_text())
    assert report["requests"] == {"sent": turns - len(cached), "retried": 0,
                                  "cached": len(cached)}


def dry_run(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, str]]:
    """The --dry-run table: provider -> its columns."""
    assert main(["build", "ep.yaml", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("provider")))
    names = ["requests", "chars", "cached", "to send", "audio", "cost"]
    rows = {}
    for line in lines[head + 1:]:
        if line.startswith("estimated"):
            break
        provider, *cells = line.split()
        rows[provider] = dict(zip(names, cells))
    return rows


def test_dry_run_sends_nothing_and_predicts_each_provider(cloud: Emulator,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    from podcastgen import dryrun

    Path("ep.yaml").write_text(episode_text(12))
    assert main(["build", "ep.yaml", "-q"]) == 0
    assert len(cloud.log.speech(ok=True)) == 12
    text = Path("ep.yaml").read_text()
    for old, new in [("Turn 2 of", "Turn two of"), ("Turn 6 of", "Turn six of"),  # openai
                     ("Turn 5 of", "Turn five of")]:  # siliconflow
        text = text.replace(old, new)
    Path("ep.yaml").write_text(text)
    cloud.log.clear()
    capsys.readouterr()

    for name in ("OPENAI_API_KEY", "SILICONFLOW_API_KEY"):
        monkeypatch.delenv(name)  # a dry run needs no keys (the URLs still point here)
    table = dry_run(capsys)
    assert list(cloud.log) == []
    assert {p: (r["requests"], r["cached"], r["to send"]) for p, r in table.items()} == {
        "openai": ("6", "4", "2"), "siliconflow": ("6", "5", "1")}
    episode = load_episode(Path("ep.yaml"), BuildOptions(), need_keys=False)
    store = SegmentCache(Path(".podcastgen/cache"))
    rows = dryrun.summarize(episode, compile_episode(episode), store, episode.configs)
    assert {r.provider: (r.requests, r.hits, r.misses) for r in rows} == {
        "openai": (6, 4, 2), "siliconflow": (6, 5, 1)}
    assert list(cloud.log) == []

    monkeypatch.setenv("OPENAI_API_KEY", cloud.keys["openai"])
    monkeypatch.setenv("SILICONFLOW_API_KEY", cloud.keys["siliconflow"])
    assert main(["build", "ep.yaml", "-q"]) == 0
    assert len(cloud.log) == 3
    for row in rows:
        sent = cloud.log.speech(row.provider, ok=True)
        assert len(sent) == row.misses
    assert sorted(e.json["input"] for e in cloud.log.speech(ok=True)) == [
        "Turn five of the resume test.", "Turn six of the resume test.",
        "Turn two of the resume test."]
    report = json.loads(Path("build/ep.report.json").read_text())
    assert report["requests"] == {"sent": 3, "retried": 0, "cached": 9}


def test_dry_run_costs_what_the_provider_settings_declare(cloud: Emulator,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    """Prices set in podcastgen.yaml and in the episode reach the cost column, for the
    requests still to send."""
    Path("podcastgen.yaml").write_text("providers:\n  openai: {price_per_char: 0.001}\n")
    Path("ep.yaml").write_text(episode_text(4).replace(
        "speakers:", "providers:\n  siliconflow: {price_per_request: 0.5}\nspeakers:"))
    table = dry_run(capsys)
    chars = {p: int(r["chars"]) for p, r in table.items()}
    assert table["openai"]["cost"] == f"{0.001 * chars['openai']:.4f}"
    assert table["siliconflow"]["cost"] == "1.0000"  # two requests
    assert main(["build", "ep.yaml", "-q"]) == 0
    Path("ep.yaml").write_text(Path("ep.yaml").read_text().replace("Turn 0 of", "Turn zero of"))
    capsys.readouterr()
    table = dry_run(capsys)
    assert table["openai"]["cost"] == f"{0.001 * len('Turn zero of the resume test.'):.4f}"
    assert table["siliconflow"]["cost"] == "0.0000"  # priced, all cached: free, not unknown
    assert table["siliconflow"]["to send"] == "0"


def test_dry_run_counts_a_torn_entry_as_to_send_and_leaves_it(cloud: Emulator,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    Path("ep.yaml").write_text(episode_text(4))
    assert main(["build", "ep.yaml", "-q"]) == 0
    keys = segment_keys(Path.cwd())
    store = SegmentCache(Path(".podcastgen/cache"))
    torn = store.path(keys["Turn 1 of the resume test."])  # siliconflow's first turn
    torn.write_bytes(torn.read_bytes()[:-100])
    before = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in store.entries())
    capsys.readouterr()
    table = dry_run(capsys)
    assert {p: (r["cached"], r["to send"]) for p, r in table.items()} == {
        "openai": ("2", "0"), "siliconflow": ("1", "1")}
    after = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in store.entries())
    assert after == before  # nothing removed or touched
    cloud.log.clear()
    assert main(["build", "ep.yaml", "-q", "--force"]) == 0
    assert [e.json["input"] for e in cloud.log.speech(ok=True)] == ["Turn 1 of the resume test."]


def test_dry_run_plans_with_the_voices_a_build_clones(cloud: Emulator,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """A speaker with a reference clip is voiced by the voice cloned from it: the dry run
    looks it up in the record of uploads (uploading nothing), so its cache hits are the
    build's; before the first upload it says that one is needed."""
    from .cloud_helpers import write_clip

    write_clip(Path("wei.wav"))
    Path("ep.yaml").write_text(
        "title: Clone\nspeakers:\n  wei:\n    provider: siliconflow\n"
        "    reference: {audio: wei.wav, text: This is how I sound.}\n"
        "  olga: {provider: openai, voice: nova}\n"
        "script:\n  - wei: Hello there.\n  - olga: Hi.\n  - wei: Goodbye.\n")
    assert main(["build", "ep.yaml", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "wei: the reference clip is uploaded to siliconflow first" in out
    assert list(cloud.log) == [] and not Path(".podcastgen").exists()
    assert main(["build", "ep.yaml", "-q"]) == 0
    assert [e.endpoint for e in cloud.log if not e.speech] == ["/uploads/audio/voice"]
    assert len(cloud.log.speech(ok=True)) == 3
    Path("ep.yaml").write_text(Path("ep.yaml").read_text().replace("Goodbye.", "Bye now."))
    capsys.readouterr()
    table = dry_run(capsys)
    assert {p: (r["cached"], r["to send"]) for p, r in table.items()} == {
        "siliconflow": ("1", "1"), "openai": ("1", "0")}
    cloud.log.clear()
    assert main(["build", "ep.yaml", "-q"]) == 0
    assert [(e.endpoint, e.json["input"]) for e in cloud.log] == [("/audio/speech", "Bye now.")]
