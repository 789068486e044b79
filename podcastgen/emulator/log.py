"""The emulator's request log: every request received, what was answered, and for speech the
true audio facts (format, rate, duration, each turn's span) that tests compare against."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entry:
    """One request. `headers` has the Authorization value masked; `json` is the parsed body,
    `form` the multipart fields (files as {filename, content_type, size})."""

    provider: str
    method: str
    path: str
    endpoint: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] | None = None
    auth_ok: bool = False
    status: int | None = None  # None: the connection was dropped without an answer
    fault: str | None = None  # the injected fault, if any
    trace_id: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    error: Any = None  # the error body as sent (parsed JSON, or text)
    audio: dict[str, Any] | None = None  # format, sample_rate, duration_s, bytes, cut_at_s
    turn_bounds_s: list[dict[str, Any]] | None = None  # speaker, text, start_s, end_s
    received_at: float = 0.0  # time.monotonic() when the request was read
    answered_at: float | None = None  # ... and when its answer started going out

    @property
    def speech(self) -> bool:
        return self.endpoint == "/audio/speech"


class RequestLog:
    """A list of Entry that threads may append to while tests read it."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._lock = threading.Lock()

    def append(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index: int) -> Entry:
        with self._lock:
            return self._entries[index]

    def speech(self, provider: str | None = None, *, ok: bool | None = None) -> list[Entry]:
        """Speech requests, optionally of one provider and only answered (ok) or failed ones."""
        found = [e for e in self if e.speech and provider in (None, e.provider)]
        if ok is not None:
            found = [e for e in found if (e.status == 200 and e.fault is None
                                          and e.audio is not None) == ok]
        return found
