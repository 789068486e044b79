"""Failing providers, against the emulator: transient faults of every kind, errors answered
with HTTP 200 included, never lose or duplicate a turn (the decoded episode equals a fault-free
build), and each permanent error is one line naming the turn, the provider's message and its
trace id, exit 1, no output, and never the key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from podcastgen import ffmpeg
from podcastgen.emulator import Emulator

from .cloud_helpers import build

RATE = 24000
SPEAKERS = """\
speakers:
  sf: {provider: siliconflow, voice: alex, options: {response_format: pcm, sample_rate: 24000}}
  oa: {provider: openai, voice: nova}
  sp: {provider: stepfun, voice: cixingnansheng, options: {response_format: pcm}}
  cz: {provider: coze, voice: "7426720361733144585", options: {response_format: pcm}}
"""


def hundred_turns() -> tuple[str, list[str]]:
    ids = ["sf", "oa", "sp", "cz"]
    texts = [f"Turn {i} has its own few words." for i in range(100)]
    script = "".join(f"  - {ids[i % 4]}: {t}\n" + ("  - chapter: Part two\n" if i == 49 else "")
                     for i, t in enumerate(texts))
    return (f"title: Hundred\noutput: {{sample_rate: {RATE}}}\n{SPEAKERS}script:\n{script}",
            texts)


def test_a_quarter_of_requests_failing_changes_nothing(cloud: Emulator) -> None:
    episode, texts = hundred_turns()
    Path("ep.yaml").write_text(episode)
    assert build("ep.yaml", "-o", "clean", "-q", "--no-cache") == 0
    cloud.log.clear()
    cloud.chaos(0.25, seed=7)  # every transient kind each provider has, mixed
    for n, provider in enumerate(("siliconflow", "openai", "stepfun", "coze"), 4):
        cloud.fail(provider, "200_error", match=f"Turn {n} ")  # and surely one of these each
    assert build("ep.yaml", "-o", "faulty", "-q", "--no-cache") == 0
    entries = cloud.log.speech()
    failed = [e for e in entries if e.fault]
    assert 0.18 <= len(failed) / len(entries) <= 0.32
    assert len({e.fault for e in failed}) >= 8  # mixed kinds
    assert {(e.provider, e.status) for e in failed if e.fault == "200_error"} == {
        (p, 200) for p in ("siliconflow", "openai", "stepfun", "coze")}
    answered = [e.json["input"] for e in cloud.log.speech(ok=True)]
    assert sorted(answered) == sorted(texts)  # each turn voiced exactly once
    clean = ffmpeg.decode(Path("clean/ep.mp3"), RATE)
    faulty = ffmpeg.decode(Path("faulty/ep.mp3"), RATE)
    assert len(clean) > 100 * RATE and np.array_equal(clean, faulty)
    report = json.loads(Path("faulty/ep.report.json").read_text())
    assert [s["text"] for s in report["segments"]] == texts
    assert report["requests"] == {"sent": 100, "retried": len(failed), "cached": 0}


# (provider, fault kind, the provider's words as the error line shows them)
PERMANENT = [
    ("siliconflow", "400_20012", "Parameter is invalid. Please check it carefully. "
                                 "(HTTP 400, code 20012)"),
    ("siliconflow", "401", "Invalid token (HTTP 401)"),
    ("siliconflow", "403", "Forbidden (HTTP 403)"),
    ("siliconflow", "404", "404 page not found (HTTP 404)"),
    ("openai", "400", "Invalid request. (HTTP 400, invalid_request_error)"),
    ("openai", "403", "You are not allowed to sample from this model "
                      "(HTTP 403, invalid_request_error)"),
    ("stepfun", "request_params_invalid", "invalid request params "
                                          "(HTTP 400, request_params_invalid)"),
    ("stepfun", "censorship_block", "the input text was blocked by content moderation "
                                    "(HTTP 400, censorship_block)"),
    ("stepfun", "401", "Incorrect API key provided (HTTP 401, invalid_api_key)"),
    ("coze", "4000", "The request parameters are invalid (HTTP 200, code 4000)"),
    ("coze", "4100", "authentication is invalid (HTTP 401, code 4100)"),
    ("coze", "4101", "The token you entered does not have the required permission "
                     "(HTTP 200, code 4101)"),
    ("coze", "4200", "The requested resource does not exist (HTTP 200, code 4200)"),
]


@pytest.mark.parametrize("provider,kind,words", PERMANENT, ids=[f"{p}-{k}" for p, k, _ in
                                                                PERMANENT])
def test_permanent_error_is_one_line_and_leaves_nothing(
        cloud: Emulator, capsys: pytest.CaptureFixture[str], provider: str, kind: str,
        words: str) -> None:
    sid = {"siliconflow": "sf", "openai": "oa", "stepfun": "sp", "coze": "cz"}[provider]
    Path("ep.yaml").write_text(f"title: Fails\noutput: {{sample_rate: {RATE}}}\n{SPEAKERS}"
                               f"script:\n  - {sid}: This one works.\n"
                               f"  - {sid}: This one is refused.\n")
    cloud.fail(provider, kind, match="refused")
    before = sorted(p.name for p in Path.cwd().iterdir())
    assert build("ep.yaml") == 1
    out, err = capsys.readouterr()
    refused = [e for e in cloud.log.speech(provider) if e.fault == kind]
    assert len(refused) == 1  # failed fast: never retried
    assert err.splitlines() == [
        f"ep.yaml:10: {provider}: {words} (trace id {refused[0].trace_id})"]
    # no output at all; the segment cache may keep the turn that worked, for the next build
    assert sorted(p.name for p in Path.cwd().iterdir() if p.name != ".podcastgen") == before
    key = cloud.keys[provider]
    assert key not in out + err
    for file in Path.cwd().rglob("*"):
        assert not file.is_file() or key.encode() not in file.read_bytes()


def test_openai_401_masks_the_key_and_never_prints_it(cloud: Emulator,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "sk-wrong-key-that-must-never-be-printed"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    Path("ep.yaml").write_text(f"title: Fails\n{SPEAKERS}script:\n  - oa: Hello.\n")
    assert build("ep.yaml") == 1
    err = capsys.readouterr().err
    entry = cloud.log.speech("openai")[0]
    assert entry.status == 401 and entry.headers["authorization"] == "Bearer ***"
    masked = "sk-" + "*" * (len(wrong) - 7) + wrong[-4:]  # as the service echoes it
    assert err == (f"ep.yaml:8: openai: Incorrect API key provided: {masked}. You can find "
                   "your API key at https://platform.openai.com/account/api-keys. (HTTP 401, "
                   f"code invalid_api_key, invalid_request_error) (trace id {entry.trace_id})\n")
    assert wrong not in err


def test_retries_give_up_after_max_retries_with_the_last_message(
        cloud: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    Path("ep.yaml").write_text(f"title: Busy\nproviders: {{siliconflow: {{max_retries: 2}}}}\n"
                               f"{SPEAKERS}script:\n  - sf: Hello.\n")
    cloud.fail("siliconflow", "503", times=None)
    assert build("ep.yaml") == 1
    entries = cloud.log.speech("siliconflow")
    assert len(entries) == 3
    assert capsys.readouterr().err == (
        "ep.yaml:9: siliconflow: Model service overloaded. Please try again later. (HTTP 503, "
        f"code 50505); gave up after 3 attempts (trace id {entries[-1].trace_id})\n")


def test_missing_key_stops_before_anything_is_sent(cloud: Emulator,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COZE_API_TOKEN")
    Path("ep.yaml").write_text(f"title: No key\n{SPEAKERS}script:\n  - sf: Hello.\n"
                               "  - cz: Hello.\n")
    assert build("ep.yaml") == 2
    assert capsys.readouterr().err == (
        "ep.yaml: coze needs an API key: set COZE_API_TOKEN in the environment (or build with "
        "--draft to preview with local voices)\n")
    assert len(cloud.log) == 0 and not Path("build").exists()


def test_every_missing_key_is_named_in_one_run(cloud: Emulator,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Three variables unset across two episodes: one run names all three, sends nothing."""
    for variable in ("COZE_API_TOKEN", "OPENAI_API_KEY", "STEPFUN_API_KEY"):
        monkeypatch.delenv(variable)
    sf, oa, sp, cz = SPEAKERS.splitlines()[1:]
    Path("a.yaml").write_text(f"title: A\nspeakers:\n{cz}\n{oa}\n{sf}\nscript:\n  - cz: Hi.\n")
    Path("b.yaml").write_text(f"title: B\nspeakers:\n{sp}\nscript:\n  - sp: Hello.\n")
    assert build("a.yaml", "b.yaml") == 2
    assert capsys.readouterr().err == (
        "a.yaml: coze and openai need API keys: set COZE_API_TOKEN and OPENAI_API_KEY in the "
        "environment (or build with --draft to preview with local voices)\n"
        "b.yaml: stepfun needs an API key: set STEPFUN_API_KEY in the environment (or build "
        "with --draft to preview with local voices)\n")
    assert len(cloud.log) == 0 and not Path("build").exists()
