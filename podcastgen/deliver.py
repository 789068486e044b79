"""Everything a build writes into its staging folder after mastering: each audio format from
the one master (encoded, measured, tagged), transcripts, chapters, cover art, show notes and
the episode page; plus the names those files get and what the report says about them.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, encode, notes, publish, tags
from .episode import ChapterMark, Episode, Turn
from .errors import InputError
from .model import Chapter, Cue, Loudness, Placed
from .source import project_root
from .tags_mp4 import ffmetadata

TRANSCRIPT_NAMES = {"vtt": "{stem}.vtt", "srt": "{stem}.srt", "json": "{stem}.transcript.json"}


def file_names(episode: Episode) -> dict[str, Any]:
    """The name of every file a build of `episode` writes, by role (None: not written).

    Art is named by content (`cover-<digest>.png`), so episodes sharing a cover share one
    file, and a changed image gets a new URL, as Apple asks. A draft's files are
    `<stem>.draft.*`, so a preview never replaces (or passes for) the episode. An episode
    without chapter marks gets no chapters file.
    """
    stem, out = f"{episode.stem}.draft" if episode.draft else episode.stem, episode.output
    marked = any(isinstance(item, ChapterMark) for item in episode.script)
    return {
        "audio": {fmt: f"{stem}.{fmt}" for fmt in out.formats},
        "transcripts": {k: TRANSCRIPT_NAMES[k].format(stem=stem) for k in out.transcript},
        "chapters": f"{stem}.chapters.json" if out.chapters and marked else None,
        "notes": f"{stem}.md" if out.show_notes else None,
        "page": f"{stem}.html" if out.show_notes else None,
        "cover": _art_name(episode.meta.cover),
        "show_image": _art_name(episode.feed.image or episode.meta.cover),
        "report": f"{stem}.report.json",
    }


def _art_name(path: Path | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"cover-{digest}{path.suffix.lower()}"


def guid(episode: Episode) -> str:
    """The feed guid: pinned by `feed.guid`, else derived from the show and the file name,
    so rebuilding (or retitling) an episode never changes it."""
    if episode.feed.guid:
        return episode.feed.guid
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"podcastgen:{episode.meta.show}/{episode.stem}"))


def write_audio(stage: Path, episode: Episode, mastered: np.ndarray, placed: Placed,
                digest: str) -> dict[str, Loudness]:
    """Encode every format from the same master, check its loudness, tag it; the figures."""
    out, prod, names = episode.output, episode.production, file_names(episode)
    chapters = placed.chapters if out.chapters else ()
    transcript = publish.transcript_text(placed.cues)
    measured = {}
    for fmt, name in names["audio"].items():
        dest = stage / name
        chapter_text = ffmetadata(chapters, placed.duration_s) if fmt == "m4a" and chapters \
            else None
        measured[fmt] = encode.encode_checked(
            mastered, out.sample_rate, dest, fmt=fmt, loudness=prod.loudness,
            true_peak=prod.true_peak, bitrate=out.bitrate, channels=out.channels,
            chapters=chapter_text)
        tags.write_tags(dest, fmt, episode.meta, chapters, duration_s=placed.duration_s,
                        transcript=transcript, loudness=measured[fmt], build_hash=digest)
    return measured


def write_sidecars(stage: Path, episode: Episode, placed: Placed, *,
                   allow_outside: bool = False) -> None:
    """Transcripts, chapters JSON, the cover art, show notes and the episode page
    (`allow_outside`: the user's --allow-outside, for the templates' includes)."""
    names = file_names(episode)
    writers = {"vtt": publish.vtt, "srt": publish.srt, "json": publish.transcript_json}
    for kind, name in names["transcripts"].items():
        (stage / name).write_text(writers[kind](placed.cues), "utf-8")
    if names["chapters"]:
        (stage / names["chapters"]).write_text(
            publish.chapters_json(placed.chapters, title=episode.meta.title), "utf-8")
    for role, source in (("cover", episode.meta.cover),
                         ("show_image", episode.feed.image or episode.meta.cover)):
        if source is not None and not (stage / names[role]).exists():
            shutil.copyfile(source, stage / names[role])
    if episode.output.show_notes:
        (stage / names["notes"]).write_text(
            render_notes(episode, placed, allow_outside=allow_outside), "utf-8")
        (stage / names["page"]).write_text(
            render_page(episode, placed, allow_outside=allow_outside), "utf-8")


def check_templates(episode: Episode, *, allow_outside: bool = False) -> None:
    """Render the show notes and page once with the script's text at zero times, so a
    template mistake stops the build before anything is synthesized (exit 2)."""
    if not episode.output.show_notes:
        return
    cues = [Cue(i, t.speaker, episode.speakers[t.speaker].name, t.text, 0.0, 0.0)
            for i, t in enumerate(x for x in episode.script if isinstance(x, Turn))]
    chapters = [Chapter(x.title, 0.0) for x in episode.script if isinstance(x, ChapterMark)]
    draft = Placed(tuple(cues), tuple(chapters), 0.0)
    render_notes(episode, draft, error=InputError, allow_outside=allow_outside)
    render_page(episode, draft, error=InputError, allow_outside=allow_outside)


def render_notes(episode: Episode, placed: Placed, **kw: Any) -> str:
    return notes.render(episode.output.notes_template, notes.NOTES,
                        notes_context(episode, placed), root=project_root(episode.source), **kw)


def render_page(episode: Episode, placed: Placed, **kw: Any) -> str:
    return notes.render(episode.output.page_template, notes.PAGE,
                        notes_context(episode, placed), root=project_root(episode.source), **kw)


def notes_context(episode: Episode, placed: Placed) -> dict[str, Any]:
    """What the show-notes and page templates see (documented in the README)."""
    meta, names = episode.meta, file_names(episode)
    return {
        "episode": {
            "title": meta.title, "show": meta.show, "number": meta.number,
            "season": meta.season, "date": meta.date, "language": meta.language,
            "description": meta.description, "authors": list(meta.authors),
            "explicit": meta.explicit, "website": meta.website, "category": meta.category,
            "duration_s": placed.duration_s, "guid": guid(episode),
        },
        "chapters": [{"title": c.title, "start_s": round(c.start_s, 3)} for c in placed.chapters],
        "segments": [{"speaker": c.speaker, "name": c.name, "text": c.text,
                      "start_s": round(c.start_s, 3), "end_s": round(c.end_s, 3)}
                     for c in placed.cues],
        "speakers": [{"id": s.id, "name": s.name, "provider": s.provider, "voice": s.voice}
                     for s in episode.speakers.values()],
        "credits": credits(episode),
        "files": names,
        "audio": [{"file": names["audio"][f], "format": f, "type": notes.PLAYER_TYPES[f]}
                  for f in notes.PLAYER_ORDER if f in names["audio"]],
        "generator": f"podcastgen {__version__}",
    }


def credits(episode: Episode) -> list[str]:
    """Who and what made the episode, one line each."""
    meta, prod = episode.meta, episode.production
    lines = [f"Written by {', '.join(meta.authors)}"] if meta.authors else []
    voices = [f"{s.name} ({s.provider} voice {s.voice or 'cloned'})"
              for s in episode.speakers.values()]
    lines.append(f"Voices: {'; '.join(voices)}")
    music = [m.path.name for m in (prod.intro, prod.bed, prod.outro) if m is not None]
    if music:
        lines.append(f"Music: {', '.join(music)}")
    if episode.feed.copyright:
        lines.append(episode.feed.copyright)
    lines.append(f"Produced with podcastgen {__version__}")
    return lines


def report_fields(stage: Path, episode: Episode, measured: dict[str, Loudness],
                  first_built: str) -> dict[str, Any]:
    """The report's publishing part: the show's feed fields, this item's (with when it was
    first built, an undated episode's publication time), every file written, and each
    format's size (after tagging) and measured loudness."""
    meta, feed, names = episode.meta, episode.feed, file_names(episode)
    show = {"title": meta.show, "author": feed.author or ", ".join(meta.authors),
            "email": feed.email, "description": feed.description, "language": meta.language,
            "category": meta.category, "explicit": meta.explicit, "website": meta.website,
            "image": names["show_image"], "copyright": feed.copyright, "type": feed.type}
    item = {"guid": guid(episode), "title": meta.title, "number": meta.number,
            "season": meta.season, "date": meta.date, "description": meta.description,
            "explicit": meta.explicit, "episode_type": feed.episode_type,
            "image": names["cover"], "first_built": first_built}
    formats = {fmt: {"file": name, "bytes": (stage / name).stat().st_size,
                     "loudness_lufs": round(measured[fmt].integrated_lufs, 2),
                     "true_peak_dbtp": round(measured[fmt].true_peak_dbtp, 2)}
               for fmt, name in names["audio"].items()}
    return {"show": show, "item": item, "formats": formats, "files": names}
