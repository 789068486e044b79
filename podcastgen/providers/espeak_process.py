"""Speak one text with libespeak-ng, in a process of its own: run as a script, never imported.

    python -I espeak_process.py LIBRARY DATA VOICE RATE PITCH RANGE < text > header + samples

libespeak-ng keeps state between calls that no call resets (the pitch "flutter" position, its
gain control, cycle counters), so the same text spoken twice in one process comes out a little
different each time, depending on what was spoken before. A fresh process for each text makes
the samples depend on the text and settings alone; it also keeps a crash in the C library
from taking the build with it. Only the standard library is used, so it starts in a few tens
of milliseconds. Writes the sample rate (4 bytes, little-endian) and then 16-bit PCM.
"""

from __future__ import annotations

import ctypes
import sys

SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS
DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT: report errors, never exit the process
RATE, VOLUME, PITCH, RANGE = 1, 2, 3, 4  # espeak_PARAMETER
POS_CHARACTER, CHARS_UTF8 = 1, 1

Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                            ctypes.c_void_p)


def speak(library: str, data: str, voice: str, settings: list[int], text: bytes) -> bytes:
    """The header and samples for `text`; `settings` is rate, pitch and range."""
    lib = ctypes.CDLL(library)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    chunks: list[bytes] = []

    @Callback
    def receive(wav, count, events):  # type: ignore[no-untyped-def]
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # go on

    rate = lib.espeak_Initialize(SYNCHRONOUS, 0, data.encode(), DONT_EXIT)
    if rate <= 0:
        raise SystemExit("eSpeak NG could not start: its data is missing")
    lib.espeak_SetSynthCallback(receive)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise SystemExit(f"eSpeak NG has no {voice!r} voice in its data")
    for parameter, value in zip((RATE, PITCH, RANGE), settings):
        lib.espeak_SetParameter(parameter, value, 0)
    lib.espeak_SetParameter(VOLUME, 100, 0)
    status = lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
    if status != 0:
        raise SystemExit(f"eSpeak NG could not speak this text (error {status})")
    return rate.to_bytes(4, "little") + b"".join(chunks)


if __name__ == "__main__":
    library, data, voice, *numbers = sys.argv[1:]
    sys.stdout.buffer.write(speak(library, data, voice, [int(n) for n in numbers],
                                  sys.stdin.buffer.read()))
