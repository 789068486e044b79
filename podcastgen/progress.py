"""Build progress: a live line on a terminal, plain periodic lines in CI or logs."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from .publish import clock

PLAIN_EVERY_S = 10.0


class Progress:
    def __init__(self, label: str, *, stream: TextIO | None = None, quiet: bool = False,
                 live: bool | None = None):
        self.quiet = quiet
        if live is None:
            live = sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true"
        # A live line is redrawn on stderr and erased at the end; plain lines are a log and go
        # to stdout, so stderr carries only warnings and the one line of an error.
        self.stream = stream or (sys.stderr if live else sys.stdout)
        self.live, self.label = live, label
        self.total = self.done = self.cached = self.retries = 0
        self._lock = threading.Lock()
        self._started = self._last = time.monotonic()

    def start(self, total: int, cached: int) -> None:
        self.total, self.cached, self.done = total, cached, cached
        self._started = self._last = time.monotonic()
        self._show(force=not self.live)

    def advance(self, retries: int = 0) -> None:
        with self._lock:
            self.done += 1
            self.retries += retries
            self._show(force=self.done == self.total)

    def finish(self) -> None:
        if self.live and not self.quiet and self.total:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def line(self) -> str:
        eta = self._eta()
        return (f"{self.label}: {self.done}/{self.total} segments, {self.cached} cached, "
                f"{self.retries} retries" + (f", about {eta} left" if eta else ""))

    def _eta(self) -> str:
        fresh = self.done - self.cached
        if fresh <= 0 or self.done >= self.total:
            return ""
        rate = (time.monotonic() - self._started) / fresh
        return clock(rate * (self.total - self.done))

    def _show(self, force: bool = False) -> None:
        if self.quiet or not self.total:
            return
        now = time.monotonic()
        if self.live:
            self.stream.write("\r\033[K" + self.line())
        elif force or now - self._last >= PLAIN_EVERY_S:
            self.stream.write(self.line() + "\n")
        else:
            return
        self._last = now
        self.stream.flush()
