"""Authoring commands (`new`, `render`, `schema`, `check`) and the whole-show side of `build`.

Kept out of cli.py so the command layer stays a thin table; heavy modules load only when a
command runs, so `podcastgen --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError

SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAMES = ("{}", "{}.yaml.j2", "{}.yml.j2", "{}.yaml", "{}.yml")


def _var(text: str) -> tuple[str, str]:
    from .template_data import parse_var

    try:
        return parse_var(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _shard(text: str) -> tuple[int, int]:
    from .showbuild import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_template_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, metavar="FILE", help="templates: YAML or JSON values "
                   "(default: <stem>.data.yaml beside the template)")
    p.add_argument("--var", type=_var, action="append", default=[], metavar="KEY=VALUE",
                   help="templates: set a value (over the data file); repeatable")


def add_show_args(b: argparse.ArgumentParser) -> None:
    b.add_argument("--changed-since", metavar="REF", help="build only episodes with an input "
                   "changed since this git ref (working tree and untracked files included)")
    b.add_argument("--shard", type=_shard, metavar="I/N", help="build only shard I of N")
    b.add_argument("--summary", type=Path, metavar="FILE", help="write a JSON build summary")
    b.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML for CI")
    b.add_argument("--list", action="store_true", help="print the episodes that would be "
                   "built and stop")


def add_parsers(sub: Any) -> None:
    """The authoring subcommands; each sets `run` to its handler."""
    n = sub.add_parser("new", help="start an episode from a template (never overwrites)")
    n.add_argument("episode", type=Path, metavar="EPISODE")
    n.add_argument("--template", "-t", required=True, metavar="T",
                   help="a template name (interview, news-roundup, solo, ...) or file")
    n.set_defaults(run=run_new)
    r = sub.add_parser("render", help="print a template's YAML with the template line of each")
    r.add_argument("episode", type=Path, metavar="EPISODE")
    r.add_argument("--plain", action="store_true", help="print only the YAML")
    add_template_args(r)
    r.add_argument("--allow-outside", action="store_true", help="allow paths outside the project")
    r.set_defaults(run=run_render)
    s = sub.add_parser("schema", help="print the JSON Schema of the episode format")
    s.add_argument("--show", action="store_true", help="the schema of a show file that "
                   "episodes extend (nothing required)")
    s.set_defaults(run=run_schema)
    c = sub.add_parser("check", help="validate and lint episodes without sending anything")
    c.add_argument("episodes", nargs="+", type=Path, metavar="EPISODE", help="files or folders")
    c.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 2)")
    add_template_args(c)
    c.add_argument("--allow-outside", action="store_true", help="allow paths outside the project")
    c.set_defaults(run=run_check)


def is_show_build(args: argparse.Namespace) -> bool:
    return any(os.path.isdir(p) for p in args.episodes) or bool(  # never raises
        args.changed_since or args.shard or args.summary or args.junit or args.list)


def build_show(args: argparse.Namespace, options: Any,
               on_built: Callable[[Any], None] | None) -> int:
    """`build DIR...`: select, build each episode on its own, report, and sum up."""
    from . import ci_report, showbuild
    from .source import show_path

    episodes = showbuild.select(args.episodes, options, args.changed_since, args.shard)
    if args.list:
        emit("".join(show_path(p) + "\n" for p in episodes))
        return 0
    outcomes = showbuild.build_all(episodes, options, on_built)
    ci_report.write_reports(outcomes, args.summary, args.junit,
                            changed_since=args.changed_since, shard=args.shard)
    n = showbuild.counts(outcomes)
    if not episodes:
        print("nothing to build" + (f": no episode changed since {args.changed_since}"
                                    if args.changed_since else ""), file=sys.stderr)
    else:
        print(f"{len(outcomes)} episodes: {n['built']} built, {n['invalid']} invalid, "
              f"{n['failed']} failed", file=sys.stderr)
    return showbuild.exit_status(outcomes)


def run_new(args: argparse.Namespace) -> int:
    from .episode import stem_of
    from .scaffold import check_new, retarget_extends
    from .source import project_root, show_path
    from .template_data import DATA_SUFFIXES, data_file_for
    from .templating import is_template

    root = project_root(args.episode)
    template = find_template(args.template, root)
    stem = stem_of(args.episode)
    target = args.episode.parent / (stem + (".yaml.j2" if is_template(template) else ".yaml"))
    copies = [(template, target)]
    data = data_file_for(template) if is_template(template) else None
    if data:
        suffix = next(s for s in DATA_SUFFIXES if data.name.endswith(s))
        copies.append((data, target.parent / (stem + suffix)))
    for _, dest in copies:
        if dest.exists():
            raise InputError(f"{show_path(dest)}: already exists; podcastgen new never "
                             "overwrites a file, so choose another name")
    text = retarget_extends(template.read_text("utf-8"), template, target, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for src, dest in copies:
        with dest.open("xb") as out:  # "x": fail rather than overwrite, even in a race
            made.append(dest)
            out.write(text.encode("utf-8") if dest == target else src.read_bytes())
    check_new(target, template, made)
    print("created " + " and ".join(show_path(d) for _, d in copies))
    print(f"next: edit it, `podcastgen render {show_path(target)}`, then "
          f"`podcastgen build {show_path(target)}`")
    return 0


def find_template(name: str, root: Path) -> Path:
    """A template file by path, or by name in the project's templates/ or the shipped ones."""
    from .showbuild import EPISODE_SUFFIXES
    from .template_data import is_data_file

    given = Path(name)
    if given.is_file():
        return given
    folders = [f for f in (root / "templates", SHIPPED_TEMPLATES) if f.is_dir()]
    for folder in folders:
        for pattern in TEMPLATE_NAMES:
            if (folder / pattern.format(name)).is_file():
                return folder / pattern.format(name)
    known = sorted({p.name.split(".")[0] for f in folders for p in f.iterdir()
                    if p.name.endswith(EPISODE_SUFFIXES) and not is_data_file(p)})
    raise InputError(f"unknown template {name!r}; templates: {', '.join(known) or 'none'}")


def run_render(args: argparse.Namespace) -> int:
    from .source import project_root, read_text, show_path
    from .template_data import TemplateInput
    from .templating import is_template, render

    path: Path = args.episode
    if is_template(path):
        inputs = TemplateInput(args.data, tuple(args.var))
        rendered = render(path, inputs, project_root(path), args.allow_outside)
        text, lines = rendered.text, rendered.lines
    else:
        text = read_text(path, show_path(path))
        lines = tuple((path, i + 1) for i in range(text.count("\n") + 1))
    if args.plain:
        emit(text)
        return 0
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    gutters = [f"{show_path(p)}:{n}" for p, n in lines[: len(rows)]]
    width = max((len(g) for g in gutters), default=0)
    emit("".join(f"{g:<{width}} | {row}".rstrip() + "\n" for g, row in zip(gutters, rows)))
    return 0


def run_schema(args: argparse.Namespace) -> int:
    from .schema_export import episode_schema

    emit(json.dumps(episode_schema(show=args.show), indent=2, ensure_ascii=False) + "\n")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from .lint import check_episode
    from .pipeline import BuildOptions
    from .showbuild import discover

    options = BuildOptions(allow_outside=args.allow_outside, data=args.data,
                           variables=tuple(args.var))
    episodes = discover(args.episodes)
    errors = warnings = 0
    for path in episodes:
        found = check_episode(path, options)
        emit("".join(line + "\n" for line in found.errors + found.warnings))
        errors, warnings = errors + len(found.errors), warnings + len(found.warnings)
    print(f"checked {len(episodes)} episode{'s' * (len(episodes) != 1)}: {errors} error"
          f"{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}", file=sys.stderr)
    return 2 if errors or (args.strict and warnings) else 0


def emit(text: str) -> None:
    """Write to stdout; a reader that stops early (`| head`) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
