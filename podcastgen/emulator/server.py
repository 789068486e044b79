"""The emulator: one real HTTP/1.1 server on 127.0.0.1 speaking SiliconFlow, OpenAI, StepFun
and Coze under `/<provider>/v1`, with a request log, a latency model, an optional rate limit
and injectable faults. Each request runs in its own thread, so a slow one blocks no other."""

from __future__ import annotations

import collections
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from . import faults, wire
from .base import Provider
from .coze import Coze
from .faults import Chaos, FaultBook, Rule
from .log import Entry, RequestLog
from .openai import OpenAI
from .siliconflow import SiliconFlow
from .stepfun import StepFun
from .wire import Reply, Request

PROVIDERS: tuple[type[Provider], ...] = (SiliconFlow, OpenAI, StepFun, Coze)
VERSION = "v1"


class Emulator:
    """Four TTS providers over real HTTP. The OpenAI one is exactly as strict as the relay's
    document unless `openai_profile="openai"` (see emulator/openai.py); setting
    `emu.providers["openai"].profile` changes it until the next reset(). Use as a context
    manager (or start()/stop()):

        with Emulator() as emu:
            client = httpx.Client(base_url=emu.base_url("siliconflow"))
            emu.fail("siliconflow", "429_retry_after_ms", times=2)
    """

    def __init__(self, *, latency_ms: float = 0, per_char_ms: float = 0,
                 rate_limit: dict[str, tuple[int, float]] | None = None,
                 keys: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0,
                 openai_profile: str = "seed"):
        self.providers = {cls.name: OpenAI(openai_profile) if cls is OpenAI else cls()
                          for cls in PROVIDERS}
        self.keys = {name: f"emu-test-key-{name}-0123456789" for name in self.providers}
        self.keys.update(keys or {})
        self.latency_ms, self.per_char_ms = latency_ms, per_char_ms
        self.rate_limit = dict(rate_limit or {})  # provider -> (requests, per seconds)
        self._recent: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._limit_lock = threading.Lock()
        self.log = RequestLog()
        self.faults = FaultBook()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="podcastgen-emulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the emulator is not running"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The provider's base URL with its version segment, as a client is configured."""
        if provider not in self.providers:
            raise ValueError(f"unknown provider {provider!r}; one of {', '.join(self.providers)}")
        return f"{self.url}/{provider}/{VERSION}"

    def env(self) -> dict[str, str]:
        """Environment variables that point every provider's client here, with test keys."""
        found: dict[str, str] = {}
        for name, provider in self.providers.items():
            found[provider.base_var] = self.base_url(name)
            found[provider.key_var] = self.keys[name]
        return found

    def reset(self) -> None:
        """Forget the log, the faults and every uploaded voice or file."""
        self.log.clear()
        self.faults.clear()
        for provider in self.providers.values():
            provider.reset()

    # -- faults --------------------------------------------------------------------------------

    def fail(self, provider: str, kind: str, times: int | None = 1, match: faults.Match = None,
             *, endpoint: str | None = "/audio/speech", **opts: Any) -> None:
        """Answer the next `times` matching requests (None: all of them) with fault `kind`.
        `match`: None, a substring of `input`, a dict of JSON fields, or a callable(Request).
        opts: retry_after_ms, retry_after (429 hints), message, status (Coze HTTP status)."""
        if kind not in self.kinds(provider):
            raise ValueError(f"{provider} has no fault {kind!r}; one of "
                             f"{', '.join(self.kinds(provider))}")
        self.faults.add(Rule(provider, kind, times, match, endpoint, opts))

    def chaos(self, rate: float = 0.25, kinds: list[str] | None = None, seed: int = 1, *,
              providers: list[str] | None = None, max_run: int = 3, **opts: Any) -> None:
        """Fail about `rate` of speech requests with transient faults drawn from `kinds` (default:
        every transient kind the provider has), reproducibly for a given seed; one request body
        never fails more than `max_run` times in a row. rate=0 turns chaos off."""
        if rate <= 0:
            self.faults.set_chaos(None)
            return
        known = {kind for name in self.providers for kind in self.kinds(name)}
        for kind in kinds or ():
            if kind not in known:
                raise ValueError(f"no provider has a fault {kind!r}")
        self.faults.set_chaos(Chaos(rate, tuple(kinds) if kinds else None, seed,
                                    tuple(providers) if providers else None, max_run, opts))

    def clear_faults(self) -> None:
        self.faults.clear()

    def kinds(self, provider: str) -> tuple[str, ...]:
        return self.providers[provider].kinds()

    def _transient(self, provider: str) -> tuple[str, ...]:
        return faults.TRANSIENT + self.providers[provider].transient_kinds

    # -- serving -------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        raw = _read_body(handler, headers)
        if raw is None:
            # the client went away before its request was whole: as with a real server, nothing
            # reaches the provider, nothing is answered and nothing is billed
            handler.close_connection = True
            return
        req = wire.parse(handler.command, handler.path, headers, raw)
        name = req.path.split("/")[1] if req.path.count("/") >= 1 else ""
        provider = self.providers.get(name)
        entry = _entry(name, req, self._authorized(name, headers))
        entry.received_at = time.monotonic()
        self.log.append(entry)
        trace = wire.trace_id()
        reply = self._answer(provider, req, entry, trace)
        time.sleep(self._delay(req, reply))
        _record(entry, reply, trace)
        cast(_Server, handler.server).send(handler, reply)

    def _answer(self, provider: Provider | None, req: Request, entry: Entry,
                trace: str) -> Reply:
        """The reply: refused at the door, replaced by a fault, or the provider's own answer
        (possibly spoiled by a fault on the way out)."""
        if provider is None:
            return wire.text_reply(404, "404 page not found", "text/plain", {})
        refused = self._gate(provider, req, entry, trace)
        if refused is not None:
            return refused
        kind, opts = self.faults.pick(provider.name, req, self._transient) or (None, {})
        if kind is not None and kind not in faults.AFTER:
            entry.fault = kind
            if kind == "reset":
                return Reply(0, mode="reset")
            context = {"masked_key": _masked(req.headers), "path": req.path, "method": req.method}
            return provider.error(kind, trace, {**context, **opts})
        reply = provider.handle(req, trace)
        if reply.audio is not None and kind is None:
            kind, _ = self.faults.pick(provider.name, req, self._transient,
                                       answered=True) or (None, {})
        if reply.audio is None or kind is None:
            return reply
        entry.fault = kind
        return faults.spoil(kind, reply)

    def _gate(self, provider: Provider, req: Request, entry: Entry, trace: str) -> Reply | None:
        """A wrong version segment, a wrong key or the rate limit, answered as the provider."""
        if req.path.split("/")[2:3] != [VERSION]:
            return provider.error("404", trace, {"path": req.path, "method": req.method})
        if not entry.auth_ok:
            return provider.error("401", trace, {"masked_key": _masked(req.headers)})
        limited = self._limited(provider.name)
        if limited is None:
            return None
        entry.fault = "rate_limit"
        hint = "429_retry_after_ms" if provider.name == "openai" else "429"
        return provider.error(hint, trace, {"retry_after_ms": limited})

    def _authorized(self, name: str, headers: dict[str, str]) -> bool:
        key = self.keys.get(name)
        return key is not None and headers.get("authorization") == f"Bearer {key}"

    def _limited(self, name: str) -> int | None:
        """None when the request may pass; else milliseconds until a slot frees."""
        if name not in self.rate_limit:
            return None
        count, per_s = self.rate_limit[name]
        now = time.monotonic()
        with self._limit_lock:
            recent = self._recent[name]
            while recent and now - recent[0] >= per_s:
                recent.popleft()
            if len(recent) >= count:
                return max(1, int((per_s - (now - recent[0])) * 1000))
            recent.append(now)
        return None

    def _delay(self, req: Request, reply: Reply) -> float:
        """Seconds to hold the answer: a fixed latency, plus time per character spoken."""
        chars = len(req.json.get("input", "")) if isinstance(req.json, dict) else 0
        per_char = self.per_char_ms * chars if reply.audio is not None else 0
        return (self.latency_ms + per_char) / 1000


def _read_body(handler: BaseHTTPRequestHandler, headers: dict[str, str]) -> bytes | None:
    """The request body, or None when the connection closed before all of it arrived."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            line = handler.rfile.readline()
            if not line.endswith(b"\n"):
                return None
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(parts)
            part = handler.rfile.read(size)
            if len(part) < size:
                return None
            parts.append(part)
            handler.rfile.readline()
    size = int(headers.get("content-length") or 0)
    raw = handler.rfile.read(size)
    return raw if len(raw) == size else None


def _entry(name: str, req: Request, auth_ok: bool) -> Entry:
    headers = dict(req.headers)
    if "authorization" in headers:
        scheme = headers["authorization"].split(" ", 1)[0]
        headers["authorization"] = f"{scheme} ***" if " " in headers["authorization"] else "***"
    form = None
    if req.form is not None:
        form = {k: ({"filename": v.filename, "content_type": v.content_type, "size": len(v.data)}
                    if isinstance(v, wire.Upload) else v) for k, v in req.form.items()}
    return Entry(name, req.method, req.path, req.endpoint, req.query, headers, req.json, form,
                 auth_ok)


def _record(entry: Entry, reply: Reply, trace: str) -> None:
    """What was answered, set before the first byte goes out so a client never sees it unset."""
    entry.trace_id = trace
    entry.answered_at = time.monotonic()
    entry.status = reply.status or None
    entry.response_headers = dict(reply.headers)
    if reply.audio is not None:
        entry.audio = {k: v for k, v in reply.audio.items() if k != "turn_bounds_s"}
        entry.turn_bounds_s = reply.audio["turn_bounds_s"]
    elif reply.body:
        try:
            entry.error = json.loads(reply.body)
        except ValueError:
            entry.error = reply.body.decode("utf-8", "replace")


def _masked(headers: dict[str, str]) -> str:
    """The presented key as OpenAI echoes it: first three and last four characters."""
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    return f"{token[:3]}{'*' * (len(token) - 7)}{token[-4:]}" if len(token) > 10 else "***"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as written, no 40 ms stalls

    def do_GET(self) -> None:
        cast(_Server, self.server).emulator._serve(self)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator):
        self.emulator = emulator
        self._aborted: set[int] = set()
        self._abort_lock = threading.Lock()
        super().__init__(address, _Handler)

    def send(self, handler: _Handler, reply: Reply) -> None:
        """Write a reply in its mode; a client that hung up is not an error here."""
        try:
            if reply.mode == "reset":
                self._abort(handler)
            elif reply.chunks is not None:
                _send_chunked(handler, reply)
            else:
                _send_plain(handler, reply)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request (a killed build, a timeout) is routine here; anything
        else is still reported the standard way."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def _abort(self, handler: _Handler) -> None:
        """Close with a TCP reset and no response at all."""
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._abort_lock:
            self._aborted.add(id(handler.connection))
        handler.close_connection = True

    def shutdown_request(self, request: Any) -> None:
        with self._abort_lock:
            aborted = id(request) in self._aborted
            self._aborted.discard(id(request))
        if aborted:
            request.close()  # no orderly FIN first: the peer sees a reset
        else:
            super().shutdown_request(request)


def _send_head(handler: _Handler, reply: Reply, extra: dict[str, str]) -> None:
    handler.send_response(reply.status)
    for key, value in {**reply.headers, **extra}.items():
        handler.send_header(key, value)
    handler.end_headers()


def _send_plain(handler: _Handler, reply: Reply) -> None:
    _send_head(handler, reply, {"Content-Length": str(len(reply.body))})
    if reply.mode == "truncated":
        handler.wfile.write(reply.body[: len(reply.body) // 2])
        handler.wfile.flush()
        handler.close_connection = True
        return
    handler.wfile.write(reply.body)


def _send_chunked(handler: _Handler, reply: Reply) -> None:
    _send_head(handler, reply, {"Transfer-Encoding": "chunked"})
    chunks = reply.chunks or []
    if reply.mode == "truncated":
        chunks = chunks[: max(1, len(chunks) // 2)]
    for chunk in chunks:
        if chunk:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.flush()
    if reply.mode == "truncated":
        handler.close_connection = True
        return
    handler.wfile.write(b"0\r\n\r\n")
