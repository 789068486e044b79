"""build_episode(): load → validate → compile → synthesize → assemble → master → encode → tag →
publish. Outputs are written into a staging folder and moved into place only when all succeed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__, config, encode, master, publish, source, tags, voices
from .align import turn_clips
from .assemble import assemble
from .episode import Episode, Sound, validate
from .errors import InputError
from .plan import Plan, compile_episode
from .providers import REGISTRY
from .synth import SynthStats, synthesize


@dataclass(frozen=True)
class BuildOptions:
    outdir: Path | None = None
    draft: bool = False
    allow_outside: bool = False
    progress: Callable[[int, int], None] | None = None


@dataclass
class BuildResult:
    episode: Episode
    outdir: Path
    files: list[Path] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def load_episode(path: Path, options: BuildOptions) -> Episode:
    """Read and validate an episode (and its `extends` chain); nothing is sent or written."""
    root = source.project_root(path)
    doc = source.load(path, root, options.allow_outside)
    episode = validate(doc, root, draft=options.draft, allow_outside=options.allow_outside)
    missing = sorted({s.provider for s in episode.speakers.values()} - set(REGISTRY))
    if missing:
        raise InputError(f"{source.show_path(path)}: provider {', '.join(missing)} is not "
                         "available in this version; build with --draft to preview every "
                         "speaker with local voices")
    settings = config.resolve_all({s.provider for s in episode.speakers.values()},
                                  config.project_settings(root), episode.providers)
    if not options.draft:
        config.require_keys(settings, path)
    return replace(episode, configs=settings)


def build_episode(path: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    episode = voices.with_cloned_voices(load_episode(path, options))
    plan = compile_episode(episode)
    stats = SynthStats()
    clips = synthesize(plan.jobs, stats, options.progress, episode.configs)
    samples, placed = assemble(episode, turn_clips(plan.jobs, clips))  # dialogue blocks split
    prod, out = episode.production, episode.output
    mastered = master.master(samples, out.sample_rate, loudness=prod.loudness,
                             true_peak=prod.true_peak)
    outdir = options.outdir or episode.source.parent / "build"
    result = BuildResult(episode, outdir)
    digest = build_hash(episode)
    with staging(outdir) as stage:
        audio = stage / f"{episode.stem}.mp3"
        loud = encode.encode_checked(mastered, out.sample_rate, audio, loudness=prod.loudness,
                                     true_peak=prod.true_peak, bitrate=out.bitrate)
        chapters = placed.chapters if out.chapters else ()
        tags.write_mp3_tags(audio, episode.meta, chapters, duration_s=placed.duration_s,
                            transcript=publish.transcript_text(placed.cues), loudness=loud,
                            build_hash=digest)
        report = make_report(episode, plan, placed, loud, stats, digest)
        sidecars = {"vtt": publish.vtt, "srt": publish.srt}
        for fmt in out.transcript:
            (stage / f"{episode.stem}.{fmt}").write_text(sidecars[fmt](placed.cues), "utf-8")
        if out.chapters:
            (stage / f"{episode.stem}.chapters.json").write_text(
                publish.chapters_json(placed.chapters, title=episode.meta.title), "utf-8")
        (stage / f"{episode.stem}.report.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        result.files = [outdir / p.name for p in sorted(stage.iterdir())]
    result.report = report
    return result


@contextlib.contextmanager
def staging(outdir: Path) -> Iterator[Path]:
    """A private folder beside the outputs; its files replace the old ones only on success."""
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".podcastgen-", dir=outdir))
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.replace(item, outdir / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(outdir.iterdir()):
            outdir.rmdir()


def build_hash(episode: Episode) -> str:
    """A digest of everything that shapes the outputs: the validated episode and its files."""
    h = hashlib.sha256(f"podcastgen {__version__}\n{episode!r}".encode())
    files = [episode.meta.cover, episode.production.intro, episode.production.outro]
    files += [item.path for item in episode.script if isinstance(item, Sound)]
    for f in files:
        if f is not None:
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def make_report(episode: Episode, plan: Plan, placed: Any, loud: Any, stats: SynthStats,
                digest: str) -> dict[str, Any]:
    return {
        "podcastgen": __version__,
        "episode": source.show_path(episode.source),
        "title": episode.meta.title,
        "build_hash": digest,
        "duration_s": round(placed.duration_s, 3),
        "loudness_lufs": round(loud.integrated_lufs, 2),
        "true_peak_dbtp": round(loud.true_peak_dbtp, 2),
        "requests": {"sent": stats.sent, "retried": stats.retried, "cached": stats.cached},
        "characters": plan.characters(),
        "chapters": [{"title": c.title, "start_s": round(c.start_s, 3)} for c in placed.chapters],
        "segments": [segment(c, episode) for c in placed.cues],
        "warnings": list(episode.warnings),
    }


def segment(cue: Any, episode: Episode) -> dict[str, Any]:
    data = asdict(cue)
    data.pop("name")
    data["start_s"], data["end_s"] = round(cue.start_s, 3), round(cue.end_s, 3)
    return data
