"""The command line: parse, call the pipeline, map errors to one line and an exit code.

Exit status: 0 success; 2 invalid input or usage (argparse also exits 2); 1 build failed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, authoring
from .errors import InputError, PodcastgenError
from .settings import FORMATS

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podcastgen",
                                description="Build podcast episodes from YAML scripts.")
    p.add_argument("--version", action="version", version=f"podcastgen {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build episodes into mastered, tagged audio")
    b.add_argument("episodes", nargs="+", type=Path, metavar="EPISODE")
    b.add_argument("-o", "--outdir", type=Path, help="output folder (default: build/ beside "
                   "the episode)")
    b.add_argument("--draft", action="store_true", help="render every speaker with the "
                   "offline local voices")
    b.add_argument("--allow-outside", action="store_true", help="allow paths outside the project")
    b.add_argument("--jobs", "-j", type=_positive, metavar="N",
                   help="at most N requests in flight for the whole build")
    b.add_argument("--no-cache", action="store_true", help="neither read nor write the "
                   "segment cache")
    b.add_argument("--cache-dir", type=Path, help="segment cache folder (default: "
                   ".podcastgen/cache in the project, or $PODCASTGEN_CACHE_DIR)")
    b.add_argument("--dry-run", action="store_true", help="print the plan per provider; send "
                   "and write nothing")
    b.add_argument("--force", action="store_true", help="re-encode even when the outputs are "
                   "up to date")
    b.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    authoring.add_template_args(b)
    authoring.add_show_args(b)
    c = sub.add_parser("cache", help="inspect or prune the segment cache")
    c.add_argument("action", choices=("stats", "prune"))
    c.add_argument("--cache-dir", type=Path, help="segment cache folder")
    c.add_argument("--older-than", type=float, metavar="DAYS", help="prune: entries unused "
                   "for DAYS days")
    c.add_argument("--max-size", type=_size, metavar="SIZE", help="prune: least recently used "
                   "entries until the cache fits SIZE (e.g. 500M, 2G)")
    _feed_parser(sub)
    v = sub.add_parser("voices", help="list, upload (clone) and delete a provider's voices")
    v.add_argument("args", nargs="+", metavar="WORD", help="`list PROVIDER`, `upload PROVIDER "
                   "CLIP --name N --text T`, `delete PROVIDER VOICE` (or just `PROVIDER`)")
    v.add_argument("--name", help="upload: a name for the new voice")
    v.add_argument("--text", help="upload: the exact transcript of the clip")
    v.add_argument("--model", help="upload: the model the voice is for (default: the "
                   "provider's default model)")
    authoring.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "cache":
            return _cache(args)
        if args.command == "feed":
            return _feed(args)
        if args.command == "voices":
            from .voices import command

            return command(args.args, name=args.name, text=args.text, model=args.model)
        return args.run(args)
    except PodcastgenError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an I/O failure no command turned into its own words
        where = os.fsdecode(exc.filename) if exc.filename else "podcastgen"
        print(f"{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("podcastgen: interrupted; nothing was left half-written", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace) -> int:
    from . import config, ffmpeg
    from .pipeline import BuildOptions, build_episode, check_outputs, load_episode

    if not args.dry_run:
        ffmpeg.binary()  # a named ffmpeg that cannot do the job is refused before anything is sent
    options = BuildOptions(outdir=args.outdir, draft=args.draft, allow_outside=args.allow_outside,
                           jobs=args.jobs, use_cache=not args.no_cache, cache_dir=args.cache_dir,
                           force=args.force, quiet=args.quiet, data=args.data,
                           variables=tuple(args.var))
    if authoring.is_show_build(args):  # folders, --changed-since, --shard: each on its own
        if args.dry_run:
            raise InputError("--dry-run takes episode files, not a folder or --changed-since")
        return authoring.build_show(args, options, None if args.quiet else _summary)
    episodes = [load_episode(path, options, need_keys=False)  # all valid, or nothing
                for path in args.episodes]
    if not args.dry_run and not args.draft:  # every missing key named in one run
        config.require_all_keys((e.source, e.configs) for e in episodes)
    if args.dry_run:
        return _dry_run(episodes, options)
    for episode in episodes:
        check_outputs(episode, options)
    for path in args.episodes:
        result = build_episode(path, options)
        if not args.quiet:
            _summary(result)
    return EXIT_OK


def _dry_run(episodes: list, options) -> int:  # type: ignore[no-untyped-def]
    from . import dryrun
    from .pipeline import segment_cache
    from .plan import compile_episode

    for episode in episodes:
        episode, uploads = dryrun.with_recorded_voices(episode)
        rows = dryrun.summarize(episode, compile_episode(episode), segment_cache(episode, options),
                                episode.configs)
        print(dryrun.render(episode, rows, uploads))
    return EXIT_OK


def _summary(result) -> None:  # type: ignore[no-untyped-def]
    r = result.report
    for warning in r.get("warnings", ()):
        print(warning, file=sys.stderr)
    audio = result.outdir / next(iter(r["formats"].values()))["file"]
    if result.up_to_date:
        print(f"{_rel(audio)} is up to date (nothing sent; --force re-encodes)")
        return
    minutes, seconds = divmod(r["duration_s"], 60)
    req = r["requests"]
    print(f"built {_rel(audio)}: {int(minutes)}:{seconds:04.1f}, {r['loudness_lufs']:.1f} LUFS, "
          f"true peak {r['true_peak_dbtp']:.1f} dBTP, {len(r['segments'])} turns, "
          f"{req['sent']} synthesized, {req['cached']} cached")


def _cache(args: argparse.Namespace) -> int:
    from .cache import SegmentCache, cache_dir

    store = SegmentCache(cache_dir(Path.cwd(), args.cache_dir))
    if args.action == "prune":
        if args.older_than is None and args.max_size is None:
            raise InputError("cache prune: say what to remove: --older-than DAYS and/or "
                             "--max-size SIZE (--max-size 0 empties the cache)")
        removed, freed = store.prune(older_than_days=args.older_than, max_bytes=args.max_size)
        print(f"removed {removed} segments, freed {_bytes(freed)}")
        return EXIT_OK
    stats = store.stats()
    print(f"{_rel(store.root)}: {stats.entries} segments, {_bytes(stats.bytes)}")
    return EXIT_OK


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    number, unit = text.upper().rstrip("B")[:-1], text.upper().rstrip("B")[-1:]
    if unit.isdigit():
        number, unit = text.upper().rstrip("B"), ""
    try:
        return int(float(number) * units[unit])
    except (KeyError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a size like 500M or 2G, got {text!r}")


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _feed_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("feed", help="write an RSS feed for the episodes built into a folder")
    f.add_argument("build_dir", type=Path, metavar="BUILD_DIR")
    f.add_argument("--base-url", required=True, help="public URL of BUILD_DIR's files")
    f.add_argument("-o", "--output", type=Path, default=Path("feed.xml"),
                   help="feed file to write (default: feed.xml)")
    f.add_argument("--format", choices=FORMATS,
                   help="enclosure format (default: mp3, else m4a); others become "
                   "podcast:alternateEnclosure")
    f.add_argument("--include-drafts", action="store_true", help="publish --draft builds too "
                   "(left out by default)")


def _feed(args: argparse.Namespace) -> int:
    from .feed import write_feed

    count, warnings = write_feed(args.build_dir, args.base_url, args.output, args.format,
                                 include_drafts=args.include_drafts)
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"wrote {_rel(args.output)}: {count} episode{'s' if count != 1 else ''}")
    return EXIT_OK


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
