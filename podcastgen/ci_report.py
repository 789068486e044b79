"""Reports of a whole-show build for CI: a JSON summary and JUnit XML (one test case per
episode: an invalid episode is a failure, a build that failed is an error)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from . import __version__, source
from .atomic import write_atomic
from .showbuild import Outcome, counts


def summary(outcomes: list[Outcome], *, changed_since: str | None,
            shard: tuple[int, int] | None) -> dict[str, Any]:
    return {
        "podcastgen": __version__,
        "changed_since": changed_since,
        "shard": f"{shard[0]}/{shard[1]}" if shard else None,
        "counts": counts(outcomes),
        "episodes": [_episode(o) for o in outcomes],
    }


def _episode(o: Outcome) -> dict[str, Any]:
    return {
        "episode": source.show_path(o.episode),
        "status": o.status,
        "seconds": round(o.seconds, 2),
        "duration_s": o.duration_s,
        "outputs": [source.show_path(p) for p in o.outputs],
        "errors": o.errors,
        "warnings": o.warnings,
    }


def junit(outcomes: list[Outcome]) -> str:
    """JUnit XML as CI systems read it: testsuites > testsuite > testcase."""
    n = counts(outcomes)
    total = f"{sum(o.seconds for o in outcomes):.2f}"
    attrs = {"tests": str(len(outcomes)), "failures": str(n["invalid"]),
             "errors": str(n["failed"]), "skipped": "0", "time": total}
    suites = ET.Element("testsuites", {"name": "podcastgen", **attrs})
    suite = ET.SubElement(suites, "testsuite", {"name": "podcastgen build", **attrs})
    for o in outcomes:
        shown = source.show_path(o.episode)
        case = ET.SubElement(suite, "testcase", {"classname": "podcastgen.build", "name": shown,
                                                 "file": shown, "time": f"{o.seconds:.2f}"})
        if o.status != "built":
            tag = "failure" if o.status == "invalid" else "error"
            what = "invalid input" if o.status == "invalid" else "build failed"
            detail = ET.SubElement(case, tag, {"type": o.status,
                                               "message": o.errors[0] if o.errors else what})
            detail.text = "\n".join(o.errors)
        if o.warnings:
            ET.SubElement(case, "system-out").text = "\n".join(o.warnings)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def write_reports(outcomes: list[Outcome], summary_file: Path | None, junit_file: Path | None,
                  *, changed_since: str | None, shard: tuple[int, int] | None) -> None:
    if summary_file:
        data = summary(outcomes, changed_since=changed_since, shard=shard)
        write_atomic(summary_file, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    if junit_file:
        write_atomic(junit_file, junit(outcomes))
