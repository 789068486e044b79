"""The provider emulator over real HTTP: validation and error bodies exactly as each provider
sends them, fault wire shapes, streams, determinism, and audio decoded and measured."""

from __future__ import annotations

import base64
import json
import re

import httpx
import numpy as np
import pytest

from podcastgen import ffmpeg
from podcastgen.emulator import Emulator, spoken_seconds

MOSS = "fnlp/MOSS-TTSD-v0.5"
COSY = "FunAudioLLM/CosyVoice2-0.5B"


@pytest.fixture(scope="module")
def server():
    with Emulator() as emu:
        yield emu


@pytest.fixture()
def emu(server):
    server.reset()
    return server


@pytest.fixture()
def http():
    with httpx.Client(timeout=20) as client:
        yield client


def post(http, emu, provider, body, endpoint="/audio/speech", **kw):
    headers = {"Authorization": f"Bearer {emu.keys[provider]}"}
    return http.post(emu.base_url(provider) + endpoint, json=body, headers=headers, **kw)


def probe(tmp_path, data: bytes, name: str = "clip") -> tuple[str, int, np.ndarray]:
    """(codec, sample rate) as ffmpeg reads the bytes, and the decoded samples at that rate."""
    path = tmp_path / name
    path.write_bytes(data)
    err = ffmpeg.run(["-i", str(path), "-f", "null", "-"]).stderr.decode()
    found = re.search(r"Audio: (\w+).*?, (\d+) Hz", err)
    rate = int(found.group(2))
    return found.group(1), rate, ffmpeg.decode(path, rate)


def cosy(text="Hello there. This is a test of the emulator.", **extra):
    return {"model": COSY, "input": text, "voice": f"{COSY}:anna", **extra}


# -- the basics --------------------------------------------------------------------------------

def test_env_points_every_provider_here_with_its_key(emu):
    env = emu.env()
    assert env["SILICONFLOW_BASE_URL"] == f"http://127.0.0.1:{emu.port}/siliconflow/v1"
    assert env["OPENAI_BASE_URL"].endswith("/openai/v1")
    assert env["STEPFUN_BASE_URL"].endswith("/stepfun/v1")
    assert env["COZE_BASE_URL"].endswith("/coze/v1")
    assert {"SILICONFLOW_API_KEY", "OPENAI_API_KEY", "STEPFUN_API_KEY", "COZE_API_TOKEN"} <= set(env)


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
    for before, after in zip(bounds, bounds[1:]):
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


def test_sse_stream_carries_the_audio_in_deltas(emu, http, tmp_path):
    body = {"model": "gpt-4o-mini-tts", "input": "Streaming works.", "voice": "coral",
            "response_format": "pcm", "stream_format": "sse"}
    r = post(http, emu, "openai", body)
    assert r.headers["content-type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in r.text.splitlines()
              if line.startswith("data: {")]
    assert [e["type"] for e in events[-1:]] == ["speech.audio.done"]
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert all(e["type"] == "speech.audio.delta" for e in events[:-1])
    assert r.text.rstrip().endswith("data: [DONE]")
    assert abs(len(pcm) / 2 / 24000 - emu.log[-1].audio["duration_s"]) < 0.01
