"""The one HTTP seam for cloud providers: client creation, reading whole bodies (plain, chunked
or SSE), the retry policy and the translation of every httpx/tenacity failure into one
ProviderError line that names the turn, the provider's words and its trace id — never the key.

Retry classification follows the providers document: 408, 409, 429 and 5xx, timeouts, broken
connections and bodies cut short are retried; any other 4xx fails at once. A JSON error body is
classified by its type or code whatever the HTTP status (relays and Coze answer failures with
HTTP 200): the documented permanent kinds (bad parameters, auth, not found, content policy,
billing) fail at once, server, overload, timeout and rate kinds are retried at any status, and
an error body of an unknown kind on a 2xx is retried too.
"""

from __future__ import annotations

import base64
import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import tenacity

from .errors import ProviderError
from .redaction import provider_text

T = TypeVar("T")

TRACE_HEADERS = ("x-siliconcloud-trace-id", "x-request-id", "x-tt-logid", "x-trace-id",
                 "trace-id")
RETRY_STATUS = frozenset({408, 409, 429})
RETRY_CODES = frozenset({50505, 4013})  # SiliconFlow overloaded, Coze rate limit
PERMANENT_CODES = frozenset({20012, 4000, 4100, 4101, 4200})  # SiliconFlow, Coze
# documented kinds a retry cannot fix: bad parameters, auth, not found, content policy, billing
PERMANENT_KINDS = frozenset({
    "invalid_request_error", "request_params_invalid", "invalid_parameter", "model_not_found",
    "authentication_error", "invalid_api_key", "permission_error", "permission_denied",
    "not_found", "censorship_block", "content_policy_violation", "content_filter",
    "insufficient_quota", "billing_hard_limit_reached"})
TRANSIENT_KIND = re.compile(r"server|overload|timeout|timed_out|rate_limit|too_many|busy|"
                            r"unavailable|capacity|internal|upstream", re.IGNORECASE)
MAX_RETRY_AFTER_S = 120.0

# Seam for tests: replaced with a no-op so retries run instantly.
sleep: Callable[[float], None] = time.sleep


class Failure(Exception):
    """One failed attempt, classified; becomes a ProviderError when retries are over."""

    def __init__(self, message: str, *, retryable: bool, trace_id: str = "",
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.trace_id = trace_id
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reply:
    """A whole response: status, headers and the body read to its end."""

    status: int
    headers: httpx.Headers
    body: bytes
    trace_id: str

    def json(self) -> Any:
        return json.loads(self.body)


def make_client(base_url: str, api_key: str | None, timeout: float,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One client per provider instance, shared by every thread that synthesizes with it."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers,
                        timeout=httpx.Timeout(timeout), transport=transport, limits=limits)


def trace_id(headers: Mapping[str, str], body: Any = None) -> str:
    """The provider's id for this request, for its support desk."""
    for name in TRACE_HEADERS:
        if headers.get(name):
            return headers[name]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict) and detail.get("logid"):
        return str(detail["logid"])
    return ""


def exchange(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Reply:
    """Send one request and read its whole body; a transport failure becomes a Failure."""
    try:
        with client.stream(method, path.lstrip("/"), **kwargs) as response:
            body = b"".join(response.iter_bytes())
            declared = response.headers.get("content-length")
            got = response.num_bytes_downloaded if response.headers.get("content-encoding") \
                else len(body)  # Content-Length counts the bytes as sent
            if declared and declared.isdigit() and got < int(declared):
                raise Failure(f"the response was cut short ({got} of {declared} bytes)",
                              retryable=True, trace_id=trace_id(response.headers))
            reply = Reply(response.status_code, response.headers, body,
                          trace_id(response.headers))
    except httpx.TimeoutException:
        raise Failure(f"no answer within {client.timeout.read:g} s (timeout)",
                      retryable=True) from None
    except httpx.TransportError as exc:
        raise Failure(f"the connection failed ({type(exc).__name__}: {_first_line(exc)})",
                      retryable=True) from None
    except httpx.HTTPError as exc:
        raise Failure(f"the request could not be made ({_first_line(exc)})",
                      retryable=False) from None
    return reply


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check(reply: Reply) -> Reply:
    """Raise a classified Failure for an HTTP error or a JSON error body at any status."""
    error = _error_body(reply)
    if reply.status < 400 and error is None:
        return reply
    message, code, kind = error or (_text(reply.body) or "no message", None, None)
    label = f"HTTP {reply.status}" + (f", code {code}" if code is not None else "") \
        + (f", {kind}" if kind else "")
    parsed = _json(reply.body)
    raise Failure(f"{message} ({label})", retryable=retryable(reply.status, code, kind),
                  trace_id=reply.trace_id or trace_id({}, parsed),
                  retry_after=retry_after(reply.headers))


def retryable(status: int, code: Any, kind: Any) -> bool:
    """Whether a failure answered with `status` and an error body of `code`/`kind` (either may
    be None) can pass on a retry: the body's kind decides, then the status; an error body of
    no known kind on a 2xx is a relay's way of saying its upstream failed."""
    words = [str(w) for w in (kind, code) if w is not None]
    if code in PERMANENT_CODES or any(w in PERMANENT_KINDS for w in words):
        return False
    if code in RETRY_CODES or any(TRANSIENT_KIND.search(w) for w in words):
        return True
    if status >= 400:
        return status in RETRY_STATUS or status >= 500
    return True


def _json(body: bytes) -> Any:
    if body[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _text(body: bytes) -> str:
    """A bare-string error body (SiliconFlow's 401/403/404/504) as plain text."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, str):
            text = value
    return text[:300]


def _error_body(reply: Reply) -> tuple[str, Any, Any] | None:
    """(message, code, type) from the error shapes the providers use, else None."""
    data = _json(reply.body)
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("error"), dict):  # OpenAI, StepFun
        err = data["error"]
        return str(err.get("message") or "no message"), err.get("code"), err.get("type")
    if isinstance(data.get("error"), str):
        return data["error"], None, None
    code = data.get("code")
    if code in (None, 0, "0") and reply.status < 400:
        return None
    message = data.get("message") or data.get("msg") or "no message"
    return str(message), code, None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, then retry-after), if ≤ 120 s."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            wait = float(ms) / 1000
            if 0 <= wait <= MAX_RETRY_AFTER_S:
                return wait
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        wait = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if _is_date(value) else None
        wait = when.timestamp() - time.time() if when else -1.0
    return max(wait, 0.0) if -1.0 < wait <= MAX_RETRY_AFTER_S else None


def _is_date(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False


def backoff(retry: int, rand: Callable[[], float] = random.random) -> float:
    """The wait before retry number `retry` (0-based): min(0.5·2ⁿ, 8) s with 25 % jitter."""
    return min(0.5 * 2 ** retry, 8.0) * (0.75 + 0.25 * rand())


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, Failure) and exc.retryable


def _wait(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, Failure) and exc.retry_after is not None:
        return exc.retry_after
    return backoff(state.attempt_number - 1)


def call(attempt: Callable[[], T], *, provider: str, where: str, max_retries: int,
         secret: str | None) -> tuple[T, int]:
    """Run `attempt` until it succeeds or fails permanently; returns (result, attempts).
    A final failure becomes the one ProviderError line a user sees."""
    count = 0

    def once() -> T:
        nonlocal count
        count += 1
        return attempt()

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_after_attempt(max_retries + 1),
        wait=_wait, sleep=lambda seconds: sleep(seconds), reraise=True)
    try:
        return retrying(once), count
    except Failure as exc:
        raise provider_error(exc, provider, where, count, secret) from None


def provider_error(exc: Failure, provider: str, where: str, attempts: int,
                   secret: str | None) -> ProviderError:
    """The one line a user sees: turn, provider, its message and trace id; never the key."""
    message = provider_text(exc.message, secret, limit=500)
    if exc.retryable and attempts > 1:
        message += f"; gave up after {attempts} attempts"
    return ProviderError(f"{provider}: {message}", where=where,
                         trace_id=provider_text(exc.trace_id, secret, limit=100))


def sse_audio(body: bytes, trace: str = "") -> bytes:
    """Join the base64 audio of `speech.audio.delta` events up to `speech.audio.done`."""
    chunks: list[bytes] = []
    for block in body.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n"):
        data = "".join(line[5:].lstrip() for line in block.split("\n")
                       if line.startswith("data:"))
        if not data or data == "[DONE]":
            continue
        try:
            event = json.loads(data)
        except ValueError:
            raise Failure("the event stream held an unreadable event", retryable=True,
                          trace_id=trace) from None
        kind = event.get("type")
        if kind == "speech.audio.delta":
            chunks.append(_b64(event.get("audio") or "", trace))
        elif kind == "speech.audio.done":
            return b"".join(chunks)
        elif kind == "speech.audio.error" or "error" in event:
            err = event.get("error") or event
            msg = err.get("message") if isinstance(err, dict) else str(err)
            raise Failure(f"the stream reported an error: {msg}", retryable=True, trace_id=trace)
    raise Failure("the event stream ended before speech.audio.done", retryable=True,
                  trace_id=trace)


def _b64(text: str, trace: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise Failure("the event stream held audio that is not base64", retryable=True,
                      trace_id=trace) from None
