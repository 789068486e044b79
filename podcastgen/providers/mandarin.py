"""Mandarin for the local provider: eSpeak NG's `cmn` voice, from the espeakng-loader wheel.

The wheel ships libespeak-ng and its data (the `cmn` dictionary among them) but no Python
API; `espeak_process` makes the few ctypes calls we need, in a process of its own for each
text, so the same text always gives the same samples (see there why). Robotic, but it
speaks: a draft of a Chinese script sounds like its script, with its timing.

`runs` splits a line by script, so mixed lines go to the engine that speaks each part.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

VOICE = "cmn"
PITCH_RANGE = 60  # 0-100: how far the tones move around the pitch
TIMEOUT_S = 60.0  # per text, plus a second per 20 characters: a hang becomes an error

# Han characters, CJK punctuation and full-width forms are spoken in Mandarin; Latin letters
# in English; digits, spaces and ASCII punctuation go with the run they are in.
_HAN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
                  r"\U00020000-\U0002ffff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_WORKER = Path(__file__).with_name("espeak_process.py")


def is_han(char: str) -> bool:
    return bool(_HAN.match(char))


def runs(text: str) -> list[tuple[bool, str]]:
    """`text` as consecutive (is Mandarin, part) runs; the parts join back to `text`."""
    out: list[tuple[bool, str]] = []
    current: bool | None = None
    part = ""
    for char in text:
        kind = True if is_han(char) else False if _LATIN_LETTER.match(char) else None
        if kind is not None and current is not None and kind != current:
            out.append((current, part))
            part = ""
        if kind is not None:
            current = kind
        part += char
    if part:
        out.append((bool(current), part))
    return out


def speak(text: str, *, pitch: int, rate: int) -> tuple[np.ndarray, int]:
    """`text` in Mandarin: float samples and their rate. `pitch` 0-100, `rate` in words a
    minute (80-450). The same arguments give the same samples."""
    import espeakng_loader

    command = [sys.executable, "-I", str(_WORKER), espeakng_loader.get_library_path(),
               espeakng_loader.get_data_path(), VOICE, str(rate), str(pitch), str(PITCH_RANGE)]
    try:
        done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                              timeout=TIMEOUT_S + len(text) / 20, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError("eSpeak NG did not finish speaking this text") from None
    if done.returncode != 0 or len(done.stdout) < 4:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or \
            [f"exit status {done.returncode}"]
        raise RuntimeError(f"eSpeak NG failed: {reason[0]}")
    samples = np.frombuffer(done.stdout[4:], dtype="<i2").astype(np.float32) / 32768.0
    return samples, int.from_bytes(done.stdout[:4], "little")
