"""A plain HTTP listener on 127.0.0.1 for tests about where keys go: it records every request
(method, path, headers) and answers as the test says."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Answer = tuple[int, dict[str, str], bytes]
Responder = Callable[[Seen, int], Answer]  # (the request, how many came before it) -> answer


def not_found(seen: Seen, count: int) -> Answer:
    return 404, {"content-type": "text/plain"}, b"nothing here"


class Listener:
    def __init__(self, server: ThreadingHTTPServer, seen: list[Seen]):
        self.server, self.seen = server, seen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def authorizations(self) -> list[str]:
        return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]


@contextmanager
def listening(respond: Responder = not_found) -> Iterator[Listener]:
    seen: list[Seen] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        do_POST = do_DELETE = do_GET

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Seen(self.command, self.path,
                           {k.lower(): v for k, v in self.headers.items()},
                           self.rfile.read(length))
            with lock:
                count = len(seen)
                seen.append(request)
            status, headers, body = respond(request, count)
            self.send_response(status)
            for name, value in {**headers, "content-length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(server, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
