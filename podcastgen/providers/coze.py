"""Coze: one speech endpoint, voices by `voice_id`, input limited to 1024 UTF-8 bytes.

Errors may come with HTTP 200 and a JSON body carrying a non-zero `code` (http.check sees
them). Emotion maps to `emotion` (for voices that support it), instruction to `context_texts`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request

EMOTIONS = ("happy", "sad", "angry", "surprised", "fear", "hate", "excited", "coldness",
            "neutral")


class CozeProvider(CloudProvider):
    name = "coze"
    default_model = None
    models = ()
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    speed_range = (0.2, 3.0)
    max_bytes = 1024
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=("wav", "pcm", "ogg_opus", "mp3")),
        "sample_rate": Opt("choice", choices=(8000, 16000, 22050, 24000, 32000, 44100, 48000)),
        "loudness_rate": Opt("int", -50, 100),
        "emotion": Opt("choice", choices=EMOTIONS),
        "emotion_scale": Opt("number", 1, 5),
        "context_texts": Opt("text"),
    }

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any],
                   config: ProviderConfig | None = None) -> list[tuple[str, str]]:
        problems = super().check_turn(model, fields)
        emotion = fields.get("emotion")
        if emotion is not None and emotion not in EMOTIONS:
            problems.append(("emotion", f"coze emotions are {', '.join(EMOTIONS)}; "
                             f"got {emotion!r}"))
        return problems

    def request(self, job: Job, model: str | None) -> Request:
        opts = dict(job.options)
        fmt = opts.get("response_format", "wav")
        rate = int(opts.get("sample_rate", 24000))
        body: dict[str, Any] = {"input": job.text, "voice_id": job.voice,
                                "response_format": fmt, "sample_rate": rate}
        if job.speed != 1.0:
            body["speed"] = job.speed
        emotion = job.emotion or opts.get("emotion")
        if emotion:
            body["emotion"] = emotion
            if "emotion_scale" in opts:
                body["emotion_scale"] = opts["emotion_scale"]
        context = job.instruction or opts.get("context_texts")
        if context:
            body["context_texts"] = context
        if "loudness_rate" in opts:
            body["loudness_rate"] = opts["loudness_rate"]
        return Request(body, fmt, rate)

    def remote_voices(self) -> dict[str, str]:
        data = self.call_json("GET", "audio/voices")
        voices = ((data.get("data") or {}).get("voice_list") or []) \
            if isinstance(data, dict) else []
        return {str(v.get("voice_id")): _describe(v) for v in voices if isinstance(v, dict)}


def _describe(voice: dict[str, Any]) -> str:
    emotions = [str(e.get("emotion", "")) if isinstance(e, dict) else str(e)
                for e in voice.get("support_emotions") or []]
    return str(voice.get("name", "")) + (f" (emotions: {', '.join(emotions)})" if emotions else "")
