"""Partial downloads of killed processes: swept from the export cache and counted meanwhile.

A real client process downloads from the real local server and is killed with SIGKILL in the
middle of its download (its progress callback tells the test it is there, then waits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gizmo_client.cache import LOCK_GRACE_SECONDS, UNLOCKED_STALE_SECONDS, ExportCache
from gizmo_server.embedded import LocalServer

DOWNLOADER = """
import sys, time
from gizmo_client import GizmoClient

def stop_here(done, total):
    print("downloading", flush=True)
    time.sleep(300)

key, url, cache, scene_id = sys.argv[1:5]
with GizmoClient(api_key=key, base_url=url, cache_dir=cache, api_generation="alpha") as c:
    c.fetch_scene(scene_id, on_progress=stop_here)
"""


def _partials(root: Path) -> list[Path]:
    return sorted(root.rglob(".*.part"))


def _kill_mid_download(server: LocalServer, cache: Path, scene_id: str) -> None:
    args = [server.api_key, server.base_url, str(cache), scene_id]
    proc = subprocess.Popen(
        [sys.executable, "-c", DOWNLOADER, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "downloading"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_a_killed_download_is_swept_and_a_live_one_is_kept_and_counted(
    local_server: LocalServer, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    with local_server.client(
        cache_dir=cache_dir,
        api_generation="alpha",
    ) as client:
        scenes = [s.id for s in client.scenes.list(limit=3).items]
        for scene_id in scenes[:2]:
            _kill_mid_download(local_server, cache_dir, scene_id)
        dead = _partials(cache_dir)
        assert len(dead) == 2, dead
        assert list(cache_dir.rglob(".work-*.lock"))  # the dead owners' lock files are left too

        parent = client.cache.root / "live-scene" / "mjcf"
        with client.cache.staging(".tmp-", parent) as live:
            (live / ".scene.xml.1234abcd.part").write_bytes(b"x" * 5000)
            client.fetch_scene(scenes[2])  # a store runs evict, which sweeps
            assert _partials(cache_dir) == [live / ".scene.xml.1234abcd.part"]
            entry_bytes = sum(f.stat().st_size for f in client.cache.root.rglob("meta.json"))
            assert client.cache.evict() >= 5000 + entry_bytes  # the live partial is counted
        locks = sorted(p.name for p in cache_dir.rglob(".work-*.lock"))
        assert locks == [], locks  # swept with their folders, and the live one's on release
        assert not list(cache_dir.rglob(".tmp-*"))


def test_a_live_partial_counts_against_the_limit(local_server: LocalServer, tmp_path: Path) -> None:
    with local_server.client(
        cache_dir=tmp_path / "cache",
        api_generation="alpha",
    ) as client:
        client.cache.protect_seconds = 0.0
        first, second = [s.id for s in client.scenes.list(limit=2).items]
        kept = client.fetch_scene(first)
        client.cache.max_bytes = 10**6
        with client.cache.staging(".fetch-") as live:
            (live / "export.zip").write_bytes(b"z" * (10**6 - 10))
            client.fetch_scene(second)  # no room left beside the live download: first goes
        assert not kept.directory.exists()


def test_unlocked_work_folders_are_removed_only_when_old(tmp_path: Path) -> None:
    cache = ExportCache(tmp_path, max_bytes=10**9)
    parent = tmp_path / "scene" / "mjcf"
    old, young = parent / f".tmp-{'a' * 32}", parent / f".tmp-{'b' * 32}"
    for folder in (old, young):
        folder.mkdir(parents=True)
        (folder / "scene.xml").write_bytes(b"y" * 100)
    long_ago = time.time() - UNLOCKED_STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    assert cache.evict() == 100  # the young one (maybe a live older client) is counted
    assert not old.exists() and young.exists()


def test_a_lock_file_without_its_folder_is_removed_only_after_the_grace(tmp_path: Path) -> None:
    """Its owner may be between taking the lock and making the folder."""
    cache = ExportCache(tmp_path, max_bytes=10**9)
    young, old = tmp_path / f".work-{'c' * 32}.lock", tmp_path / f".work-{'d' * 32}.lock"
    young.touch()
    old.touch()
    long_ago = time.time() - LOCK_GRACE_SECONDS - 5
    os.utime(old, (long_ago, long_ago))
    cache.sweep()
    assert young.exists() and not old.exists()
