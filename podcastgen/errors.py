"""The exception tree. The CLI maps each class to one message line and an exit code.

    PodcastgenError                 base; never shown with a traceback
    ├── InputError                  exit 2: bad episode, bad usage; nothing sent, nothing written
    │   └── ValidationError         carries every Problem found in an episode at once
    └── BuildError                  exit 1: the build failed; no partial output is left
        ├── AudioError              decoding, mastering, encoding or tagging failed
        └── ProviderError           a synthesis provider failed for a turn
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

# Failures of the disk rather than of the data: reported as `path: reason` wherever they happen
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENAMETOOLONG})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located to the line."""

    path: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.key}: {self.message}"


class PodcastgenError(Exception):
    exit_code = 1


class InputError(PodcastgenError):
    exit_code = 2
    # what was found wrong but not fatal before the error stopped the work (`check` shows them)
    warnings: tuple[str, ...] = ()


class ValidationError(InputError):
    def __init__(self, problems: list[Problem], warnings: tuple[str, ...] = ()):
        self.problems = sorted(dict.fromkeys(problems), key=lambda p: (p.path, p.line, p.key))
        self.warnings = warnings
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(PodcastgenError):
    exit_code = 1


class AudioError(BuildError):
    errno: int | None = None  # set when ffmpeg failed because of the disk (see DISK_ERRNOS)


class ProviderError(BuildError):
    """A provider failed; the message names the turn, the provider's words and its trace id."""

    def __init__(self, message: str, *, where: str = "", trace_id: str = ""):
        self.where = where
        self.trace_id = trace_id
        parts = [p for p in (where, message) if p]
        text = ": ".join(parts)
        if trace_id:
            text += f" (trace id {trace_id})"
        super().__init__(text)
