"""The OpenAI speech API (and relays that speak it): `/audio/speech` with errors as
`{"error": {message, type, param, code}}` and `x-request-id`, in one of two profiles.

`seed` (the default) is exactly the relay's document: models tts-1 and tts-1-hd, voices alloy,
echo, fable, onyx, nova and shimmer, formats mp3, opus, aac and flac, speed 0.25–4, and any
other field refused as OpenAI refuses an unknown argument. `openai` is OpenAI's own endpoint:
gpt-4o-mini-tts too, its newer voices, wav and pcm (raw 24 kHz s16le), and `instructions` and
SSE streaming except on tts-1 and tts-1-hd.
"""

from __future__ import annotations

from typing import Any

from . import checks
from .base import Provider
from .checks import Invalid
from .speech import Turn
from .wire import Reply, Request, json_reply, text_reply

CLASSIC = ("tts-1", "tts-1-hd")
MODELS = CLASSIC + ("gpt-4o-mini-tts",)
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
          "verse", "marin", "cedar")
NEW_VOICES = ("ballad", "verse", "marin", "cedar")  # not offered on tts-1 / tts-1-hd
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
FIELDS = ("model", "input", "voice", "instructions", "response_format", "speed", "stream_format")
PROFILES = ("seed", "openai")
SEED_VOICES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
SEED_FORMATS = ("mp3", "opus", "aac", "flac")
SEED_FIELDS = ("model", "input", "voice", "response_format", "speed")
RATE = 24_000  # every format comes back at 24 kHz
GATEWAY_TIMEOUT = ("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
                   "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n")


def error_body(message: str, type_: str, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAI(Provider):
    name = "openai"
    key_var = "OPENAI_API_KEY"
    base_var = "OPENAI_BASE_URL"
    trace_header = "x-request-id"

    def __init__(self, profile: str = "seed") -> None:
        if profile not in PROFILES:
            raise ValueError(f"openai profiles are {', '.join(PROFILES)}; got {profile!r}")
        self.default_profile = profile
        super().__init__()

    def reset(self) -> None:
        self.profile = self.default_profile  # a test may widen it; reset() narrows it again

    def routes(self):
        return {("POST", "/audio/speech"): self.speech}

    def error(self, kind: str, trace: str, opts: dict[str, Any]) -> Reply:
        head = self.trace(trace)
        if kind == "504":
            return text_reply(504, GATEWAY_TIMEOUT, "text/html", head)
        if kind.startswith("429"):
            body = error_body("Rate limit reached for requests per min (RPM): Limit 3, Used 3, "
                              "Requested 1.", "requests", None, "rate_limit_exceeded")
            return json_reply(429, body, {**head, **self.retry_headers(kind, opts)})
        status, body = self._shaped(kind, opts)
        return json_reply(status, body, head)

    def _shaped(self, kind: str, opts: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if kind == "400":
            return 400, error_body(opts.get("message", "Invalid request."),
                                   "invalid_request_error")
        if kind == "401":
            return 401, error_body(f"Incorrect API key provided: {opts.get('masked_key', '')}. "
                                   "You can find your API key at "
                                   "https://platform.openai.com/account/api-keys.",
                                   "invalid_request_error", None, "invalid_api_key")
        if kind == "403":
            return 403, error_body("You are not allowed to sample from this model",
                                   "invalid_request_error")
        if kind == "404":
            return 404, error_body(f"Invalid URL ({opts.get('method', 'POST')} "
                                   f"{opts.get('path', '')})", "invalid_request_error")
        if kind == "503":
            return 503, error_body("The server is overloaded or not ready yet.", "server_error")
        if kind == "200_error":  # what relays pass on when their upstream failed
            return 200, error_body("The server had an error while processing your request. "
                                   "Sorry about that!", "server_error")
        raise ValueError(f"openai has no error kind {kind!r}")

    def invalid(self, problem: Invalid, trace: str) -> Reply:
        status, code = (404, "model_not_found") if problem.kind == "model" else (400, None)
        body = error_body(problem.message, "invalid_request_error", problem.field or None, code)
        return json_reply(status, body, self.trace(trace))

    def speech(self, req: Request, trace: str) -> Reply:
        if req.bad_json is not None:
            raise Invalid("", "We could not parse the JSON body of your request.")
        body = checks.body_object(req.json)
        seed = self.profile == "seed"
        for name in checks.unknown_fields(body, SEED_FIELDS if seed else FIELDS):
            raise Invalid(name, f"Unrecognized request argument supplied: {name}")
        model = _model(body, CLASSIC if seed else MODELS)
        text = checks.required(body, "input", min_len=1, max_len=4096)
        voice = _voice(body, model, SEED_VOICES if seed else VOICES)
        if body.get("instructions") is not None and model in CLASSIC:
            raise Invalid("instructions", f"instructions is not supported with model {model}")
        checks.text(body, "instructions")
        fmt = checks.choice(body, "response_format", SEED_FORMATS if seed else FORMATS) or "mp3"
        speed = checks.number(body, "speed", 0.25, 4) or 1.0
        stream = checks.choice(body, "stream_format", ("audio", "sse")) or "audio"
        if stream == "sse" and model in CLASSIC:
            raise Invalid("stream_format", f"stream_format sse is not supported with model {model}")
        return self.speak((Turn(text, f"openai:{voice}"),), fmt=fmt, rate=RATE, trace=trace,
                          stream="sse" if stream == "sse" else "plain", speed=speed)


def _model(body: dict[str, Any], models: tuple[str, ...]) -> str:
    model = checks.required(body, "model")
    if model not in models:
        raise Invalid("model", f"The model `{model}` does not exist or you do not have access "
                               "to it.", kind="model")
    return model


def _voice(body: dict[str, Any], model: str, voices: tuple[str, ...]) -> str:
    voice = checks.choice(body, "voice", voices)
    if voice is None:
        raise Invalid("voice", "voice is required")
    if voice in NEW_VOICES and model in CLASSIC:
        raise Invalid("voice", f"voice {voice} is not available with model {model}")
    return voice
