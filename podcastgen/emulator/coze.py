"""Coze as seed 004 describes it: `/audio/speech` with input ≤ 1024 UTF-8 bytes, a required
`voice_id`, emotions only where the voice lists them, and errors as `{"code", "msg"}` that
usually arrive with HTTP 200; `/audio/voices` lists the voices; the log id is `x-tt-logid`."""

from __future__ import annotations

from typing import Any

from . import checks
from .base import Provider
from .checks import Invalid
from .speech import Turn
from .wire import Reply, Request, json_reply, text_reply

FORMATS = ("wav", "pcm", "ogg_opus", "mp3")
RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
EMOTIONS = ("happy", "sad", "angry", "surprised", "fear", "hate", "excited", "coldness",
            "neutral")
FIELDS = ("input", "voice_id", "emotion", "emotion_scale", "response_format", "speed",
          "sample_rate", "loudness_rate", "context_texts")
SPEED = {"big": (0.5, 2.0), "small": (0.2, 3.0)}
GATEWAY_TIMEOUT = "<html><body><h1>504 Gateway Time-out</h1></body></html>"
# kind -> (HTTP status, code, msg): business errors come back with HTTP 200, as Coze does
ERRORS = {
    "400": (200, 4000, "The request parameters are invalid"),
    "4000": (200, 4000, "The request parameters are invalid"),
    "401": (401, 4100, "authentication is invalid"),
    "4100": (401, 4100, "authentication is invalid"),
    "403": (200, 4101, "The token you entered does not have the required permission"),
    "4101": (200, 4101, "The token you entered does not have the required permission"),
    "404": (404, 4200, "The requested resource does not exist"),
    "4200": (200, 4200, "The requested resource does not exist"),
    "coze_200_error": (200, 4013, "The requests exceed the rate limit, please try again later"),
    "429": (429, 4013, "The requests exceed the rate limit, please try again later"),
    "503": (503, 5000, "The service is busy, please try again later"),
    "200_error": (200, 5000, "The service is busy, please try again later"),
}


def _voice(voice_id: str, name: str, model_type: str, language: str, emotions: tuple[str, ...],
           context_texts: bool = False) -> dict[str, Any]:
    return {"voice_id": voice_id, "name": name, "is_system_voice": True,
            "language_code": language, "language_name": {"zh": "中文", "en": "英文"}[language],
            "preview_text": "你好", "preview_audio": "", "available_training_times": 0,
            "create_time": 1727000000, "update_time": 1727000000, "model_type": model_type,
            "state": "cloned", "context_texts": context_texts,
            "support_emotions": [{"emotion": e, "display_name": e,
                                  "emotion_scale_interval": {"min": 1, "max": 5, "default": 4}}
                                 for e in emotions]}


VOICES = [
    _voice("7426720361732915209", "爽快思思", "big", "zh",
           ("happy", "sad", "angry", "surprised", "excited", "neutral")),
    _voice("7426720361733144585", "Adam", "big", "en", ()),
    _voice("7426725529589596187", "渊博小叔", "small", "zh", ()),
    _voice("7468512265134932019", "Vivi 2.0", "big", "zh", ("happy", "sad"), context_texts=True),
]


class Coze(Provider):
    name = "coze"
    key_var = "COZE_API_TOKEN"
    base_var = "COZE_BASE_URL"
    trace_header = "x-tt-logid"
    extra_kinds = ("coze_200_error", "4000", "4100", "4101", "4200")
    transient_kinds = ("coze_200_error",)

    def routes(self):
        return {("POST", "/audio/speech"): self.speech, ("GET", "/audio/voices"): self.voices}

    def error(self, kind: str, trace: str, opts: dict[str, Any]) -> Reply:
        head = self.trace(trace)
        if kind == "504":
            return text_reply(504, GATEWAY_TIMEOUT, "text/html", head)
        base = "429" if kind.startswith("429") else kind
        if base not in ERRORS:
            raise ValueError(f"coze has no error kind {kind!r}")
        status, code, msg = ERRORS[base]
        headers = {**head, **self.retry_headers(kind, opts)}
        return json_reply(opts.get("status", status), _error(code, msg, trace), headers)

    def invalid(self, problem: Invalid, trace: str) -> Reply:
        return json_reply(200, _error(4000, problem.message, trace), self.trace(trace))

    def voices(self, req: Request, trace: str) -> Reply:
        listed = [{k: v for k, v in voice.items() if k != "context_texts"} for voice in VOICES]
        if req.query.get("filter_system_voice") == "true":
            listed = []
        if req.query.get("model_type") in SPEED:
            listed = [v for v in listed if v["model_type"] == req.query["model_type"]]
        data = {"voice_list": listed, "has_more": False}
        return json_reply(200, {"code": 0, "msg": "", "data": data}, self.trace(trace))

    def speech(self, req: Request, trace: str) -> Reply:
        if req.bad_json is not None:
            raise Invalid("", f"request body is not valid JSON: {req.bad_json}")
        body = checks.body_object(req.json)
        for name in checks.unknown_fields(body, FIELDS):
            raise Invalid(name, f"unknown parameter {name}")
        text = checks.required(body, "input", min_len=1, max_bytes=1024)
        voice = _find_voice(checks.required(body, "voice_id", min_len=1))
        _expression(body, voice)
        fmt = checks.choice(body, "response_format", FORMATS) or "mp3"
        rate = checks.choice(body, "sample_rate", RATES) or 24000
        speed = checks.number(body, "speed", *SPEED[voice["model_type"]]) or 1.0
        loudness = checks.number(body, "loudness_rate", -50, 100, integer=True) or 0
        return self.speak((Turn(text, f"coze:{voice['voice_id']}"),), fmt=fmt, rate=int(rate),
                          trace=trace, speed=speed, volume=1 + loudness / 100)


def _error(code: int, msg: str, logid: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "detail": {"logid": logid}}


def _find_voice(voice_id: str) -> dict[str, Any]:
    for voice in VOICES:
        if voice["voice_id"] == voice_id:
            return voice
    raise Invalid("voice_id", f"voice_id {voice_id} does not exist")


def _expression(body: dict[str, Any], voice: dict[str, Any]) -> None:
    """emotion and emotion_scale only where the voice supports that emotion; context_texts only
    on voices that take style direction."""
    emotion = checks.choice(body, "emotion", EMOTIONS)
    supported = [e["emotion"] for e in voice["support_emotions"]]
    if emotion is not None and emotion not in supported:
        listed = ", ".join(supported) or "none"
        raise Invalid("emotion", f"voice {voice['voice_id']} does not support emotion {emotion} "
                                 f"(supported: {listed})")
    if checks.number(body, "emotion_scale", 1, 5) is not None and emotion is None:
        raise Invalid("emotion_scale", "emotion_scale needs an emotion")
    if checks.text(body, "context_texts") and not voice["context_texts"]:
        raise Invalid("context_texts", f"voice {voice['voice_id']} does not support "
                                       "context_texts")
