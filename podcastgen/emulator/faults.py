"""Injected faults: rules that fail the next N matching requests with a kind of error, and
chaos that fails a share of requests at random but reproducibly (the choice depends on the
seed and the request body, not on which thread came first)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .speech import seed_of
from .wire import Reply, Request, audio_reply

AFTER = ("truncated", "bad_audio")  # applied to a successful audio reply
TRANSIENT = ("429", "429_retry_after_ms", "429_retry_after", "503", "504", "200_error",
             "reset", "truncated", "bad_audio")
PERMANENT = ("400", "401", "403", "400_20012", "request_params_invalid", "censorship_block",
             "4000", "4100", "4101", "4200")

Match = None | str | dict[str, Any] | Callable[[Request], bool]


@dataclass
class Rule:
    provider: str
    kind: str
    remaining: int | None  # None: every matching request, until cleared
    match: Match = None
    endpoint: str | None = "/audio/speech"  # None: any endpoint
    opts: dict[str, Any] = field(default_factory=dict)

    def matches(self, provider: str, req: Request) -> bool:
        if provider != self.provider or self.remaining == 0:
            return False
        if self.endpoint is not None and req.endpoint != self.endpoint:
            return False
        return _matches(self.match, req)


@dataclass
class Chaos:
    rate: float
    kinds: tuple[str, ...] | None
    seed: int
    providers: tuple[str, ...] | None
    max_run: int  # a request body never fails more than this many times in a row
    opts: dict[str, Any]


class FaultBook:
    """The faults still to inject, safe to change while requests are being served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[Rule] = []
        self.chaos: Chaos | None = None
        self._seen: dict[str, int] = {}  # body digest -> requests so far
        self._run: dict[str, int] = {}  # body digest -> chaos failures in a row

    def add(self, rule: Rule) -> None:
        with self._lock:
            self.rules.append(rule)

    def set_chaos(self, chaos: Chaos | None) -> None:
        with self._lock:
            self.chaos = chaos
            self._seen.clear()
            self._run.clear()

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
        self.set_chaos(None)

    def pick(self, provider: str, req: Request, kinds_of: Callable[[str], tuple[str, ...]], *,
             answered: bool = False) -> tuple[str, dict[str, Any]] | None:
        """The fault for this request, if any: the first matching rule, else chaos. Before the
        request is answered only rules that replace the answer count (and chaos, which may pick
        any kind); once audio is ready, the rules that spoil it (`AFTER`), so such a rule is
        never spent on a request that failed validation."""
        with self._lock:
            for rule in self.rules:
                if (rule.kind in AFTER) == answered and rule.matches(provider, req):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.kind, rule.opts
            return None if answered else self._chaos(provider, req, kinds_of(provider))

    def _chaos(self, provider: str, req: Request,
               available: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
        chaos = self.chaos
        if chaos is None or req.endpoint != "/audio/speech":
            return None
        if chaos.providers is not None and provider not in chaos.providers:
            return None
        digest = hashlib.sha256(provider.encode() + b"\0" + req.raw).hexdigest()
        nth = self._seen[digest] = self._seen.get(digest, 0) + 1
        roll = seed_of(chaos.seed, digest, nth)
        if (roll % 10_000) / 10_000 >= chaos.rate or self._run.get(digest, 0) >= chaos.max_run:
            self._run[digest] = 0
            return None
        self._run[digest] = self._run.get(digest, 0) + 1
        kinds = [k for k in (chaos.kinds or available) if k in available]
        return (kinds[(roll >> 20) % len(kinds)], chaos.opts) if kinds else None


def _matches(match: Match, req: Request) -> bool:
    """None: any request; str: in the input text; dict: these JSON fields equal; callable."""
    if match is None:
        return True
    if callable(match):
        return bool(match(req))
    body = req.json if isinstance(req.json, dict) else (req.form or {})
    if isinstance(match, str):
        return match in str(body.get("input", ""))
    return all(body.get(k) == v for k, v in match.items())


def spoil(kind: str, reply: Reply) -> Reply:
    """A successful audio reply broken the way `kind` says."""
    return truncate(reply) if kind == "truncated" else bad_audio(reply)


def truncate(reply: Reply) -> Reply:
    """Promise the whole body but send about half of it (or half the chunks, with no end)."""
    reply.mode = "truncated"
    if reply.chunks is not None and len(reply.chunks) == 1 and reply.chunks[0]:
        data = reply.chunks[0]
        reply.chunks = [data[: len(data) // 2], data[len(data) // 2:]]
    return reply


def bad_audio(reply: Reply) -> Reply:
    """The same reply shape carrying bytes that do not decode as the promised format."""
    audio = reply.audio or {}
    size = len(reply.body) or sum(len(c) for c in reply.chunks or [])
    junk = _junk(audio["format"], size)
    trace = {k: v for k, v in reply.headers.items() if k.lower().startswith("x-")}
    return audio_reply(junk, audio["format"], stream=reply.mode, headers=trace, audio=audio)


def _junk(fmt: str, size: int) -> bytes:
    """Zeros carry no container header or sync word, so no decoder accepts them; raw pcm
    decodes anything, so it gets an odd byte count far too short for the text."""
    if fmt == "pcm":
        return b"\x00" * 1001
    return b"\x00" * max(size, 4096)
