"""OpenAI's speech endpoint, or any service that speaks its protocol (set OPENAI_BASE_URL).

Emotion and instruction become `instructions`, which tts-1 and tts-1-hd do not take. Relays
offer models and voices of their own, so only OpenAI's own model names are checked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Job
from .cloud import CloudProvider, Opt, Request

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
          "verse", "marin", "cedar")
PLAIN = ("tts-1", "tts-1-hd")  # no instructions, no SSE
RATE = 24000  # every OpenAI format is 24 kHz; pcm is raw 24 kHz s16le


class OpenAIProvider(CloudProvider):
    name = "openai"
    default_model = "gpt-4o-mini-tts"
    models = ("gpt-4o-mini-tts", *PLAIN)
    any_model = True
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    max_chars = 4096
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=("mp3", "opus", "aac", "flac", "wav", "pcm")),
        "stream_format": Opt("choice", choices=("audio", "sse")),
        "instructions": Opt("text"),
    }

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any]) -> list[tuple[str, str]]:
        problems = super().check_turn(model, fields)
        model = model or cls.default_model
        for f in ("emotion", "instruction"):
            if f in fields and model in PLAIN:
                problems.append((f, f"{model} takes no instructions, so {f} cannot be honoured; "
                                 f"remove it or use {cls.default_model}"))
        return problems

    @classmethod
    def option_problem(cls, model: str | None, name: str, value: Any) -> str | None:
        if (model or cls.default_model) in PLAIN and (
                name == "instructions" or (name == "stream_format" and value == "sse")):
            return f"{model} does not take {name}={value!r}"
        return super().option_problem(model, name, value)

    def request(self, job: Job, model: str | None) -> Request:
        model = model or self.default_model
        opts = dict(job.options)
        fmt = opts.get("response_format", "wav")
        body: dict[str, Any] = {"model": model, "input": job.text, "voice": job.voice,
                                "response_format": fmt}
        if job.speed != 1.0:
            body["speed"] = job.speed
        instructions = " ".join(p for p in (
            opts.get("instructions"), f"Sound {job.emotion}." if job.emotion else None,
            job.instruction) if p)
        if instructions:
            body["instructions"] = instructions
        sse = opts.get("stream_format") == "sse"
        if sse:
            body["stream_format"] = "sse"
        return Request(body, fmt, RATE, sse=sse)

    def voices(self) -> dict[str, str]:
        return {v: "OpenAI voice (a relay may offer others)" for v in VOICES}
