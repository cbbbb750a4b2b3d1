"""Parallel runs on this machine: spawned workers share the scenes, a worker that dies costs only
a retry of its scenes, and a scene lost twice fails with the cause."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_loadtest.engines import Checks, ProcessPool
from gizmo_loadtest.fetch import Target
from gizmo_loadtest.findings import CROSS, FORMATS, SceneResult
from gizmo_loadtest.options import CheckOptions
from gizmo_loadtest.runner import run
from gizmo_server.demo import DEMO_SCENE_NAME
from gizmo_server.embedded import LocalServer

OPTIONS = CheckOptions(steps=100, thumbnails=False)


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, list[str]]]:
    """8 copies of half the demo workcell on a server of their own."""
    with LocalServer(demo=True) as server, server.client() as client:
        demo = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE_NAME)
        placements = client.scenes.get(demo.id).assets[:4]
        ids = []
        for i in range(8):
            scene = client.scenes.create(f"copy {i}")
            for p in placements:
                client.scenes.add_asset(scene.id, p.asset_id, p.position, p.rotation)
            ids.append(scene.id)
        yield Target(server.base_url, server.api_key, tmp_path_factory.mktemp("cache")), ids


def test_two_workers_split_the_scenes_and_report_them_in_order(
    copies: tuple[Target, list[str]], tmp_path: Path
) -> None:
    target, ids = copies
    finished: list[str] = []
    report = run(target, ids, OPTIONS, 2, tmp_path, on_result=lambda r: finished.append(r.scene_id))
    assert report.passed, [str(f) for _, r in report.cases() for f in r.findings]
    assert [s.scene_id for s in report.scenes] == ids
    assert sorted(finished) == sorted(ids)
    assert all(s.placements == 4 for s in report.scenes)
    processes = {s.process for s in report.scenes}
    assert len(processes) == 2 and os.getpid() not in processes
    assert report.workers == 2 and report.settings["engine"] == "2 local processes"
    assert report.scenes_per_minute > 0


def _kill_workers() -> int:
    """SIGKILL the pool's worker processes (they are this process's multiprocessing children)."""
    children = multiprocessing.active_children()
    for child in children:
        if child.pid is not None:
            os.kill(child.pid, signal.SIGKILL)
    return len(children)


def _keep_killing(stop: threading.Event) -> None:
    while not stop.wait(0.05):
        _kill_workers()


def test_a_worker_that_dies_costs_its_scenes_one_retry(copies: tuple[Target, list[str]]) -> None:
    """The workers are killed once, right after the first scene came back: every scene is still
    checked, and passes; those that were in the dead pool say they were checked again and why."""
    target, ids = copies
    results: list[SceneResult] = []
    with Checks(ProcessPool(target, OPTIONS, None, 2), OPTIONS.formats) as checks:
        checks.submit(ids)
        for result in checks.as_completed():
            if not results:
                assert _kill_workers() == 2
            results.append(result)
    assert sorted(r.scene_id for r in results) == sorted(ids)
    assert all(r.passed for r in results), [str(f) for r in results for f in r.results.values()]
    notes = [r.results[FORMATS[0]].notes for r in results]
    retried = [n for n in notes if any("checked again after" in line for line in n)]
    assert retried and all("a worker process died" in n[-1] for n in retried)


def test_a_scene_lost_twice_fails_every_case_with_the_cause(
    copies: tuple[Target, list[str]],
) -> None:
    """Workers killed as soon as they start: each scene is tried twice, then every format's
    case (one pytest case each) carries the cause; the cross-format case is skipped."""
    target, ids = copies
    stop = threading.Event()
    killer = threading.Thread(target=_keep_killing, args=(stop,))
    with Checks(ProcessPool(target, OPTIONS, None, 2), OPTIONS.formats) as checks:
        checks.submit(ids[:2])
        killer.start()
        try:
            results = list(checks.as_completed())
        finally:
            stop.set()
            killer.join()
    assert sorted(r.scene_id for r in results) == sorted(ids[:2])
    for result in results:
        assert not result.passed
        for fmt in FORMATS:
            (finding,) = result.results[fmt].findings
            assert finding.check == "crash" and "lost twice" in finding.message
            assert "a worker process died" in finding.message and "--workers 1" in finding.message
        assert result.results[CROSS].skipped and result.results[CROSS].passed
