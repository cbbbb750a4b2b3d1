"""The panel controller driven headless: real client, real local server, usd-core stage."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from gizmo.scenes import settings as panel_settings
from gizmo.scenes import usd_ops
from gizmo.scenes.controller import ErrorKind, PanelController, PanelState, Phase, Status
from gizmo.scenes.data import LoadMode
from gizmo.scenes.stage_port import UsdStagePort
from gizmo.scenes.usd_ops import FINGERPRINT_ATTR
from kit_support import (
    ControllerFactory,
    MemorySettings,
    PosesCheck,
    isaac_like_stage,
    load_as_reference,
    on_asyncio_loop,
    until,
)
from pxr import Usd

from gizmo_client import GizmoClient, Quaternion, Vector3
from gizmo_client.models import Scene
from gizmo_server.embedded import LocalServer

T = TypeVar("T")


def _record(controller: PanelController) -> list[PanelState]:
    states: list[PanelState] = []
    controller.subscribe(states.append)
    return states


def test_refresh_walks_every_page_and_filters(
    make_controller: ControllerFactory, api: GizmoClient
) -> None:
    for i in range(101):
        api.scenes.create(f"Bulk Cell {i:03d}", description="paging test")
    expected = {s.id for s in api.scenes.iter_all()}
    assert len(expected) > 100

    controller = make_controller()
    states = _record(controller)
    controller.refresh()

    state = controller.state
    assert state.status is Status.IDLE and state.error is None
    assert state.total_scenes == len(expected) == api.scenes.list(limit=1).total
    assert {row.id for row in state.scenes} == expected
    assert any(s.status is Status.LOADING and s.progress for s in states)

    controller.set_filter("bulk 042")
    assert [r.name for r in controller.state.scenes] == ["Bulk Cell 042"]
    controller.set_filter("BULK cell")
    assert len(controller.state.scenes) == 101
    controller.set_filter("warehouse ALPHA")
    assert [r.name for r in controller.state.scenes] == ["Warehouse Workcell Alpha"]
    controller.set_filter("")
    assert len(controller.state.scenes) == len(expected)


def test_select_shows_placements_with_both_rotation_forms(
    make_controller: ControllerFactory, small_scene: Scene
) -> None:
    controller = make_controller()
    controller.refresh()
    controller.select(small_scene.id)

    rows = controller.state.placements
    assert [r.placement_id for r in rows] == [p.id for p in small_scene.assets]
    for row, placed in zip(rows, small_scene.assets, strict=True):
        assert row.asset_name == placed.name
        assert row.position == placed.position.as_tuple()
        assert row.quaternion_xyzw == placed.rotation.to_xyzw()
        assert row.rpy_degrees == pytest.approx(placed.rotation.to_euler_degrees(), abs=1e-9)
    assert rows[0].rpy_degrees == pytest.approx((12.0, -33.0, 71.0), abs=1e-9)
    assert rows[0].columns()[3] == "12.0 -33.0 71.0"


def test_load_reference_then_sync_follows_a_new_placement(
    make_controller: ControllerFactory,
    api: GizmoClient,
    small_scene: Scene,
    demo_asset_ids: list[str],
    check_poses: PosesCheck,
) -> None:
    stage = isaac_like_stage()
    controller = make_controller(stage=stage)
    states = _record(controller)
    controller.refresh()
    controller.select(small_scene.id)
    controller.load(LoadMode.REFERENCE)

    state = controller.state
    assert state.status is Status.LOADED, state.error
    (entry,) = state.loaded
    assert entry.prim_path == "/World/Gizmo/Kit_Test_Cell" and entry.mode is LoadMode.REFERENCE
    phases = [s.progress.phase for s in states if s.progress]
    assert phases.index(Phase.EXPORT) < phases.index(Phase.DOWNLOAD) < phases.index(Phase.OPEN)
    check_poses(stage, entry.prim_path, small_scene)

    controller.sync_now()
    assert controller.state.loaded == (entry,), "an unchanged scene is left alone"

    after = api.scenes.add_asset(
        small_scene.id,
        demo_asset_ids[2],
        Vector3(x=1.75, y=-2.5, z=0.3),
        Quaternion.from_euler_degrees(31.0, -17.0, 103.0),
    )
    controller.sync_now()

    (synced,) = controller.state.loaded
    assert synced.prim_path == entry.prim_path
    assert synced.fingerprint == after.fingerprint() != entry.fingerprint
    prim = stage.GetPrimAtPath(entry.prim_path)
    assert prim.GetAttribute(FINGERPRINT_ATTR).Get() == after.fingerprint()
    check_poses(stage, entry.prim_path, after)
    assert len(controller.state.placements) == 3, "the selected scene's list follows the sync"
    assert "1 of 1" in controller.state.message


def test_payload_and_open_modes(
    make_controller: ControllerFactory,
    api: GizmoClient,
    small_scene: Scene,
    demo_asset_ids: list[str],
    check_poses: PosesCheck,
) -> None:
    port = UsdStagePort(isaac_like_stage())
    controller = make_controller(port=port)
    controller.refresh()
    controller.select(small_scene.id)
    controller.load(LoadMode.PAYLOAD)
    controller.load(LoadMode.PAYLOAD)
    paths = [e.prim_path for e in controller.state.loaded]
    assert paths == ["/World/Gizmo/Kit_Test_Cell", "/World/Gizmo/Kit_Test_Cell_1"]

    controller.load(LoadMode.OPEN)
    (opened,) = controller.state.loaded
    assert opened.prim_path is None and opened.mode is LoadMode.OPEN
    check_poses(port.stage, "/World", small_scene)

    after = api.scenes.add_asset(small_scene.id, demo_asset_ids[0], Vector3(x=3.0))
    controller.sync_now()
    (reopened,) = controller.state.loaded
    assert reopened.fingerprint == after.fingerprint()
    check_poses(port.stage, "/World", after)

    controller.remove(None)
    assert controller.state.loaded == () and controller.state.status is Status.IDLE


def test_open_as_stage_asks_before_discarding_unsaved_edits(
    make_controller: ControllerFactory, small_scene: Scene, tmp_path: Path
) -> None:
    stage = Usd.Stage.CreateNew(str(tmp_path / "work.usda"))
    stage.DefinePrim("/World/MyRobot", "Xform")  # unsaved work
    port = UsdStagePort(stage)
    controller = make_controller(port=port)
    controller.refresh()
    controller.select(small_scene.id)
    controller.load(LoadMode.OPEN)
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.UNSAVED and error.can_retry
    assert error.retry_label == "Open anyway (discard changes)"
    assert port.stage is stage and stage.GetPrimAtPath("/World/MyRobot"), "nothing was opened"

    controller.retry()  # the user chose to discard
    (opened,) = controller.state.loaded
    assert controller.state.error is None and opened.prim_path is None
    assert port.stage is not stage and not port.stage.GetPrimAtPath("/World/MyRobot")

    stage.Save()  # saved work is not asked about
    again = UsdStagePort(stage)
    controller = make_controller(port=again)
    controller.refresh()
    controller.select(small_scene.id)
    controller.load(LoadMode.OPEN)
    assert controller.state.error is None and again.stage is not stage


def test_remove_deletes_the_prim_or_forgets_one_already_gone(
    make_controller: ControllerFactory, small_scene: Scene
) -> None:
    stage = isaac_like_stage()
    before = stage.GetRootLayer().ExportToString()
    controller = make_controller(stage=stage)
    controller.refresh()
    controller.select(small_scene.id)
    controller.load(LoadMode.REFERENCE)
    controller.load(LoadMode.PAYLOAD)
    first, second = (e.prim_path for e in controller.state.loaded)
    assert first is not None and second is not None

    stage.RemovePrim(second)  # e.g. the user undid the addition
    controller.remove(second)
    assert [e.prim_path for e in controller.state.loaded] == [first]
    assert controller.state.error is None

    controller.remove(first)
    assert controller.state.loaded == () and controller.state.status is Status.IDLE
    assert stage.GetRootLayer().ExportToString() == before


@pytest.fixture
def not_ready_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, faults="export_not_ready:1.0") as server:
        yield server


def _env(server: LocalServer) -> dict[str, str]:
    return {"GIZMO_BASE_URL": server.base_url, "GIZMO_API_KEY": server.api_key}


def _warehouse(controller: PanelController) -> str:
    controller.refresh()
    return next(r.id for r in controller.state.scenes if r.name == "Warehouse Workcell Alpha")


def test_not_ready_assets_are_retried_until_ready(
    make_controller: ControllerFactory, not_ready_server: LocalServer
) -> None:
    controller = make_controller(
        environ=_env(not_ready_server), not_ready_delays=(0.05, 0.1), not_ready_timeout=60.0
    )
    waits: list[str] = []

    def assets_get_ready(state: PanelState) -> None:
        if state.progress and state.progress.phase is Phase.WAIT_ASSETS:
            waits.append(state.progress.text)
            if len(waits) == 3:
                not_ready_server.configure_faults(None)

    controller.subscribe(assets_get_ready)
    controller.select(_warehouse(controller))
    controller.load(LoadMode.REFERENCE)

    assert controller.state.status is Status.LOADED, controller.state.error
    assert len(waits) == 3
    assert "Waiting for assets to finish generating: " in waits[0]
    names = {p.asset_name for p in controller.state.placements}
    assert any(name in waits[0] for name in names), waits[0]


def test_not_ready_gives_up_after_the_timeout_and_can_retry(
    make_controller: ControllerFactory, not_ready_server: LocalServer
) -> None:
    controller = make_controller(
        environ=_env(not_ready_server), not_ready_delays=(0.05, 0.05), not_ready_timeout=0.2
    )
    controller.select(_warehouse(controller))
    controller.load(LoadMode.REFERENCE)

    error = controller.state.error
    assert controller.state.status is Status.ERROR and error is not None
    assert error.kind is ErrorKind.NOT_READY and error.can_retry
    assert "Industrial Arm v1" in error.asset_names
    assert controller.state.loaded == ()

    other = next(r.id for r in controller.state.scenes if r.name == "Pick Station Beta")
    controller.select(other)
    not_ready_server.configure_faults(None)
    controller.retry()
    retried = controller.state
    assert retried.status is Status.LOADED and retried.error is None
    assert [e.scene_name for e in retried.loaded] == ["Warehouse Workcell Alpha"], (
        "retry loads the scene that failed, not the one selected since"
    )


def test_rejected_key_shows_the_key_hint(
    make_controller: ControllerFactory, kit_server: LocalServer
) -> None:
    wrong = "gz_wrong_key_for_test_0123456789"
    controller = make_controller(
        environ={"GIZMO_BASE_URL": kit_server.base_url, "GIZMO_API_KEY": wrong}
    )
    controller.refresh()
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.AUTH
    assert "401" in error.title and "environment" in error.detail
    assert "GIZMO_API_KEY" in error.hint and "API key field" in error.hint
    assert wrong not in repr(controller.state)


def test_missing_key_says_how_to_set_it(
    make_controller: ControllerFactory,
    kit_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("GIZMO_API_KEY", raising=False)
    monkeypatch.setenv("GIZMO_CONFIG", str(tmp_path / "no-config.json"))
    settings = MemorySettings()
    controller = make_controller(environ={}, settings=settings)
    controller.refresh()
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.NO_KEY
    assert "GIZMO_API_KEY" in error.hint and "Save" in error.hint

    controller.save_connection(kit_server.base_url, kit_server.api_key)
    assert settings.values[panel_settings.API_KEY_SETTING] == kit_server.api_key
    assert controller.state.key_set and controller.state.key_source == "Kit settings"
    controller.refresh()
    assert controller.state.error is None and controller.state.total_scenes >= 3


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_network_failure_offers_retry(
    make_controller: ControllerFactory, kit_server: LocalServer
) -> None:
    env = {"GIZMO_BASE_URL": _closed_port_url(), "GIZMO_API_KEY": kit_server.api_key}
    controller = make_controller(environ=env)
    controller.refresh()
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.NETWORK and error.can_retry
    assert env["GIZMO_BASE_URL"] in error.title

    env["GIZMO_BASE_URL"] = kit_server.base_url
    controller.save_connection("", None)  # re-resolve; the environment still wins
    controller.retry()
    assert controller.state.error is None and controller.state.total_scenes >= 3


def test_cancel_during_download_leaves_the_stage_alone(
    make_controller: ControllerFactory, small_scene: Scene
) -> None:
    stage = isaac_like_stage()
    before = stage.GetRootLayer().ExportToString()
    controller = make_controller(stage=stage)
    controller.refresh()
    controller.select(small_scene.id)

    def cancel_on_download(state: PanelState) -> None:
        if state.progress and state.progress.phase is Phase.DOWNLOAD:
            controller.cancel()

    controller.subscribe(cancel_on_download)
    controller.load(LoadMode.REFERENCE)
    assert controller.state.status is Status.IDLE and controller.state.message == "Cancelled."
    assert controller.state.loaded == ()
    assert stage.GetRootLayer().ExportToString() == before


def test_load_without_selection_explains(make_controller: ControllerFactory) -> None:
    controller = make_controller()
    controller.load(LoadMode.REFERENCE)
    error = controller.state.error
    assert error is not None and "Pick a scene" in error.hint and not error.can_retry


def test_auto_sync_on_an_asyncio_loop_stays_on_the_main_thread(
    make_controller: ControllerFactory,
    api: GizmoClient,
    small_scene: Scene,
    demo_asset_ids: list[str],
    check_poses: PosesCheck,
) -> None:
    """The Kit scheduler for real: HTTP on worker threads, state and stage on the loop thread."""
    stage = isaac_like_stage()

    async def scenario(
        controller: PanelController, in_worker: Callable[[Callable[[], Scene]], Awaitable[Scene]]
    ) -> None:
        threads: set[int] = set()
        controller.subscribe(lambda _: threads.add(threading.get_ident()))
        await load_as_reference(controller, small_scene.id)
        assert len(controller.state.placements) == 2
        controller.set_auto_sync(True)

        after = await in_worker(
            lambda: api.scenes.add_asset(
                small_scene.id,
                demo_asset_ids[1],
                Vector3(x=-0.4, y=2.2, z=0.05),
                Quaternion.from_euler_degrees(-44.0, 8.0, 66.0),
            )
        )
        await until(
            controller, lambda: controller.state.loaded[0].fingerprint == after.fingerprint()
        )
        prim_path = controller.state.loaded[0].prim_path
        assert prim_path is not None
        check_poses(stage, prim_path, after)
        assert threads == {threading.get_ident()}
        controller.shutdown()
        assert controller.state.auto_sync is False

    on_asyncio_loop(make_controller, stage, scenario)


def test_syncing_an_opened_scene_drops_what_went_with_the_old_stage(
    make_controller: ControllerFactory,
    api: GizmoClient,
    small_scene: Scene,
    demo_asset_ids: list[str],
    check_poses: PosesCheck,
) -> None:
    """A scene added into an opened scene's stage lives in that stage's layer: re-opening the
    changed scene replaces it, and the panel must say so instead of failing to sync it."""
    port = UsdStagePort(isaac_like_stage())
    controller = make_controller(port=port)
    controller.refresh()
    other = api.scenes.create("Kit Side Cell")
    api.scenes.add_asset(other.id, demo_asset_ids[0], Vector3(x=0.3, y=0.2, z=0.0))
    controller.select(small_scene.id)
    controller.load(LoadMode.OPEN)
    controller.select(other.id)
    controller.load(LoadMode.REFERENCE)
    assert [e.scene_name for e in controller.state.loaded] == ["Kit Test Cell", "Kit Side Cell"]

    api.scenes.add_asset(other.id, demo_asset_ids[1], Vector3(x=-1.0, y=0.5, z=0.0))
    after = api.scenes.add_asset(
        small_scene.id,
        demo_asset_ids[2],
        Vector3(x=0.9, y=-1.4, z=0.2),
        Quaternion.from_euler_degrees(18.0, -27.0, 64.0),
    )
    controller.sync_now()
    asked = controller.state.error
    assert asked is not None and asked.kind is ErrorKind.UNSAVED, asked
    assert "discard" in asked.retry_label, "reopening would drop the added scene: ask first"
    assert [e.scene_name for e in controller.state.loaded] == ["Kit Test Cell", "Kit Side Cell"]
    controller.retry()

    state = controller.state
    assert state.error is None and state.status is Status.LOADED, state.error
    (opened,) = state.loaded
    assert opened.prim_path is None and opened.fingerprint == after.fingerprint()
    assert usd_ops.list_added(port.stage) == []
    check_poses(port.stage, "/World", after)
    assert "1 of 2" in state.message


def test_auto_sync_that_breaks_switches_itself_off_and_says_so(
    make_controller: ControllerFactory, small_scene: Scene
) -> None:
    """An exception in the poll loop (here: a window listener failing) must not go silent."""

    async def scenario(controller: PanelController, _: object) -> None:
        await load_as_reference(controller, small_scene.id)

        def broken_window(state: PanelState) -> None:
            if state.auto_sync and state.status is Status.LOADING:
                raise RuntimeError("the window failed to draw")

        controller.subscribe(broken_window)
        controller.set_auto_sync(True)
        await until(controller, lambda: not controller.state.auto_sync)
        error = controller.state.error
        assert controller.state.auto_sync is False
        assert error is not None and "the window failed to draw" in error.detail
        assert error.can_retry
        controller.shutdown()

    on_asyncio_loop(make_controller, isaac_like_stage(), scenario)
