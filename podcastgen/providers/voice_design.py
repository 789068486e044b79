"""The named local voices, each made from the one bundled model, and how each is made.

One English model ships, so distinct hosts are derived from it along four lines a listener
hears, each kept within what a speech recognizer still follows (the tests measure it):

- **pitch**, moved by PSOLA (Praat's "Change gender", through parselmouth), which shifts the
  voice's fundamental and keeps its formants, so vowels stay the vowels they were. Shifting
  pitch and formants together by resampling, as this module once did, read a −4 semitone
  voice as almost nothing intelligible;
- **formants**, moved a little (at most ±8 %): a shorter or longer vocal tract, the difference
  between a lighter and a fuller voice;
- **intonation and pace**: the pitch range around the voice's median (a lively or a level
  melody) and Piper's length and noise scales (speed, expressiveness, rhythm);
- **timbre**: a gentle spectral tilt around 1 kHz, brighter or darker.

Chinese text is spoken by eSpeak NG, which has no formants to borrow: each voice names the
pitch and pace it speaks Mandarin at instead.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 75.0, 600.0  # Praat's pitch analysis range for speech
SHORTEST_S = 0.1  # too short to analyse the pitch of: left as synthesized
TILT_LIMIT_DB = 9.0  # the tilt's largest boost or cut, at the ends of the spectrum
_praat = threading.Lock()  # Praat's random generator is one per process


@dataclass(frozen=True)
class LocalVoice:
    description: str
    semitones: float = 0.0  # pitch shift, formants kept
    formant: float = 1.0  # formant ratio: >1 a shorter vocal tract, a lighter voice
    intonation: float = 1.0  # pitch range around the median: >1 more melody, <1 more level
    pace: float = 1.0  # Piper's length scale: >1 slower, <1 faster
    noise: float = 0.667  # Piper's noise scale: expressiveness
    noise_w: float = 0.8  # Piper's phoneme-width noise: rhythm variation
    tilt: float = 0.0  # dB per octave around 1 kHz: >0 brighter, <0 darker
    mandarin_pitch: int = 50  # eSpeak NG pitch (0-100) for Chinese text
    mandarin_rate: int = 175  # eSpeak NG words a minute for Chinese text

    @property
    def reshaped(self) -> bool:
        return (self.semitones, self.formant, self.intonation) != (0.0, 1.0, 1.0)


VOICES: dict[str, LocalVoice] = {
    "joe": LocalVoice("the bundled en_US voice as recorded: mid pitch, even pace",
                      mandarin_pitch=40),
    "joe-bright": LocalVoice("higher and lighter (+5 semitones, formants +8 %), brighter, a "
                             "little quicker", 5.0, 1.08, 1.1, 0.92, 0.72, 0.85, 1.5,
                             mandarin_pitch=75, mandarin_rate=185),
    "joe-deep": LocalVoice("lower (−4 semitones), darker and unhurried", -4.0, 1.0, 0.9, 1.1,
                           0.6, 0.75, -1.5, mandarin_pitch=15, mandarin_rate=165),
    "joe-lively": LocalVoice("slightly higher (+2 semitones), wide melody, fast and animated",
                             2.0, 1.03, 1.5, 0.8, 0.8, 0.95, 0.5, mandarin_pitch=60,
                             mandarin_rate=195),
    "joe-calm": LocalVoice("slightly lower (−2 semitones), level, slow and soft", -2.0, 1.0,
                           0.7, 1.22, 0.5, 0.6, -0.75, mandarin_pitch=30, mandarin_rate=160),
}


def shaped(samples: np.ndarray, rate: int, voice: LocalVoice, seed: int = 0) -> np.ndarray:
    """`samples` as `voice` says: pitch, formants and melody, then timbre; same length. PSOLA
    fills unvoiced stretches with randomly chosen pieces: `seed` makes the choice repeatable."""
    if voice.reshaped and len(samples) >= SHORTEST_S * rate:
        samples = _psola(samples, rate, voice, seed)
    if voice.tilt:
        samples = tilted(samples, rate, voice.tilt)
    return samples.astype(np.float32)


def _psola(samples: np.ndarray, rate: int, voice: LocalVoice, seed: int) -> np.ndarray:
    """Praat's "Change gender": new pitch median and range, formants scaled, length kept."""
    import parselmouth
    from parselmouth.praat import call, run

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    median = call(pitch, "Get quantile", 0, 0, 0.5, "Hertz")
    target = median * 2.0 ** (voice.semitones / 12.0) if math.isfinite(median) else 0.0
    with _praat:
        run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
        changed = call(sound, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ, voice.formant,
                       target, voice.intonation, 1.0)
    out = changed.values[0]
    if len(out) < len(samples):
        out = np.concatenate([out, np.zeros(len(samples) - len(out))])
    return out[: len(samples)]


def tilted(samples: np.ndarray, rate: int, db_per_octave: float) -> np.ndarray:
    """A straight spectral tilt through 1 kHz (0 dB there), limited to ±TILT_LIMIT_DB."""
    spectrum = np.fft.rfft(samples.astype(np.float64))
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    octaves = np.log2(np.maximum(freqs, 1.0) / 1000.0)
    db = np.clip(db_per_octave * octaves, -TILT_LIMIT_DB, TILT_LIMIT_DB)
    return np.fft.irfft(spectrum * 10.0 ** (db / 20.0), n=len(samples))
