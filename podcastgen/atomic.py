"""Files written so that a reader, or a build run after a crash, sees the old file or the whole
new one, never a part of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, *, prefix: str | None = None,
                 durable: bool = False) -> None:
    """Write `data` (text as UTF-8) to a temporary file beside `path`, then rename it over
    `path`; a failure leaves no temporary file behind. `durable` also flushes it to disk
    before the rename, so the content outlives a power cut as well as a killed process.
    `prefix` names the temporary file (default `.<name>.`)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The same failure, naming the file being written rather than its temporary name (a
    failed write() names no file at all)."""
    return OSError(exc.errno, exc.strerror, str(path))
