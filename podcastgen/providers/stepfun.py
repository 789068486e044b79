"""StepFun: step-tts-mini, step-tts-2 and stepaudio-2.5-tts, SSE by default, voice cloning
through an uploaded file. Input over 1000 characters is silently truncated by the service, so
long turns are split before sending.

stepaudio-2.5-tts takes direction as `instruction` (≤ 200 characters); the other models take an
emotion as `voice_label` and refuse `instruction`. An emotion is always sent as its Chinese
label from StepFun's voice-label table; one without a label is refused. stepaudio-2.5-tts also
reads text in () or （） as an unspoken direction: `options: {parentheses: spoken}` sends a
turn's brackets as commas instead, so what they hold is said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ProviderError
from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request

INSTRUCTED = "stepaudio-2.5-tts"
EMOTIONS = {"happy": "高兴", "angry": "生气", "sad": "悲伤", "surprised": "惊讶",
            "fear": "害怕", "excited": "兴奋", "calm": "平静"}  # English names -> StepFun labels
MAX_INSTRUCTION = 200
DIRECTION = re.compile(r"\([^()]*\)|（[^（）]*）")  # what stepaudio-2.5-tts does not say


class StepFunProvider(CloudProvider):
    name = "stepfun"
    default_model = "step-tts-mini"
    models = ("step-tts-mini", "step-tts-2", INSTRUCTED, "step-tts-vivid")
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    speed_range = (0.5, 2.0)
    max_chars = 1000
    can_clone = True
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=("wav", "mp3", "flac", "opus", "pcm")),
        "sample_rate": Opt("choice", choices=(8000, 16000, 22050, 24000, 48000)),
        "volume": Opt("number", 0.1, 2.0),
        "stream_format": Opt("choice", choices=("audio", "sse")),
        "pronunciation_map": Opt("mapping"),
        "voice_label": Opt("mapping", models=("step-tts-mini", "step-tts-2", "step-tts-vivid")),
        "markdown_filter": Opt("bool"),
        # ours, not a request field: how stepaudio-2.5-tts is sent a turn's brackets
        "parentheses": Opt("choice", choices=("direction", "spoken"), models=(INSTRUCTED,)),
    }

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any],
                   config: ProviderConfig | None = None) -> list[tuple[str, str]]:
        problems = super().check_turn(model, fields)
        model = model or cls.default_model
        emotion = fields.get("emotion")
        if emotion is not None and label(emotion) is None:
            problems.append(("emotion", f"stepfun emotions are {', '.join(EMOTIONS)} (sent as "
                             f"{'、'.join(EMOTIONS.values())}), or those labels; got "
                             f"{emotion!r}"))
        if "instruction" in fields and model != INSTRUCTED:
            problems.append(("instruction", f"{model} takes no instruction on stepfun; remove "
                             f"it, use emotion, or use {INSTRUCTED}"))
        elif model == INSTRUCTED and len(_instruction(fields)) > MAX_INSTRUCTION:
            problems.append(("instruction", f"stepfun instructions are at most "
                             f"{MAX_INSTRUCTION} characters, got {len(_instruction(fields))}"))
        return problems

    @classmethod
    def option_problem(cls, model: str | None, name: str, value: Any) -> str | None:
        problem = super().option_problem(model, name, value)
        if problem or not isinstance(value, dict):
            return problem
        if name == "voice_label" and (len(value) != 1 or
                                      not set(value) <= {"language", "emotion", "style"}):
            return "voice_label takes exactly one of language, emotion or style"
        tones = value.get("tone") if name == "pronunciation_map" else None
        if name == "pronunciation_map" and (set(value) != {"tone"} or not isinstance(tones, list)
                                            or not all(isinstance(t, str) and "/" in t
                                                       for t in tones)):
            return 'pronunciation_map is {tone: ["word/pronunciation", ...]}'
        return None

    @classmethod
    def turn_warnings(cls, model: str | None, options: Mapping[str, Any], text: str,
                      speed: float) -> list[str]:
        if (model or cls.default_model) != INSTRUCTED or options.get("parentheses") == "spoken":
            return []
        found = DIRECTION.findall(text)
        if not found:
            return []
        return [f"{INSTRUCTED} takes {' '.join(found[:3])}{' …' if len(found) > 3 else ''} as "
                "a direction and does not say it; if it should be heard, set options: "
                "{parentheses: spoken} on the speaker, or write it without brackets"]

    def spoken(self, job: Job) -> str:
        """On stepaudio-2.5-tts, bracketed text is direction: the audio is judged without it."""
        text = _input(job)
        return DIRECTION.sub(" ", text) if (job.model or self.default_model) == INSTRUCTED \
            else text

    def request(self, job: Job, model: str | None) -> Request:
        model = model or self.default_model
        opts = dict(job.options)
        fmt = opts.get("response_format", "wav")
        rate = int(opts.get("sample_rate", 24000))
        body: dict[str, Any] = {"model": model, "input": _input(job), "voice": job.voice,
                                "response_format": fmt, "sample_rate": rate}
        if job.speed != 1.0:
            body["speed"] = job.speed
        for name in ("volume", "pronunciation_map", "markdown_filter", "voice_label"):
            if name in opts:
                body[name] = opts[name]
        fields = {"emotion": job.emotion, "instruction": job.instruction}
        if model == INSTRUCTED and _instruction(fields):
            body["instruction"] = _instruction(fields)
        elif job.emotion:
            body["voice_label"] = {"emotion": label(job.emotion)}
        sse = opts.get("stream_format", "sse") == "sse"
        if sse:
            body["stream_format"] = "sse"
        return Request(body, fmt, rate, sse=sse)

    def remote_voices(self) -> dict[str, str]:
        """The system voices of every model, as the service lists them."""
        found: dict[str, str] = {}
        for model in self.models[:3]:
            data = self.call_json("GET", "audio/system_voices", params={"model": model})
            for voice in _voice_list(data):
                vid = voice.get("id") or voice.get("voice_id") or voice.get("voice") or ""
                desc = voice.get("name") or voice.get("description") or ""
                found.setdefault(str(vid), f"{desc} ({model})".strip())
        return found

    def clone(self, clip: Path, text: str, name: str, model: str | None) -> str:
        """Upload the clip as a file, then make a voice of it (5–10 s clips work best)."""
        upload = self.call_json("POST", "files", data={"purpose": "storage"},
                                files={"file": (clip.name, clip.read_bytes())})
        file_id = upload.get("id") if isinstance(upload, dict) else None
        if not file_id:
            raise ProviderError("stepfun: the file upload answer held no id")
        made = self.call_json("POST", "audio/voices", json={
            "model": model or self.default_model, "file_id": file_id, "text": text})
        voice = made.get("id") if isinstance(made, dict) else None
        if not voice:
            raise ProviderError("stepfun: the voice answer held no id")
        return str(voice)


def _input(job: Job) -> str:
    """The text sent: brackets become commas when the speaker asked for them to be said."""
    return said_aloud(job.text) if dict(job.options).get("parentheses") == "spoken" \
        else job.text


def label(emotion: str) -> str | None:
    """An emotion as StepFun's Chinese label (given in English or as the label itself)."""
    return EMOTIONS.get(emotion) or (emotion if emotion in EMOTIONS.values() else None)


def said_aloud(text: str) -> str:
    """Brackets as the pauses they mark, so stepaudio-2.5-tts says what they hold:
    "I was (barely) awake." -> "I was, barely, awake."; （笑） -> ，笑，."""
    text = re.sub(r"\s*[()]\s*", ", ", text)
    text = re.sub(r"[（）]", "，", text)
    text = re.sub(r"[,，]\s*(?=[,，.。!！?？;；:：])", "", text)
    return re.sub(r"^[\s,，]+|[\s,，]+$", "", text)


def _instruction(fields: dict[str, Any]) -> str:
    """Emotion and instruction as one stepaudio-2.5-tts instruction."""
    emotion = fields.get("emotion")
    parts = (f"语气{label(emotion) or emotion}。" if emotion else "",
             fields.get("instruction") or "")
    return " ".join(p for p in parts if p)


def _voice_list(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        for key in ("voices", "data", "results", "voice_list"):
            if isinstance(data.get(key), list):
                return [v for v in data[key] if isinstance(v, dict)]
            if isinstance(data.get(key), dict):
                return _voice_list(data[key])
    return [v for v in data if isinstance(v, dict)] if isinstance(data, list) else []
