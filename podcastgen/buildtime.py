"""When a build happens, and when an episode was first built.

The one place the product reads the wall clock for something it writes. `SOURCE_DATE_EPOCH`
(the reproducible-builds convention: whole seconds since 1970, UTC) replaces the wall clock
when it is set, so a build can be repeated byte for byte and tests never depend on the date.
An undated episode is published at its first build: that time is kept in its report and
carried over by every rebuild into the same folder, so its feed `pubDate` never moves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError

Clock = Callable[[], dt.datetime]
EPOCH_VAR = "SOURCE_DATE_EPOCH"


def now() -> dt.datetime:
    """The build's time (UTC, whole seconds): `SOURCE_DATE_EPOCH` when set, else the clock."""
    fixed = os.environ.get(EPOCH_VAR, "").strip()
    if not fixed:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if not fixed.isdigit() or len(fixed) > 11:
        raise InputError(f"{EPOCH_VAR} must be whole seconds since 1970-01-01 UTC, got "
                         f"{fixed[:40]!r}")
    return dt.datetime.fromtimestamp(int(fixed), dt.timezone.utc)


def stamp(when: dt.datetime) -> str:
    """How a time is written in a report: ISO 8601 in UTC, e.g. 2026-11-21T09:30:00+00:00."""
    return when.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def parse(text: Any) -> dt.datetime | None:
    """A time written by `stamp` (None for anything else)."""
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def first_built(report_file: Path, clock: Clock = now) -> str:
    """When the episode whose report is `report_file` was first built: as the previous report
    says, else (a report from before this was recorded) when that report was written, else now.
    A copied folder keeps its reports, so it keeps its times too."""
    try:
        previous = json.loads(report_file.read_text("utf-8"))
        written = report_file.stat().st_mtime
    except (OSError, ValueError):
        return stamp(clock())
    item = previous.get("item") if isinstance(previous, dict) else None
    kept = parse(item.get("first_built")) if isinstance(item, dict) else None
    return stamp(kept or dt.datetime.fromtimestamp(int(written), dt.timezone.utc))
