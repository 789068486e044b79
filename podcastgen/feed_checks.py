"""What `podcastgen feed` says about the builds in a folder before it publishes them: draft
builds are left out (or, asked for, included with a warning), and reports that would make a
confusing feed are warnings naming their files: several shows in one folder, one episode
number (within a season) or one guid claimed twice, an episode without a date.

Each report here carries `_published` (feed.published) and is named by its `files.report`.
"""

from __future__ import annotations

import email.utils
from collections import defaultdict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from .errors import InputError
from .filters import join_names
from .source import show_path

Report = dict[str, Any]


def published_builds(reports: list[Report], build_dir: Path,
                     include_drafts: bool) -> tuple[list[Report], list[str]]:
    """The reports the feed publishes, and a line about each draft left out or let in."""
    drafts = [r for r in reports if r.get("draft")]
    if include_drafts:
        return reports, [f"warning: {_name(r, build_dir)} is a draft build (--draft, local "
                         "stand-in voices); it is in the feed because of --include-drafts"
                         for r in drafts]
    kept = [r for r in reports if not r.get("draft")]
    if not kept:
        raise InputError(f"{show_path(build_dir)}: only draft builds here ("
                         f"{_names(drafts, build_dir)}); build without --draft to publish, or "
                         "pass --include-drafts")
    return kept, [f"note: left out the draft build {_name(r, build_dir)}; --include-drafts "
                  "adds it" for r in drafts]


def hygiene(reports: list[Report], build_dir: Path) -> list[str]:
    """Warnings about reports that do not belong together in one feed, or lack a date."""
    return [*_shows(reports, build_dir), *_numbers(reports, build_dir),
            *_guids(reports, build_dir), *_undated(reports, build_dir)]


def _shows(reports: list[Report], build_dir: Path) -> list[str]:
    shows = _grouped(reports, lambda r: r["show"]["title"])
    if len(shows) < 2:
        return []
    parts = [f"{title!r} ({_names(group, build_dir)})" for title, group in shows.items()]
    return [f"warning: these builds are of {len(shows)} shows: {join_names(parts)}; the channel "
            f"takes the newest episode's, {reports[0]['show']['title']!r}; give each show its "
            "own folder"]


def _numbers(reports: list[Report], build_dir: Path) -> list[str]:
    numbered = [r for r in reports if r["item"]["number"] is not None]
    found = []
    for (_, season, number), group in _grouped(
            numbered, lambda r: (r["show"]["title"], r["item"]["season"],
                                 r["item"]["number"])).items():
        if len(group) > 1:
            which = f"episode {number} of season {season}" if season is not None else \
                f"episode {number}"
            found.append(f"warning: {which} is claimed by {len(group)} builds: "
                         f"{_names(group, build_dir)}; give each its own number")
    return found


def _guids(reports: list[Report], build_dir: Path) -> list[str]:
    return [f"warning: guid {guid} is shared by {_names(group, build_dir)}: podcast apps keep "
            "only one of them; pin a different feed.guid in the others"
            for guid, group in _grouped(reports, lambda r: r["item"]["guid"]).items()
            if len(group) > 1]


def _undated(reports: list[Report], build_dir: Path) -> list[str]:
    return [f"warning: {_name(r, build_dir)} has no date: it is published at its first build, "
            f"{email.utils.format_datetime(r['_published'])}; set date: in the episode to "
            "choose" for r in reports if not r["item"]["date"]]


def _grouped(reports: list[Report], key: Callable[[Report], Hashable]
             ) -> dict[Hashable, list[Report]]:
    """Reports by `key`, in the order each key first appears (the feed's, newest first)."""
    groups: dict[Hashable, list[Report]] = defaultdict(list)
    for report in reports:
        groups[key(report)].append(report)
    return dict(groups)


def _name(report: Report, build_dir: Path) -> str:
    return show_path(build_dir / report["files"]["report"])


def _names(reports: list[Report], build_dir: Path) -> str:
    return ", ".join(sorted(_name(r, build_dir) for r in reports))
