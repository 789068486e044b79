"""The build's clock: SOURCE_DATE_EPOCH over the wall clock, and an episode's first build time
carried from report to report."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from podcastgen import buildtime
from podcastgen.errors import InputError

WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)


def fixed() -> dt.datetime:
    return WHEN


def test_source_date_epoch_replaces_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(WHEN.timestamp())))
    assert buildtime.now() == WHEN


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "9" * 30])
def test_a_malformed_source_date_epoch_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                  value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(InputError, match="^SOURCE_DATE_EPOCH must be whole seconds since "):
        buildtime.now()


def test_without_a_previous_report_the_first_build_is_now(tmp_path: Path) -> None:
    assert buildtime.first_built(tmp_path / "ep.report.json", fixed) == "2026-03-04T05:06:07+00:00"


def test_a_previous_report_keeps_its_first_build(tmp_path: Path) -> None:
    report = tmp_path / "ep.report.json"
    report.write_text(json.dumps({"item": {"first_built": "2025-01-02T03:04:05+00:00"}}))
    assert buildtime.first_built(report, fixed) == "2025-01-02T03:04:05+00:00"


def test_a_report_from_before_first_builds_were_recorded_gives_its_own_time(
        tmp_path: Path) -> None:
    report = tmp_path / "ep.report.json"
    report.write_text(json.dumps({"item": {"date": None}}))
    written = dt.datetime(2025, 6, 7, 8, 9, 10, tzinfo=dt.timezone.utc).timestamp()
    os.utime(report, (written, written))
    assert buildtime.first_built(report, fixed) == "2025-06-07T08:09:10+00:00"


def test_an_unreadable_previous_report_counts_as_none(tmp_path: Path) -> None:
    report = tmp_path / "ep.report.json"
    report.write_text("{ half a report")
    assert buildtime.first_built(report, fixed) == "2026-03-04T05:06:07+00:00"
