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
    v = sub.add_parser("voices", help="list, upload (clone) and delete a provider's voices")
    v.add_argument("args", nargs="+", metavar="WORD", help="`list PROVIDER`, `upload PROVIDER "
                   "CLIP --name N --text T`, `delete PROVIDER VOICE` (or just `PROVIDER`)")
    v.add_argument("--name", help="upload: a name for the new voice")
    v.add_argument("--text", help="upload: the exact transcript of the clip")
    v.add_argument("--model", help="upload: the model the voice is for (default: the "
                   "provider's default model)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        from .voices import command

        return command(args.args, name=args.name, text=args.text, model=args.model)
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
    audio = next(f for f in result.files if f.suffix == ".mp3")
    print(f"built {_rel(audio)}: {int(minutes)}:{seconds:04.1f}, {r['loudness_lufs']:.1f} LUFS, "
          f"true peak {r['true_peak_dbtp']:.1f} dBTP, {len(r['segments'])} turns, "
          f"{r['requests']['sent']} synthesized")


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
