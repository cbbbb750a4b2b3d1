"""Fixtures for the Kit extension's pure layers: the real client, a real local server, usd-core.

`kit_server` is a server of its own (not the shared `local_server`), because these tests create
scenes and placements and must not change what other suites count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from kit_support import ControllerFactory, PosesCheck, assert_at_api_pose, new_controller

from gizmo_client import GizmoClient, Quaternion, Vector3
from gizmo_client.models import Scene
from gizmo_server.embedded import LocalServer

if TYPE_CHECKING:  # kit_support puts the extension on sys.path; nothing above may need it first
    from gizmo.scenes.controller import PanelController


@pytest.fixture(scope="session")
def kit_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True) as server:
        yield server


@pytest.fixture
def api(kit_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    """A client for arranging data on `kit_server` (the controller gets its own)."""
    with kit_server.client(cache_dir=tmp_path / "arrange-cache") as client:
        yield client


@pytest.fixture
def jobs_api(kit_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    """A client of the jobs generation (the demo `gzm_k1_` key) for arranging data."""
    with GizmoClient(
        api_key=kit_server.gen2_api_key,
        base_url=kit_server.base_url,
        cache_dir=tmp_path / "arrange-jobs-cache",
    ) as client:
        yield client


@pytest.fixture
def jobs_environ(kit_server: LocalServer) -> dict[str, str]:
    """The panel's environment for the jobs generation's demo account."""
    return {"GIZMO_BASE_URL": kit_server.base_url, "GIZMO_API_KEY": kit_server.gen2_api_key}


@pytest.fixture
def demo_asset_ids(api: GizmoClient) -> list[str]:
    """Ready assets of the demo account, to place in scenes the tests create."""
    warehouse = next(s for s in api.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")
    return list(dict.fromkeys(p.asset_id for p in api.scenes.get(warehouse.id).assets))


@pytest.fixture
def small_scene(api: GizmoClient, demo_asset_ids: list[str]) -> Scene:
    """A fresh scene with two placements at skew poses."""
    scene = api.scenes.create("Kit Test Cell", description="created by tests/kit")
    api.scenes.add_asset(
        scene.id,
        demo_asset_ids[0],
        Vector3(x=0.5, y=-0.25, z=0.1),
        Quaternion.from_euler_degrees(12.0, -33.0, 71.0),
    )
    return api.scenes.add_asset(
        scene.id,
        demo_asset_ids[1],
        Vector3(x=-1.25, y=0.75, z=0.0),
        Quaternion.from_euler_degrees(-5.0, 20.0, 140.0),
    )


@pytest.fixture
def make_controller(kit_server: LocalServer, tmp_path: Path) -> Iterator[ControllerFactory]:
    """Build controllers on the real client (see `kit_support.new_controller`); shut them down."""
    made: list[PanelController] = []

    def build(**kwargs: Any) -> PanelController:
        made.append(new_controller(kit_server, tmp_path / "panel-cache", **kwargs))
        return made[-1]

    yield build
    for controller in made:
        controller.shutdown()


@pytest.fixture
def check_poses() -> PosesCheck:
    return assert_at_api_pose
