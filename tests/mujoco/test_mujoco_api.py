"""Scenes from the real local server (loopback HTTP): load, poses, live reload, broken reloads."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import mujoco
import numpy as np
import pytest
from mujoco_scenes import copy_scene

import gizmo_mujoco
from gizmo_client import GizmoClient
from gizmo_client.errors import DownloadIntegrityError
from gizmo_client.models import PlacedAsset, Quaternion, Scene, Vector3
from gizmo_mujoco.sources import SceneSource
from gizmo_mujoco.watcher import ReloadEvent, SceneWatcher
from gizmo_server.embedded import LocalServer

POLL = 0.5


def _prefix(model: mujoco.MjModel, placement_id: str) -> str:
    """`<readable name>__`, from the export's `<name>__placement_id` custom text."""
    for i in range(model.ntext):
        start, size = model.text_adr[i], model.text_size[i]
        if bytes(model.text_data[start : start + size - 1]).decode() == placement_id:
            name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_TEXT, i) or ""
            return name.removesuffix("placement_id")
    raise AssertionError(f"the export does not name placement {placement_id}")


def _root_body(model: mujoco.MjModel, placement: PlacedAsset) -> int:
    """The placement's single top-level body, `<readable name>__<root name>`."""
    prefix = _prefix(model, placement.id or "")
    roots = [
        b
        for b in range(1, model.nbody)
        if model.body_parentid[b] == 0 and model.body(b).name.startswith(prefix)
    ]
    assert len(roots) == 1, f"{placement.id} should have one top-level body, has {len(roots)}"
    return roots[0]


def test_demo_scene_loads_and_steps(client: GizmoClient, demo_scene: Scene) -> None:
    model, data = gizmo_mujoco.load_scene(demo_scene.id, client)
    assert sum(model.body_parentid[1:] == 0) == len(demo_scene.assets) == 8
    assert model.nu > 0 and model.njnt > 0
    for _ in range(1000):
        mujoco.mj_step(model, data)
    assert data.time == pytest.approx(1000 * model.opt.timestep)
    assert np.all(np.isfinite(data.qpos))
    assert data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number == 0


def test_a_zip_export_from_the_server_loads_like_the_plain_file(
    client: GizmoClient, demo_scene: Scene, tmp_path: Path
) -> None:
    plain, _ = gizmo_mujoco.load_scene(demo_scene.id, client)
    with LocalServer(demo=True, zip_exports=True) as server:
        with server.client(cache_dir=tmp_path) as zipped_client:
            model, data = gizmo_mujoco.load_scene(demo_scene.id, zipped_client)
    assert (model.nbody, model.njnt, model.nu) == (plain.nbody, plain.njnt, plain.nu)
    assert np.isfinite(data.qpos).all()


def test_placement_poses_at_t0_match_the_api(client: GizmoClient, demo_scene: Scene) -> None:
    model, data = gizmo_mujoco.load_scene(demo_scene.id, client)
    tilted = [p for p in demo_scene.assets if p.rotation.angle_to(Quaternion.identity()) > 0.2]
    assert len(tilted) >= 3, "the check needs non-trivial rotations"
    for placement in demo_scene.assets:
        body = _root_body(model, placement)
        assert np.allclose(data.xpos[body], placement.position.as_tuple(), rtol=0, atol=1e-6)
        expected = np.array(placement.rotation.to_wxyz())
        quat = data.xquat[body] * np.sign(data.xquat[body] @ expected)  # q and -q are one pose
        assert np.allclose(quat, expected, rtol=0, atol=1e-6), placement.name


def test_load_scene_without_a_client_uses_the_environment(
    local_server: LocalServer, demo_scene: Scene, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GIZMO_API_KEY", local_server.api_key)
    monkeypatch.setenv("GIZMO_BASE_URL", local_server.base_url)
    monkeypatch.setenv("GIZMO_CACHE_DIR", str(tmp_path))
    model, _ = gizmo_mujoco.load_scene(demo_scene.id)
    assert sum(model.body_parentid[1:] == 0) == len(demo_scene.assets)


def _drive(model: mujoco.MjModel, data: mujoco.MjData, seconds: float) -> None:
    data.ctrl[:] = np.clip(0.4, model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1])
    end = data.time + seconds
    while data.time < end:
        mujoco.mj_step(model, data)


def _step_until_reload(watcher: SceneWatcher, timeout: float) -> tuple[ReloadEvent, dict, float]:
    """Step the live scene until a reload applies; also every joint's (qpos, qvel) just before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model, data = watcher.model, watcher.data
        mujoco.mj_step(model, data)
        before = {
            model.joint(j).name: (data.joint(j).qpos.copy(), data.joint(j).qvel.copy())
            for j in range(model.njnt)
        }
        event = watcher.apply()
        if event is not None:
            return event, before, time.monotonic()
        time.sleep(0.002)
    raise AssertionError(f"no reload within {timeout} s")


def test_watcher_reloads_a_placement_added_through_the_api_with_state_kept(
    client: GizmoClient, api: GizmoClient, workcell: Scene
) -> None:
    watcher = SceneWatcher(SceneSource(client, workcell.id), poll_interval=POLL)
    old_model, old_data = watcher.load()
    _drive(old_model, old_data, 0.5)
    crate = next(p for p in workcell.assets if p.name == "Shipping Crate")
    new_pose = Vector3(x=-1.7, y=-0.6, z=0.8), Quaternion.from_euler_degrees(17.0, -23.0, 131.0)
    assert watcher.poll() is False  # nothing new: no reload may be staged
    with watcher:
        assert watcher.apply() is None and watcher.model is old_model
        added = api.scenes.add_asset(workcell.id, crate.asset_id, *new_pose).assets[-1]
        added_at = time.monotonic()
        event, before, applied_at = _step_until_reload(watcher, timeout=POLL + 5)

    assert event.ok, event.message()
    assert applied_at - added_at < POLL + 1.0
    model, data = watcher.model, watcher.data
    assert model is not old_model
    for name, (qpos, qvel) in before.items():
        assert np.array_equal(data.joint(name).qpos, qpos), name
        assert np.array_equal(data.joint(name).qvel, qvel), name
    assert any(np.any(qvel) for _, qvel in before.values()), "the scene should have been moving"
    new_root = _root_body(model, added)
    new_joints = [j for j in range(model.njnt) if model.jnt_bodyid[j] == new_root]
    assert len(new_joints) == 1  # the crate floats: one free joint, at the API's pose, at rest
    free = model.joint(new_joints[0])
    assert np.array_equal(data.qpos[free.qposadr[0] : free.qposadr[0] + 7], free.qpos0)
    assert not np.any(data.qvel[free.dofadr[0] : free.dofadr[0] + 6])
    assert np.allclose(data.xpos[new_root], new_pose[0].as_tuple(), atol=1e-6)
    assert event.report is not None
    assert {c.name for c in event.report.new if c.kind == "placement"} == {
        model.body(new_root).name
    }
    assert not event.report.dropped and not event.report.reset


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[LocalServer]:
    """A server of its own, so injected faults never reach other tests."""
    with LocalServer(demo=True) as server:
        yield server


def test_corrupted_download_keeps_the_old_model_then_recovers(
    faulty_server: LocalServer, tmp_path: Path
) -> None:
    client = faulty_server.client(cache_dir=tmp_path / "cache", max_retries=1, backoff_base=0.01)
    with client:
        demo = next(s for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")
        scene = copy_scene(client, client.scenes.get(demo.id), "corrupted downloads")
        watcher = SceneWatcher(SceneSource(client, scene.id), poll_interval=POLL)
        old_model, old_data = watcher.load()
        _drive(old_model, old_data, 0.2)
        faulty_server.configure_faults("corrupt_download:1.0")
        try:
            client.scenes.add_asset(scene.id, scene.assets[0].asset_id, Vector3(x=3.0, y=2.0))
            with watcher:
                failed, _, _ = _step_until_reload(watcher, timeout=POLL + 10)
                assert not failed.ok and isinstance(failed.error, DownloadIntegrityError)
                assert "Reload failed, previous model kept" in failed.message()
                assert watcher.model is old_model and watcher.data is old_data
                mujoco.mj_step(watcher.model, watcher.data)  # the old model keeps running
                faulty_server.configure_faults(None)
                recovered, _, _ = _step_until_reload(watcher, timeout=POLL + 10)
        finally:
            faulty_server.configure_faults(None)
    assert recovered.ok, recovered.message()
    assert watcher.model.nbody > old_model.nbody
    assert recovered.report is not None and recovered.report.time == pytest.approx(old_data.time)


def test_a_server_that_stops_answering_is_one_log_line_not_a_failed_reload(
    faulty_server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = faulty_server.client(cache_dir=tmp_path / "cache", max_retries=0)
    with client:
        demo = next(s for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")
        watcher = SceneWatcher(SceneSource(client, demo.id), poll_interval=POLL)
        model, _ = watcher.load()
        caplog.set_level(logging.INFO, logger="gizmo_mujoco")
        faulty_server.configure_faults("503:1.0")
        try:
            polls = [watcher.poll() for _ in range(4)]
        finally:
            faulty_server.configure_faults(None)
        assert polls == [False] * 4 and watcher.apply() is None  # nothing changed: no event
        assert watcher.poll() is False and watcher.model is model
    lines = [r.getMessage() for r in caplog.records if r.name == "gizmo_mujoco"]
    assert len(lines) == 2, lines
    assert (
        lines[0].startswith("cannot check scene 'Warehouse Workcell Alpha'") and "503" in lines[0]
    )
    assert "the current model runs on" in lines[0] and lines[1].endswith("answers again")
