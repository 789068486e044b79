"""SiliconFlow: MOSS-TTSD-v0.5 (two-speaker dialogue), CosyVoice2-0.5B (the default) and
IndexTTS-2, with system voices, uploaded `speech:` voices and reference clips.

The service rejects unknown fields (code 20012), so only fields its schema names are sent.
A dialogue block's references go as 16 kHz mono MP3 data-URIs with `[S1]`/`[S2]` transcripts;
a reference given as an http(s) URL goes as that URL (the schema takes "URL or base64").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from .. import moss
from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request, clip_data_uri

MOSS = moss.MODEL
COSYVOICE = "FunAudioLLM/CosyVoice2-0.5B"
INDEXTTS = "IndexTeam/IndexTTS-2"
SYSTEM_VOICES = {
    "alex": "male, steady", "benjamin": "male, deep", "charles": "male, magnetic",
    "david": "male, cheerful", "anna": "female, steady", "bella": "female, passionate",
    "claire": "female, gentle", "diana": "female, sweet",
}
RATES = {"opus": (48000,), "mp3": (32000, 44100), "wav": (8000, 16000, 24000, 32000, 44100),
         "pcm": (8000, 16000, 24000, 32000, 44100)}


class SiliconFlowProvider(CloudProvider):
    name = "siliconflow"
    default_model = COSYVOICE
    models = (MOSS, COSYVOICE, INDEXTTS)
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    max_chars = 128000
    can_clone = True
    reference_urls = True
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=tuple(RATES)),
        "sample_rate": Opt("choice", choices=(8000, 16000, 24000, 32000, 44100, 48000)),
        "stream": Opt("bool"),
        "gain": Opt("number", -10, 10),
        "max_tokens": Opt("int", 1, moss.TOKEN_LIMIT, models=(MOSS,)),
    }

    @classmethod
    def limits(cls, model: str | None, speed: float = 1.0,
               options: Mapping[str, Any] | None = None) -> tuple[int | None, int | None]:
        """MOSS-TTSD: what fits its token window beside the output, not the schema's 128,000."""
        if (model or cls.default_model) == MOSS:
            return moss.piece_chars(moss.MAX_REQUEST_SECONDS, speed,
                                    (options or {}).get("max_tokens")), None
        return super().limits(model, speed, options)

    @classmethod
    def option_problem(cls, model: str | None, name: str, value: Any) -> str | None:
        problem = super().option_problem(model, name, value)
        if problem is None and name == "max_tokens":
            return moss.max_tokens_problem(value)
        return problem

    @classmethod
    def check_turn(cls, model: str | None, fields: dict[str, Any],
                   config: ProviderConfig | None = None) -> list[tuple[str, str]]:
        problems = super().check_turn(model, fields)
        model = model or cls.default_model
        for f in ("emotion", "instruction"):
            if f in fields and model != COSYVOICE:
                problems.append((f, f"{model} takes no {f} on siliconflow; remove it or use "
                                 f"{COSYVOICE}"))
        return problems

    @classmethod
    def check_speaker(cls, model: str | None, voice: str | None, reference: bool,
                      options: dict[str, Any], config: ProviderConfig | None = None
                      ) -> list[tuple[tuple[str, ...], str]]:
        problems = super().check_speaker(model, voice, reference, options)
        fmt, rate = options.get("response_format", "wav"), options.get("sample_rate")
        if fmt in RATES and rate is not None and rate not in RATES[fmt]:
            problems.append((("options", "sample_rate"), f"{fmt} comes at "
                             f"{', '.join(map(str, RATES[fmt]))} Hz on siliconflow, got {rate}"))
        return problems

    @classmethod
    def voice_problem(cls, model: str | None, voice: str) -> str | None:
        if voice.startswith("speech:"):
            return None
        prefix, _, name = voice.rpartition(":")
        if prefix and prefix != model:
            return f"voice {voice!r} belongs to {prefix}, but this speaker uses {model}"
        if name not in SYSTEM_VOICES:
            return (f"unknown siliconflow voice {voice!r}; system voices: "
                    f"{', '.join(SYSTEM_VOICES)}, or an uploaded speech: uri (see "
                    "`podcastgen voices list siliconflow`)")
        return None

    @staticmethod
    def voice_id(model: str, voice: str) -> str:
        """`alex` -> `<model>:alex`; full ids and `speech:` uris are sent as written."""
        return voice if ":" in voice else f"{model}:{voice}"

    def request(self, job: Job, model: str | None) -> Request:
        model = model or COSYVOICE
        opts = dict(job.options)
        fmt = opts.get("response_format", "wav")
        rate = int(opts.get("sample_rate") or {"opus": 48000, "mp3": 44100}.get(fmt, 24000))
        body: dict[str, Any] = {"model": model, "input": self._input(job, model),
                                "response_format": fmt, "sample_rate": rate,
                                "stream": opts.get("stream", True)}
        if job.speed != 1.0:
            body["speed"] = job.speed
        if "gain" in opts:
            body["gain"] = opts["gain"]
        dialogue = any(text.startswith("[S") for _, text in job.references)
        if dialogue or (job.references and not job.voice):
            body["references"] = [{"audio": clip_data_uri(clip) if isinstance(clip, Path)
                                   else clip, "text": text} for clip, text in job.references]
        elif job.voice:
            body["voice"] = self.voice_id(model, job.voice)
        if model == MOSS:  # the plan sizes each job's max_tokens; a bare job asks for its text
            body["max_tokens"] = opts.get("max_tokens") or moss.max_tokens(
                moss.expected_seconds(job.text, job.speed))
        return Request(body, fmt, rate)

    @staticmethod
    def _input(job: Job, model: str) -> str:
        """CosyVoice2 takes direction as an instruction before `<|endofprompt|>`."""
        direction = " ".join(p for p in (
            f"Can you say it with a {job.emotion} emotion?" if job.emotion else "",
            job.instruction or "") if p)
        if model == COSYVOICE and direction:
            return f"{direction}<|endofprompt|>{job.text}"
        return job.text

    def voices(self) -> dict[str, str]:
        return {name: f"{desc}; every model (sent as <model>:{name})"
                for name, desc in SYSTEM_VOICES.items()}

    def remote_voices(self) -> dict[str, str]:
        """Voices uploaded to this account: uri -> model, name and transcript."""
        data = self.call_json("GET", "audio/voice/list")
        results = data.get("results") or [] if isinstance(data, dict) else []
        return {v.get("uri", ""): f"{v.get('model', '')} {v.get('customName', '')}: "
                f"{v.get('text', '')!r}" for v in results if isinstance(v, dict)}

    def clone(self, clip: Path, text: str, name: str, model: str | None) -> str:
        body = {"model": model or self.default_model, "customName": custom_name(name),
                "text": text, "audio": clip_data_uri(clip, "audio/mpeg")}
        data = self.call_json("POST", "uploads/audio/voice", json=body)
        uri = data.get("uri") if isinstance(data, dict) else None
        if not isinstance(uri, str) or not uri:
            from ..errors import ProviderError
            raise ProviderError("siliconflow: the upload answer held no uri")
        return uri

    def delete_voice(self, voice: str) -> None:
        self.call_json("POST", "audio/voice/deletions", json={"uri": voice})


def custom_name(name: str) -> str:
    """A customName the service accepts: letters, digits, `_` and `-`, at most 64."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return (cleaned or "voice")[:64]

