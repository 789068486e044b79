"""Fixtures and small tools shared by the emulator tests: one emulator per module, reset
before each test, and a plain httpx client that talks to it as a provider's client would."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from podcastgen import ffmpeg
from podcastgen.emulator import Emulator

MOSS = "fnlp/MOSS-TTSD-v0.5"
COSY = "FunAudioLLM/CosyVoice2-0.5B"
INDEX = "IndexTeam/IndexTTS-2"
COZE_VOICE = "7426720361732915209"  # 爽快思思: big model, six emotions
COZE_SMALL = "7426725529589596187"  # a small-model voice: no emotions, speed 0.2-3


@pytest.fixture(scope="module")
def server():
    with Emulator() as emu:
        yield emu


@pytest.fixture()
def emu(server):
    server.reset()
    return server


@pytest.fixture()
def full_openai(emu):
    """The emulator's OpenAI speaking OpenAI's own endpoint (gpt-4o-mini-tts, newer voices,
    wav/pcm, instructions, SSE) rather than the relay's document, until the next reset."""
    emu.providers["openai"].profile = "openai"
    return emu


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=20) as client:
        yield client


def auth(emu: Emulator, provider: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.keys[provider]}"}


def post(http: httpx.Client, emu: Emulator, provider: str, body, endpoint="/audio/speech", **kw):
    return http.post(emu.base_url(provider) + endpoint, json=body, headers=auth(emu, provider),
                     **kw)


def probe(tmp_path: Path, data: bytes, name: str = "clip") -> tuple[str, int, np.ndarray]:
    """(codec, sample rate) as ffmpeg reads the bytes, and the samples decoded at that rate."""
    path = tmp_path / name
    path.write_bytes(data)
    err = ffmpeg.run(["-i", str(path), "-f", "null", "-"]).stderr.decode()
    found = re.search(r"Audio: (\w+).*?, (\d+) Hz", err)
    rate = int(found.group(2))
    return found.group(1), rate, ffmpeg.decode(path, rate)


def cosy(text: str = "Hello there. This is a test of the emulator.", **extra) -> dict:
    return {"model": COSY, "input": text, "voice": f"{COSY}:anna", **extra}


def openai(text: str = "Hello from the emulator.", **extra) -> dict:
    """A request as the relay's document allows it."""
    return {"model": "tts-1", "input": text, "voice": "alloy", **extra}


def openai_full(text: str = "Hello from the emulator.", **extra) -> dict:
    """A request only OpenAI's own endpoint takes (see full_openai)."""
    return {"model": "gpt-4o-mini-tts", "input": text, "voice": "coral", **extra}


def stepfun(text: str = "你好，欢迎收听。", **extra) -> dict:
    return {"model": "step-tts-mini", "input": text, "voice": "cixingnansheng", **extra}


def coze(text: str = "你好，欢迎收听。", **extra) -> dict:
    return {"input": text, "voice_id": COZE_VOICE, **extra}


SPEECH = {"siliconflow": cosy, "openai": openai, "stepfun": stepfun, "coze": coze}
