"""What every emulated provider shares: its names, its trace header, routing by endpoint, the
fault kinds it can answer with, and turning rendered speech into a reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from . import speech
from .checks import Invalid
from .wire import Reply, Request, audio_reply

Handler = Callable[[Request, str], Reply]

# Faults every provider can show; each provider gives them its own wire shape.
SHAPED = ("400", "401", "403", "404", "429", "429_retry_after_ms", "429_retry_after",
          "503", "504", "200_error")
# Faults the server applies the same way everywhere.
TRANSPORT = ("reset", "truncated", "bad_audio")


class Provider:
    """One emulated API. Subclasses fill in the class attributes, `routes()` and `error()`."""

    name: ClassVar[str]
    key_var: ClassVar[str]
    base_var: ClassVar[str]
    trace_header: ClassVar[str]
    extra_kinds: ClassVar[tuple[str, ...]] = ()  # provider-specific fault kinds
    transient_kinds: ClassVar[tuple[str, ...]] = ()  # provider-specific ones chaos may pick

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget uploaded voices and files."""

    def routes(self) -> dict[tuple[str, str], Handler]:
        raise NotImplementedError

    def error(self, kind: str, trace: str, opts: dict[str, Any]) -> Reply:
        """The reply for an error `kind` (see SHAPED and extra_kinds), exactly as the provider
        sends it."""
        raise NotImplementedError

    def invalid(self, problem: Invalid, trace: str) -> Reply:
        """The provider's reply to a request field it rejects."""
        raise NotImplementedError

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        return SHAPED + TRANSPORT + cls.extra_kinds

    def trace(self, trace: str) -> dict[str, str]:
        return {self.trace_header: trace}

    @staticmethod
    def retry_headers(kind: str, opts: dict[str, Any]) -> dict[str, str]:
        """The retry hint a 429 kind carries: milliseconds, seconds, or none."""
        if kind == "429_retry_after_ms":
            return {"retry-after-ms": str(opts.get("retry_after_ms", 20))}
        if kind == "429_retry_after":
            return {"retry-after": str(opts.get("retry_after", 1))}
        return {}

    def handle(self, req: Request, trace: str) -> Reply:
        """Route a request whose key was accepted; a rejected field becomes the provider's error."""
        handler = self.routes().get((req.method, req.endpoint))
        if handler is None:
            return self.error("404", trace, {"path": req.path, "method": req.method})
        try:
            return handler(req, trace)
        except Invalid as problem:
            return self.invalid(problem, trace)

    def speak(self, turns: tuple[speech.Turn, ...], *, fmt: str, rate: int, trace: str,
              stream: str = "plain", speed: float = 1.0, volume: float = 1.0,
              max_s: float | None = None) -> Reply:
        """Render turns to audio and wrap them in a reply; the log learns the true turn spans."""
        done = speech.render(turns, fmt=fmt, rate=rate, speed=speed, volume=volume, max_s=max_s)
        bounds = [{"speaker": t.speaker, "text": t.text, "start_s": round(a, 4),
                   "end_s": round(b, 4), "f0_hz": f0}
                  for t, (a, b), f0 in zip(turns, done.bounds, done.pitches)]
        audio = {"format": fmt, "sample_rate": done.sample_rate,
                 "duration_s": round(done.duration_s, 4), "bytes": len(done.data),
                 "cut_at_s": max_s if done.cut else None, "turn_bounds_s": bounds}
        return audio_reply(done.data, fmt, stream=stream, headers=self.trace(trace), audio=audio)
