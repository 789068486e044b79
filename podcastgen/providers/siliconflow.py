"""SiliconFlow: MOSS-TTSD-v0.5 (two-speaker dialogue), CosyVoice2-0.5B (the default) and
IndexTTS-2, with system voices, uploaded `speech:` voices and reference clips.

The service rejects unknown fields (code 20012), so only fields its schema names are sent.
A dialogue block's references go as 16 kHz mono MP3 data-URIs with `[S1]`/`[S2]` transcripts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from .base import Job, ProviderConfig
from .cloud import CloudProvider, Opt, Request, clip_data_uri, expected_seconds

MOSS = "fnlp/MOSS-TTSD-v0.5"
COSYVOICE = "FunAudioLLM/CosyVoice2-0.5B"
INDEXTTS = "IndexTeam/IndexTTS-2"
SYSTEM_VOICES = {
    "alex": "male, steady", "benjamin": "male, deep", "charles": "male, magnetic",
    "david": "male, cheerful", "anna": "female, steady", "bella": "female, passionate",
    "claire": "female, gentle", "diana": "female, sweet",
}
RATES = {"opus": (48000,), "mp3": (32000, 44100), "wav": (8000, 16000, 24000, 32000, 44100),
         "pcm": (8000, 16000, 24000, 32000, 44100)}
TOKENS_PER_S = 12.5  # MOSS-TTSD audio tokens per second of speech
MAX_TOKENS = 32000  # input + output


class SiliconFlowProvider(CloudProvider):
    name = "siliconflow"
    default_model = COSYVOICE
    models = (MOSS, COSYVOICE, INDEXTTS)
    turn_fields = frozenset({"speed", "emotion", "instruction"})
    max_chars = 128000
    can_clone = True
    options: ClassVar[dict[str, Opt]] = {
        "response_format": Opt("choice", choices=tuple(RATES)),
        "sample_rate": Opt("choice", choices=(8000, 16000, 24000, 32000, 44100, 48000)),
        "stream": Opt("bool"),
        "gain": Opt("number", -10, 10),
        "max_tokens": Opt("int", 1, MAX_TOKENS, models=(MOSS,)),
    }

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
            body["references"] = [{"audio": clip_data_uri(path), "text": text}
                                  for path, text in job.references]
        elif job.voice:
            body["voice"] = self.voice_id(model, job.voice)
        if model == MOSS:
            body["max_tokens"] = opts.get("max_tokens") or _moss_tokens(job.text)
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


def _moss_tokens(text: str) -> int:
    """Room for about twice the expected audio, inside the model's 32k-token window."""
    seconds = expected_seconds(text)
    return int(min(MAX_TOKENS - len(text), max(2048, seconds * TOKENS_PER_S * 2)))
