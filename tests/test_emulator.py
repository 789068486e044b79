"""The provider emulator over real HTTP: validation and error bodies exactly as each provider
sends them, fault wire shapes, streams, determinism, and audio decoded and measured."""

from __future__ import annotations

import base64
import itertools
import json
import threading

import httpx
import numpy as np
import pytest

from podcastgen.emulator import Emulator, spoken_seconds

from .emu_helpers import (  # noqa: F401
    COSY,
    MOSS,
    SPEECH,
    cosy,
    emu,
    full_openai,
    http,
    openai,
    openai_full,
    post,
    probe,
    server,
)

# -- the basics --------------------------------------------------------------------------------

def test_env_points_every_provider_here_with_its_key(emu):
    env = emu.env()
    assert env["SILICONFLOW_BASE_URL"] == f"http://127.0.0.1:{emu.port}/siliconflow/v1"
    assert env["OPENAI_BASE_URL"].endswith("/openai/v1")
    assert env["STEPFUN_BASE_URL"].endswith("/stepfun/v1")
    assert env["COZE_BASE_URL"].endswith("/coze/v1")
    keys = {"SILICONFLOW_API_KEY", "OPENAI_API_KEY", "STEPFUN_API_KEY", "COZE_API_TOKEN"}
    assert keys <= set(env)


@pytest.mark.parametrize("fmt, rate, codec", [("mp3", 44100, "mp3"), ("wav", 24000, "pcm_s16le"),
                                              ("opus", 48000, "opus")])
def test_siliconflow_audio_decodes_in_format_rate_and_plausible_length(emu, http, tmp_path,
                                                                       fmt, rate, codec):
    text = "Hello there. This is a test of the emulator."
    r = post(http, emu, "siliconflow", cosy(text, response_format=fmt, sample_rate=rate))
    assert r.status_code == 200, r.text
    got_codec, got_rate, samples = probe(tmp_path, r.content)
    assert (got_codec, got_rate) == (codec, rate)
    expected = spoken_seconds(text)
    assert expected < len(samples) / rate < expected + 0.6
    assert r.headers["x-siliconcloud-trace-id"] == emu.log[-1].trace_id


def test_same_request_same_bytes_other_voice_other_bytes(emu, http):
    first = post(http, emu, "siliconflow", cosy()).content
    again = post(http, emu, "siliconflow", cosy()).content
    other = post(http, emu, "siliconflow", {**cosy(), "voice": f"{COSY}:david"}).content
    assert first == again
    assert first != other


def test_moss_dialogue_turns_are_separated_by_real_silence(emu, http):
    body = {"model": MOSS, "input": "[S1]Welcome to the show, it is good to have you.[S2]Thanks, "
            "glad to be here.[S1]Let us begin.", "voice": f"{MOSS}:alex",
            "response_format": "pcm", "sample_rate": 16000, "stream": False}
    r = post(http, emu, "siliconflow", body)
    assert r.status_code == 200, r.text
    samples = np.frombuffer(r.content, "<i2").astype(np.float64) / 32768
    bounds = emu.log[-1].turn_bounds_s
    assert [b["speaker"] for b in bounds] == ["S1", "S2", "S1"]
    for before, after in itertools.pairwise(bounds):
        gap = samples[int(before["end_s"] * 16000) + 2: int(after["start_s"] * 16000) - 2]
        assert 0.3 <= after["start_s"] - before["end_s"] <= 0.5
        assert np.abs(gap).max() == 0
    for b in bounds:  # no silence inside a turn
        inside = samples[int(b["start_s"] * 16000): int(b["end_s"] * 16000)]
        frames = inside[: len(inside) // 160 * 160].reshape(-1, 160)
        assert np.sqrt((frames ** 2).mean(axis=1)).min() > 10 ** (-50 / 20)


def test_request_log_records_body_masked_key_and_status(emu, http):
    post(http, emu, "siliconflow", cosy(speed=1.5))
    entry = emu.log[-1]
    assert (entry.provider, entry.method, entry.endpoint, entry.status) == (
        "siliconflow", "POST", "/audio/speech", 200)
    assert entry.json == cosy(speed=1.5)
    assert entry.headers["authorization"] == "Bearer ***"
    assert emu.keys["siliconflow"] not in json.dumps(entry.headers)
    assert entry.audio["format"] == "mp3" and entry.audio["sample_rate"] == 44100


def test_wrong_key_gets_each_providers_auth_error(emu, http):
    bad = {"Authorization": "Bearer sk-not-the-key-12345678"}
    sf = http.post(emu.base_url("siliconflow") + "/audio/speech", json=cosy(), headers=bad)
    assert (sf.status_code, sf.json()) == (401, "Invalid token")
    oa = http.post(emu.base_url("openai") + "/audio/speech", json={}, headers=bad)
    assert oa.status_code == 401 and oa.json()["error"]["code"] == "invalid_api_key"
    assert "sk-not-the-key-12345678" not in oa.text
    cz = http.post(emu.base_url("coze") + "/audio/speech", json={}, headers=bad)
    assert cz.status_code == 401 and cz.json()["code"] == 4100
    assert cz.json()["detail"]["logid"] == cz.headers["x-tt-logid"]


def test_siliconflow_unknown_field_is_20012(emu, http):
    r = post(http, emu, "siliconflow", cosy(emotion="happy"))
    assert r.status_code == 400
    assert r.json() == {"code": 20012, "data": "emotion",
                        "message": "emotion: unknown field (additional properties are not allowed)"}


def test_sse_stream_carries_the_audio_in_deltas(full_openai, http, tmp_path):
    emu = full_openai
    body = openai_full("Streaming works.", response_format="pcm", stream_format="sse")
    r = post(http, emu, "openai", body)
    assert r.headers["content-type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in r.text.splitlines()
              if line.startswith("data: {")]
    assert [e["type"] for e in events[-1:]] == ["speech.audio.done"]
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert all(e["type"] == "speech.audio.delta" for e in events[:-1])
    assert r.text.rstrip().endswith("data: [DONE]")
    assert abs(len(pcm) / 2 / 24000 - emu.log[-1].audio["duration_s"]) < 0.01


@pytest.mark.parametrize("provider, body, codec, rate", [
    ("openai", openai(response_format="aac"), "aac", 24000),
    ("openai", openai(response_format="flac"), "flac", 24000),
    ("openai", openai(response_format="opus"), "opus", 48000),
    ("stepfun", SPEECH["stepfun"](response_format="wav", sample_rate=22050), "pcm_s16le", 22050),
    ("stepfun", SPEECH["stepfun"](), "mp3", 24000),
    ("coze", SPEECH["coze"](response_format="ogg_opus", sample_rate=24000), "opus", 48000),
    ("coze", SPEECH["coze"](response_format="wav", sample_rate=8000), "pcm_s16le", 8000),
])
def test_every_provider_format_decodes_at_its_rate(emu, http, tmp_path, provider, body,
                                                   codec, rate):
    r = post(http, emu, provider, body)
    assert r.status_code == 200, r.text
    got_codec, got_rate, samples = probe(tmp_path, r.content)
    assert (got_codec, got_rate) == (codec, rate)
    expected = spoken_seconds(body["input"])
    assert expected < len(samples) / got_rate < expected + 0.6


def test_openai_pcm_is_raw_24k_s16le_of_the_logged_length(full_openai, http):
    emu = full_openai
    r = post(http, emu, "openai", openai_full(response_format="pcm"))
    assert r.headers["content-type"] == "audio/pcm"
    assert abs(len(r.content) / 2 - emu.log[-1].audio["duration_s"] * 24000) <= 2
    assert len(r.content) % 2 == 0
    assert np.abs(np.frombuffer(r.content, "<i2")).max() > 8000


def test_speed_shortens_and_gain_scales_the_audio(emu, http):
    def pcm(**extra):
        r = post(http, emu, "siliconflow", cosy(response_format="pcm", sample_rate=16000, **extra))
        return np.frombuffer(r.content, "<i2").astype(np.float64)

    plain, fast, quiet = pcm(), pcm(speed=2.0), pcm(gain=-6)
    assert abs(len(fast) / len(plain) - 0.5) < 0.05
    assert abs(20 * np.log10(np.abs(quiet).max() / np.abs(plain).max()) + 6) < 0.2


def test_directions_are_not_spoken(emu, http):
    said = "Today is a good day to record."
    post(http, emu, "siliconflow", cosy("Say it happily.<|endofprompt|>" + said))
    assert emu.log[-1].turn_bounds_s[0]["text"] == said
    post(http, emu, "stepfun", SPEECH["stepfun"]("（冷笑）你以为呢", model="stepaudio-2.5-tts"))
    assert emu.log[-1].turn_bounds_s[0]["text"] == "你以为呢"


def test_moss_stops_early_when_max_tokens_runs_out(emu, http):
    text = "[S1]" + "This sentence goes on and on. " * 20 + "[S2]And then I reply at length."
    body = {"model": MOSS, "input": text, "voice": f"{MOSS}:anna", "max_tokens": 50}
    post(http, emu, "siliconflow", body)
    entry = emu.log[-1]
    assert entry.audio["cut_at_s"] == 4.0 and entry.audio["duration_s"] == 4.0
    assert [b["speaker"] for b in entry.turn_bounds_s] == ["S1"]


def test_moss_merges_same_speaker_turns_like_the_server(emu, http):
    body = {"model": MOSS, "input": "[S1]One.[S1]Two.[S2]Three.", "voice": f"{MOSS}:alex"}
    post(http, emu, "siliconflow", body)
    assert [(b["speaker"], b["text"]) for b in emu.log[-1].turn_bounds_s] == [
        ("S1", "One.Two."), ("S2", "Three.")]


def test_moss_references_give_each_speaker_a_consistent_distinct_voice(emu, http):
    alex = {"audio": "data:audio/mp3;base64,QUFBQQ==", "text": "[S1]Hi, I am Alex."}
    anna = {"audio": "data:audio/mp3;base64,QkJCQg==", "text": "[S2]Hi, I am Anna."}

    def block(references, text):
        body = {"model": MOSS, "input": text, "voice": "", "references": references,
                "response_format": "pcm", "sample_rate": 16000}
        r = post(http, emu, "siliconflow", body)
        assert r.status_code == 200, r.text
        samples = np.frombuffer(r.content, "<i2")
        for turn in emu.log[-1].turn_bounds_s:  # the audio really has the logged pitch
            mid = (turn["start_s"] + turn["end_s"]) / 2
            heard = pitch(samples[int(mid * 16000) - 2000: int(mid * 16000) + 2000])
            assert heard == pytest.approx(turn["f0_hz"], rel=0.2)
        return [turn["f0_hz"] for turn in emu.log[-1].turn_bounds_s]

    alex_f0, anna_f0 = block([alex, anna], "[S1]Same words here.[S2]Other words.")
    assert abs(alex_f0 / anna_f0 - 1) > 0.18
    # the same clips in the other slots: each keeps its voice, whatever its slot
    swapped = [{**anna, "text": "[S1]Hi, I am Anna."}, {**alex, "text": "[S2]Hi, I am Alex."}]
    assert block(swapped, "[S1]Anna speaks first now.[S2]Then Alex.") == [anna_f0, alex_f0]


def pitch(samples: np.ndarray, rate: int = 16000) -> float:
    """The strongest autocorrelation period between 70 and 400 Hz, as a frequency."""
    x = samples.astype(np.float64)
    x -= x.mean()
    corr = np.correlate(x, x, "full")[len(x) - 1:]
    lo, hi = rate // 400, rate // 70
    return rate / (lo + int(np.argmax(corr[lo:hi])))


def test_siliconflow_stream_arrives_in_chunks(emu, http, tmp_path):
    body = cosy("A longer text so that the audio spans several chunks of the stream. " * 3,
                stream=True, response_format="wav", sample_rate=44100)
    with http.stream("POST", emu.base_url("siliconflow") + "/audio/speech", json=body,
                     headers={"Authorization": f"Bearer {emu.keys['siliconflow']}"}) as r:
        assert r.headers["transfer-encoding"] == "chunked" and "content-length" not in r.headers
        pieces = list(r.iter_raw())
    assert len(pieces) > 3
    _, rate, samples = probe(tmp_path, b"".join(pieces))
    assert rate == 44100 and abs(len(samples) / rate - emu.log[-1].audio["duration_s"]) < 0.01


def test_encodes_are_bit_exact_not_just_memoised(full_openai, http):
    from podcastgen.emulator import speech

    for fmt in ("mp3", "opus", "flac", "aac", "wav"):
        body = openai_full(response_format=fmt)
        first = post(http, full_openai, "openai", body).content
        speech._memo.clear()
        assert post(http, full_openai, "openai", body).content == first, fmt


def test_slow_requests_do_not_block_each_other():
    with Emulator(latency_ms=500) as slow, httpx.Client(timeout=20) as client:
        def one():
            client.post(slow.base_url("openai") + "/audio/speech", json=openai(),
                        headers={"Authorization": f"Bearer {slow.keys['openai']}"})

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        entries = slow.log.snapshot()
    assert [e.status for e in entries] == [200, 200, 200]
    assert all(e.answered_at - e.received_at >= 0.5 for e in entries)
    # every request was received before any was answered: they waited side by side
    assert max(e.received_at for e in entries) < min(e.answered_at for e in entries)
