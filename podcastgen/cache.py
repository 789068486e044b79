"""Content-addressed segment store: one file per synthesized segment, written atomically.

The key covers everything that changes a segment's audio (provider, model, voice or the
reference clip's bytes, the compiled text, direction, speed, options, the provider's wire
format, a format version) and nothing that doesn't (titles, tags, output settings), so a
one-word fix costs one request and a killed build resumes where it stopped.

Entry layout: MAGIC, a 4-byte header length, a JSON header (sample rate, sample count,
sha256 of the payload), then float32 little-endian samples. A torn or corrupt entry fails the
checksum and is discarded; writers never expose a partial file (temp file + fsync + rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .providers import Audio, Job

CACHE_VERSION = 1
MAGIC = b"PGSEG\x01"
DEFAULT_DIR = Path(".podcastgen") / "cache"
ENV_DIR = "PODCASTGEN_CACHE_DIR"


def cache_dir(project_root: Path, override: Path | None = None) -> Path:
    """`--cache-dir`, else $PODCASTGEN_CACHE_DIR, else `.podcastgen/cache` in the project."""
    if override is not None:
        return override
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else project_root / DEFAULT_DIR


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def segment_key(job: Job, wire: str = "") -> str:
    """The content address of a job's audio; `wire` names the provider's request format."""
    fields = {
        "v": CACHE_VERSION,
        "provider": job.provider,
        "model": job.model,
        "voice": job.voice,
        "text": job.text,
        "parts": list(job.parts),
        "speed": job.speed,
        "emotion": job.emotion,
        "instruction": job.instruction,
        "options": [[k, v] for k, v in job.options],
        "references": [[file_digest(p) if isinstance(p, Path) else p, text]
                       for p, text in job.references],  # a URL: its address, as sent
        "wire": wire,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Stats:
    entries: int
    bytes: int
    oldest: float | None  # mtime (last use) of the least recently used entry


class SegmentCache:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.seg"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> Audio | None:
        """The cached audio, or None; a corrupt entry is removed and reported as a miss."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        audio = _decode(data)
        if audio is None:
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # last use, for `cache prune`
        return audio

    def intact(self, key: str) -> bool:
        """Whether `get` would return this entry: it exists and passes its checksum. Read-only,
        unlike `get`: a bad entry is left in place and a good one is not marked used."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return False
        return _decode(data) is not None

    def put(self, key: str, audio: Audio) -> None:
        # ".tmp-": the prefix prune() sweeps when a killed writer left one behind
        write_atomic(self.path(key), _encode(audio), prefix=".tmp-", durable=True)

    def entries(self) -> list[Path]:
        return sorted(self.root.glob("??/*.seg")) if self.root.is_dir() else []

    def stats(self) -> Stats:
        files = [(p.stat().st_size, p.stat().st_mtime) for p in self.entries()]
        return Stats(len(files), sum(s for s, _ in files), min((m for _, m in files), default=None))

    def prune(self, *, older_than_days: float | None = None,
              max_bytes: int | None = None) -> tuple[int, int]:
        """Remove entries unused for `older_than_days`, then least recently used ones until the
        store fits `max_bytes`; also sweeps temp files left by killed writers. Returns
        (entries removed, bytes freed)."""
        now = time.time()
        found = sorted(((p.stat().st_mtime, p.stat().st_size, p) for p in self.entries()))
        total = sum(size for _, size, _ in found)
        removed = freed = 0
        for mtime, size, path in found:
            stale = older_than_days is not None and now - mtime > older_than_days * 86400
            over = max_bytes is not None and total > max_bytes
            if not (stale or over):
                continue
            path.unlink(missing_ok=True)
            total -= size
            removed, freed = removed + 1, freed + size
        for tmp in self.root.glob("??/.tmp-*") if self.root.is_dir() else []:
            if now - tmp.stat().st_mtime > 3600:
                tmp.unlink(missing_ok=True)
        return removed, freed


def _encode(audio: Audio) -> bytes:
    payload = np.ascontiguousarray(audio.samples, dtype="<f4").tobytes()
    header = json.dumps({"rate": audio.sample_rate, "n": len(audio.samples),
                         "sha256": hashlib.sha256(payload).hexdigest()}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + payload


def _decode(data: bytes) -> Audio | None:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        return None
    (size,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start:start + size])
    except ValueError:
        return None
    payload = data[start + size:]
    if len(payload) != 4 * header.get("n", -1) or \
            hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        return None
    samples = np.frombuffer(payload, dtype="<f4").copy()
    return Audio(samples=samples, sample_rate=int(header["rate"]))
