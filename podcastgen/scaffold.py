"""`podcastgen new`: an episode started from a template, which validates where it is made.

A template that `extends:` a show file (the shipped two-hosts.yaml extends show.yaml) names it
relative to the episode, so a copy made in another folder would fail at once. The copy's
`extends:` is pointed at the project's show file instead (when the project has exactly one
by that name), and the new episode is validated before the command returns: one that would not
validate is removed again, and the reason is one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InputError
from .source import show_path

# a top-level `extends:` line as templates write it (a template's must be literal anyway)
EXTENDS = re.compile(r"^extends:[ \t]*(['\"]?)([^'\"#\n]+?)\1[ \t]*(#.*)?$", re.MULTILINE)
MAX_FOLDERS = 2000  # a project searched for its show file; far more than any show has


def retarget_extends(text: str, template: Path, target: Path, root: Path) -> str:
    """`text` (the template's) with its `extends:` naming, from `target`'s folder, the file the
    template meant: as written when it exists there, else the project's one file of that name."""
    found = EXTENDS.search(text)
    if not found or (target.parent / found.group(2)).is_file():
        return text
    name = Path(found.group(2)).name
    shows = show_files(root, name)
    if len(shows) != 1:
        where = "there is none in the project" if not shows else \
            f"the project has several ({', '.join(show_path(s) for s in shows[:5])})"
        raise InputError(f"{show_path(target)}: not created: the {_name(template)} template "
                         f"extends {found.group(2)}, which is not beside it, and {where}; "
                         f"create the episode in the folder of your {name}")
    relative = Path(os.path.relpath(shows[0], target.parent.resolve())).as_posix()
    return text[:found.start(2)] + relative + text[found.end(2):]


def show_files(root: Path, name: str) -> list[Path]:
    """Every file called `name` in the project, hidden folders left out, nearest first."""
    found: list[Path] = []
    for count, (folder, subfolders, files) in enumerate(os.walk(root)):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        if name in files:
            found.append(Path(folder) / name)
        if count >= MAX_FOLDERS:
            break
    return sorted(found, key=lambda p: len(p.relative_to(root).parts))


def check_new(target: Path, template: Path, made: list[Path]) -> None:
    """Validate the new episode as `check` would; one that fails is removed (all of `made`)
    and refused with its first problem."""
    from .pipeline import BuildOptions, load_episode

    try:
        load_episode(target, BuildOptions(), need_keys=False)
    except InputError as exc:
        for path in made:
            path.unlink(missing_ok=True)
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise InputError(f"{show_path(target)}: not created: the {_name(template)} template "
                         f"does not validate here ({first})") from None


def _name(template: Path) -> str:
    return template.name.split(".")[0]
