"""The HTTP seam in isolation (httpx.MockTransport): retry classification exactly as the
providers document says, retry hints, backoff, SSE assembly, and the one-line error that never
carries the key."""

from __future__ import annotations

import base64
import email.utils
import json
import time

import httpx
import numpy as np
import pytest

from podcastgen import http
from podcastgen.errors import ProviderError
from podcastgen.providers import Job, ProviderConfig
from podcastgen.providers.openai import OpenAIProvider

KEY = "sk-unit-test-key-000111222"


@pytest.fixture(autouse=True)
def instant(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are recorded, not slept."""
    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    return waits


def reply(status: int, body: object = b"", headers: dict[str, str] | None = None) -> http.Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.Reply(status, httpx.Headers(headers or {}), raw, "t-1")


@pytest.mark.parametrize("status,body,retryable", [
    (408, {"error": {"message": "timeout"}}, True),
    (409, {"error": {"message": "conflict"}}, True),
    (429, {"message": "TPM limit reached.", "data": ""}, True),
    (500, "oops", True),
    (503, {"code": 50505, "message": "Model service overloaded."}, True),
    (504, "upstream request timeout", True),
    (200, {"code": 4013, "msg": "rate limit"}, True),  # Coze: an error with HTTP 200
    (400, {"code": 20012, "message": "bad field", "data": "x"}, False),
    (401, "Invalid token", False),
    (403, "Forbidden", False),
    (404, "404 page not found", False),
    (400, {"error": {"message": "m", "type": "request_params_invalid"}}, False),
    (400, {"error": {"message": "m", "type": "censorship_block"}}, False),
    (200, {"code": 4000, "msg": "bad"}, False),
    (200, {"code": 4100, "msg": "auth"}, False),
    (200, {"code": 4101, "msg": "permission"}, False),
    (200, {"code": 4200, "msg": "not found"}, False),
    (422, {"error": {"message": "no"}}, False),
    # an error body is classified by its kind whatever the status, 200 included
    (200, {"error": {"message": "m", "type": "server_error", "code": None}}, True),
    (200, {"error": {"message": "m", "type": "requests", "code": "rate_limit_exceeded"}}, True),
    (200, {"error": {"message": "m", "type": "overloaded_error"}}, True),
    (200, {"error": {"message": "m", "type": "timeout"}}, True),
    (200, {"error": {"message": "m", "type": "upstream_error"}}, True),
    (200, {"error": {"message": "m", "type": "something_new"}}, True),  # unknown: transient
    (200, {"error": "the upstream went away"}, True),
    (200, {"code": 50505, "message": "Model service overloaded."}, True),
    (200, {"code": 5000, "msg": "The service is busy"}, True),
    (400, {"error": {"message": "m", "type": "server_error"}}, True),
    (200, {"error": {"message": "m", "type": "invalid_request_error", "code": None}}, False),
    (200, {"error": {"message": "m", "type": "invalid_request_error",
                     "code": "invalid_api_key"}}, False),
    (200, {"error": {"message": "m", "type": "authentication_error"}}, False),
    (200, {"error": {"message": "m", "type": "request_params_invalid"}}, False),
    (200, {"error": {"message": "m", "type": "censorship_block"}}, False),
    (200, {"error": {"message": "m", "type": "content_policy_violation"}}, False),
    (429, {"error": {"message": "m", "type": "insufficient_quota",
                     "code": "insufficient_quota"}}, False),
    (200, {"code": 20012, "message": "bad field", "data": "x"}, False),
    (503, {"error": {"message": "m", "type": "permission_denied"}}, False),
])
def test_retry_classification(status: int, body: object, retryable: bool) -> None:
    with pytest.raises(http.Failure) as caught:
        http.check(reply(status, body))
    assert caught.value.retryable is retryable


def test_a_200_with_code_zero_or_audio_passes() -> None:
    assert http.check(reply(200, {"code": 0, "msg": "", "data": {}})).status == 200
    assert http.check(reply(200, b"RIFF....WAVE")).body == b"RIFF....WAVE"


def test_error_messages_read_every_shape() -> None:
    shapes = [
        (reply(401, "Invalid token"), "Invalid token (HTTP 401)"),
        (reply(400, {"code": 20012, "message": "bad", "data": ""}), "bad (HTTP 400, code 20012)"),
        (reply(400, {"error": {"message": "nope", "type": "invalid_request_error",
                               "code": None}}), "nope (HTTP 400, invalid_request_error)"),
        (reply(200, {"code": 4000, "msg": "bad params", "detail": {"logid": "L1"}}),
         "bad params (HTTP 200, code 4000)"),
        (reply(504, b"<html>504 Gateway Time-out</html>"),
         "<html>504 Gateway Time-out</html> (HTTP 504)"),
    ]
    for r, message in shapes:
        with pytest.raises(http.Failure) as caught:
            http.check(r)
        assert caught.value.message == message


def test_trace_ids_from_headers_and_coze_body() -> None:
    assert http.trace_id({"x-siliconcloud-trace-id": "sf"}) == "sf"
    assert http.trace_id({"x-request-id": "oa"}) == "oa"
    assert http.trace_id({"x-tt-logid": "cz"}) == "cz"
    assert http.trace_id({}, {"code": 4000, "detail": {"logid": "L9"}}) == "L9"


def test_retry_after_hints() -> None:
    assert http.retry_after({"retry-after-ms": "250"}) == 0.25
    assert http.retry_after({"retry-after-ms": "20", "retry-after": "9"}) == 0.02
    assert http.retry_after({"retry-after": "3"}) == 3.0
    assert http.retry_after({"retry-after": "121"}) is None  # over 120 s: use backoff
    assert http.retry_after({"retry-after": "soon"}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (http.retry_after({"retry-after": date}) or 0) <= 30
    assert http.retry_after({}) is None


def test_backoff_doubles_to_eight_seconds_with_jitter() -> None:
    assert [http.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [http.backoff(n, lambda: 0.0) for n in range(3)] == [0.375, 0.75, 1.5]


def _sse(*events: dict[str, str]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


def test_sse_deltas_are_joined_until_done() -> None:
    body = _sse({"type": "speech.audio.delta", "audio": base64.b64encode(b"ab").decode()},
                {"type": "speech.audio.delta", "audio": base64.b64encode(b"cd").decode()},
                {"type": "speech.audio.done", "audio": ""}) + b"data: [DONE]\n\n"
    assert http.sse_audio(body) == b"abcd"


def test_sse_without_done_or_with_an_error_event_is_retried() -> None:
    cut = _sse({"type": "speech.audio.delta", "audio": "YWI="})
    with pytest.raises(http.Failure, match="ended before speech.audio.done") as caught:
        http.sse_audio(cut)
    assert caught.value.retryable
    with pytest.raises(http.Failure, match="the stream reported an error: busy"):
        http.sse_audio(_sse({"type": "speech.audio.error", "error": {"message": "busy"}}))


def pcm(seconds: float = 1.0) -> bytes:
    t = np.arange(int(24000 * seconds)) / 24000
    return (np.sin(2 * np.pi * 200 * t) * 8000).astype("<i2").tobytes()


def provider(handler, **config: object) -> OpenAIProvider:  # type: ignore[no-untyped-def]
    cfg = ProviderConfig("openai", base_url="http://unit.test/v1", api_key=KEY, **config)
    return OpenAIProvider(cfg, transport=httpx.MockTransport(handler))


JOB = Job(0, (3,), "alex", "Hello there, friend.", "openai", "nova", where="ep.yaml:7",
          options=(("response_format", "pcm"),))


def test_retries_count_attempts_and_honour_hints(instant: list[float]) -> None:
    waits = instant
    answers = [httpx.Response(429, headers={"retry-after-ms": "40"}, json={"error": {}}),
               httpx.Response(503, json={"error": {"message": "busy"}}),
               httpx.Response(200, content=pcm())]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[len(seen) - 1]

    audio = provider(handler).synthesize(JOB)
    assert audio.attempts == 3 and audio.sample_rate == 24000
    assert abs(audio.duration_s - 1.0) < 1e-9
    assert waits[0] == 0.04 and 1.0 * 0.75 <= waits[1] <= 1.0
    assert seen[0].url == "http://unit.test/v1/audio/speech"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(seen[0].content) == {"model": "tts-1", "input":
                                           "Hello there, friend.", "voice": "nova",
                                           "response_format": "pcm"}


def test_audio_that_fails_its_checks_is_retried() -> None:
    answers = [b"", pcm()[:1001], pcm(0.02), pcm(90.0), pcm()]  # empty, odd, short, long, good
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, content=answers[len(calls) - 1])

    assert provider(handler).synthesize(JOB).attempts == 5


def test_timeouts_are_retried_then_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    with pytest.raises(ProviderError) as caught:
        provider(handler, max_retries=2, timeout=5.0).synthesize(JOB)
    assert str(caught.value) == ("ep.yaml:7: openai: no answer within 5 s (timeout); gave up "
                                 "after 3 attempts")


def test_the_key_is_scrubbed_from_provider_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"x-request-id": "req-9"},
                              json={"error": {"message": f"bad key {KEY}", "type": "auth"}})

    with pytest.raises(ProviderError) as caught:
        provider(handler).synthesize(JOB)
    assert str(caught.value) == "ep.yaml:7: openai: bad key *** (HTTP 401, auth) (trace id req-9)"
    assert KEY not in repr(provider(handler).config)


def test_rpm_spaces_requests_and_threads_share_one_client(instant: list[float]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    inputs: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        inputs.append(json.loads(request.content)["input"])
        return httpx.Response(200, content=pcm())

    paced = provider(handler, rpm=60, concurrency=3)
    jobs = [Job(i, (i,), "alex", f"Turn {i} says hello.", "openai", "nova",
                options=(("response_format", "pcm"),)) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        clips = list(pool.map(paced.synthesize, jobs))
    assert sorted(inputs) == sorted(j.text for j in jobs) and len(clips) == 8
    assert all(c.attempts == 1 for c in clips)
    assert len(instant) == 7 and sum(instant) > 6.5  # one request a second at 60 rpm
    paced.close()
