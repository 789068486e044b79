"""SiliconFlow as its seed schemas describe it: `/audio/speech` for MOSS-TTSD dialogue,
CosyVoice2 and IndexTTS-2 with `additionalProperties: false` (code 20012), bare-string auth and
routing errors, chunked audio streams, and the voice upload, list and delete endpoints."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from . import checks
from .base import Provider
from .checks import Invalid
from .speech import Turn
from .wire import Reply, Request, Upload, json_reply

MOSS = "fnlp/MOSS-TTSD-v0.5"
COSY = "FunAudioLLM/CosyVoice2-0.5B"
INDEX = "IndexTeam/IndexTTS-2"
MODELS = (MOSS, COSY, INDEX)
VOICES = ("alex", "benjamin", "charles", "david", "anna", "bella", "claire", "diana")
FIELDS = ("model", "input", "voice", "references", "response_format", "sample_rate", "stream",
          "speed", "gain")
MOSS_FIELDS = FIELDS + ("max_tokens",)
RATES = {"mp3": (32000, 44100), "opus": (48000,), "wav": (8000, 16000, 24000, 32000, 44100),
         "pcm": (8000, 16000, 24000, 32000, 44100)}
DEFAULT_RATE = {"mp3": 44100, "opus": 48000, "wav": 44100, "pcm": 44100}
TOKEN_LIMIT = 32_000  # input + output tokens per MOSS request
TOKENS_PER_S = 12.5  # MOSS audio tokens per second of speech
SPEAKER_TAG = re.compile(r"\[(S\d+)\]")
CUSTOM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RATE_LIMITED = ("Request was rejected due to rate limiting. If you want more, please contact "
                "contact@siliconflow.cn. Details:TPM limit reached.")
OVERLOADED = "Model service overloaded. Please try again later."
ACCOUNT = "emu0account"


class SiliconFlow(Provider):
    name = "siliconflow"
    key_var = "SILICONFLOW_API_KEY"
    base_var = "SILICONFLOW_BASE_URL"
    trace_header = "x-siliconcloud-trace-id"
    extra_kinds = ("400_20012",)

    def reset(self) -> None:
        self.voices: dict[str, dict[str, str]] = {}  # uri -> {model, customName, text, uri}

    def routes(self):
        return {("POST", "/audio/speech"): self.speech,
                ("POST", "/uploads/audio/voice"): self.upload,
                ("GET", "/audio/voice/list"): self.list_voices,
                ("POST", "/audio/voice/deletions"): self.delete}

    # -- errors --------------------------------------------------------------------------------

    def error(self, kind: str, trace: str, opts: dict[str, Any]) -> Reply:
        head = self.trace(trace)
        if kind in ("400", "400_20012"):
            message = opts.get("message", "Parameter is invalid. Please check it carefully.")
            return json_reply(400, {"code": 20012, "message": message, "data": ""}, head)
        bare = {"401": "Invalid token", "403": "Forbidden", "404": "404 page not found",
                "504": "upstream request timeout"}
        if kind in bare:
            return json_reply(int(kind), bare[kind], head)
        if kind.startswith("429"):
            return json_reply(429, {"message": RATE_LIMITED, "data": ""},
                              {**head, **self.retry_headers(kind, opts)})
        if kind in ("503", "200_error"):  # overloaded, as a gateway answers it or with 200
            status = 200 if kind == "200_error" else 503
            return json_reply(status, {"code": 50505, "message": OVERLOADED, "data": ""}, head)
        raise ValueError(f"siliconflow has no error kind {kind!r}")

    def invalid(self, problem: Invalid, trace: str) -> Reply:
        return json_reply(400, {"code": 20012, "message": problem.message, "data": problem.field},
                          self.trace(trace))

    # -- speech --------------------------------------------------------------------------------

    def speech(self, req: Request, trace: str) -> Reply:
        body = _json_body(req)
        model = _model(body)
        allowed = MOSS_FIELDS if model == MOSS else FIELDS
        for name in checks.unknown_fields(body, allowed):
            raise Invalid(name, f"{name}: unknown field (additional properties are not allowed)")
        text = checks.required(body, "input", min_len=1, max_len=128_000)
        fmt = checks.choice(body, "response_format", tuple(RATES)) or "mp3"
        rate = checks.choice(body, "sample_rate", RATES[fmt])
        speed = checks.number(body, "speed", 0.25, 4) or 1.0
        gain = checks.number(body, "gain", -10, 10) or 0.0
        stream = checks.flag(body, "stream")
        turns = self._turns(model, text, body)
        max_s = _moss_budget(text, body) if model == MOSS else None
        stream = (model == MOSS) if stream is None else stream  # MOSS streams unless told not to
        return self.speak(turns, fmt=fmt, rate=int(rate or DEFAULT_RATE[fmt]), trace=trace,
                          stream="chunked" if stream else "plain", speed=speed,
                          volume=10 ** (gain / 20), max_s=max_s)

    def _turns(self, model: str, text: str, body: dict[str, Any]) -> tuple[Turn, ...]:
        """What gets spoken, by whom: MOSS's [S1]/[S2] turns, or one turn (CosyVoice2's
        instruction before <|endofprompt|> is not spoken)."""
        voice = self._voice(model, body)
        refs = _references(body)
        if voice and refs:
            raise Invalid("references", "voice and references are mutually exclusive")
        if not voice and not refs:
            raise Invalid("voice", "voice or references is required")
        if model != MOSS:
            spoken = text.split("<|endofprompt|>", 1)[-1]
            return (Turn(spoken, voice or _clip_identity(refs[0]["audio"])),)
        identities = _speaker_identities(voice, refs)
        return tuple(Turn(said, identities[tag], tag) for tag, said in moss_turns(text))

    def _voice(self, model: str, body: dict[str, Any]) -> str:
        voice = checks.text(body, "voice") or ""
        if not voice:
            return ""
        if voice.startswith("speech:"):
            known = self.voices.get(voice)
            if known is None or known["model"] != model:
                raise Invalid("voice", f"voice {voice} does not exist for model {model}")
            return voice
        system = [f"{model}:{name}" for name in VOICES]
        if voice not in system:
            raise Invalid("voice", f"voice must be one of {', '.join(system)} or an uploaded "
                                   f"speech: uri, got {voice!r}")
        return voice

    # -- voices --------------------------------------------------------------------------------

    def upload(self, req: Request, trace: str) -> Reply:
        """Store a reference voice (JSON with a data-URI `audio`, or multipart with `file`)."""
        fields = req.form if req.form is not None else _json_body(req)
        model = _model(fields)
        name = checks.required(fields, "customName", min_len=1)
        said = checks.required(fields, "text", min_len=1)
        if not CUSTOM_NAME.match(name):
            raise Invalid("customName", "customName may hold only letters, digits, _ and -, "
                                        "up to 64 characters")
        audio = _upload_audio(fields)
        digest = hashlib.sha256(f"{model}\0{name}\0".encode() + audio).hexdigest()[:24]
        uri = f"speech:{name}:{ACCOUNT}:{digest}"
        self.voices[uri] = {"model": model, "customName": name, "text": said, "uri": uri}
        return json_reply(200, {"uri": uri}, self.trace(trace))

    def list_voices(self, req: Request, trace: str) -> Reply:
        return json_reply(200, {"results": list(self.voices.values())}, self.trace(trace))

    def delete(self, req: Request, trace: str) -> Reply:
        uri = checks.required(_json_body(req), "uri")
        if self.voices.pop(uri, None) is None:
            raise Invalid("uri", f"voice {uri} does not exist")
        return json_reply(200, {}, self.trace(trace))


def moss_turns(text: str) -> list[tuple[str, str]]:
    """(speaker tag, text) per turn as the server reads them: consecutive turns of one speaker
    merge with no separator, and untagged leading text belongs to S1."""
    pieces = SPEAKER_TAG.split(text)
    found: list[tuple[str, str]] = [("S1", pieces[0])] if pieces[0].strip() else []
    for tag, said in zip(pieces[1::2], pieces[2::2]):
        if tag not in ("S1", "S2"):
            raise Invalid("input", f"input: {MOSS} speaks [S1] and [S2] only, got [{tag}]")
        if found and found[-1][0] == tag:
            found[-1] = (tag, found[-1][1] + said)
        else:
            found.append((tag, said))
    if not found:
        raise Invalid("input", "input has no text to speak")
    return found


def _model(body: dict[str, Any]) -> str:
    model = checks.required(body, "model")
    if model not in MODELS:
        raise Invalid("model", "Model does not exist. Please check it carefully.")
    return model


def _json_body(req: Request) -> dict[str, Any]:
    if req.bad_json is not None:
        raise Invalid("", f"request body is not valid JSON: {req.bad_json}")
    return checks.body_object(req.json)


def _references(body: dict[str, Any]) -> list[dict[str, Any]]:
    refs = body.get("references")
    if refs is None:
        return []
    if not isinstance(refs, list):
        raise Invalid("references", "references must be an array")
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            raise Invalid(f"references.{i}", f"references.{i} must be an object")
        checks.audio_ref(ref.get("audio"), f"references.{i}.audio")
        if ref.get("audio", "").startswith("data:"):
            _decode_data_uri(ref["audio"], f"references.{i}.audio")
        checks.text(ref, "text")
    return refs


def _speaker_identities(voice: str, refs: list[dict[str, Any]]) -> dict[str, str]:
    """S1 and S2's voices: the system voice (S2 a second timbre of it), or each reference clip,
    matched by the [Sn] its transcript starts with, else by position."""
    if voice:
        return {"S1": voice, "S2": voice + "#2"}
    found: dict[str, str] = {}
    for i, ref in enumerate(refs):
        tag = SPEAKER_TAG.match(ref.get("text") or "")
        found.setdefault(tag.group(1) if tag else f"S{i + 1}", _clip_identity(ref["audio"]))
    first = next(iter(found.values()))
    return {"S1": found.get("S1", first), "S2": found.get("S2", first + "#2")}


def _clip_identity(audio: str) -> str:
    return "clip:" + hashlib.sha256(audio.encode()).hexdigest()[:16]


def _moss_budget(text: str, body: dict[str, Any]) -> float:
    """Seconds of audio max_tokens allows (the model stops there); input + output must fit 32k."""
    max_tokens = checks.number(body, "max_tokens", 1, TOKEN_LIMIT, integer=True) or 2048
    if len(text) + max_tokens > TOKEN_LIMIT:
        raise Invalid("max_tokens", f"input ({len(text)} tokens) + max_tokens ({int(max_tokens)}) "
                                    f"exceeds {TOKEN_LIMIT} tokens")
    return max_tokens / TOKENS_PER_S


def _upload_audio(fields: dict[str, Any]) -> bytes:
    file = fields.get("file")
    if isinstance(file, Upload):
        if not file.data:
            raise Invalid("file", "file is empty")
        return file.data
    audio = fields.get("audio")
    if audio is None:
        raise Invalid("audio", "audio (a data URI) or file is required")
    if not isinstance(audio, str) or not checks.DATA_URI.match(audio):
        raise Invalid("audio", "audio must be a data:audio/...;base64 URI")
    return _decode_data_uri(audio, "audio")


def _decode_data_uri(uri: str, name: str) -> bytes:
    try:
        data = base64.b64decode(uri.split(",", 1)[1], validate=True)
    except ValueError:
        raise Invalid(name, f"{name} is not valid base64") from None
    if not data:
        raise Invalid(name, f"{name} is empty")
    return data
