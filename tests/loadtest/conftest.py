"""Load-test fixtures: real healthy exports of the demo workcell, from the local server."""

from __future__ import annotations

import pytest
from loadtest_exports import Workcell

from gizmo_client import GizmoClient
from gizmo_server.demo import DEMO_SCENE_NAME
from gizmo_server.embedded import LocalServer


@pytest.fixture(scope="session")
def workcell(local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Workcell:
    cache = tmp_path_factory.mktemp("loadtest-cache")
    with GizmoClient(local_server.api_key, local_server.base_url, cache_dir=cache) as client:
        summary = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE_NAME)
        usd = client.fetch_scene(summary.id, "isaac_sim_usd")
        mjcf = client.fetch_scene(summary.id, "mujoco_mjcf")
    return Workcell(usd.scene, usd.path, mjcf.path)
