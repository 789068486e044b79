"""Where a build writes: the output folder and the segment cache, checked before the first
request is sent, and the staging folder the outputs are written into.

Checked up front (`preflight`): each is a folder, or can be made one, on a writable file
system; its names fit the file system's limits; and there is room for what the build will
write there, estimated from the planned length. A problem is one line naming the path, exit 2,
nothing sent. An I/O failure that still happens during the build (a disk filled by someone
else) becomes one line naming the file, exit 1 (`io_failure`).

Staging: outputs are written into `.podcastgen-XXXX/` inside the output folder and moved into
place only when all of them succeeded. A live build holds an exclusive lock on its staging
folder; one nobody holds was left by a killed build and is removed by the next build of that
folder. Making a staging folder and sweeping stale ones both happen under a brief lock on the
output folder itself, so a sweep never takes a folder another build has made but not yet
locked. The kernel drops a killed process's locks, so SIGKILL leaves nothing that looks live.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .cache import SegmentCache
from .episode import Episode, planned_seconds
from .errors import BuildError, InputError
from .source import show_path

STAGING_PREFIX = ".podcastgen-"
NAME_MAX, PATH_MAX = 255, 4096  # when the file system does not say
CACHE_BYTES_PER_S = 48000 * 4  # a cached segment: float32 samples, at most 48 kHz
CACHE_ENTRY = "ab/" + "0" * 64 + ".seg"  # the shape of a segment's name in the cache
FLAC_RATIO = 0.7  # of the 16-bit PCM size, for speech and music (an upper estimate)
MARGIN = 1.25  # the planned length is an estimate
TEXT_BYTES = 1 << 20  # transcripts, chapters, notes, page and report, together


def check_locations(outdir: Path, cache: SegmentCache | None, longest: str) -> None:
    """Refuse, before anything is sent, an output folder or cache the build could not write,
    or where a name it writes (`longest`, the longest output name) would not fit."""
    _names_fit(outdir, writable_folder(outdir, "output folder"), longest,
               inside=STAGING_PREFIX + "x" * 8)
    if cache is not None:
        _names_fit(cache.root, writable_folder(cache.root, "segment cache"), CACHE_ENTRY)


def check_space(episode: Episode, outdir: Path, cache: SegmentCache | None) -> None:
    """Refuse a build whose outputs and new cache entries would not fit on the disk."""
    seconds = planned_seconds(episode.script, episode.speakers, episode.production)
    needs = {_existing(outdir): output_bytes(episode, seconds)}
    if cache is not None:
        base = _existing(cache.root)
        needs[base] = needs.get(base, 0) + int(uncached_seconds(episode, cache)
                                               * CACHE_BYTES_PER_S)
    for folder, need in _by_file_system(needs).items():
        free = shutil.disk_usage(folder).free
        if need * MARGIN > free:
            raise InputError(f"{show_path(folder)}: not enough free space: the build needs "
                             f"about {_mb(need * MARGIN)}, {_mb(free)} is free")


def writable_folder(folder: Path, role: str) -> Path:
    """The nearest existing folder on `folder`'s path, once it is sure the build can make and
    write `folder` there; else an InputError naming `folder`."""
    shown = show_path(folder)
    for part in folder.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise InputError(f"{shown}: the name {part[:40]}… is too long for a folder (at "
                             f"most {NAME_MAX} bytes)")
    try:
        current = _existing(folder)
        mode = os.stat(current).st_mode
    except OSError as exc:
        raise InputError(f"{shown}: cannot use it as the {role}: "
                         f"{exc.strerror or exc}") from None
    if not stat.S_ISDIR(mode):
        what = "it" if current == folder.absolute() else show_path(current)
        raise InputError(f"{shown}: cannot use it as the {role}: {what} is a file, not a folder")
    if os.statvfs(current).f_flag & os.ST_RDONLY:
        raise InputError(f"{shown}: cannot use it as the {role}: {show_path(current)} is on a "
                         "read-only file system")
    if not os.access(current, os.W_OK | os.X_OK):
        raise InputError(f"{shown}: cannot use it as the {role}: no permission to write in "
                         f"{show_path(current)}")
    return current


def _existing(folder: Path) -> Path:
    """`folder`, or the nearest parent that exists (the folder will be made inside it)."""
    current = folder.absolute()
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    return current


def _names_fit(folder: Path, existing: Path, name: str, inside: str = "") -> None:
    """`name` (written in `folder`, by way of the folder `inside` it) within the limits of the
    file system `existing` is on."""
    name_max = _pathconf(existing, "PC_NAME_MAX", NAME_MAX)
    path_max = _pathconf(existing, "PC_PATH_MAX", PATH_MAX)
    written = folder.absolute() / inside / name
    if len(os.fsencode(written.name)) > name_max or len(os.fsencode(str(written))) >= path_max:
        raise InputError(f"{show_path(folder / name)}: the name is too long for the file "
                         f"system (names at most {name_max} bytes, paths {path_max}); use a "
                         "shorter episode file name or output folder")


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError):
        return default


def output_bytes(episode: Episode, seconds: float) -> int:
    """About how much a build of `seconds` writes into the output folder: every format, one
    more copy of the largest while it is encoded and checked, the art and the text files."""
    out = episode.output
    pcm = out.sample_rate * 2 * out.channels
    lossy = int(out.bitrate.rstrip("k")) * 125
    per_s = {"wav": pcm, "flac": int(pcm * FLAC_RATIO)}
    sizes = [per_s.get(fmt, lossy) * seconds for fmt in out.formats]
    art = sum(f.stat().st_size for f in {episode.meta.cover, episode.feed.image} if f)
    return int(sum(sizes) + max(sizes)) + art + TEXT_BYTES


def uncached_seconds(episode: Episode, cache: SegmentCache) -> float:
    """Expected seconds of the segments the cache does not hold yet."""
    from .dryrun import with_recorded_voices
    from .moss import expected_seconds
    from .plan import compile_episode
    from .synth import job_keys, providers_for

    planned, _ = with_recorded_voices(episode)
    jobs = compile_episode(planned).jobs
    keys = job_keys(jobs, providers_for(jobs, planned.configs))
    return sum(expected_seconds(j.text, j.speed) for j, k in zip(jobs, keys) if not cache.has(k))


def _by_file_system(needs: dict[Path, int]) -> dict[Path, int]:
    """Needs on one file system added together (the cache is often beside the outputs)."""
    found: dict[int, tuple[Path, int]] = {}
    for folder, need in needs.items():
        device = os.stat(folder).st_dev
        first, total = found.get(device, (folder, 0))
        found[device] = (first, total + need)
    return dict(found.values())


def _mb(size: float) -> str:
    return f"{size / (1 << 20):,.0f} MiB" if size >= 1 << 20 else f"{size / 1024:,.0f} KiB"


@contextlib.contextmanager
def staging(outdir: Path) -> Iterator[Path]:
    """A private folder beside the outputs; its files replace the old ones only on success."""
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    with _locked(outdir):
        remove_stale(outdir)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=outdir))
        held = _lock(stage)
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.replace(item, outdir / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        os.close(held)
        if created:
            with contextlib.suppress(OSError):
                outdir.rmdir()  # only when the build left nothing in the folder it made


def remove_stale(outdir: Path) -> list[Path]:
    """Remove the staging folders in `outdir` that no live build holds; the ones removed."""
    removed = []
    for folder in sorted(outdir.glob(STAGING_PREFIX + "*")):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # not a folder (or gone): not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live build's
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = _lock(folder, wait=True)
    try:
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _lock(folder: Path, wait: bool = False) -> int:
    """An open descriptor of `folder` holding an exclusive lock on it, until it is closed."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def io_failure(exc: OSError, outdir: Path) -> BuildError:
    """One line for an I/O failure during a build, naming the file as the user knows it (a
    file being staged by its place in the output folder)."""
    name = Path(os.fsdecode(exc.filename)) if exc.filename else outdir
    if name.parent.name.startswith(STAGING_PREFIX):
        name = outdir / name.name
    reason = exc.strerror or os.strerror(exc.errno or errno.EIO)
    return BuildError(f"{show_path(name)}: {reason}")
