"""What travels over the emulator's sockets: a parsed request, a reply (plain, chunked, SSE, or
broken on purpose), and the small encoders each provider's replies share."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = "application/json; charset=utf-8"
AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm", "flac": "audio/flac",
               "aac": "audio/aac", "opus": "audio/ogg", "ogg_opus": "audio/ogg"}
CHUNK = 8192  # bytes per chunk of a streamed reply


@dataclass
class Upload:
    """A file part of a multipart form."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class Request:
    """One request as a provider handler sees it: JSON body or multipart fields parsed."""

    method: str
    path: str  # the whole path, e.g. /siliconflow/v1/audio/speech
    endpoint: str  # the part after the version segment, e.g. /audio/speech
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw: bytes = field(repr=False)
    json: Any = None
    form: dict[str, Any] | None = None  # str values, or Upload for files
    bad_json: str | None = None  # why the body is not valid JSON, when it was meant to be


@dataclass
class Reply:
    """A response to send. `mode`: plain (Content-Length), chunked, sse (chunked events),
    reset (drop the connection unanswered) or truncated (promise more bytes than are sent)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "plain"
    chunks: list[bytes] | None = None  # chunked and sse: the pieces, in order
    audio: dict[str, Any] | None = None  # for the log: format, rate, duration, bounds


def trace_id() -> str:
    return uuid.uuid4().hex


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Reply(status, body, {"Content-Type": JSON, **(headers or {})})


def text_reply(status: int, text: str, content_type: str, headers: dict[str, str]) -> Reply:
    return Reply(status, text.encode(), {"Content-Type": content_type, **headers})


def audio_reply(data: bytes, fmt: str, *, stream: str, headers: dict[str, str],
                audio: dict[str, Any]) -> Reply:
    """Audio as plain binary, raw chunks ("chunked") or speech.audio.delta events ("sse")."""
    pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    if stream == "sse":
        chunks = [sse_event({"type": "speech.audio.delta", "audio": _b64(p)}) for p in pieces]
        chunks += [sse_event({"type": "speech.audio.done", "audio": ""}), b"data: [DONE]\n\n"]
        return Reply(200, b"", {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                **headers}, "sse", chunks, audio)
    kind = {"Content-Type": AUDIO_TYPES[fmt], **headers}
    if stream == "chunked":
        return Reply(200, b"", kind, "chunked", pieces, audio)
    return Reply(200, data, kind, "plain", None, audio)


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parse(method: str, target: str, headers: dict[str, str], raw: bytes) -> Request:
    """Split the target into path, endpoint and query; parse a JSON or multipart body."""
    url = urlsplit(target)
    segments = url.path.split("/")
    endpoint = "/" + "/".join(segments[3:]) if len(segments) > 3 else "/"
    query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    req = Request(method, url.path, endpoint, query, headers, raw)
    ctype = headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        req.form = parse_multipart(ctype, raw)
    elif raw:
        try:
            req.json = json.loads(raw)
        except ValueError as exc:
            req.bad_json = str(exc)
    return req


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data body: text as str, files as Upload."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields
