"""Parallel runs: spawned workers and this process share the scenes, and agree with a serial run."""

from __future__ import annotations

import os
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from gizmo_loadtest.fetch import Target
from gizmo_loadtest.findings import CROSS, FORMATS, SceneResult
from gizmo_loadtest.options import CheckOptions
from gizmo_loadtest.runner import _collect, run
from gizmo_server.demo import DEMO_SCENE_NAME
from gizmo_server.embedded import LocalServer


def test_two_workers_split_the_scenes_and_report_them_in_order(tmp_path: Path) -> None:
    """16 copies of half the demo workcell: long enough for the spawned worker to start and help."""
    with LocalServer(demo=True) as server, server.client(cache_dir=tmp_path / "c") as client:
        demo = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE_NAME)
        placements = client.scenes.get(demo.id).assets[:4]
        ids = []
        for i in range(16):
            scene = client.scenes.create(f"copy {i}")
            for p in placements:
                client.scenes.add_asset(scene.id, p.asset_id, p.position, p.rotation)
            ids.append(scene.id)
        target = Target(server.base_url, server.api_key, tmp_path / "cache")
        report = run(target, ids, CheckOptions(steps=100), 2, tmp_path / "art")
    assert report.passed, [str(f) for _, r in report.cases() for f in r.findings]
    assert [s.scene_id for s in report.scenes] == ids
    assert all(s.placements == 4 for s in report.scenes)
    processes = {s.process for s in report.scenes}
    assert os.getpid() in processes and len(processes) == 2
    assert report.scenes_per_minute > 0


def test_a_dead_worker_fails_every_case_of_its_scene_with_the_reason() -> None:
    """Each format's case (one pytest case each) must carry the crash, not come back empty."""
    died: Future[SceneResult] = Future()
    died.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    result = _collect("scn_gone", died, FORMATS)
    assert not result.passed
    for fmt in FORMATS:
        (finding,) = result.results[fmt].findings
        assert finding.check == "crash" and "terminated abruptly" in finding.message
        assert "--workers 1" in finding.message
    assert result.results[CROSS].skipped and result.results[CROSS].passed
