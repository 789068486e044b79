"""StepFun as seed 003 describes it: `/audio/speech` with input ≤ 1000 characters, `voice_label`
(exactly one of language/emotion/style; not on stepaudio-2.5-tts), `instruction` ≤ 200 only on
stepaudio-2.5-tts, volume, sample rates, pronunciation_map and SSE; system voices; cloning by
uploading a file (purpose=storage) and then creating a voice from it."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from . import checks
from .base import Provider
from .checks import Invalid
from .speech import Turn
from .wire import Reply, Request, Upload, json_reply, text_reply

V25 = "stepaudio-2.5-tts"
MODELS = ("step-tts-mini", "step-tts-2", V25, "step-tts-vivid")  # vivid: legacy, still served
FORMATS = ("wav", "mp3", "flac", "opus", "pcm")
RATES = (8000, 16000, 22050, 24000, 48000)
LANGUAGES = ("粤语", "四川话", "日语")
# the emotion labels of the emulator's voice-label table (the seed names 高兴 and 生气 and
# allows up to 11): an English word or any other text is refused, as the service would
EMOTION_LABELS = ("高兴", "生气", "悲伤", "惊讶", "害怕", "兴奋", "平静")
SYSTEM_VOICES = {  # id -> name; the emulator's stand-in for the official list
    "cixingnansheng": "磁性男声", "zhengpaiqingnian": "正派青年", "yuanqinansheng": "元气男声",
    "wenrounvsheng": "温柔女声", "qinqienvsheng": "亲切女声", "jilingshaonv": "机灵少女",
    "ruanmengnvsheng": "软萌女声", "youyanvsheng": "优雅女声"}
KNOWN = ("model", "input", "voice", "response_format", "speed", "volume", "voice_label",
         "instruction", "sample_rate", "pronunciation_map", "stream_format", "markdown_filter",
         "return_url")
NOT_SPOKEN = re.compile(r"\([^)]*\)|（[^）]*）")  # stepaudio-2.5-tts reads these as directions
GATEWAY_TIMEOUT = "<html><body><h1>504 Gateway Time-out</h1></body></html>"


def error_body(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_}}


class StepFun(Provider):
    name = "stepfun"
    key_var = "STEPFUN_API_KEY"
    base_var = "STEPFUN_BASE_URL"
    trace_header = "x-request-id"
    extra_kinds = ("request_params_invalid", "censorship_block")

    def reset(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.cloned: dict[str, dict[str, Any]] = {}  # voice id -> {model, file_id, text}

    def routes(self):
        return {("POST", "/audio/speech"): self.speech,
                ("GET", "/audio/system_voices"): self.system_voices,
                ("POST", "/files"): self.upload_file,
                ("POST", "/audio/voices"): self.clone}

    def error(self, kind: str, trace: str, opts: dict[str, Any]) -> Reply:
        head = self.trace(trace)
        if kind == "504":
            return text_reply(504, GATEWAY_TIMEOUT, "text/html", head)
        if kind.startswith("429"):
            return json_reply(429, error_body("too many requests, please slow down",
                                              "rate_limit_exceeded"),
                              {**head, **self.retry_headers(kind, opts)})
        shapes = {
            "400": (400, "request_params_invalid", opts.get("message", "invalid request params")),
            "request_params_invalid": (400, "request_params_invalid",
                                       opts.get("message", "invalid request params")),
            "censorship_block": (400, "censorship_block",
                                 "the input text was blocked by content moderation"),
            "401": (401, "invalid_api_key", "Incorrect API key provided"),
            "403": (403, "permission_denied", "no permission to access this model"),
            "404": (404, "not_found", f"no route for {opts.get('path', '')}"),
            "503": (503, "server_overloaded", "the service is overloaded, please retry later"),
            "200_error": (200, "server_error", "the service failed, please retry later"),
        }
        if kind not in shapes:
            raise ValueError(f"stepfun has no error kind {kind!r}")
        status, type_, message = shapes[kind]
        return json_reply(status, error_body(message, type_), head)

    def invalid(self, problem: Invalid, trace: str) -> Reply:
        return json_reply(400, error_body(problem.message, "request_params_invalid"),
                          self.trace(trace))

    # -- speech --------------------------------------------------------------------------------

    def speech(self, req: Request, trace: str) -> Reply:
        body = _body(req)
        for name in checks.unknown_fields(body, KNOWN):
            raise Invalid(name, f"unknown parameter {name}")
        model = checks.choice(body, "model", MODELS)
        if model is None:
            raise Invalid("model", "model is required")
        text = checks.required(body, "input", min_len=1, max_len=1000)
        voice = self._voice(body)
        _direction(body, model)
        _pronunciation(body)
        fmt = checks.choice(body, "response_format", FORMATS) or "mp3"
        rate = checks.choice(body, "sample_rate", RATES) or 24000
        speed = checks.number(body, "speed", 0.5, 2) or 1.0
        volume = checks.number(body, "volume", 0.1, 2) or 1.0
        stream = checks.choice(body, "stream_format", ("audio", "sse")) or "audio"
        checks.flag(body, "markdown_filter")
        if checks.flag(body, "return_url"):
            raise Invalid("return_url", "return_url is not emulated; ask for the audio itself")
        spoken = NOT_SPOKEN.sub("", text) if model == V25 else text
        return self.speak((Turn(spoken, f"stepfun:{voice}"),), fmt=fmt, rate=int(rate),
                          trace=trace, stream="sse" if stream == "sse" else "plain",
                          speed=speed, volume=volume)

    def _voice(self, body: dict[str, Any]) -> str:
        voice = checks.required(body, "voice", min_len=1)
        if voice not in SYSTEM_VOICES and voice not in self.cloned:
            raise Invalid("voice", f"voice {voice} does not exist")
        return voice

    # -- voices --------------------------------------------------------------------------------

    def system_voices(self, req: Request, trace: str) -> Reply:
        model = req.query.get("model") or "step-tts-mini"
        if model not in MODELS:
            raise Invalid("model", f"model must be one of {', '.join(MODELS)}, got {model!r}")
        voices = [{"id": vid, "name": name, "model": model} for vid, name in SYSTEM_VOICES.items()]
        return json_reply(200, {"object": "list", "data": voices}, self.trace(trace))

    def upload_file(self, req: Request, trace: str) -> Reply:
        form = req.form or {}
        file = form.get("file")
        if not isinstance(file, Upload) or not file.data:
            raise Invalid("file", "file is required")
        if form.get("purpose") != "storage":
            raise Invalid("purpose", f"purpose must be storage, got {form.get('purpose')!r}")
        file_id = "file-" + hashlib.sha256(file.data).hexdigest()[:20]
        self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(file.data),
                               "created_at": int(time.time()), "filename": file.filename,
                               "purpose": "storage", "status": "success"}
        return json_reply(200, self.files[file_id], self.trace(trace))

    def clone(self, req: Request, trace: str) -> Reply:
        """A cloned voice from an uploaded file; the same file again gives the same voice."""
        body = _body(req)
        model = checks.choice(body, "model", MODELS)
        file_id = checks.required(body, "file_id")
        said = checks.required(body, "text", min_len=1)
        if model is None:
            raise Invalid("model", "model is required")
        if file_id not in self.files:
            raise Invalid("file_id", f"file {file_id} does not exist")
        voice_id = "voice-tone-" + hashlib.sha256(file_id.encode()).hexdigest()[:10]
        duplicated = voice_id in self.cloned
        self.cloned[voice_id] = {"model": model, "file_id": file_id, "text": said}
        return json_reply(200, {"id": voice_id, "object": "audio.voice",
                                "duplicated": duplicated, "sample_text": said},
                          self.trace(trace))


def _body(req: Request) -> dict[str, Any]:
    if req.bad_json is not None:
        raise Invalid("", f"request body is not valid JSON: {req.bad_json}")
    return checks.body_object(req.json)


def _direction(body: dict[str, Any], model: str) -> None:
    """voice_label (other models, exactly one of its three keys) or instruction (2.5 only)."""
    label = body.get("voice_label")
    if label is not None:
        if model == V25:
            raise Invalid("voice_label", f"voice_label is not supported by {V25}; use instruction")
        if not isinstance(label, dict):
            raise Invalid("voice_label", "voice_label must be an object")
        set_keys = [k for k in ("language", "emotion", "style") if label.get(k)]
        if len(set_keys) != 1 or set(label) - {"language", "emotion", "style"}:
            raise Invalid("voice_label", "voice_label must set exactly one of language, emotion, "
                                         "style")
        checks.choice(label, "language", LANGUAGES)
        checks.choice(label, "emotion", EMOTION_LABELS)
        checks.text(label, "style")
    if body.get("instruction") is not None:
        if model != V25:
            raise Invalid("instruction", f"instruction is only supported by {V25}")
        checks.text(body, "instruction", max_len=200)


def _pronunciation(body: dict[str, Any]) -> None:
    mapping = body.get("pronunciation_map")
    if mapping is None:
        return
    tones = mapping.get("tone") if isinstance(mapping, dict) else None
    if not isinstance(tones, list) or not all(isinstance(t, str) and "/" in t for t in tones):
        raise Invalid("pronunciation_map", 'pronunciation_map must be {"tone": ["text/reading", '
                                           '...]}')
