"""MOSS-TTSD text rules: what its server-side `normalize_text` does, and cleanup that makes
our text a fixed point of it, so what we send is exactly what the model reads.

The server strips 【】《》（）『』「」"-_“”～~, turns ；;：:、 (and in v0.5 !?！？) into commas,
keeps only a segment's last 。, reads 哈哈/haha as a laugh and merges consecutive same-speaker
turns with no separator. `clean()` rewrites a turn so none of that changes it; `normalize()`
models the server (for tests and lint); `stripped()` names what the server would drop.
"""

from __future__ import annotations

import re

from .text import split_text

MODEL = "fnlp/MOSS-TTSD-v0.5"
MAX_SPEAKERS = 2  # per request ([S1], [S2]) on v0.5
TOKENS_PER_SECOND = 12.5  # audio tokens the model emits per second of speech
TOKEN_LIMIT = 32_000  # input + output tokens per request
DEFAULT_MAX_TOKENS = 2048  # the server's max_tokens when none is sent
MAX_REQUEST_SECONDS = 600.0  # expected audio one request is sized for (block_seconds' ceiling)
MIN_SCRIPT_TOKENS = 2_000  # what a producer's own max_tokens must leave for the script
TAG_CHARS = len("[S1]")  # each turn's speaker tag in a dialogue block

STRIP = "【】《》（）『』「」\"-_“”～~"
TO_COMMA = {"；": "，", ";": ",", "：": "，", ":": ",", "、": "，",
            "！": "，", "!": ",", "？": "，", "?": ","}
COMMAS = str.maketrans("".join(TO_COMMA), "".join(TO_COMMA.values()))
ASIDES = str.maketrans("（）[]‘’", "()()''")
TAG = re.compile(r"(?=\[S\d+\])")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
HA_ZH = re.compile(r"哈{2,}")
HA_EN = re.compile(r"\b(ha(\s*ha)+)\b", re.IGNORECASE)
LAUGH_ZH, LAUGH_EN = "(笑)", "(laughs)"

EN_CHARS_PER_S = 14.0  # English speech, spaces included (~150 words a minute)
ZH_CHARS_PER_S = 4.5  # Chinese, Japanese and Korean characters


# -- the server's normalization, modelled ------------------------------------------------------

def normalize(script: str) -> str:
    """What MOSS-TTSD's `normalize_text` makes of a `[S1]...[S2]...` script."""
    script = re.sub(r"\[(\d+)\]", r"[S\1]", script).replace("\n", " ")
    script = re.sub(r"\[(?!S\d+\])([^\]]*)\]", r"\1", script)  # non-speaker brackets go
    merged: list[list[str]] = []
    for segment in TAG.split(script):
        segment = segment.strip()
        if not segment:
            continue
        match = re.match(r"(\[S\d+\])\s*(.*)", segment)
        tag, content = match.groups() if match else ("", segment)
        content = _normalize_content(content)
        if merged and tag and merged[-1][0] == tag:
            merged[-1][1] += content
        else:
            merged.append([tag, content])
    return "".join(f"{tag}{content}".strip() for tag, content in merged) \
        .replace("‘", "'").replace("’", "'")


def _normalize_content(content: str) -> str:
    content = "".join(ch for ch in content if ch not in STRIP)
    content = HA_ZH.sub(LAUGH_ZH, content)
    content = HA_EN.sub(LAUGH_EN, content)
    content = content.replace("——", "，").replace("……", "，")
    content = content.translate(COMMAS).strip()
    return _final_stop(content)


def _final_stop(content: str) -> str:
    """Only the last 。 survives; a trailing comma becomes the stop."""
    if len(content) <= 1:
        return content
    last = {"，": "。", ",": "."}.get(content[-1], content[-1])
    return content[:-1].replace("。", "，") + last


def stripped(text: str) -> str:
    """The distinct characters of `text` that MOSS-TTSD would drop or turn into commas, in
    order of first appearance (for lint: `clean()` rewrites them before sending)."""
    seen: dict[str, None] = {}
    for i, ch in enumerate(text):
        doubled = ch in "—…" and ch in text[max(0, i - 1): i + 2].replace(ch, "", 1)
        if ch in STRIP or ch in TO_COMMA or ch in "‘’[]\n" or doubled:
            seen.setdefault(ch)
    return "".join(seen)


# -- cleanup: text the server leaves as it is --------------------------------------------------

def clean(text: str) -> str:
    """One turn (or several same-speaker turns joined) rewritten so `normalize()` keeps it:
    times, ranges and hyphens spelled out, quotes dropped, !? and ;: as stops or commas."""
    text = " ".join(text.split())
    text = _brackets(text)
    text = _numbers(text)
    text = _dashes(text)
    text = "".join(ch for ch in text if ch not in STRIP)
    text = text.replace("——", "，").replace("……", "，")
    text = HA_ZH.sub(LAUGH_ZH, text)
    text = HA_EN.sub(LAUGH_EN, text)
    text = _stops(text)
    text = _final_stop(_tidy(text))
    return re.sub(r"(?<=[，。])\s+", "", text)


def _brackets(text: str) -> str:
    """Asides and cues keep their meaning: （笑） and [laughter] become (笑) and (laughter)."""
    return text.translate(ASIDES)


def _numbers(text: str) -> str:
    """10:30 → 10 30 (10点30分 in Chinese), 3:1 → 3 to 1, 10~20 → 10 to 20 (10到20)."""
    def time(m: re.Match[str]) -> str:
        h, mm, zh = m.group(1), m.group(2), _chinese_near(text, m)
        if zh:
            return f"{h}点" if mm == "00" else f"{h}点{mm}分"
        return f"{h} o'clock" if mm == "00" else f"{h} {mm}"

    def ratio(m: re.Match[str]) -> str:
        word = "比" if _chinese_near(text, m) else " to "
        return f"{m.group(1)}{word}{m.group(2)}"

    def span(m: re.Match[str]) -> str:
        word = "到" if _chinese_near(text, m) else " to "
        return f"{m.group(1)}{word}{m.group(2)}"

    text = re.sub(r"(?<![\d:：])(\d{1,2})[:：](\d{2})(?![\d:：])", time, text)
    text = re.sub(r"(?<![\d:：])(\d+)[:：](\d+)(?![\d:：])", ratio, text)
    return re.sub(r"(\d+(?:\.\d+)?)\s*[~～–]\s*(\d+(?:\.\d+)?)", span, text)


def _chinese_near(text: str, m: re.Match[str]) -> bool:
    """Whether the words around a match are Chinese (or Japanese/Korean)."""
    return bool(CJK.search(text[max(0, m.start() - 8): m.end() + 8]))


def _dashes(text: str) -> str:
    """well-known → well known; a spaced dash or —— is a pause (a comma)."""
    text = re.sub(r"\s+(-{1,2}|——|—)\s+", ", ", text)
    text = text.replace("——", "，").replace("……", "，")
    text = re.sub(r"(?<=\w)[-_](?=\w)", " ", text)
    return text.replace("_", " ")


def _stops(text: str) -> str:
    """?! that end a sentence become a full stop, others (and ;:、) a comma, as v0.5 reads
    them anyway; Chinese marks stay Chinese."""
    def end(m: re.Match[str]) -> str:
        if m.group(0)[0] in "！？":
            return "。"  # mid-text ones become commas with every other inner 。
        nxt = text[m.end():].lstrip()[:1]
        return "," if nxt.islower() or nxt in ",.;:" else "."

    text = re.sub(r"[!?！？]+", end, text)
    return text.translate(COMMAS)


def _tidy(text: str) -> str:
    """Collapse the punctuation runs the rewrites leave ("，。", ", ,"), and stray spaces."""
    text = re.sub(r"\s+([,.，。])", r"\1", text)
    text = re.sub(r"[,，]+\s*([.。])", r"\1", text)
    text = re.sub(r"([.。])\s*[,，]+", r"\1", text)
    text = re.sub(r"([,，])(\s*[,，])+", r"\1", text)
    text = re.sub(r"([.。])\s+[.。]", r"\1", text)
    text = re.sub(r"。+", "。", text)
    text = re.sub(r"^[\s,，.。]+", "", text)
    return " ".join(text.split())


def script(segments: list[tuple[int, str]]) -> str:
    """`[S1]...[S2]...` from (speaker slot, cleaned text), same-slot neighbours joined by a
    space (the server would glue them with nothing)."""
    out: list[tuple[int, str]] = []
    for slot, text in segments:
        if out and out[-1][0] == slot:
            out[-1] = (slot, clean(f"{out[-1][1]} {text}"))
        else:
            out.append((slot, text))
    return "".join(f"[S{slot}]{text}" for slot, text in out)


def chunks(text: str, max_seconds: float, max_chars: int | None = None) -> list[str]:
    """A turn cleaned, in pieces of at most about `max_seconds` expected audio (and at most
    `max_chars` characters), split at sentence ends (then clauses, then words) at the turn's
    own characters-per-second."""
    seconds = expected_seconds(text)
    if seconds <= max_seconds and (max_chars is None or len(text) <= max_chars):
        return [c for c in [clean(text)] if c]
    limit = max(1, int(len(text) * max_seconds / seconds)) if seconds > max_seconds \
        else len(text)
    limit = min(limit, max_chars) if max_chars is not None else limit
    return [c for c in (clean(piece) for piece in split_text(text, limit)) if c]


# -- timing --------------------------------------------------------------------------------------

def expected_seconds(text: str, speed: float = 1.0) -> float:
    """Rough spoken length of `text`: CJK characters at 4.5 a second, the rest at 14."""
    cjk = len(CJK.findall(text))
    other = len(text) - cjk
    return (cjk / ZH_CHARS_PER_S + other / EN_CHARS_PER_S) / speed


# -- the token budget: one rule for every request, input + output within TOKEN_LIMIT -----------

def max_tokens(audio_seconds: float, requested: int | None = None) -> int:
    """Output tokens to ask for: the expected audio with 50% headroom plus 10 s, rounded up
    to 256, so a slow read is never cut short; a producer's own `max_tokens` when larger."""
    need = (audio_seconds * 1.5 + 10) * TOKENS_PER_SECOND
    return max(DEFAULT_MAX_TOKENS, int(-(-need // 256) * 256), requested or 0)


def input_tokens(script: str) -> int:
    """Tokens the script takes, counted high: one per character (a text tokenizer packs
    English several characters to a token and Chinese about one)."""
    return len(script)


def fits(chars: int, audio_seconds: float, requested: int | None = None) -> bool:
    """Whether a request with `chars` characters of script, and the output asked for its
    expected audio, stays within the model's window."""
    return chars + max_tokens(audio_seconds, requested) <= TOKEN_LIMIT


def piece_chars(max_seconds: float, speed: float = 1.0, requested: int | None = None) -> int:
    """The most characters one request's script may hold when it is sized for `max_seconds`
    of audio: few enough that, whatever the script (Chinese is the slowest to say), its
    expected audio stays within `max_seconds` and it fits the window beside that output."""
    by_time = int(max_seconds * ZH_CHARS_PER_S * speed)
    return max(1, min(by_time, TOKEN_LIMIT - max_tokens(max_seconds, requested)))


def max_tokens_problem(value: int) -> str | None:
    """A producer's `max_tokens`, judged against the window it shares with the script."""
    most = TOKEN_LIMIT - MIN_SCRIPT_TOKENS
    if value <= most:
        return None
    return (f"input + output must stay within {TOKEN_LIMIT} tokens, so max_tokens is at most "
            f"{most}, leaving {MIN_SCRIPT_TOKENS} for the script; got {value}")
