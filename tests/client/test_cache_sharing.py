"""A new revision's cache entry shares the files an edit left alone with the previous one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mujoco
import pytest

from gizmo_client import GizmoClient
from gizmo_client.models_jobs import JobStatus
from gizmo_server.embedded import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, job_seconds=0.2) as s:
        yield s


def _inodes(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_an_edit_shares_unchanged_textures_and_the_size_counts_them_once(
    server: LocalServer, tmp_path: Path
) -> None:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as client:
        job = client.scenes.generate("a warehouse aisle with shelves, a conveyor and three crates")
        scene_id = client.jobs.wait(job.id, timeout=120).result_scene_id
        assert scene_id is not None
        first = client.fetch_scene(scene_id, "mjcf")
        edit = client.jobs.wait(client.scenes.edit(scene_id, "add a crate").id, timeout=120)
        assert edit.status is JobStatus.SUCCEEDED
        second = client.fetch_scene(scene_id, "mjcf")
        assert second.directory != first.directory and not second.from_cache

        before, after = _inodes(first.directory), _inodes(second.directory)
        textures = [name for name in after if name.endswith(".png")]
        assert textures, "the export is textured"
        shared = [name for name in textures if before.get(name) == after[name]]
        assert shared == [name for name in textures if name in before]
        assert shared, "an edit that adds a crate leaves the shelves' textures as they were"
        scene_file = second.path.relative_to(second.directory).as_posix()
        assert before[scene_file][0] != after[scene_file][0], "the changed file is its own"

        unique = {
            ino: size
            for folder in (first, second)
            for ino, size in _inodes(folder.directory).values()
        }
        assert client.cache.evict() == sum(unique.values())

        client.cache.protect_seconds = 0.0
        client.cache.max_bytes = 1
        client.cache.evict(keep=second.directory)
        assert not first.directory.exists()
        mujoco.MjModel.from_xml_path(str(second.path))  # its textures outlived the old entry
        assert all(os.stat(second.directory / name).st_nlink == 1 for name in shared)
