"""Every named local voice stays intelligible: an offline recognizer that ships its own model
(pocketsphinx) reads fixed sentences in each voice, and no voice may score a word error rate
more than 0.1 worse than the unmodified model (`joe`). Nothing is cached: each voice is
synthesized afresh on every run."""

from __future__ import annotations

import re

import jiwer
import numpy as np
import pytest
from pocketsphinx import Decoder

from podcastgen.audio import resample
from podcastgen.providers import Job, get
from podcastgen.providers.local import VOICES

ASR_RATE = 16000
MARGIN = 0.1
SENTENCES = (
    "The weather today is cold and windy with a chance of rain.",
    "Please bring the blue folder to the meeting on Friday.",
    "We planted seven trees in the garden last spring.",
    "She read the letter twice before she answered it.",
    "Our team will publish a new episode every week.",
    "The train leaves the station at nine in the morning.",
)


def heard(voice: str, decoder: Decoder) -> list[str]:
    """What the recognizer hears for each sentence spoken in `voice`."""
    out = []
    for sentence in SENTENCES:
        audio = get("local").synthesize(Job(0, (0,), "a", sentence, "local", voice))
        samples = resample(audio.samples, audio.sample_rate, ASR_RATE)
        samples = samples / max(1e-6, float(np.abs(samples).max())) * 0.8
        quiet = np.zeros(ASR_RATE // 5, np.float32)  # room before and after, as in a recording
        pcm = (np.concatenate([quiet, samples, quiet]) * 32767).astype(np.int16)
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        out.append(decoder.hyp().hypstr if decoder.hyp() else "")
    return out


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


@pytest.fixture(scope="module")
def error_rates() -> dict[str, float]:
    decoder = Decoder(samprate=ASR_RATE, loglevel="FATAL")
    reference = [words(s) for s in SENTENCES]
    return {voice: jiwer.wer(reference, [words(h) for h in heard(voice, decoder)])
            for voice in VOICES}


def test_every_voice_is_understood_about_as_well_as_the_model_itself(
        error_rates: dict[str, float]) -> None:
    assert error_rates["joe"] < 0.3, error_rates  # the recognizer follows the model at all
    worse = {voice: rate for voice, rate in error_rates.items()
             if rate > error_rates["joe"] + MARGIN}
    assert not worse, error_rates


def test_there_are_at_least_three_voices_besides_the_model() -> None:
    assert len(VOICES) >= 4 and "joe" in VOICES
