"""Tools for builds against the provider emulator: a reference clip, the build command, and
the seed schemas each logged request must satisfy (the fixtures are in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from podcastgen.cli import main

from .helpers import write_wav

SF_MODELS = ("fnlp/MOSS-TTSD-v0.5", "FunAudioLLM/CosyVoice2-0.5B", "IndexTeam/IndexTTS-2")
SF_VOICES = ("alex", "benjamin", "charles", "david", "anna", "bella", "claire", "diana")
SF_RATES = {"opus": (48000,), "mp3": (32000, 44100), "wav": (8000, 16000, 24000, 32000, 44100),
            "pcm": (8000, 16000, 24000, 32000, 44100)}
DATA_URI = re.compile(r"^data:audio/\w+;base64,[A-Za-z0-9+/=]+$")


def write_clip(path: Path, seconds: float = 2.0, f0: float = 140.0) -> Path:
    """A small real WAV to use as a reference clip."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * f0 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return write_wav(path, tone, rate)


def build(*args: str) -> int:
    return main(["build", *args])


def check_siliconflow(body: dict[str, Any]) -> None:
    """SiliconFlow's seed schemas (MOSS-TTSD-v0.5, CosyVoice2-0.5B), field by field."""
    model = body["model"]
    assert model in SF_MODELS
    allowed = {"model", "input", "voice", "references", "response_format", "sample_rate",
               "stream", "speed", "gain"} | ({"max_tokens"} if model == SF_MODELS[0] else set())
    assert set(body) <= allowed, set(body) - allowed
    assert isinstance(body["input"], str) and 1 <= len(body["input"]) <= 128000
    assert ("voice" in body) != ("references" in body)  # mutually exclusive, one required
    if "voice" in body:
        voice = body["voice"]
        assert voice.startswith("speech:") or voice in {f"{model}:{v}" for v in SF_VOICES}
    for ref in body.get("references", []):  # a data-URI or a URL, as the schema says
        assert set(ref) == {"audio", "text"}
        assert DATA_URI.match(ref["audio"]) or re.match(r"^https?://\S+$", ref["audio"])
    fmt = body.get("response_format", "mp3")
    assert fmt in SF_RATES and body.get("sample_rate", SF_RATES[fmt][-1]) in SF_RATES[fmt]
    assert 0.25 <= body.get("speed", 1) <= 4 and -10 <= body.get("gain", 0) <= 10
    assert isinstance(body.get("stream", True), bool)
    if "max_tokens" in body:
        assert isinstance(body["max_tokens"], int)
        assert len(body["input"]) + body["max_tokens"] <= 32000


def check_openai(body: dict[str, Any]) -> None:
    """The relay's document (seed 001), and nothing else."""
    assert set(body) <= {"model", "input", "voice", "response_format", "speed"}
    assert {"model", "input", "voice"} <= set(body)
    assert body["model"] in ("tts-1", "tts-1-hd")
    assert 1 <= len(body["input"]) <= 4096
    assert body["voice"] in ("alloy", "echo", "fable", "onyx", "nova", "shimmer")
    assert body.get("response_format", "mp3") in ("mp3", "opus", "aac", "flac")
    assert 0.25 <= body.get("speed", 1) <= 4


def check_stepfun(body: dict[str, Any]) -> None:
    allowed = {"model", "input", "voice", "response_format", "speed", "volume", "voice_label",
               "instruction", "sample_rate", "pronunciation_map", "stream_format",
               "markdown_filter"}
    assert set(body) <= allowed and {"model", "input", "voice"} <= set(body)
    assert body["model"] in ("step-tts-mini", "step-tts-2", "stepaudio-2.5-tts")
    assert 1 <= len(body["input"]) <= 1000
    assert body.get("response_format", "mp3") in ("wav", "mp3", "flac", "opus", "pcm")
    assert body.get("sample_rate", 24000) in (8000, 16000, 22050, 24000, 48000)
    assert 0.5 <= body.get("speed", 1) <= 2 and 0.1 <= body.get("volume", 1) <= 2
    if body["model"] == "stepaudio-2.5-tts":
        assert "voice_label" not in body and len(body.get("instruction", "")) <= 200
    else:
        assert "instruction" not in body
        assert len(body.get("voice_label", {"x": 1})) == 1
    assert body.get("stream_format", "audio") in ("audio", "sse")


def check_coze(body: dict[str, Any]) -> None:
    allowed = {"input", "voice_id", "emotion", "emotion_scale", "response_format", "speed",
               "sample_rate", "loudness_rate", "context_texts"}
    assert set(body) <= allowed and {"input", "voice_id"} <= set(body)
    assert 1 <= len(body["input"].encode("utf-8")) <= 1024
    assert body.get("response_format", "mp3") in ("wav", "pcm", "ogg_opus", "mp3")
    assert body.get("sample_rate", 24000) in (8000, 16000, 22050, 24000, 32000, 44100, 48000)
    assert 0.2 <= body.get("speed", 1) <= 3 and -50 <= body.get("loudness_rate", 0) <= 100
    if "emotion_scale" in body:
        assert "emotion" in body and 1 <= body["emotion_scale"] <= 5


SCHEMAS = {"siliconflow": check_siliconflow, "openai": check_openai, "stepfun": check_stepfun,
           "coze": check_coze}
