"""Which episodes need building: each episode's input files, and what git says has changed.

An episode's inputs are the episode file, its `extends` chain, for a template every template it
includes and its data file, every file it names (cover, intro, outro, music bed, sounds,
reference clips) and the project's `podcastgen.yaml`. `--changed-since REF` selects the
episodes with at least one input in `git diff --name-only REF` (the working tree against REF)
or untracked (new, not ignored).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from . import source
from .errors import InputError, ValidationError
from .template_data import TemplateInput

GIT_TIMEOUT_S = 60.0


def episode_inputs(path: Path, allow_outside: bool = False,
                   template: TemplateInput | None = None) -> set[Path] | None:
    """Every file that shapes `path`'s outputs, resolved; None when the episode cannot be read
    (so it is built, and its error reported, rather than silently skipped)."""
    root = source.project_root(path)
    try:
        doc = source.load(path, root, allow_outside, template=template)
    except ValidationError:
        return None
    files = set(doc.files) | _assets(doc)
    if (root / "podcastgen.yaml").is_file():
        files.add(source.real(root / "podcastgen.yaml"))
    return {source.real(f) for f in files}


def _assets(doc: source.Document) -> set[Path]:
    """Files the merged document names, each relative to the file that wrote it."""
    data = doc.data if isinstance(doc.data, dict) else {}
    keys: list[source.KeyPath] = [("cover",), ("production", "intro"), ("production", "outro"),
                                  ("production", "bed", "file")]
    speakers = data.get("speakers")
    for sid in speakers if isinstance(speakers, dict) else ():
        keys.append(("speakers", sid, "reference", "audio"))
    script = data.get("script")
    for i, item in enumerate(script if isinstance(script, list) else ()):
        if isinstance(item, dict) and "sound" in item:
            keys.append(("script", i, "sound"))
    found = set()
    for key in keys:
        value = _get(data, key)
        if isinstance(value, str) and value.strip():
            found.add(source.real(doc.locate(key).file.parent / value))
    return found


def _get(data: Any, key: source.KeyPath) -> Any:
    for part in key:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def changed_files(ref: str, where: Path) -> set[Path]:
    """Files changed in the working tree since `ref`, plus untracked ones, as resolved paths."""
    top = Path(_git(["rev-parse", "--show-toplevel"], where, ref).strip())
    diff = _git(["diff", "--name-only", "--no-renames", "-z", ref, "--"], top, ref)
    new = _git(["ls-files", "--others", "--exclude-standard", "-z"], top, ref)
    names = [n for n in (diff + new).split("\0") if n]
    return {source.real(top / n) for n in names}


def _git(args: list[str], cwd: Path, ref: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=GIT_TIMEOUT_S)
    except FileNotFoundError:
        raise InputError("--changed-since needs git, and git was not found") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"--changed-since: git {args[0]} took over {GIT_TIMEOUT_S:g} s") \
            from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        if args[0] == "rev-parse":
            raise InputError(f"--changed-since: {source.show_path(cwd)} is not inside a git "
                             f"repository ({detail})")
        raise InputError(f"--changed-since {ref}: git could not compare with it ({detail})")
    return proc.stdout


def select_changed(episodes: list[Path], ref: str, allow_outside: bool = False,
                   template: TemplateInput | None = None) -> list[Path]:
    """The episodes with an input changed since `ref`, in the given order."""
    if not episodes:
        return []
    changed = changed_files(ref, source.real(episodes[0]).parent)
    selected = []
    for path in episodes:
        inputs = episode_inputs(path, allow_outside, template)
        if inputs is None or source.real(path) in changed or inputs & changed:
            selected.append(path)
    return selected
