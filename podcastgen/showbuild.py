"""Whole-show builds: `podcastgen build DIR`, `--changed-since REF`, `--shard i/n`, CI reports.

In a folder, the episodes are the `*.yaml`, `*.yml`, `*.yaml.j2` and `*.yml.j2` files except
data files (`*.data.yaml`, ...), `podcastgen.yaml`, and files another file in the folder
`extends` (show defaults such as `show.yaml`). Each episode is built on its own: one that is
invalid or fails is recorded and the rest are still built. Exit status: 2 when any episode was
invalid, else 1 when any failed to build, else 0.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import source
from .errors import InputError, PodcastgenError, ValidationError
from .template_data import TemplateInput, is_data_file

if TYPE_CHECKING:
    from .pipeline import BuildOptions, BuildResult

EPISODE_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")
CONFIG_FILE = "podcastgen.yaml"
_EXTENDS = re.compile(r"""^extends:\s*["']?([^"'#\s{}]+)""", re.MULTILINE)


@dataclass
class Outcome:
    """One episode's result in a show build."""

    episode: Path
    status: str  # built | invalid | failed
    seconds: float
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    duration_s: float | None = None


def parse_shard(text: str) -> tuple[int, int]:
    """`2/3` -> (2, 3): the second of three shards; ValueError for anything else."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"expected I/N with 1 <= I <= N, such as 1/4, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def discover(paths: list[Path]) -> list[Path]:
    """Folders expanded to their episodes. A file named directly is an episode unless another
    named episode extends it, so `build episodes/*.yaml` skips `show.yaml` as the folder does."""
    found: dict[Path, Path] = {}
    for path in paths:
        for episode in (episodes_in(path) if os.path.isdir(path) else [path]):
            found.setdefault(source.real(episode), episode)
    if len(found) > 1:
        extended = {t for p in found.values() if (t := extends_target(p)) is not None}
        found = {key: p for key, p in found.items() if key not in extended} or found
    return list(found.values())


def episodes_in(folder: Path) -> list[Path]:
    """The episode files directly inside `folder`, sorted by name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(
        EPISODE_SUFFIXES) and not is_data_file(p) and p.name != CONFIG_FILE
        and not p.name.startswith("."))
    extended = {t for p in files if (t := extends_target(p)) is not None}
    return [p for p in files if source.real(p) not in extended]


def extends_target(path: Path) -> Path | None:
    """The file `path` extends, read without rendering (a template's `extends:` is literal)."""
    try:
        if path.name.endswith(".j2"):
            match = _EXTENDS.search(source.read_text(path, source.show_path(path)))
            target = match.group(1) if match else None
        else:
            target = source.read_yaml(path, source.show_path(path)).data.get("extends")
    except ValidationError:  # reported when the episode itself is read
        return None
    return source.real(path.parent / target) if isinstance(target, str) and target else None


def shard(episodes: list[Path], index: int, count: int) -> list[Path]:
    """Shard `index` of `count` (1-based): every count-th episode in path order, so the shards
    of one run never overlap and together hold every episode."""
    ordered = sorted(episodes, key=lambda p: p.as_posix())
    return [p for i, p in enumerate(ordered) if i % count == index - 1]


def check_outputs(episodes: list[Path], outdir: Path | None) -> None:
    """Refuse two episodes that would write the same output files."""
    from .episode import stem_of

    seen: dict[tuple[Path, str], Path] = {}
    for path in episodes:
        key = (source.real(outdir or path.parent / "build"), stem_of(path))
        if key in seen:
            raise InputError(f"{source.show_path(seen[key])} and {source.show_path(path)} would "
                             f"both write {source.show_path(key[0] / key[1])}.*; rename one or "
                             "build them into different folders")
        seen[key] = path


def select(paths: list[Path], options: BuildOptions, changed_since: str | None,
           shard_of: tuple[int, int] | None) -> list[Path]:
    """The episodes to build: found, then those changed since a ref, then this shard of them."""
    from .changes import select_changed

    episodes = discover(paths)
    for path in paths:
        if os.path.isdir(path) and not episodes_in(path):
            raise InputError(f"{source.show_path(path)}: no episodes in this folder "
                             f"({', '.join('*' + s for s in EPISODE_SUFFIXES)})")
    check_outputs(episodes, options.outdir)
    if changed_since:
        template = TemplateInput(options.data, options.variables)
        episodes = select_changed(episodes, changed_since, options.allow_outside, template)
    if shard_of:
        episodes = shard(episodes, *shard_of)
    return episodes


def build_all(episodes: list[Path], options: BuildOptions,
              on_built: Callable[[BuildResult], None] | None = None) -> list[Outcome]:
    """Build each episode on its own; a bad or failing one does not stop the others."""
    from .pipeline import build_episode

    outcomes = []
    for path in episodes:
        start = time.monotonic()
        try:
            result = build_episode(path, options)
        except PodcastgenError as exc:
            status = "invalid" if isinstance(exc, InputError) else "failed"
            print(exc, file=sys.stderr)
            outcomes.append(Outcome(path, status, time.monotonic() - start,
                                    errors=str(exc).splitlines()))
            continue
        if on_built:
            on_built(result)
        outcomes.append(Outcome(path, "built", time.monotonic() - start,
                                warnings=list(result.report.get("warnings", ())),
                                outputs=result.files,
                                duration_s=result.report.get("duration_s")))
    return outcomes


def exit_status(outcomes: list[Outcome]) -> int:
    statuses = {o.status for o in outcomes}
    return 2 if "invalid" in statuses else 1 if "failed" in statuses else 0


def counts(outcomes: list[Outcome]) -> dict[str, Any]:
    return {s: sum(o.status == s for o in outcomes) for s in ("built", "invalid", "failed")}
