"""What a provider's failure may put on the user's screen: never the key, one short line.

A server decides what its error bodies and headers hold, and a relay may echo the request, so
every string a provider error carries (the message, the trace id, an exception's text, which
may hold a URL or a header) passes through `provider_text()` where the error is formed.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MASK = "***"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")  # line breaks, escapes a terminal would obey


def redact(text: str, secret: str | None) -> str:
    """`text` with every copy of `secret` (as is, or percent-encoded in a URL) masked."""
    if not text or not secret:
        return text
    for form in sorted({secret, quote(secret, safe="")}, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def provider_text(text: str, secret: str | None, limit: int = 300) -> str:
    """A server's words fit for one error line: the key masked, control characters made
    spaces, at most `limit` characters (cut in the middle, so an ending such as the HTTP
    status stays)."""
    text = _CONTROL.sub(" ", redact(str(text), secret)).strip()
    if len(text) <= limit:
        return text
    tail = min(60, limit // 4)
    return text[: limit - tail - 1] + "…" + text[-tail:]
