"""Jobs-generation scenes (a `gzm_k1_` key) on the real local server: edit jobs bump the scene's
`version`, the watcher reloads with the state kept, and a followed job reloads without a poll."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import mujoco
import numpy as np
import pytest
from live import expect_event

from gizmo_client import GizmoClient
from gizmo_client.errors import JobFailedError
from gizmo_mujoco.sources import FileSource, SceneSource
from gizmo_mujoco.watcher import SceneWatcher

POLL = 0.2


def _body(model: mujoco.MjModel, name: str) -> int:
    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)


def _placed_at(api: GizmoClient, scene_id: str, name: str) -> tuple[float, float, float]:
    scene = api.scenes.get(scene_id, include_record=True)
    return next(p.position.as_tuple() for p in scene.assets if p.name == name)


def test_edits_reload_with_free_bodies_and_joints_kept_added_placed_removed_gone(
    jobs_client: GizmoClient, jobs_api: GizmoClient, warehouse: str
) -> None:
    watcher = SceneWatcher(SceneSource(jobs_client, warehouse), poll_interval=POLL)
    model, data = watcher.load()
    version = jobs_api.scenes.get(warehouse).version
    roller = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "Conveyor_1__roller3_joint")
    data.qpos[model.jnt_qposadr[roller]] = 1.25  # state only the simulation has
    crate = model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "Crate_1__root")]
    data.qpos[crate : crate + 3] += (0.3, -0.2, 0.0)  # a crate pushed aside
    pushed = data.qpos[crate : crate + 7].copy()
    mujoco.mj_forward(model, data)
    with watcher:
        jobs_api.jobs.wait(
            jobs_api.scenes.edit(warehouse, "add a conveyor belt along the north wall").id
        )
        event = expect_event(watcher)
        assert event.ok, event.message()
        assert jobs_api.scenes.get(warehouse).version == (version or 0) + 1
        model, data = watcher.model, watcher.data
        assert "new 1 placement" in event.message() and "Conveyor_2" in event.message()
        roller = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "Conveyor_1__roller3_joint")
        assert data.qpos[model.jnt_qposadr[roller]] == pytest.approx(1.25, abs=1e-9)
        crate = model.jnt_qposadr[
            mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "Crate_1__root")
        ]
        assert np.allclose(data.qpos[crate : crate + 7], pushed, atol=1e-3)  # a few steps' drift
        added = _body(model, "Conveyor_2__frame")
        assert added > 0
        assert np.allclose(
            data.xpos[added], _placed_at(jobs_api, warehouse, "Conveyor_2"), atol=1e-6
        )

        jobs_api.jobs.wait(jobs_api.scenes.edit(warehouse, "remove the crates").id)
        event = expect_event(watcher)
        assert event.ok, event.message()
        assert "dropped" in event.message() and "Crate_1" in event.message()
        model = watcher.model
        assert all(_body(model, f"Crate_{n}__crate") < 0 for n in (1, 2, 3))
        assert _body(model, "Conveyor_2__frame") > 0 and _body(model, "Shelf_1__shelf") > 0

        before = {n: _placed_at(jobs_api, warehouse, n) for n in ("Conveyor_1", "Conveyor_2")}
        jobs_api.jobs.wait(jobs_api.scenes.edit(warehouse, "move the conveyor 1 m east").id)
        event = expect_event(watcher)
        assert event.ok, event.message()
        model, data = watcher.model, watcher.data
        moved = [n for n, at in before.items() if _placed_at(jobs_api, warehouse, n) != at]
        assert moved, "the edit should have moved a conveyor"
        for name in moved:  # a fixed body is where the scene now places it
            where = _placed_at(jobs_api, warehouse, name)
            assert np.allclose(data.xpos[_body(model, f"{name}__frame")], where, atol=1e-6)


def test_a_followed_edit_job_reloads_as_it_succeeds_without_a_poll(
    jobs_client: GizmoClient, jobs_api: GizmoClient, warehouse: str
) -> None:
    watcher = SceneWatcher(SceneSource(jobs_client, warehouse), poll_interval=3600.0)
    watcher.load()
    watcher.start()  # its first poll is an hour away: only following can see the edit
    try:
        job = jobs_api.scenes.edit(warehouse, "add a conveyor belt along the north wall")
        started = time.monotonic()
        follower = watcher.follow_in_background(job.id)
        event = expect_event(watcher)
        assert event.ok and "Conveyor_2" in event.message(), event.message()
        assert event.applied_at - started < 5.0
        follower.join(timeout=5)
        assert not follower.is_alive()
    finally:
        watcher.stop()


def test_a_failed_edit_job_is_logged_and_keeps_the_model(
    jobs_client: GizmoClient,
    jobs_api: GizmoClient,
    warehouse: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    watcher = SceneWatcher(SceneSource(jobs_client, warehouse), poll_interval=3600.0)
    model, _ = watcher.load()
    job = jobs_api.scenes.edit(warehouse, "move the table 1 m east")  # the scene has no table
    with caplog.at_level(logging.WARNING, logger="gizmo_mujoco"):
        assert watcher.follow(job.id) is False
    assert any(job.id in r.getMessage() and "no table" in r.getMessage() for r in caplog.records)
    assert watcher.apply() is None and watcher.model is model
    with pytest.raises(JobFailedError):
        jobs_api.jobs.wait(job.id)


def test_follow_needs_a_scene_of_the_api(tmp_path: Path) -> None:
    (tmp_path / "scene.xml").write_text("<mujoco/>")
    watcher = SceneWatcher(FileSource(tmp_path / "scene.xml"))
    watcher.load()
    with pytest.raises(TypeError, match="only a scene of the API has jobs"):
        watcher.follow("job_x")


def test_idle_polls_are_conditional_gets_answered_304(
    jobs_client: GizmoClient, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = SceneWatcher(SceneSource(jobs_client, warehouse), poll_interval=POLL)
    watcher.load()
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        assert [watcher.poll() for _ in range(3)] == [False, False, False]
    answers = [r.getMessage() for r in caplog.records if f"/scenes/{warehouse} " in r.getMessage()]
    assert len(answers) == 3 and all('" 304 ' in answer for answer in answers[1:]), answers
