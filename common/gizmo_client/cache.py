"""The export cache: one folder per (scene, format, placements fingerprint), LRU-bounded.

An entry is built in a temporary folder and renamed into place whole, with its `meta.json`
written last, so a reader sees either a complete entry or none. A file lock per scene and format
keeps concurrent fetches (threads or processes) from exporting the same state twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

__all__ = ["CacheEntry", "ExportCache"]

logger = logging.getLogger("gizmo_client")

META = "meta.json"
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _safe_part(value: str) -> str:
    if _SAFE.match(value) and value not in (".", ".."):
        return value
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CacheEntry:
    directory: Path
    primary: Path
    meta: dict[str, Any]


class ExportCache:
    def __init__(self, root: Path, max_bytes: int, protect_seconds: float = 60.0) -> None:
        self.root = root
        self.max_bytes = max_bytes
        #: Entries used this recently are never evicted: a caller may be loading them right now.
        self.protect_seconds = protect_seconds

    def _dir(self, scene_id: str, fmt: str) -> Path:
        return self.root / _safe_part(scene_id) / _safe_part(fmt)

    def lookup(self, scene_id: str, fmt: str, fingerprint: str) -> CacheEntry | None:
        directory = self._dir(scene_id, fmt) / _safe_part(fingerprint)
        meta_path = directory / META
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        primary = directory / str(meta.get("primary", ""))
        try:
            os.utime(meta_path)  # mark as recently used (and so protected from eviction)
        except OSError:
            return None  # evicted by another process meanwhile
        if not primary.is_file():
            return None
        return CacheEntry(directory, primary, meta)

    @contextmanager
    def locked(self, scene_id: str, fmt: str) -> Iterator[None]:
        directory = self._dir(scene_id, fmt)
        directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(directory) + ".lock"):
            yield

    def store(
        self,
        scene_id: str,
        fmt: str,
        fingerprint: str,
        populate: Callable[[Path], Path],
        meta: dict[str, Any],
    ) -> CacheEntry:
        """Build an entry with `populate(tmp_dir) -> primary file`, then publish it atomically."""
        parent = self._dir(scene_id, fmt)
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / _safe_part(fingerprint)
        tmp = parent / f".tmp-{uuid.uuid4().hex}"
        stale = parent / f".old-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            primary = populate(tmp)
            full_meta = {**meta, "primary": primary.relative_to(tmp).as_posix()}
            (tmp / META).write_text(json.dumps(full_meta), encoding="utf-8")
            if final.exists():  # an incomplete entry: move it aside so the swap is one rename
                os.replace(final, stale)
            os.replace(tmp, final)
        finally:
            for leftover in (tmp, stale):
                if leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
        self.evict(keep=final)
        entry = self.lookup(scene_id, fmt, fingerprint)
        assert entry is not None, "a just-published cache entry must be readable"
        return entry

    def evict(self, keep: Path | None = None) -> None:
        """Delete least recently used entries until the cache fits in `max_bytes`, sparing the
        ones used within `protect_seconds`."""
        protected_since = time.time() - self.protect_seconds
        entries: list[tuple[float, int, Path]] = []
        for meta_path in self.root.glob(f"*/*/*/{META}"):
            directory = meta_path.parent
            if directory.name.startswith("."):
                continue  # another writer's entry under construction
            try:
                size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
                entries.append((meta_path.stat().st_mtime, size, directory))
            except FileNotFoundError:
                continue  # evicted or replaced by another process meanwhile
        total = sum(size for _, size, _ in entries)
        for used_at, size, directory in sorted(entries):
            if total <= self.max_bytes:
                break
            if directory == keep or used_at > protected_since:
                continue
            logger.debug("cache: evicting %s (%d bytes)", directory, size)
            shutil.rmtree(directory, ignore_errors=True)
            total -= size
