"""Captions that read well: an episode with a 1,500-character turn, built with the local voices,
its captions read back with webvtt-py and srt, and each cue's start compared with where its
first word starts in the decoded audio, as an offline recognizer (pocketsphinx, aligning the
words to the audio) hears it, not as the build's own timing says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pocketsphinx import Decoder

from podcastgen import ffmpeg
from podcastgen.captions import caption_cues

from .caption_checks import MAX_CJK_CHARS, check_sidecars

LONG_TURN = (
    "Making a podcast at home used to mean a quiet room, a good microphone and a lot of "
    "patience. Today a producer can write the whole conversation as a script, and the computer "
    "reads every line in a voice that sounds close to a real person. The script is the heart "
    "of the work, because it decides what each speaker says and in which order the listener "
    "hears the ideas that matter most. When the text is ready, the program turns every line "
    "into sound and places the pieces on a timeline, with short gaps between the speakers so "
    "that nobody talks over anyone else. After that the whole episode is brought to the same "
    "level that most listening apps expect, which means the audience never has to reach for "
    "the volume button in the middle of a story. Captions come next, and they matter more than "
    "many people think, because a large part of the audience listens in noisy places or "
    "cannot hear well at all. Good captions are short enough to read at a glance. They appear "
    "when the words are spoken, rather than a few seconds too early or too late, and they "
    "never cover more than two short lines of the screen. Some people read along while they "
    "cook or travel to work, and for them the timing of each line is what makes the words feel "
    "alive. Finally the program writes the tags, "
    "the chapters and the show notes, so that every app can show the right title and the "
    "right picture for each episode in the feed. That is the whole journey from a blank page "
    "to a finished show, and every step of it can be checked."
)
EPISODE = f"""\
title: Captions
speakers:
  host: {{name: Sam Hill, voice: joe-calm}}
  guest: {{name: Ada Lee, voice: joe-bright}}
output: {{formats: [flac], sample_rate: 44100}}
script:
  - host: "{LONG_TURN}"
  - guest: Thank you, that was a very clear answer.
"""
NAMES = {"Sam Hill", "Ada Lee"}
ASR_RATE = 16000
FRAME_S = 0.01  # pocketsphinx's frame


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("captions")
    (project / "podcastgen.yaml").write_text("")
    (project / "ep.yaml").write_text(EPISODE)
    proc = subprocess.run([sys.executable, "-m", "podcastgen", "build", "ep.yaml", "-o", "out",
                           "-q", "--no-cache"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return project / "out"


def word_starts(audio: np.ndarray, words: list[str]) -> list[float]:
    """Where each of `words` starts in `audio` (16 kHz), by pocketsphinx's forced alignment."""
    decoder = Decoder(samprate=ASR_RATE, loglevel="FATAL")
    missing = [w for w in words if decoder.lookup_word(w) is None]
    assert not missing, f"the test text must use dictionary words: {missing}"
    decoder.set_align_text(" ".join(words))
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    found = [s for s in decoder.seg() if s.word not in ("<s>", "</s>", "<sil>", "(NULL)")]
    assert [re.sub(r"\(\d+\)$", "", s.word) for s in found] == words
    return [s.start_frame * FRAME_S for s in found]


def spoken(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_every_cue_fits_a_viewer_and_starts_where_its_words_start(built: Path) -> None:
    assert 1450 <= len(LONG_TURN) <= 1600
    cues = check_sidecars(built, "ep", NAMES)
    assert len(cues) >= 15  # the long turn is many cues, not a wall of text
    assert {c.speaker for c in cues[:-1]} == {"Sam Hill"}  # never crossing a turn
    assert cues[-1].speaker == "Ada Lee"
    words = [spoken(" ".join(c.lines)) for c in cues]
    assert sum(words, []) == spoken(LONG_TURN) + spoken("Thank you, that was a very clear answer.")
    audio = ffmpeg.decode(built / "ep.flac", ASR_RATE)
    starts = word_starts(audio, sum(words, []))
    first = np.cumsum([0] + [len(w) for w in words[:-1]])
    late = [(round(cue.start - starts[k], 3), " ".join(cue.lines)[:40])
            for cue, k in zip(cues, first) if abs(cue.start - starts[k]) > 0.15]
    assert not late, late


def test_cues_end_at_sentence_and_clause_ends_where_they_can(built: Path) -> None:
    cues = check_sidecars(built, "ep", NAMES)
    endings = [" ".join(c.lines)[-1] for c in cues]
    assert sum(e in ".,?!" for e in endings) >= 0.7 * len(cues), endings


def test_chinese_cues_hold_at_most_16_characters_a_line() -> None:
    text = "今天我们来聊一聊播客制作的整个流程，从脚本到混音，再到发布。" * 4
    cues = caption_cues(text, 10.0, 40.0, lead="李雷: ")
    assert len(cues) >= 4 and cues[0].start_s == 10.0 and cues[-1].end_s == 40.0
    assert "".join(c.text for c in cues) == text
    for cue in cues:
        assert len(cue.text) <= 2 * MAX_CJK_CHARS
        assert cue.text[-1] in "，。"  # cut at the punctuation, not inside a phrase
        assert cue.end_s - cue.start_s <= 7.0


def test_without_audio_cues_follow_the_length_of_their_text() -> None:
    cues = caption_cues("Yes. " + "A much longer sentence, which takes its time to say. " * 3,
                        0.0, 12.0)
    assert len(cues) >= 2 and cues[0].start_s == 0.0 and cues[-1].end_s == 12.0
    assert all(a.end_s == b.start_s for a, b in zip(cues, cues[1:]))
    seconds = [c.end_s - c.start_s for c in cues]
    letters = [sum(ch.isalpha() for ch in c.text) for c in cues]
    for share, size in zip(seconds, letters):  # time in proportion to what is said
        assert share / 12.0 == pytest.approx(size / sum(letters), rel=0.35)
