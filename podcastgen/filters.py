"""Filters for every template: YAML-safe values, slugs, durations, spelled-out numbers, names,
and for show notes and pages, player clocks and Markdown as HTML.

Spoken text reads numbers better as words ("episode twelve", "第十二期"), so the templates spell
them out rather than leaving each voice engine to guess. A filter given the wrong kind of value
raises FilterError, which the renderer reports at the template line that used it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from .publish import clock

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
             "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_ZH_DIGITS = "零一二三四五六七八九"
_LIMIT = 10**15
_MONTHS = ("January February March April May June July August September October November "
           "December").split()


class FilterError(ValueError):
    """A filter was given a value it cannot handle; the message says which and why."""


def yaml_value(value: Any) -> str:
    """Any value as one YAML flow scalar (a JSON string is valid YAML), safe after `key: `."""
    return json.dumps(value, ensure_ascii=False, default=str)


def slug(value: Any) -> str:
    """`"Ça va? Hello, World!"` -> `ca-va-hello-world`; letters of any script are kept."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[\W_]+", "-", text).strip("-")


def mmss(seconds: Any) -> str:
    """Seconds as M:SS (`754` -> `12:34`), the way show notes give timestamps."""
    minutes, secs = divmod(_seconds(seconds, "mmss"), 60)
    return f"{minutes}:{secs:02d}"


def hms(seconds: Any) -> str:
    """Seconds as H:MM:SS (`3754` -> `1:02:34`)."""
    total = _seconds(seconds, "hms")
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def _seconds(value: Any, name: str) -> int:
    number = _number(value, name)
    if number < 0:
        raise FilterError(f"{name} expects a duration in seconds of 0 or more, got {value!r}")
    return int(number + Decimal("0.5"))


def spell_en(value: Any, ordinal: bool = False) -> str:
    """`42` -> `forty-two`, `2.5` -> `two point five`, `3|spell_en(ordinal=true)` -> `third`."""
    number = _number(value, "spell_en")
    whole, fraction = _split(number)
    words = _en(abs(whole))
    if ordinal:
        if fraction:
            raise FilterError(f"spell_en(ordinal=true) expects a whole number, got {value!r}")
        words = _en_ordinal(words)
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return f"minus {words}" if number < 0 else words


def _en(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[rest]}" if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {_en(rest)}" if rest else "")
    value, name = next((v, s) for v, s in _SCALES if n >= v)
    high, rest = divmod(n, value)
    return f"{_en(high)} {name}" + (f" {_en(rest)}" if rest else "")


def _en_ordinal(words: str) -> str:
    head, last = re.match(r"(.*?)([a-z]+)\Z", words).groups()  # type: ignore[union-attr]
    if last in _ORDINALS:
        return head + _ORDINALS[last]
    return head + (last[:-1] + "ieth" if last.endswith("y") else last + "th")


def spell_zh(value: Any, digits: bool = False) -> str:
    """`12` -> `十二`, `2024` -> `两千零二十四`; `digits=true` reads a year: `二〇二四`."""
    number = _number(value, "spell_zh")
    whole, fraction = _split(number)
    if digits:
        words = "".join("〇" if d == "0" else _ZH_DIGITS[int(d)] for d in str(abs(whole)))
    else:
        words = _zh(abs(whole), leading=True)
    if fraction:
        words += "点" + "".join(_ZH_DIGITS[int(d)] for d in fraction)
    return f"负{words}" if number < 0 else words


def _zh(n: int, leading: bool) -> str:
    """Chinese numerals in groups of four digits (万, 亿), with 零 for a skipped place."""
    if n < 10**4:
        return _zh_small(n, leading)
    size, unit = (10**8, "亿") if n >= 10**8 else (10**4, "万")
    high, rest = divmod(n, size)
    out = ("两" if high == 2 else _zh(high, leading)) + unit
    if rest == 0:
        return out
    return out + ("零" if rest < size // 10 else "") + _zh(rest, leading=False)


def _zh_small(n: int, leading: bool) -> str:
    if n == 0:
        return "零"
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            gap = gap or bool(out)
            continue
        out += ("零" if gap else "") + ("两" if digit == 2 and unit == "千" else _ZH_DIGITS[digit])
        out, gap = out + unit, False
    return out[1:] if leading and 10 <= n < 20 else out  # 十二, not 一十二


def long_date(value: Any, lang: str = "en") -> str:
    """`2026-12-01` -> `1 December 2026`; with `lang="zh"`: `2026年12月1日`."""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FilterError(f"long_date expects a date as YYYY-MM-DD, got {value!r}") from None
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def join_names(names: Iterable[Any], lang: str = "en") -> str:
    """`[Alex, Anna, Wei]` -> `Alex, Anna and Wei`; with `lang="zh"`: `Alex、Anna和Wei`."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise FilterError(f"join_names expects a list of names, got {names!r}")
    items = [str(n) for n in names]
    sep, last = ("、", "和") if lang == "zh" else (", ", " and ")
    if len(items) <= 1:
        return "".join(items)
    return sep.join(items[:-1]) + last + items[-1]


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool):
        raise FilterError(f"{name} expects a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FilterError(f"{name} expects a number, got {value!r}") from None
    if not number.is_finite() or abs(number) >= _LIMIT:
        raise FilterError(f"{name} expects a number below 10**15, got {value!r}")
    return number


def _split(number: Decimal) -> tuple[int, str]:
    """Whole part and the digits after the point (none for a whole number)."""
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return (-int(whole) if number < 0 else int(whole)), fraction


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})  # raw HTML in a description is escaped


def markdown_html(text: str) -> Any:
    """CommonMark rendered to HTML, marked safe for autoescaping templates."""
    from markupsafe import Markup

    return Markup(_markdown().render(text or ""))


FILTERS = {"yaml": yaml_value, "slug": slug, "mmss": mmss, "hms": hms, "spell_en": spell_en,
           "spell_zh": spell_zh, "join_names": join_names, "long_date": long_date,
           "clock": clock, "markdown": markdown_html}
