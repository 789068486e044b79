"""Injected faults look on the wire exactly like each provider's own failures: status, headers
and body; resets, short bodies and undecodable audio break the way real networks do; chaos is
reproducible and never starves a request."""

from __future__ import annotations

import base64
import json
import socket
import struct
import time

import httpx
import pytest

from podcastgen import ffmpeg
from podcastgen.emulator import Emulator
from podcastgen.errors import AudioError

from .emu_helpers import (  # noqa: F401
    SPEECH,
    auth,
    cosy,
    emu,
    full_openai,
    http,
    openai,
    openai_full,
    post,
    server,
)

SF_LIMIT = ("Request was rejected due to rate limiting. If you want more, please contact "
            "contact@siliconflow.cn. Details:TPM limit reached.")
COZE_LIMIT = "The requests exceed the rate limit, please try again later"

SHAPES = [
    ("siliconflow", "429", 429, {"message": SF_LIMIT, "data": ""}),
    ("siliconflow", "503", 503, {"code": 50505, "data": "",
                                 "message": "Model service overloaded. Please try again later."}),
    ("siliconflow", "504", 504, "upstream request timeout"),
    ("siliconflow", "401", 401, "Invalid token"),
    ("siliconflow", "403", 403, "Forbidden"),
    ("siliconflow", "400_20012", 400, {"code": 20012, "data": "",
                                       "message": "Parameter is invalid. Please check it "
                                                  "carefully."}),
    ("openai", "429", 429, {"error": {
        "message": "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1.",
        "type": "requests", "param": None, "code": "rate_limit_exceeded"}}),
    ("openai", "503", 503, {"error": {"message": "The server is overloaded or not ready yet.",
                                      "type": "server_error", "param": None, "code": None}}),
    ("openai", "403", 403, {"error": {"message": "You are not allowed to sample from this model",
                                      "type": "invalid_request_error", "param": None,
                                      "code": None}}),
    ("stepfun", "request_params_invalid", 400, {"error": {"message": "invalid request params",
                                                          "type": "request_params_invalid"}}),
    ("stepfun", "censorship_block", 400, {"error": {
        "message": "the input text was blocked by content moderation",
        "type": "censorship_block"}}),
    ("stepfun", "429", 429, {"error": {"message": "too many requests, please slow down",
                                       "type": "rate_limit_exceeded"}}),
    ("coze", "coze_200_error", 200, {"code": 4013, "msg": COZE_LIMIT}),
    ("coze", "429", 429, {"code": 4013, "msg": COZE_LIMIT}),
    ("coze", "4000", 200, {"code": 4000, "msg": "The request parameters are invalid"}),
    ("coze", "4100", 401, {"code": 4100, "msg": "authentication is invalid"}),
    ("coze", "4101", 200, {"code": 4101, "msg": "The token you entered does not have the "
                                                "required permission"}),
    ("coze", "4200", 200, {"code": 4200, "msg": "The requested resource does not exist"}),
    # failures answered with HTTP 200 and an error body
    ("openai", "200_error", 200, {"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": None, "code": None}}),
    ("stepfun", "200_error", 200, {"error": {"message": "the service failed, please retry later",
                                             "type": "server_error"}}),
    ("siliconflow", "200_error", 200, {"code": 50505, "data": "", "message": "Model service "
                                       "overloaded. Please try again later."}),
    ("coze", "200_error", 200, {"code": 5000, "msg": "The service is busy, please try again "
                                                     "later"}),
]
TRACE = {"siliconflow": "x-siliconcloud-trace-id", "openai": "x-request-id",
         "stepfun": "x-request-id", "coze": "x-tt-logid"}


@pytest.mark.parametrize("provider, kind, status, body", SHAPES)
def test_fault_has_the_providers_wire_shape(emu, http, provider, kind, status, body):
    emu.fail(provider, kind)
    r = post(http, emu, provider, SPEECH[provider]())
    if provider == "coze":
        body = {**body, "detail": {"logid": r.headers["x-tt-logid"]}}
    assert (r.status_code, r.json()) == (status, body)
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers[TRACE[provider]] == emu.log[-1].trace_id
    assert not {"retry-after", "retry-after-ms"} & set(r.headers)
    assert (emu.log[-1].fault, emu.log[-1].status) == (kind, status)
    assert post(http, emu, provider, SPEECH[provider]()).status_code == 200  # only once


@pytest.mark.parametrize("provider", ["openai", "stepfun", "coze"])
def test_gateway_timeout_is_an_html_page(emu, http, provider):
    emu.fail(provider, "504")
    r = post(http, emu, provider, SPEECH[provider]())
    assert r.status_code == 504 and r.headers["content-type"] == "text/html"
    assert "504 Gateway Time-out" in r.text


@pytest.mark.parametrize("provider", ["siliconflow", "openai", "stepfun", "coze"])
def test_429_retry_hints_in_milliseconds_seconds_or_none(emu, http, provider):
    emu.fail(provider, "429_retry_after_ms")
    emu.fail(provider, "429_retry_after", retry_after=2)
    emu.fail(provider, "429")
    hints = []
    for _ in range(3):
        r = post(http, emu, provider, SPEECH[provider]())
        assert r.status_code == 429
        hints.append((r.headers.get("retry-after-ms"), r.headers.get("retry-after")))
    assert hints == [("20", None), (None, "2"), (None, None)]


def test_reset_drops_the_connection_without_a_response(emu, http):
    emu.fail("openai", "reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        post(http, emu, "openai", openai())
    assert (emu.log[-1].status, emu.log[-1].fault) == (None, "reset")
    assert post(http, emu, "openai", openai()).status_code == 200


def test_truncated_body_promises_more_than_it_sends(emu, http):
    emu.fail("siliconflow", "truncated")
    with http.stream("POST", emu.base_url("siliconflow") + "/audio/speech", json=cosy(),
                     headers=auth(emu, "siliconflow")) as r:
        promised = int(r.headers["content-length"])
        with pytest.raises(httpx.RemoteProtocolError) as cut:
            r.read()
    assert f"expected {promised}" in str(cut.value)
    assert promised == emu.log[-1].audio["bytes"]


def test_truncated_stream_ends_without_its_last_chunk(emu, http):
    emu.fail("siliconflow", "truncated")
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        post(http, emu, "siliconflow", cosy(stream=True))


def test_truncated_sse_never_says_done(full_openai, http):
    emu = full_openai
    emu.fail("openai", "truncated")
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), http.stream(
            "POST", emu.base_url("openai") + "/audio/speech",
            json=openai_full(stream_format="sse"), headers=auth(emu, "openai")) as r:
        lines.extend(r.iter_lines())
    events = [json.loads(x[6:])["type"] for x in lines if x.startswith("data: {")]
    assert events and set(events) == {"speech.audio.delta"}


@pytest.mark.parametrize("fmt", ["mp3", "wav", "opus"])
def test_bad_audio_is_a_200_that_does_not_decode(emu, http, tmp_path, fmt):
    emu.fail("siliconflow", "bad_audio")
    rate = {"mp3": 44100, "wav": 24000, "opus": 48000}[fmt]
    r = post(http, emu, "siliconflow", cosy(response_format=fmt, sample_rate=rate))
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/")
    (tmp_path / "bad").write_bytes(r.content)
    with pytest.raises(AudioError):
        ffmpeg.decode(tmp_path / "bad", rate)


def test_bad_pcm_is_an_odd_handful_of_bytes(full_openai, http):
    emu = full_openai
    emu.fail("openai", "bad_audio")
    events = post(http, emu, "openai", openai_full(response_format="pcm",
                                                   stream_format="sse")).text
    pcm = b"".join(base64.b64decode(json.loads(x[6:])["audio"])
                   for x in events.splitlines() if x.startswith("data: {"))
    assert len(pcm) == 1001


def test_rules_count_down_match_and_stay_until_cleared(emu, http):
    emu.fail("siliconflow", "503", times=2, match="second")
    assert post(http, emu, "siliconflow", cosy("The first.")).status_code == 200
    assert [post(http, emu, "siliconflow", cosy("The second.")).status_code
            for _ in range(3)] == [503, 503, 200]
    emu.fail("coze", "coze_200_error", times=None, match={"emotion": "sad"})
    sad = [post(http, emu, "coze", SPEECH["coze"](emotion="sad")).json()["code"]
           for _ in range(3)]
    assert sad == [4013] * 3
    voices = http.get(emu.base_url("coze") + "/audio/voices", headers=auth(emu, "coze"))
    assert voices.json()["code"] == 0  # speech rules leave other endpoints alone
    emu.clear_faults()
    assert post(http, emu, "coze", SPEECH["coze"](emotion="sad")).status_code == 200


def test_unknown_kind_is_refused_by_name(emu):
    with pytest.raises(ValueError, match="openai has no fault 'censorship_block'; one of 400, 401"):
        emu.fail("openai", "censorship_block")
    with pytest.raises(ValueError, match="no provider has a fault '502'"):
        emu.chaos(0.5, kinds=["429", "502"])


def attempts_until_ok(http, emu, provider: str, body: dict) -> list[str | None]:
    """Send the same request until it succeeds; the fault each attempt met."""
    seen = []
    while True:
        try:
            r = post(http, emu, provider, body)
            ok = r.status_code == 200 and emu.log[-1].fault is None
        except httpx.TransportError:
            ok = False
        seen.append(emu.log[-1].fault)
        if ok:
            return seen


def test_chaos_is_reproducible_and_every_request_gets_through(emu, http):
    def run() -> list[list[str | None]]:
        emu.reset()
        emu.chaos(0.25, seed=1, max_run=2, retry_after=0)
        return [attempts_until_ok(http, emu, "siliconflow",
                                  cosy(f"Turn {i}.", response_format="pcm", sample_rate=16000))
                for i in range(40)]

    first = run()
    assert run() == first
    faults = [f for turn in first for f in turn if f]
    attempts = sum(len(turn) for turn in first)
    assert 0.15 < len(faults) / attempts < 0.35
    assert max(len(turn) for turn in first) <= 3  # max_run=2: the third attempt passes
    assert len(set(faults)) >= 4  # a mix of kinds


def test_rate_limit_answers_429_like_the_provider():
    with Emulator(rate_limit={"siliconflow": (2, 60), "openai": (1, 60)}) as emu, \
            httpx.Client(timeout=20) as http:
        codes = [post(http, emu, "siliconflow", cosy()).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert emu.log[-1].fault == "rate_limit"
        assert emu.log[-1].error == {"message": SF_LIMIT, "data": ""}
        post(http, emu, "openai", openai())
        limited = post(http, emu, "openai", openai())
        assert limited.status_code == 429
        assert 58_000 < int(limited.headers["retry-after-ms"]) <= 60_000
        assert post(http, emu, "stepfun", SPEECH["stepfun"]()).status_code == 200


def test_a_spoiling_fault_waits_for_a_request_that_succeeds(emu, http, tmp_path):
    emu.fail("coze", "bad_audio")
    assert post(http, emu, "coze", SPEECH["coze"](speed=9)).json()["code"] == 4000
    spoiled = post(http, emu, "coze", SPEECH["coze"](response_format="wav"))
    assert (spoiled.status_code, emu.log[-1].fault) == (200, "bad_audio")
    (tmp_path / "bad.wav").write_bytes(spoiled.content)
    with pytest.raises(AudioError):
        ffmpeg.decode(tmp_path / "bad.wav", 24000)


def test_a_client_hanging_up_mid_request_leaves_stderr_quiet(emu, capfd):
    """A killed build drops its connections mid-upload; the emulator shrugs that off instead of
    printing a traceback into the test or benchmark output, and keeps serving."""
    host, port = "127.0.0.1", emu.port
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"POST /siliconflow/v1/audio/speech HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"in")
        time.sleep(0.1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"GET /siliconflow/v1/audio/voice/list HTTP/1.1\r\n"
                     b"Host: x\r\nConnection: close\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.")


@pytest.mark.parametrize("head, body", [
    (b"Content-Length: 64\r\n", b'{"model": "tts-1", "in'),
    (b"Content-Length: 64\r\n", b""),
    (b"Transfer-Encoding: chunked\r\n", b'40\r\n{"model": "tts-1", "in'),
    (b"Transfer-Encoding: chunked\r\n", b"16\r\n"),
])
def test_a_request_cut_short_reaches_no_provider(emu, head, body):
    """A build killed between writing a request's headers and the end of its body has sent no
    request: as with a real server, nothing is answered, logged or billed."""
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        sock.sendall(b"POST /openai/v1/audio/speech HTTP/1.1\r\nHost: x\r\n"
                     + f"Authorization: Bearer {emu.keys['openai']}\r\n".encode()
                     + b"Content-Type: application/json\r\n" + head
                     + b"\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(64) == b""  # closed without an answer
    assert list(emu.log) == []
