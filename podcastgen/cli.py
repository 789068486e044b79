"""The command line: parse, call the pipeline, map errors to one line and an exit code.

Exit status: 0 success; 2 invalid input or usage (argparse also exits 2); 1 build failed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import InputError, PodcastgenError

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podcastgen", description="Build podcast episodes from YAML scripts.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build episodes into mastered, tagged audio")
    b.add_argument("episodes", nargs="+", type=Path, metavar="EPISODE")
    b.add_argument("-o", "--outdir", type=Path, help="output folder (default: build/ beside "
                   "the episode)")
    b.add_argument("--draft", action="store_true", help="render every speaker with the "
                   "offline local voices")
    b.add_argument("--allow-outside", action="store_true", help="allow paths outside the project")
    b.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    _feed_parser(sub)
    v = sub.add_parser("voices", help="list a provider's voices")
    v.add_argument("args", nargs="+", metavar="PROVIDER", help="`local`, or `list PROVIDER`")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "feed":
            return _feed(args)
        return _voices(args.args)
    except PodcastgenError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("podcastgen: interrupted; nothing was left half-written", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace) -> int:
    from .pipeline import BuildOptions, build_episode, load_episode

    options = BuildOptions(outdir=args.outdir, draft=args.draft,
                           allow_outside=args.allow_outside)
    for path in args.episodes:  # validate all first: nothing is built if any input is bad
        load_episode(path, options)
    for path in args.episodes:
        result = build_episode(path, options)
        if not args.quiet:
            _summary(result)
    return EXIT_OK


def _summary(result) -> None:  # type: ignore[no-untyped-def]
    for warning in result.episode.warnings:
        print(warning, file=sys.stderr)
    r = result.report
    minutes, seconds = divmod(r["duration_s"], 60)
    audio = result.outdir / next(iter(r["formats"].values()))["file"]
    print(f"built {_rel(audio)}: {int(minutes)}:{seconds:04.1f}, {r['loudness_lufs']:.1f} LUFS, "
          f"true peak {r['true_peak_dbtp']:.1f} dBTP, {len(r['segments'])} turns, "
          f"{r['requests']['sent']} synthesized")


def _feed_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("feed", help="write an RSS feed for the episodes built into a folder")
    f.add_argument("build_dir", type=Path, metavar="BUILD_DIR")
    f.add_argument("--base-url", required=True, help="public URL of BUILD_DIR's files")
    f.add_argument("-o", "--output", type=Path, default=Path("feed.xml"),
                   help="feed file to write (default: feed.xml)")
    f.add_argument("--format", choices=("mp3", "m4a", "opus", "flac", "wav"),
                   help="enclosure format (default: mp3, else m4a); others become "
                   "podcast:alternateEnclosure")


def _feed(args: argparse.Namespace) -> int:
    from .feed import write_feed

    count, warnings = write_feed(args.build_dir, args.base_url, args.output, args.format)
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"wrote {_rel(args.output)}: {count} episode{'s' if count != 1 else ''}")
    return EXIT_OK


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _voices(words: list[str]) -> int:
    from .providers import KNOWN, REGISTRY

    name = words[-1]
    if words[0] == "list" and len(words) == 2 or len(words) == 1:
        if name not in REGISTRY:
            known = ", ".join(REGISTRY)
            extra = " (not available in this version)" if name in KNOWN else ""
            raise InputError(f"unknown provider {name!r}{extra}; please select one of: {known}")
        for voice, description in REGISTRY[name]().voices().items():
            print(f"{voice:<12} {description}")
        return EXIT_OK
    raise InputError("usage: podcastgen voices PROVIDER | podcastgen voices list PROVIDER")


if __name__ == "__main__":
    sys.exit(main())
