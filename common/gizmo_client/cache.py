"""The export cache: one folder per (scene, format, placements fingerprint), LRU-bounded.

An entry is built in a temporary folder and renamed into place whole, with its `meta.json`
written last, so a reader sees either a complete entry or none. A file lock per scene and format
keeps concurrent fetches (threads or processes) from exporting the same state twice.

A new entry shares with the scene's previous entry of the same format every file that did not
change (a hard link, not a copy): a textured scene carries megabytes of textures that an edit
leaves alone, so a day of edits would otherwise fill the cache with copies of them. Sizes count a
shared file's bytes once (each name holds its share), so the size limit holds (after evicting
an entry whose files live on in a newer one, until the next count). Files in the
cache are not to be edited in place: a link shares them with other revisions.

Work folders (entries being built, downloads being staged) are hidden and each is held under its
own lock file while in use. The operating system releases a lock when its process dies, so one
whose lock can be taken belongs to a dead (killed) process: `evict` deletes it, and counts the
live ones against the size limit.
"""

from __future__ import annotations

import filecmp
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

from filelock import FileLock, Timeout

__all__ = ["CacheEntry", "ExportCache"]

logger = logging.getLogger("gizmo_client")

META = "meta.json"
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
#: Hidden work folders: `.<kind>-<token>`, held under the lock file `.work-<token>.lock`.
_WORK = re.compile(r"^\.(?:tmp|old|fetch)-([0-9a-f]{8,64})$")
_WORK_LOCK = re.compile(r"^\.work-([0-9a-f]{8,64})\.lock$")
#: A work folder without a lock file (left by a version that took none) is stale after this long.
UNLOCKED_STALE_SECONDS = 3600.0


#: A lock file without its folder is left alone this long (its owner may be about to make it).
LOCK_GRACE_SECONDS = 60.0


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _lock_path(parent: Path, token: str) -> Path:
    return parent / f".work-{token}.lock"


def _share(stat_result: os.stat_result) -> float:
    """A file's share of its bytes: hard-linked names split them, so they add up once."""
    return stat_result.st_size / max(1, stat_result.st_nlink)


def _share_unchanged(new: Path, previous: Path) -> int:
    """Replace each file under `new` that is byte-identical to the file at the same place under
    `previous` with a hard link to it; returns the bytes no longer stored twice. A file system
    without hard links just keeps the copies."""
    saved = 0
    for path in new.rglob("*"):
        old = previous / path.relative_to(new)
        try:
            size = path.stat().st_size
            if (
                not path.is_file()
                or not old.is_file()
                or old.stat().st_size != size
                or not filecmp.cmp(path, old, shallow=False)
            ):
                continue
            link = path.with_name(f".link-{path.name}")
            os.link(old, link)
            os.replace(link, path)
        except OSError:
            continue  # evicted meanwhile, or no hard links here: keep the copy
        saved += size
    return saved


def _tree_size(path: Path) -> int:
    """Bytes under `path`, counting what is there now: another process may be renaming or
    removing files and folders of it meanwhile (`os.walk` skips what vanished)."""
    try:
        if path.is_file():
            return round(_share(path.stat()))
    except OSError:
        return 0
    total = 0.0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += _share(os.stat(os.path.join(root, name), follow_symlinks=False))
            except OSError:
                continue  # removed by its owner meanwhile
    return round(total)


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
    def staging(self, prefix: str, parent: Path | None = None) -> Iterator[Path]:
        """A new hidden work folder `<parent>/<prefix><token>` (`prefix` is `.tmp-`, `.old-` or
        `.fetch-`), held under its lock file while in use and removed afterwards."""
        parent = parent or self.root
        parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        lock_path = _lock_path(parent, token)
        path = parent / f"{prefix}{token}"
        try:
            with FileLock(str(lock_path)):  # taken before the folder exists: never unguarded
                path.mkdir()
                try:
                    yield path
                finally:
                    shutil.rmtree(path, ignore_errors=True)
        finally:
            lock_path.unlink(missing_ok=True)

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
        with self.staging(".tmp-", parent) as tmp:
            primary = populate(tmp)
            previous = self._latest_entry(parent)
            if previous is not None:
                saved = _share_unchanged(tmp, previous)
                logger.debug("cache: %d bytes shared with %s", saved, previous.name)
            full_meta = {**meta, "primary": primary.relative_to(tmp).as_posix()}
            (tmp / META).write_text(json.dumps(full_meta), encoding="utf-8")
            if final.exists():  # an incomplete entry: move it aside so the swap is one rename
                stale = parent / f".old-{tmp.name.removeprefix('.tmp-')}"  # under tmp's lock
                os.replace(final, stale)
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, final)
        self.evict(keep=final)
        entry = self.lookup(scene_id, fmt, fingerprint)
        assert entry is not None, "a just-published cache entry must be readable"
        return entry

    @staticmethod
    def _latest_entry(parent: Path) -> Path | None:
        """The most recently used published entry under `parent` (one scene and format)."""
        used = []
        for meta_path in parent.glob(f"*/{META}"):
            if meta_path.parent.name.startswith("."):
                continue
            try:
                used.append((meta_path.stat().st_mtime, meta_path.parent))
            except FileNotFoundError:
                continue
        return max(used)[1] if used else None

    def evict(self, keep: Path | None = None) -> int:
        """Delete dead processes' work folders, then least recently used entries until the cache
        (live work folders included) fits in `max_bytes`, sparing the ones used within
        `protect_seconds`. Returns the bytes the cache holds afterwards."""
        protected_since = time.time() - self.protect_seconds
        entries: list[tuple[float, float, Path]] = []
        for meta_path in self.root.glob(f"*/*/*/{META}"):
            directory = meta_path.parent
            if directory.name.startswith("."):
                continue  # another writer's entry under construction
            try:
                size = sum(_share(f.stat()) for f in directory.rglob("*") if f.is_file())
                entries.append((meta_path.stat().st_mtime, size, directory))
            except FileNotFoundError:
                continue  # evicted or replaced by another process meanwhile
        total = self.sweep() + sum(size for _, size, _ in entries)
        for used_at, size, directory in sorted(entries):
            if total <= self.max_bytes:
                break
            if directory == keep or used_at > protected_since:
                continue
            logger.debug("cache: evicting %s (%d bytes)", directory, round(size))
            shutil.rmtree(directory, ignore_errors=True)
            total -= size
        return round(total)

    def sweep(self) -> int:
        """Delete the work folders (and lock files) of processes that died mid-way; return the
        bytes the live ones hold."""
        live = 0
        parents = [self.root, *(p for p in self.root.glob("*/*") if p.is_dir())]
        for parent in parents:
            try:
                names = [entry.name for entry in os.scandir(parent)]
            except OSError:
                continue  # removed meanwhile
            tokens = {m.group(1) for m in map(_WORK_LOCK.match, names) if m}
            for name in names:
                match = _WORK.match(name)
                if match is None:
                    continue
                path = parent / name
                if match.group(1) in tokens:
                    continue  # judged below, under its lock
                if _age(path) > UNLOCKED_STALE_SECONDS:
                    logger.debug("cache: removing unlocked stale %s", path)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    live += _tree_size(path)
            for token in tokens:
                live += self._sweep_locked(parent, token)
        return live

    @staticmethod
    def _sweep_locked(parent: Path, token: str) -> int:
        """Remove the work folders of `token` if its lock is free (its owner died); else return
        their size."""
        work = [p for p in parent.glob(f".*-{token}") if _WORK.match(p.name)]
        lock_path = _lock_path(parent, token)
        if not work and _age(lock_path) < LOCK_GRACE_SECONDS:
            return 0  # its owner is between taking the lock and making its folder (or done)
        try:
            with FileLock(str(lock_path), timeout=0):
                for path in work:
                    logger.debug("cache: removing %s, left by a process that died", path)
                    shutil.rmtree(path, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
                return 0
        except Timeout:
            return sum(_tree_size(path) for path in work)
