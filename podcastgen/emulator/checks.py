"""Field checks shared by the emulated providers. Each failure is an `Invalid` naming the field;
the provider turns it into its own error shape (SiliconFlow 20012, OpenAI invalid_request_error,
StepFun request_params_invalid, Coze 4000)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DATA_URI = re.compile(r"^data:audio/\w+;base64,[A-Za-z0-9+/=]+$")
URL = re.compile(r"^https?://\S+$")


class Invalid(Exception):
    """A request field the provider would reject."""

    def __init__(self, field: str, message: str, *, kind: str = ""):
        self.field = field
        self.message = message
        self.kind = kind  # a provider-specific error type, when not the default one
        super().__init__(message)


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("", "request body must be a JSON object")
    return body


def unknown_fields(body: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    return [name for name in body if name not in set(allowed)]


def text(body: dict[str, Any], name: str, *, required: bool = False, min_len: int = 0,
         max_len: int | None = None, max_bytes: int | None = None) -> str | None:
    """A string field within its length limits (characters, or UTF-8 bytes)."""
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(name, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise Invalid(name, f"{name} must be a string")
    if len(value) < min_len:
        raise Invalid(name, f"{name} must not be empty" if min_len == 1 else
                      f"{name} must be at least {min_len} characters")
    if max_len is not None and len(value) > max_len:
        raise Invalid(name, f"{name} must be at most {max_len} characters, got {len(value)}")
    if max_bytes is not None and len(value.encode()) > max_bytes:
        raise Invalid(name, f"{name} must be at most {max_bytes} bytes in UTF-8, "
                            f"got {len(value.encode())}")
    return value


def required(body: dict[str, Any], name: str, **limits: int) -> str:
    """A string field that must be present (limits as for `text`)."""
    value = text(body, name, required=True, **limits)
    assert value is not None
    return value


def number(body: dict[str, Any], name: str, lo: float, hi: float, *,
           integer: bool = False) -> float | None:
    """A number (not a bool) within [lo, hi]; `integer` also refuses fractions."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(name, f"{name} must be a number")
    if integer and value != int(value):
        raise Invalid(name, f"{name} must be an integer, got {value}")
    if not lo <= value <= hi:
        raise Invalid(name, f"{name} must be between {_num(lo)} and {_num(hi)}, got {_num(value)}")
    return value


def choice(body: dict[str, Any], name: str, options: Iterable[Any]) -> Any:
    """A value from a fixed set (numbers compare by value, so 24000.0 matches 24000)."""
    value = body.get(name)
    if value is None:
        return None
    options = list(options)
    if isinstance(value, bool) or value not in options:
        listed = ", ".join(str(o) for o in options)
        raise Invalid(name, f"{name} must be one of {listed}, got {_show(value)}")
    return value


def flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise Invalid(name, f"{name} must be a boolean")
    return value


def audio_ref(value: Any, name: str) -> str:
    """A reference clip: a base64 audio data-URI or an http(s) URL."""
    if not isinstance(value, str) or not (DATA_URI.match(value) or URL.match(value)):
        raise Invalid(name, f"{name} must be a data:audio/...;base64 URI or an http(s) URL")
    return value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
