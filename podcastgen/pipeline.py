"""build_episode(): load → validate → compile → synthesize → assemble → master → encode → tag →
publish. Outputs are written into a staging folder and moved into place only when all succeed."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__, buildtime, config, deliver, master, outputs, source, voices
from .align import turn_clips
from .assemble import assemble
from .dryrun import with_recorded_voices
from .episode import Episode, Sound, validate
from .errors import InputError, ValidationError
from .plan import Plan, compile_episode
from .providers import REGISTRY
from .cache import SegmentCache, cache_dir
from .progress import Progress
from .synth import SynthOptions, SynthStats, synthesize
from .template_data import TemplateInput


REPORT_MAX = 64 << 20  # a report repeats the script's text, so it may be larger than a script


@dataclass(frozen=True)
class BuildOptions:
    outdir: Path | None = None
    draft: bool = False
    allow_outside: bool = False
    jobs: int | None = None  # cap on requests in flight
    use_cache: bool = True
    cache_dir: Path | None = None
    force: bool = False  # re-encode even when the outputs match the build hash
    quiet: bool = False
    data: Path | None = None  # templates: the data file (default: <stem>.data.yaml beside it)
    variables: tuple[tuple[str, str], ...] = ()  # templates: --var KEY=VALUE, over the data
    clock: buildtime.Clock = buildtime.now  # when an episode built for the first time was built


@dataclass
class BuildResult:
    episode: Episode
    outdir: Path
    files: list[Path] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    up_to_date: bool = False


def load_episode(path: Path, options: BuildOptions, *, need_keys: bool = True) -> Episode:
    """Read and validate an episode (and its `extends` chain); nothing is sent or written.
    `need_keys=False` (check, dry-run) does not ask for the providers' keys."""
    root = source.project_root(path)
    doc = source.load(path, root, options.allow_outside,
                      template=TemplateInput(options.data, options.variables))
    project = config.project_config(root)
    episode = validate(doc, root, draft=options.draft, allow_outside=options.allow_outside,
                       project=project.providers)
    try:
        settings = _usable(episode, doc, project, path, options, need_keys)
    except InputError as exc:
        exc.warnings = episode.warnings  # still worth showing beside the error (`check`)
        raise
    return replace(episode, configs=settings)


def _usable(episode: Episode, doc: source.Document, project: config.Project, path: Path,
            options: BuildOptions, need_keys: bool) -> dict[str, Any]:
    """What a valid episode still needs before it can be built (its providers in this
    version, templates that render, URLs its keys may go to, the keys); its providers'
    resolved settings."""
    missing = sorted({s.provider for s in episode.speakers.values()} - set(REGISTRY))
    if missing:
        raise InputError(f"{source.show_path(path)}: provider {', '.join(missing)} is not "
                         "available in this version; build with --draft to preview every "
                         "speaker with local voices")
    deliver.check_templates(episode, allow_outside=options.allow_outside)
    used = {s.provider for s in episode.speakers.values()}
    if not options.draft:  # a draft sends nothing
        config.check_destinations(used, project)
        config.check_episode_urls(episode.providers, doc, project)
    settings = config.resolve_all(used, project.providers, episode.providers)
    if need_keys and not options.draft:
        config.require_keys(settings, path)
    return settings


def segment_cache(episode: Episode, options: BuildOptions) -> SegmentCache | None:
    if not options.use_cache:
        return None
    return SegmentCache(cache_dir(source.project_root(episode.source), options.cache_dir))


def output_dir(episode: Episode, options: BuildOptions) -> Path:
    return options.outdir or episode.source.parent / "build"


def up_to_date(episode: Episode, outdir: Path, digest: str) -> dict[str, Any] | None:
    """The previous report when every output exists and was built from the same inputs."""
    report_file = outdir / deliver.file_names(episode)["report"]
    try:  # whatever is there (a FIFO, a folder, a name too long) only means "not up to date"
        report = json.loads(source.read_bytes(report_file, str(report_file), limit=REPORT_MAX))
    except (ValidationError, ValueError):
        return None
    if report.get("build_hash") != digest:
        return None
    names = _leaves(deliver.file_names(episode))
    return report if all((outdir / name).is_file() for name in names) else None


def _leaves(tree: Any) -> list[str]:
    """Every file name in `deliver.file_names`' nested roles."""
    if isinstance(tree, dict):
        return [n for value in tree.values() for n in _leaves(value)]
    return [tree] if isinstance(tree, str) else []


@functools.cache
def free_large_arrays_promptly() -> None:
    """Ask glibc to give every allocation of 256 KiB or more its own mapping, returned to the
    system the moment it is freed. By default the threshold adapts upwards, and the clips of
    a long episode end up in heaps that never shrink, so the build would keep its synthesized
    audio resident next to the finished episode. Elsewhere this does nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def build_episode(path: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    free_large_arrays_promptly()
    episode = load_episode(path, options)
    outdir, cache = output_dir(episode, options), segment_cache(episode, options)
    done = None if options.force else already_built(episode, outdir)
    if done is not None:
        return done
    check_outputs(episode, options)  # before any request, voice uploads included
    outputs.check_space(episode, outdir, cache)
    try:
        episode = voices.with_cloned_voices(episode)
        return _produce(episode, outdir, cache, build_hash(episode), options)
    except OSError as exc:  # a disk that filled up or went read-only during the build
        raise outputs.io_failure(exc, outdir) from None


def check_outputs(episode: Episode, options: BuildOptions) -> None:
    """The output folder and the cache can be written, with every name the build writes."""
    longest = max(_leaves(deliver.file_names(episode)), key=len)
    outputs.check_locations(output_dir(episode, options), segment_cache(episode, options),
                            longest)


def already_built(episode: Episode, outdir: Path) -> BuildResult | None:
    """The previous build's result when its outputs match this episode. Judged with the cloned
    voices the project has recorded, so nothing is sent; a clip with no voice yet means the
    build has work to do."""
    recorded, uploads = with_recorded_voices(episode)
    previous = None if uploads else up_to_date(recorded, outdir, build_hash(recorded))
    if previous is None:
        return None
    files = sorted(outdir / name for name in set(_leaves(deliver.file_names(recorded))))
    return BuildResult(recorded, outdir, files, previous, up_to_date=True)


def _produce(episode: Episode, outdir: Path, cache: SegmentCache | None, digest: str,
             options: BuildOptions) -> BuildResult:
    """Synthesize, assemble, master, then write every output through a staging folder."""
    report_name = deliver.file_names(episode)["report"]
    first_built = buildtime.first_built(outdir / report_name, options.clock)
    plan = compile_episode(episode)
    stats = SynthStats()
    progress = Progress(f"{episode.stem}", quiet=options.quiet)
    started = time.perf_counter()
    clips = synthesize(plan.jobs, stats, SynthOptions(
        cache=cache, jobs=options.jobs, progress=progress, configs=episode.configs))
    synthesized = time.perf_counter()
    by_turn = turn_clips(plan.jobs, clips)  # dialogue blocks split into their turns
    del clips  # assemble() lets each turn's audio go once it is placed
    samples, placed = assemble(episode, by_turn)
    prod, out = episode.production, episode.output
    mastered = master.master(samples, out.sample_rate, loudness=prod.loudness,
                             true_peak=prod.true_peak)
    result = BuildResult(episode, outdir)
    with outputs.staging(outdir) as stage:
        measured = deliver.write_audio(stage, episode, mastered, placed, digest)
        loud = measured[out.formats[0]]  # the report's headline figures: the first format's
        deliver.write_sidecars(stage, episode, placed, allow_outside=options.allow_outside)
        report = make_report(episode, plan, placed, loud, stats, digest)
        report["timings"] = {"synthesize_s": round(synthesized - started, 3),
                             "post_s": round(time.perf_counter() - synthesized, 3)}
        report.update(deliver.report_fields(stage, episode, measured, first_built))
        (stage / report_name).write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
        result.files = [outdir / p.name for p in sorted(stage.iterdir())]
    result.report = report
    return result


def build_hash(episode: Episode) -> str:
    """A digest of everything that shapes the outputs: the validated episode and its files."""
    h = hashlib.sha256(f"podcastgen {__version__}\n{episode!r}".encode())
    prod, out = episode.production, episode.output
    files = [episode.meta.cover, episode.feed.image, out.notes_template, out.page_template]
    files += [m.path for m in (prod.intro, prod.outro, prod.bed) if m is not None]
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
        "draft": episode.draft,  # local stand-in voices: `podcastgen feed` leaves it out
        "duration_s": round(placed.duration_s, 3),
        "loudness_lufs": round(loud.integrated_lufs, 2),
        "true_peak_dbtp": round(loud.true_peak_dbtp, 2),
        "requests": {"sent": stats.sent, "retried": stats.retried, "cached": stats.cached},
        "characters": plan.characters(),
        "chapters": [{"title": c.title, "start_s": round(c.start_s, 3)} for c in placed.chapters],
        "segments": [segment(c, episode) for c in placed.cues],
        "warnings": [*episode.warnings, *placed.warnings],
    }


def segment(cue: Any, episode: Episode) -> dict[str, Any]:
    data = asdict(cue)
    data.pop("name")
    data.pop("captions")  # the report keeps one segment per turn
    data["start_s"], data["end_s"] = round(cue.start_s, 3), round(cue.end_s, 3)
    return data
