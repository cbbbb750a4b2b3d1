"""Assets: 202 pending on create, pending -> processing -> ready, defaults, lists, asset export."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

import requests

from gizmo_server.embedded import LocalServer
from gizmo_server.schemas import SPACE_CLASS

from .conftest import Api, assert_error

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def test_create_answers_202_pending_with_the_documented_fields(api: Api) -> None:
    response = api.post(
        "/assets",
        {"prompt": "6-DOF industrial robot arm", "name": "Arm A", "tags": ["robot", "demo"]},
    )
    assert response.status_code == 202
    asset = response.json()
    assert asset["id"].startswith("ast_")
    assert asset["status"] == "pending"
    assert asset["name"] == "Arm A"
    assert asset["prompt"] == "6-DOF industrial robot arm"
    assert asset["tags"] == ["robot", "demo"]
    assert asset["export_formats"] == []
    assert asset["error"] is None
    assert ISO_Z.fullmatch(asset["created_at"])
    datetime.fromisoformat(asset["created_at"])


def test_generation_goes_pending_processing_ready_and_sets_formats() -> None:
    with LocalServer(generation_delay=0.6) as server:
        api = Api(server.base_url, server.api_key)
        asset = api.asset("parallel-jaw gripper with prismatic fingers")
        assert api.get(f"/assets/{asset['id']}").json()["status"] == "pending"
        assert api.wait_for(asset["id"], "processing", "ready")["status"] == "processing"
        ready = api.wait_for(asset["id"])
        assert set(ready["export_formats"]) == {"isaac_sim_usd", "isaac_sim_urdf", "mujoco_mjcf"}
        assert ready["error"] is None
        api.close()


def test_name_defaults_to_the_prompt_truncated(api: Api) -> None:
    short = api.asset("blue plastic bin")
    assert short["name"] == "blue plastic bin"
    long_prompt = "a very long description of a steel shelf " * 5
    long = api.asset(long_prompt)
    assert long_prompt.startswith(long["name"][:-1])
    assert long["name"].endswith("…") and len(long["name"]) == 60
    assert api.asset("  spaced crate  ")["prompt"] == "spaced crate"


def test_get_unknown_asset_is_404(api: Api) -> None:
    assert_error(api.get("/assets/ast_doesnotexist"), 404, "asset_not_found")


def test_bad_asset_bodies_are_400_and_store_nothing(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    for body in (
        {},
        {"prompt": ""},
        {"prompt": "   "},
        {"prompt": "\u3000\x85\t"},
        {"prompt": "crate", "tags": [" "]},
        {"prompt": 12},
        {"prompt": "crate", "tags": "cargo"},
        {"prompt": "crate", "tags": [1, 2]},
        {"prompt": "crate", "name": ""},
        {"prompt": "x" * 4001},
    ):
        assert_error(api.post("/assets", body), 400, "invalid_field")
    assert_error(api.post("/assets", ["prompt"]), 400, "invalid_body")
    assert api.get("/assets").json()["total"] == 0


def test_list_defaults_clamping_ordering_and_pagination(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    created = [api.asset(f"crate number {i}")["id"] for i in range(25)]

    page = api.get("/assets").json()
    assert (page["total"], page["limit"], page["offset"]) == (25, 20, 0)
    assert len(page["assets"]) == 20
    assert {"id", "status", "name", "prompt", "created_at"} <= set(page["assets"][0])
    keys = [(a["created_at"], a["id"]) for a in page["assets"]]
    assert keys == sorted(keys, reverse=True), "newest first, ties broken by id"

    clamped = api.get("/assets", params={"limit": 1000}).json()
    assert clamped["limit"] == 100 and len(clamped["assets"]) == 25

    rest = api.get("/assets", params={"limit": 20, "offset": 20}).json()
    assert (rest["limit"], rest["offset"], len(rest["assets"])) == (20, 20, 5)
    walked = [a["id"] for a in page["assets"]] + [a["id"] for a in rest["assets"]]
    assert sorted(walked) == sorted(created)

    beyond = api.get("/assets", params={"offset": 500}).json()
    assert beyond["assets"] == [] and beyond["total"] == 25


def test_bad_pagination_is_400(api: Api) -> None:
    for params in ({"limit": 0}, {"limit": -5}, {"offset": -1}, {"limit": "ten"}, {"offset": "x"}):
        assert_error(api.get("/assets", params=params), 400, "invalid_pagination")


def test_asset_export_of_an_unready_asset_is_400_asset_not_ready() -> None:
    with LocalServer(generation_delay=30.0) as slow:
        api = Api(slow.base_url, slow.api_key)
        pending = api.asset("steel work table")
        body = assert_error(
            api.post(f"/assets/{pending['id']}/export", {"format": "mujoco_mjcf"}),
            400,
            "asset_not_ready",
        )
        assert "steel work table" in body["message"]
        expected = {"id": pending["id"], "name": "steel work table", "status": "pending"}
        assert body["assets"] == [expected]
        api.close()


def test_asset_export_in_each_format_downloads_verified_bytes(api: Api) -> None:
    asset = api.ready_asset("4-axis robot arm")
    for fmt, suffix in (
        ("isaac_sim_usd", ".usd"),
        ("isaac_sim_urdf", ".urdf"),
        ("mujoco_mjcf", ".xml"),
    ):
        response = api.post(f"/assets/{asset['id']}/export", {"format": fmt})
        assert response.status_code == 200, response.text
        link = response.json()
        assert link["format"] == fmt and link["filename"].endswith(suffix)
        data = requests.get(link["download_url"], timeout=10).content
        assert len(data) == link["size_bytes"]
        assert hashlib.sha256(data).hexdigest() == link["sha256"]
    for fmt in ("obj", "MUJOCO_MJCF", ""):
        assert_error(
            api.post(f"/assets/{asset['id']}/export", {"format": fmt}), 400, "unsupported_format"
        )
    assert_error(api.post(f"/assets/{asset['id']}/export", {"format": 3}), 400, "invalid_field")
    assert_error(api.post(f"/assets/{asset['id']}/export", {}), 400, "invalid_field")
    assert_error(
        api.post("/assets/ast_nope/export", {"format": "mujoco_mjcf"}), 404, "asset_not_found"
    )


def test_the_space_class_in_the_schema_is_what_stripping_removes() -> None:
    """The OpenAPI pattern for names, prompts and tags names exactly the characters stripped."""
    pattern = re.compile(f"[{SPACE_CLASS}]")
    everything = [chr(c) for c in range(0x110000)]
    assert [c for c in everything if c.isspace()] == [c for c in everything if pattern.match(c)]
