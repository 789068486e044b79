"""Caption cues: a turn cut into pieces short enough to read while they are spoken, each timed
from the turn's own audio.

A cue holds at most MAX_LINES lines of `publish.LINE_WIDTH` columns (42 Latin characters or
16 Chinese ones) and lasts at most MAX_S seconds. Pieces end at sentence ends where they can,
else at clause ends, else between words (between characters in Chinese): dynamic
programming picks the fewest, fullest pieces with the strongest breaks. The first piece of a
turn leaves room for the `Name: ` an SRT cue starts with.

Timing comes from the audio, before the text is cut. The turn is read as phrases, one per
stretch of text between punctuation; speakers pause there, so `align.cuts` finds the pauses
in the audio and picks those whose spacing best matches the phrases' expected lengths (where
a voice ran a phrase on without a pause, the quietest moment near the expected place). Inside
a phrase, each word starts where a length model puts it: phonemes for English (as eSpeak NG
reads the word), characters for Chinese, scaled to the phrase's measured length, so the model
is calibrated to this voice, at this speed, in this very phrase; the last word of a phrase is
drawn out, as speakers do. Cues never cross a turn.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .align import FRAME_S, cuts, envelope, loud_frames, pauses
from .model import Caption
from .moss import ZH_CHARS_PER_S
from .publish import LINE_WIDTH, columns, is_cjk, wrap
from .text import CLAUSE_MARKS, CLOSERS, SENTENCE_MARKS

MAX_LINES = 2
MAX_S = 7.0  # the longest a cue may last
ONSET_LEAD_S = 0.0  # a cue after a pause appears this much before the speech resumes
WORD_PAUSE_S = 0.12  # a silence inside a phrase this long is a pause between words
PHONEMES_PER_S = 12.5  # English speech; only the ratio to Chinese characters matters
FINAL_LENGTHENING = 1.5  # the last word before a pause lasts this much longer
BREAK_COST = {3: 0.0, 2: 0.6, 1: 1.5}  # ending a cue after a sentence, a clause, a word
UNSURE_COST = 3.0  # and more for a cut between words the further it is from a pause
UNSURE_S = 1.0  # ... up to this far: the length model's error grows with the distance
FILL_WEIGHT = 0.5  # prefer full cues to a full cue and a scrap
_SENTENCE_MARK = re.compile(rf"[{SENTENCE_MARKS}.][{CLOSERS}]*$")
_CLAUSE_MARK = re.compile(rf"[{CLAUSE_MARKS}][{CLOSERS}]*$")
_lock = threading.Lock()  # eSpeak NG's phonemizer is one per process


@dataclass(frozen=True)
class _Unit:
    """A piece no cue boundary falls inside: a word, or one Chinese character (with the
    punctuation that follows it)."""

    text: str
    spaced: bool  # whitespace came before it
    strength: int  # how good a place to end a cue right after it is: 3, 2 or 1


def caption_cues(text: str, start_s: float, end_s: float, samples: np.ndarray | None = None,
                 rate: int = 0, lead: str = "") -> tuple[Caption, ...]:
    """The turn `text`, spoken from `start_s` to `end_s` (its audio `samples` at `rate`, if
    known), as caption cues in order; `lead` is what the first cue's first line starts with."""
    end_s = max(start_s, end_s)
    units = _units(text)
    if not units:
        return (Caption("", start_s, end_s),)
    times, paused = unit_times(units, samples, rate, end_s - start_s)
    edges = _pieces(units, times, paused, lead)
    return tuple(Caption(_joined(units[i:j]), start_s + times[i],
                         end_s if j == len(units) else start_s + times[j])
                 for i, j in itertools.pairwise(edges))


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    for match in re.finditer(r"(\s*)(\S+)", text):
        spaced = bool(match.group(1))
        for piece in _split_chinese(match.group(2)):
            units.append(_Unit(piece, spaced, _strength(piece)))
            spaced = False
    if units:
        units[-1] = _Unit(units[-1].text, units[-1].spaced, 3)  # the end of the turn
    return units


def _split_chinese(word: str) -> list[str]:
    """A word as units: each Chinese character starts one, and so does a change back to
    another script; punctuation stays with what it follows."""
    out: list[str] = []
    for char in word:
        if not out or char.isalnum() and (is_cjk(char) or is_cjk(out[-1][-1])):
            out.append(char)
        else:
            out[-1] += char
    return out


def _strength(unit: str) -> int:
    if _SENTENCE_MARK.search(unit):
        return 3
    return 2 if _CLAUSE_MARK.search(unit) else 1


def _joined(units: Sequence[_Unit]) -> str:
    return "".join((" " if u.spaced and i else "") + u.text for i, u in enumerate(units))


# -- timing ------------------------------------------------------------------------------------

def unit_times(units: Sequence[_Unit], samples: np.ndarray | None, rate: int,
               span: float) -> tuple[list[float], set[int]]:
    """When each unit starts, in seconds from the start of the turn, and (last) its end; and
    the units a pause in the audio comes before (a cue may start there as well as after a
    clause)."""
    lengths = [spoken_seconds(u.text) for u in units]
    phrases = [0] + [k + 1 for k, u in enumerate(units[:-1]) if u.strength >= 2] + [len(units)]
    weights = [sum(lengths[a:b]) for a, b in itertools.pairwise(phrases)]
    bounds = _phrase_bounds(weights, samples, rate, span)
    found = _gaps(samples, rate) if samples is not None and rate else []
    times: list[float] = []
    paused: set[int] = set()
    for (a, b), (start, end) in zip(itertools.pairwise(phrases), bounds):
        inside = [(gs, ge) for gs, ge in found if start < gs and ge < end]
        phrase, anchored = _within(lengths[a:b], start, end, inside)
        times += phrase
        paused |= {a + k for k in anchored}
    return list(itertools.accumulate(times + [span], max)), paused  # never out of order


def _within(lengths: list[float], start: float, end: float,
            gaps: list[tuple[float, float]]) -> tuple[list[float], list[int]]:
    """When each unit of a phrase starts: spread by the length model from `start` to `end`,
    then anchored at each pause inside the phrase (a speaker's breath before "and", say),
    placed between the two words that make the speech on either side of it equally fast;
    and the units that start after a pause."""
    times = _spread(lengths, start, end)
    first, anchored = 0, [0]  # the units before `first` are anchored
    for gap_start, gap_end in gaps:
        if first + 1 >= len(lengths):
            break
        k = min(range(first + 1, len(lengths)), key=lambda k: abs(np.log(
            _pace(lengths[first:k], gap_start - times[first])
            / _pace(lengths[k:], end - gap_end))))
        times[first:k] = _spread(lengths[first:k], times[first], gap_start)
        times[k:] = _spread(lengths[k:], max(gap_start, gap_end - ONSET_LEAD_S), end)
        first = k
        anchored.append(k)
    return times, anchored


def _pace(lengths: list[float], seconds: float) -> float:
    """Seconds of speech per second the length model expects (the last unit drawn out)."""
    expected = sum(lengths[:-1]) + lengths[-1] * FINAL_LENGTHENING
    return max(seconds, 1e-3) / max(expected, 1e-3)


def _spread(lengths: list[float], start: float, end: float) -> list[float]:
    """Start times for units of these lengths said from `start` to `end`, the last drawn out."""
    drawn = [*lengths[:-1], lengths[-1] * FINAL_LENGTHENING] if lengths else []
    total = sum(drawn) or 1.0
    return [start + (end - start) * sum(drawn[:k]) / total for k in range(len(drawn))]


def _gaps(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """The pauses in the audio long enough to be between words, (start, end) in seconds
    (shorter silences are often a stop consonant's closure)."""
    found = pauses(loud_frames(envelope(samples, rate)))
    return [(a * FRAME_S, b * FRAME_S) for a, b in found if (b - a) * FRAME_S >= WORD_PAUSE_S]


def _phrase_bounds(weights: list[float], samples: np.ndarray | None, rate: int,
                   span: float) -> list[tuple[float, float]]:
    """(start, end) of each phrase's speech: from the pauses in the audio where it has speech,
    else in proportion to the phrases' expected lengths."""
    if samples is None or not rate or len(weights) < 2 \
            or not loud_frames(envelope(samples, rate)).any():
        edges = [span * sum(weights[:k]) / (sum(weights) or 1.0) for k in range(len(weights))]
        return list(zip(edges, [*edges[1:], span]))
    found = cuts(samples, rate, [max(w, 0.05) for w in weights])
    starts = [0.0] + [c.at if c.soft else max(c.start, c.end - ONSET_LEAD_S) for c in found]
    ends = [c.at if c.soft else c.start for c in found] + [span]
    return list(zip(starts, ends))


def spoken_seconds(text: str) -> float:
    """How long `text` takes to say, roughly: the length model for timing inside a phrase."""
    cjk = sum(1 for ch in text if is_cjk(ch) and ch.isalnum())
    rest = "".join(" " if is_cjk(ch) else ch for ch in text)
    return cjk / ZH_CHARS_PER_S + _phonemes(rest) / PHONEMES_PER_S


def _phonemes(text: str) -> float:
    """Phonemes in `text` as eSpeak NG reads it in English (a long vowel counts one and a
    half); 0 when it holds no word."""
    if not any(ch.isalnum() for ch in text):
        return 0.0
    with _lock:
        phones = [p for s in _phonemizer().phonemize("en-us", text) for p in s]
    sounds = sum(1 for p in phones if unicodedata.category(p).startswith("L") and p not in "ˈˌː")
    return sounds + 0.5 * phones.count("ː")


@functools.cache
def _phonemizer():  # type: ignore[no-untyped-def]
    """Piper's eSpeak NG phonemizer (with the data its wheel ships), started once."""
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


# -- cutting -----------------------------------------------------------------------------------

def _pieces(units: list[_Unit], times: list[float], paused: set[int], lead: str) -> list[int]:
    """The unit indexes where cues start (and, last, the end): the best split by dynamic
    programming over cut positions. A cut where the speaker paused costs no more than one
    after a clause: its time is measured, where a cut between two words is estimated, the
    better the nearer it is to a pause."""
    anchors = np.array(sorted(times[k] for k in paused | {0, len(units)}))
    unsure = [UNSURE_COST * min(1.0, float(np.abs(anchors - t).min()) / UNSURE_S) for t in times]
    best = [0.0] + [float("inf")] * len(units)
    back = [0] * (len(units) + 1)
    for j in range(1, len(units) + 1):
        for i in range(j - 1, -1, -1):
            fill = _fill(_joined(units[i:j]), lead if i == 0 else "", times[j] - times[i])
            if fill > 1.0 and i < j - 1:
                break  # longer pieces only get longer
            strength = max(units[j - 1].strength, 2 if j in paused else 1)
            cost = best[i] + 1 + BREAK_COST[strength] + (unsure[j] if strength == 1 else 0.0) \
                + FILL_WEIGHT * (1 - min(fill, 1.0)) ** 2
            if cost < best[j]:
                best[j], back[j] = cost, i
    edges, j = [len(units)], len(units)
    while j > 0:
        j = back[j]
        edges.append(j)
    return edges[::-1]


def _fill(piece: str, lead: str, seconds: float) -> float:
    """How full a cue `piece` makes, as the larger of its share of the lines and of the time
    (above 1: it does not fit)."""
    lines = wrap(lead + piece, LINE_WIDTH) or [""]
    if len(lines) > MAX_LINES:
        return 2.0
    used = len(lines) - 1 + columns(lines[-1]) / LINE_WIDTH
    return max(used / MAX_LINES, seconds / MAX_S)
