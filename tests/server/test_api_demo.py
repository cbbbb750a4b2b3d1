"""The demo account: a fixed key, "Warehouse Workcell Alpha" and two more scenes, repeatable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import requests

from gizmo_client.models import Quaternion
from gizmo_server.embedded import DEMO_API_KEY, LocalServer

from .conftest import Api


def _workcell(api: Api) -> dict[str, object]:
    scenes = api.get("/scenes", params={"limit": 100}).json()["scenes"]
    (summary,) = [s for s in scenes if s["name"] == "Warehouse Workcell Alpha"]
    scene: dict[str, object] = api.get(f"/scenes/{summary['id']}").json()
    return scene


def test_the_demo_key_and_scenes(server: LocalServer, api: Api) -> None:
    assert server.api_key == DEMO_API_KEY
    listing = api.get("/scenes", params={"limit": 100}).json()  # other tests add scenes
    names = {s["name"] for s in listing["scenes"]}
    assert {"Warehouse Workcell Alpha", "Pick Station Beta", "Mobile Inspection Cell"} <= names
    placed = _workcell(api)["assets"]
    assert isinstance(placed, list)
    counts: dict[str, int] = {}
    for p in placed:
        counts[p["name"]] = counts.get(p["name"], 0) + 1
    assert counts == {
        "Industrial Arm v1": 1,
        "Parallel Gripper": 2,
        "Belt Conveyor": 1,
        "Steel Work Table": 1,
        "Parts Bin": 2,
        "Shipping Crate": 1,
    }
    for p in placed:
        asset = api.get(f"/assets/{p['asset_id']}").json()
        assert asset["status"] == "ready" and "mujoco_mjcf" in asset["export_formats"]


def test_the_grippers_face_each_other_and_rotations_are_not_trivial(api: Api) -> None:
    placed = _workcell(api)["assets"]
    assert isinstance(placed, list)
    grippers = [p for p in placed if p["name"] == "Parallel Gripper"]
    (a, b) = grippers
    fingers = [np.array(Quaternion(**g["rotation"]).to_matrix()) @ [0, 0, 1] for g in grippers]
    a_to_b = np.array([b["position"][k] - a["position"][k] for k in "xyz"])
    a_to_b /= np.linalg.norm(a_to_b)
    np.testing.assert_allclose(fingers[0], a_to_b, atol=1e-9)
    np.testing.assert_allclose(fingers[1], -a_to_b, atol=1e-9)
    # neither an identity nor a right angle about one axis: a tilted crate
    (crate,) = [p for p in placed if p["name"] == "Shipping Crate"]
    roll, pitch, yaw = Quaternion(**crate["rotation"]).to_euler_degrees()
    assert min(abs(roll), abs(pitch), abs(yaw)) > 5 and abs(yaw) % 90 > 5


def test_the_workcell_exports_in_both_formats(api: Api) -> None:
    scene = _workcell(api)
    for fmt in ("mujoco_mjcf", "isaac_sim_usd"):
        link = api.post(f"/scenes/{scene['id']}/export", {"format": fmt}).json()
        assert requests.get(link["download_url"], timeout=10).status_code == 200


def test_the_demo_is_identical_on_every_run_and_seeds_once(tmp_path: Path, api: Api) -> None:
    expected = _workcell(api)
    with LocalServer(demo=True) as other:
        assert _workcell(Api(other.base_url, DEMO_API_KEY)) == expected
    for _ in range(2):
        with LocalServer(demo=True, data_dir=tmp_path) as persistent:
            demo = Api(persistent.base_url, DEMO_API_KEY)
            assert demo.get("/scenes").json()["total"] == 3
            assert _workcell(demo) == expected
