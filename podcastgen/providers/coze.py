"""Coze: one speech endpoint, voices by `voice_id`, input limited to 1024 UTF-8 bytes.

Errors may come with HTTP 200 and a JSON body carrying a non-zero `code` (http.check sees
them). Emotion maps to `emotion` (for voices that support it), instruction to `context_texts`.
Speed is 0.5–2 for large-model voices and 0.2–3 for the others; the voice list tells a voice's
type (`model_type` big or small), so a speed only small-model voices take is checked against
it before the first paid request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from ..errors import InputError, ProviderError
from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request

EMOTIONS = ("happy", "sad", "angry", "surprised", "fear", "hate", "excited", "coldness",
            "neutral")
SPEEDS = {"big": (0.5, 2.0), "small": (0.2, 3.0)}  # by the voice list's model_type
MAX_PAGES = 50  # of 100 voices each, when listing


class CozeProvider(CloudProvider):
    name = "coze"
    default_model = None
    models = ()
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    speed_range = SPEEDS["small"]  # what some voice takes; a voice's own type may take less
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

    @classmethod
    def turn_warnings(cls, model: str | None, options: Mapping[str, Any], text: str,
                      speed: float) -> list[str]:
        lo, hi = SPEEDS["big"]
        if lo <= speed <= hi:
            return []
        return [f"coze large-model voices speak at {lo:g} to {hi:g} (small-model ones at "
                f"{SPEEDS['small'][0]:g} to {SPEEDS['small'][1]:g}), got {speed:g}; a build "
                "checks this voice's type in the voice list before sending anything"]

    def preflight(self, jobs: list[Job]) -> None:
        """Speeds outside the large-model range, checked against each voice's type."""
        lo, hi = SPEEDS["big"]
        fast = [job for job in jobs if not lo <= job.speed <= hi]
        if not fast:
            return
        try:
            voices = {str(v.get("voice_id")): v for v in self.voice_list()}
        except ProviderError:
            return  # a token without the list permission: no type is told, the service judges
        problems = [_speed_problem(job, voices.get(job.voice) or {}) for job in fast]
        found = list(dict.fromkeys(p for p in problems if p))
        if found:
            raise InputError("\n".join(found))

    def voice_list(self) -> Iterator[dict[str, Any]]:
        """Every voice of the account (system and cloned), page by page."""
        for page in range(1, MAX_PAGES + 1):
            data = self.call_json("GET", "audio/voices",
                                  params={"page_num": page, "page_size": 100})
            body = (data.get("data") or {}) if isinstance(data, dict) else {}
            yield from (v for v in body.get("voice_list") or [] if isinstance(v, dict))
            if not body.get("has_more"):
                return

    def remote_voices(self) -> dict[str, str]:
        return {str(v.get("voice_id")): _describe(v) for v in self.voice_list()}


def _speed_problem(job: Job, voice: dict[str, Any]) -> str | None:
    """A job's speed against its voice's type, where the voice list tells it."""
    kind = voice.get("model_type")
    if kind not in SPEEDS:
        return None  # not listed, or of no stated type: the widest range stands
    lo, hi = SPEEDS[kind]
    if lo <= job.speed <= hi:
        return None
    size = "large" if kind == "big" else "small"
    return (f"{job.where}: script.{job.turn}.{job.speaker}.speed: coze voice {job.voice} "
            f"({voice.get('name', '')}) is a {size}-model voice, which speaks at {lo:g} to "
            f"{hi:g}; got {job.speed:g}")


def _describe(voice: dict[str, Any]) -> str:
    emotions = [str(e.get("emotion", "")) if isinstance(e, dict) else str(e)
                for e in voice.get("support_emotions") or []]
    kind = {"big": ", large model", "small": ", small model"}.get(voice.get("model_type"), "")
    return str(voice.get("name", "")) + kind + \
        (f" (emotions: {', '.join(emotions)})" if emotions else "")
