"""Scenes: 201 on create, placements with defaults and quaternion rules, lists, scene export."""

from __future__ import annotations

import hashlib
import math

import mujoco
import numpy as np
import pytest
import requests

from gizmo_client.models import Quaternion
from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error

# yaw 30 deg, pitch 10 deg, roll 5 deg: nothing special about it
TILTED = Quaternion.from_euler_degrees(5.0, 10.0, 30.0)


@pytest.fixture(scope="module")
def arm(server: LocalServer) -> str:
    api = Api(server.base_url, server.api_key)
    asset_id: str = api.ready_asset("5-DOF robot arm")["id"]
    api.close()
    return asset_id


def test_create_answers_201_with_an_empty_scene(api: Api) -> None:
    response = api.post("/scenes", {"name": "Warehouse Workcell Beta"})
    assert response.status_code == 201
    scene = response.json()
    assert scene["id"].startswith("scn_")
    assert scene["name"] == "Warehouse Workcell Beta"
    assert scene["description"] is None
    assert scene["assets"] == []
    assert scene["created_at"].endswith("Z")
    described = api.created("/scenes", {"name": "Lab", "description": "A lab bench"}, 201)
    assert described["description"] == "A lab bench"
    assert api.get(f"/scenes/{scene['id']}").json() == scene


def test_bad_scene_bodies_are_400_and_store_nothing(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    for body in (
        {},
        {"name": ""},
        {"name": 5},
        {"name": "x" * 201},
        {"name": "a", "description": 3},
    ):
        assert_error(api.post("/scenes", body), 400, "invalid_field")
    for body in ([], "name", 42, None):
        assert_error(api.post("/scenes", body), 400, "invalid_body")
    assert api.get("/scenes").json()["total"] == 0


def test_unknown_scene_is_404(api: Api, arm: str) -> None:
    assert_error(api.get("/scenes/scn_nothere"), 404, "scene_not_found")
    assert_error(api.post("/scenes/scn_nothere/assets", {"asset_id": arm}), 404, "scene_not_found")
    assert_error(
        api.post("/scenes/scn_nothere/export", {"format": "mujoco_mjcf"}), 404, "scene_not_found"
    )


def test_list_defaults_clamping_and_newest_first(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    created = [api.scene(f"Scene {i}")["id"] for i in range(23)]
    page = api.get("/scenes").json()
    assert (page["total"], page["limit"], page["offset"], len(page["scenes"])) == (23, 20, 0, 20)
    assert set(page["scenes"][0]) == {"id", "name", "description", "created_at"}
    keys = [(s["created_at"], s["id"]) for s in page["scenes"]]
    assert keys == sorted(keys, reverse=True)
    everything = api.get("/scenes", params={"limit": 250}).json()
    assert everything["limit"] == 100
    assert sorted(s["id"] for s in everything["scenes"]) == sorted(created)
    tail = api.get("/scenes", params={"offset": 20}).json()
    assert [s["id"] for s in tail["scenes"]] == [s["id"] for s in everything["scenes"][20:]]
    for params in ({"limit": 0}, {"offset": -3}, {"limit": 1.5}):
        assert_error(api.get("/scenes", params=params), 400, "invalid_pagination")


def test_placement_defaults_to_origin_and_identity(api: Api, arm: str) -> None:
    scene = api.scene()
    response = api.post(f"/scenes/{scene['id']}/assets", {"asset_id": arm})
    assert response.status_code == 200
    updated = response.json()
    (placed,) = updated["assets"]
    assert placed["id"].startswith("pla_")
    assert placed["asset_id"] == arm
    assert placed["name"] == "5-DOF robot arm"
    assert placed["position"] == {"x": 0.0, "y": 0.0, "z": 0.0}
    assert placed["rotation"] == {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}
    assert placed["added_at"].endswith("Z")
    assert api.get(f"/scenes/{scene['id']}").json() == updated


def test_placements_append_and_the_same_asset_can_be_placed_twice(api: Api, arm: str) -> None:
    scene = api.scene()
    poses = [
        (
            {"x": 1.2, "y": -0.4, "z": 0.0},
            {"x": 0.0, "y": 0.0, "z": 0.2588190451, "w": 0.9659258263},
        ),
        ({"x": -1.2, "y": 0.4, "z": 0.75}, dict(zip("xyzw", TILTED.to_xyzw(), strict=True))),
    ]
    for position, rotation in poses:
        body = {"asset_id": arm, "position": position, "rotation": rotation}
        result = api.post(f"/scenes/{scene['id']}/assets", body).json()
    placed = result["assets"]
    assert [p["asset_id"] for p in placed] == [arm, arm]
    assert len({p["id"] for p in placed}) == 2
    for p, (position, rotation) in zip(placed, poses, strict=True):
        assert p["position"] == position
        for k in "xyzw":
            assert p["rotation"][k] == pytest.approx(rotation[k], abs=1e-9)
    # placement ids are stable: a later read shows the same ones in the same order
    assert [p["id"] for p in api.get(f"/scenes/{scene['id']}").json()["assets"]] == [
        p["id"] for p in placed
    ]


def test_nearly_unit_quaternions_are_stored_normalised(api: Api, arm: str) -> None:
    scene = api.scene()
    x, y, z, w = TILTED.to_xyzw()
    scale = 1.0009  # within the 1e-3 tolerance
    rotation = {"x": x * scale, "y": y * scale, "z": z * scale, "w": w * scale}
    placed = api.post(f"/scenes/{scene['id']}/assets", {"asset_id": arm, "rotation": rotation})
    stored = placed.json()["assets"][0]["rotation"]
    assert math.hypot(*stored.values()) == pytest.approx(1.0, abs=1e-12)
    for k, expected in zip("xyzw", (x, y, z, w), strict=True):
        assert stored[k] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "rotation",
    [
        {"x": 0, "y": 0, "z": 0, "w": 0},
        {"x": 0, "y": 0, "z": 0.5, "w": 0.5},
        {"x": 0, "y": 0, "z": 0.7071068, "w": 0.7171068},
        {"x": 0, "y": 0, "z": 0, "w": 1.0011},
    ],
)
def test_non_unit_quaternions_are_400_invalid_rotation(
    api: Api, arm: str, rotation: dict[str, float]
) -> None:
    scene = api.scene()
    response = api.post(f"/scenes/{scene['id']}/assets", {"asset_id": arm, "rotation": rotation})
    body = assert_error(response, 400, "invalid_rotation")
    assert "norm" in body["message"]
    assert api.get(f"/scenes/{scene['id']}").json()["assets"] == []


@pytest.mark.parametrize(
    "raw, code",
    [
        ('{{"asset_id": "{a}", "rotation": {{"x": NaN, "y": 0, "z": 0, "w": 1}}}}', "invalid_body"),
        ('{{"asset_id": "{a}", "position": {{"x": Infinity, "y": 0, "z": 0}}}}', "invalid_body"),
        ('{{"asset_id": "{a}", "position": {{"x": -Infinity, "y": 0, "z": 0}}}}', "invalid_body"),
        ('{{"asset_id": "{a}", "position": {{"x": 1e400, "y": 0, "z": 0}}}}', "invalid_body"),
        ('{{"asset_id": "{a}", "rotation": {{"x": 0, "y": 0, "z": 0}}}}', "invalid_field"),
        (
            '{{"asset_id": "{a}", "rotation": {{"x": 0, "y": 0, "z": 0, "w": "1"}}}}',
            "invalid_field",
        ),
        ('{{"asset_id": "{a}", "rotation": [0, 0, 0, 1]}}', "invalid_field"),
        ('{{"asset_id": "{a}", "position": {{"x": 1, "y": 2}}}}', "invalid_field"),
        ('{{"asset_id": "{a}", "position": {{"x": "1", "y": 2, "z": 3}}}}', "invalid_field"),
        ('{{"asset_id": "{a}", "position": {{"x": true, "y": 2, "z": 3}}}}', "invalid_field"),
        ('{{"asset_id": "{a}", "position": {{"x": 1e7, "y": 2, "z": 3}}}}', "invalid_field"),
        ('{{"asset_id": 17}}', "invalid_field"),
        ("{{}}", "invalid_field"),
        ('{{"asset_id": "{a}",}}', "invalid_body"),
    ],
)
def test_bad_placements_are_400_and_store_nothing(api: Api, arm: str, raw: str, code: str) -> None:
    scene = api.scene()
    response = api.post(
        f"/scenes/{scene['id']}/assets",
        data=raw.format(a=arm),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, code)
    assert api.get(f"/scenes/{scene['id']}").json()["assets"] == []


def test_placing_an_unknown_or_unready_asset(api: Api) -> None:
    scene = api.scene()
    assert_error(
        api.post(f"/scenes/{scene['id']}/assets", {"asset_id": "ast_unknown"}),
        404,
        "asset_not_found",
    )
    with LocalServer(generation_delay=30.0) as slow:
        slow_api = Api(slow.base_url, slow.api_key)
        own_scene = slow_api.scene()
        pending = slow_api.asset("blue plastic bin", name="Bin P")
        response = slow_api.post(f"/scenes/{own_scene['id']}/assets", {"asset_id": pending["id"]})
        body = assert_error(response, 400, "asset_not_ready")
        assert "Bin P" in body["message"]
        assert body["assets"][0]["id"] == pending["id"]
        assert slow_api.get(f"/scenes/{own_scene['id']}").json()["assets"] == []
        slow_api.close()


def test_scene_export_in_both_formats(api: Api, arm: str) -> None:
    scene = api.scene("Export me")
    rotation = dict(zip("xyzw", TILTED.to_xyzw(), strict=True))
    body = {"asset_id": arm, "position": {"x": 0.4, "y": -0.3, "z": 0.1}, "rotation": rotation}
    placement = api.post(f"/scenes/{scene['id']}/assets", body).json()["assets"][0]
    for fmt, filename in (("mujoco_mjcf", "scene.xml"), ("isaac_sim_usd", "scene.usd")):
        response = api.post(f"/scenes/{scene['id']}/export", {"format": fmt})
        assert response.status_code == 200, response.text
        link = response.json()
        assert set(link) == {
            "download_url",
            "expires_at",
            "format",
            "size_bytes",
            "sha256",
            "filename",
        }
        assert (link["format"], link["filename"]) == (fmt, filename)
        data = requests.get(link["download_url"], timeout=10).content
        assert hashlib.sha256(data).hexdigest() == link["sha256"]
        assert placement["id"].encode() in data
    for fmt in ("isaac_sim_urdf", "usd", "mjcf"):
        assert_error(
            api.post(f"/scenes/{scene['id']}/export", {"format": fmt}), 400, "unsupported_format"
        )


def test_exported_mjcf_places_the_asset_at_the_api_pose(api: Api, arm: str) -> None:
    """End to end through HTTP: the placement's root body sits where the API says."""
    scene = api.scene("Pose check")
    rotation = dict(zip("xyzw", TILTED.to_xyzw(), strict=True))
    position = {"x": 0.7, "y": -1.1, "z": 0.25}
    body = {"asset_id": arm, "position": position, "rotation": rotation}
    placement = api.post(f"/scenes/{scene['id']}/assets", body).json()["assets"][0]
    link = api.post(f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"}).json()
    model = mujoco.MjModel.from_xml_string(requests.get(link["download_url"], timeout=10).text)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    roots = [b for b in range(1, model.nbody) if model.body_parentid[b] == 0]
    assert len(roots) == 1  # the scene holds this one placement
    np.testing.assert_allclose(data.xpos[roots[0]], [position[k] for k in "xyz"], atol=1e-6)
    expected = np.array(Quaternion(**placement["rotation"]).to_wxyz())
    got = data.xquat[roots[0]]
    assert min(np.abs(got - expected).max(), np.abs(got + expected).max()) < 1e-6


def test_empty_scene_exports(api: Api) -> None:
    scene = api.scene("Nothing here")
    response = api.post(f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"})
    assert response.status_code == 200
    mujoco.MjModel.from_xml_string(requests.get(response.json()["download_url"], timeout=10).text)


def test_export_with_an_unready_asset_is_400_naming_it(api: Api) -> None:
    """The add-asset rule keeps unready assets out, so the placement goes in through the store
    (reaching into the server is the only way to build this state)."""
    with LocalServer(generation_delay=30.0) as slow:
        slow_api = Api(slow.base_url, slow.api_key)
        scene = slow_api.scene()
        pending = slow_api.asset("four-level storage shelf", name="Shelf S")
        slow.service.store.add_placement(scene["id"], pending["id"], (0.0, 0.0, 0.0), (0, 0, 0, 1))
        response = slow_api.post(f"/scenes/{scene['id']}/export", {"format": "isaac_sim_usd"})
        body = assert_error(response, 400, "assets_not_ready")
        assert "Shelf S" in body["message"] and pending["id"] in body["message"]
        assert body["assets"] == [{"id": pending["id"], "name": "Shelf S", "status": "pending"}]
        slow_api.close()


def test_prefer_return_minimal_answers_only_the_new_placement(api: Api) -> None:
    asset = api.ready_asset("steel work table")
    scene = api.scene("Minimal answers")
    place = {"asset_id": asset["id"], "position": {"x": 1.0, "y": 2.0, "z": 0.0}}
    full = api.post(f"/scenes/{scene['id']}/assets", place)
    assert "Preference-Applied" not in full.headers and len(full.json()["assets"]) == 1
    minimal = api.post(f"/scenes/{scene['id']}/assets", place, headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 200 and minimal.headers["Preference-Applied"] == "return=minimal"
    placement = minimal.json()
    assert placement["asset_id"] == asset["id"] and placement["position"] == place["position"]
    stored = api.get(f"/scenes/{scene['id']}").json()["assets"]
    assert [p["id"] for p in stored][-1] == placement["id"] and stored[-1] == placement
