"""`podcastgen feed`: an RSS 2.0 feed (itunes and podcast namespaces) for the episodes built
into a folder, read from their reports and measured from their audio files.

Every tag Apple lists as required is written (channel: title, description, itunes:image,
language, itunes:category, itunes:explicit; item: title, enclosure), and the recommended ones
where the episode has the data (author, link, owner, guid, pubDate, description, duration,
image, explicit, episode and season numbers, type), plus Podcasting 2.0 transcripts, chapters
and the other formats as alternate enclosures.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import buildtime, feed_checks
from .atomic import write_atomic
from .errors import InputError
from .filters import markdown_html

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # Podcasting 2.0's
MIME = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a", "opus": "audio/ogg", "flac": "audio/flac",
        "wav": "audio/wav"}
ENCLOSURE_ORDER = ("mp3", "m4a", "opus", "flac", "wav")  # Apple takes only the first two
TRANSCRIPT_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json"}


def write_feed(build_dir: Path, base_url: str, dest: Path, fmt: str | None = None, *,
               include_drafts: bool = False) -> tuple[int, list[str]]:
    """Write the feed for every episode report in `build_dir` to `dest` (atomically), draft
    builds left out unless `include_drafts`; returns the number of items, and notes and
    warnings: drafts, reports that do not belong in one feed, what Apple would refuse."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(f"--base-url must start with http:// or https://, got {base_url!r}")
    reports, notes = feed_checks.published_builds(collect(build_dir), build_dir, include_drafts)
    root = rss(reports, build_dir, base_url.rstrip("/") + "/", fmt, feed_url(base_url, dest))
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    write_atomic(dest, data)
    return len(reports), [*notes, *feed_checks.hygiene(reports, build_dir), *warnings(reports)]


def warnings(reports: list[dict[str, Any]]) -> list[str]:
    """What Apple Podcasts requires that these builds could not give."""
    found = []
    if not reports[0]["show"]["image"]:
        found.append("warning: no cover: Apple Podcasts requires show artwork (set cover:)")
    if not reports[0]["show"]["description"]:
        found.append("warning: no feed.description: the newest episode's description stands "
                     "in for the show's")
    return found


def feed_url(base_url: str, dest: Path) -> str:
    return base_url.rstrip("/") + "/" + quote(dest.name)


def collect(build_dir: Path) -> list[dict[str, Any]]:
    """Every built episode's report, newest first (by date, then number)."""
    if not build_dir.is_dir():
        raise InputError(f"{build_dir}: not a folder of built episodes")
    reports = []
    for path in sorted(build_dir.glob("*.report.json")):
        try:
            report = json.loads(path.read_text("utf-8"))
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable build report ({exc})") from None
        if "item" not in report or "show" not in report:
            raise InputError(f"{path}: built by an older podcastgen without feed fields; "
                             "rebuild the episode")
        report["_published"] = published(report, build_dir)
        reports.append(report)
    if not reports:
        raise InputError(f"{build_dir}: no built episodes here (no *.report.json files)")
    return sorted(reports, key=lambda r: (r["_published"], r["item"]["number"] or 0),
                  reverse=True)


def published(report: dict[str, Any], build_dir: Path) -> dt.datetime:
    """The episode's `date` at 00:00 UTC, else when it was first built (a report written
    before that was recorded: when the report file was written)."""
    if report["item"]["date"]:
        return dt.datetime.fromisoformat(report["item"]["date"]).replace(tzinfo=dt.timezone.utc)
    first = buildtime.parse(report["item"].get("first_built"))
    if first is not None:
        return first
    mtime = (build_dir / report["files"]["report"]).stat().st_mtime
    return dt.datetime.fromtimestamp(int(mtime), dt.timezone.utc)


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: Any) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = str(text)
    return node


def rss(reports: list[dict[str, Any]], build_dir: Path, base: str, fmt: str | None,
        self_url: str) -> ET.Element:
    for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
        ET.register_namespace(prefix, uri)
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _channel(channel, reports, base, self_url)
    for report in reports:
        _item(_sub(channel, "item"), report, build_dir, base, fmt)
    return root


def _channel(channel: ET.Element, reports: list[dict[str, Any]], base: str,
             self_url: str) -> None:
    """Channel fields from the newest episode's report (`show` there comes from show.yaml)."""
    show, newest = reports[0]["show"], reports[0]
    _sub(channel, "title", show["title"])
    _sub(channel, "description", show["description"] or newest["item"]["description"]
         or show["title"])
    _sub(channel, "language", show["language"])
    _sub(channel, "link", show["website"] or base)
    _sub(channel, f"{{{ATOM}}}link", href=self_url, rel="self", type="application/rss+xml")
    _sub(channel, "generator", f"podcastgen {newest['podcastgen']}")
    _sub(channel, "lastBuildDate", email.utils.format_datetime(newest["_published"]))
    if show["copyright"]:
        _sub(channel, "copyright", show["copyright"])
    if show["image"]:
        _sub(channel, f"{{{ITUNES}}}image", href=base + quote(show["image"]))
    _category(channel, show["category"] or "Technology")
    _sub(channel, f"{{{ITUNES}}}explicit", "true" if show["explicit"] else "false")
    _sub(channel, f"{{{ITUNES}}}author", show["author"] or show["title"])
    _sub(channel, f"{{{ITUNES}}}type", show["type"])
    if show["email"]:
        owner = _sub(channel, f"{{{ITUNES}}}owner")
        _sub(owner, f"{{{ITUNES}}}name", show["author"] or show["title"])
        _sub(owner, f"{{{ITUNES}}}email", show["email"])
    _sub(channel, f"{{{PODCAST}}}guid", uuid.uuid5(PODCAST_GUID_NS, _bare(self_url)))


def _bare(url: str) -> str:
    """A feed URL without its scheme and trailing slashes (what podcast:guid is derived from)."""
    return url.split("://", 1)[-1].rstrip("/")


def _category(channel: ET.Element, category: str) -> None:
    """`Parent > Child` nests a subcategory, as Apple's list has them."""
    node = channel
    for part in category.split(">"):
        node = ET.SubElement(node, f"{{{ITUNES}}}category", {"text": part.strip()})


def _item(item: ET.Element, report: dict[str, Any], build_dir: Path, base: str,
          fmt: str | None) -> None:
    meta, files = report["item"], report["files"]
    _sub(item, "title", meta["title"])
    _sub(item, "description", markdown_html(meta["description"]).strip() or meta["title"])
    if files["page"]:
        _sub(item, "link", base + quote(files["page"]))
    _sub(item, "guid", meta["guid"], isPermaLink="false")
    _sub(item, "pubDate", email.utils.format_datetime(report["_published"]))
    enclosure, *others = _formats(report, fmt)
    _sub(item, "enclosure", **_enclosure(build_dir, base, files["audio"][enclosure], enclosure))
    _sub(item, f"{{{ITUNES}}}duration", round(report["duration_s"]))
    if meta["image"]:
        _sub(item, f"{{{ITUNES}}}image", href=base + quote(meta["image"]))
    _sub(item, f"{{{ITUNES}}}explicit", "true" if meta["explicit"] else "false")
    for tag in ("number", "season"):
        if meta[tag]:
            _sub(item, f"{{{ITUNES}}}{'episode' if tag == 'number' else tag}", meta[tag])
    _sub(item, f"{{{ITUNES}}}episodeType", meta["episode_type"])
    _podcasting20(item, report, build_dir, base, others)


def _formats(report: dict[str, Any], fmt: str | None) -> list[str]:
    """The enclosure's format first (`fmt`, else mp3, else m4a, ...), then the others."""
    built = list(report["files"]["audio"])
    if fmt is not None and fmt not in built:
        raise InputError(f"{report['files']['report']}: no {fmt} was built for this episode "
                         f"(built: {', '.join(built)})")
    first = fmt or next(f for f in ENCLOSURE_ORDER if f in built)
    return [first, *[f for f in built if f != first]]


def _enclosure(build_dir: Path, base: str, name: str, fmt: str) -> dict[str, Any]:
    """url, length (the file's real size, after tagging) and type of one audio file."""
    path = build_dir / name
    if not path.is_file():
        raise InputError(f"{path}: the report names this file but it is missing; rebuild")
    return {"url": base + quote(name), "length": path.stat().st_size, "type": MIME[fmt]}


def _podcasting20(item: ET.Element, report: dict[str, Any], build_dir: Path, base: str,
                  others: list[str]) -> None:
    files = report["files"]
    for kind, name in files["transcripts"].items():
        attrs = {"url": base + quote(name), "type": TRANSCRIPT_TYPES[kind]}
        if kind in ("vtt", "srt"):
            attrs["rel"] = "captions"
        _sub(item, f"{{{PODCAST}}}transcript", **attrs)
    if files["chapters"]:
        _sub(item, f"{{{PODCAST}}}chapters", url=base + quote(files["chapters"]),
             type="application/json+chapters")
    for fmt in others:
        enc = _enclosure(build_dir, base, files["audio"][fmt], fmt)
        alt = _sub(item, f"{{{PODCAST}}}alternateEnclosure", type=enc["type"],
                   length=enc["length"])
        _sub(alt, f"{{{PODCAST}}}source", uri=enc["url"])
