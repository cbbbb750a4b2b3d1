"""Persistence: a restart on the same data directory keeps everything; keys are stored hashed."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
import requests

from gizmo_server.auth import hash_key
from gizmo_server.embedded import LocalServer
from gizmo_server.store import Store

from .conftest import Api

KEY = "gzk_persistent_account_key_1"


def test_a_restart_keeps_all_data_links_and_idempotency_records(tmp_path: Path) -> None:
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,)) as first:
        api = Api(first.base_url, KEY)
        scene = api.created("/scenes", {"name": "Survivor", "description": "kept"}, 201)
        asset = api.ready_asset("6-DOF robot arm")
        rotation = {"x": 0.1227878, "y": 0.0, "z": 0.2655044, "w": 0.9562502}
        body = {"asset_id": asset["id"], "position": {"x": 1, "y": 2, "z": 3}, "rotation": rotation}
        placed = api.post(f"/scenes/{scene['id']}/assets", body, headers=idem).json()
        link = api.post(f"/scenes/{scene['id']}/export", {"format": "isaac_sim_usd"}).json()
        before = {
            path: api.get(path).json()
            for path in ("/scenes", "/assets", f"/scenes/{scene['id']}", f"/assets/{asset['id']}")
        }
        api.close()

    with LocalServer(data_dir=tmp_path, api_keys=(KEY,)) as second:
        api = Api(second.base_url, KEY)
        assert {path: api.get(path).json() for path in before} == before
        assert before[f"/scenes/{scene['id']}"] == placed
        # the link was signed by the first run and still verifies (the secret is kept)
        old_base = link["download_url"].split("/downloads/")[0]
        old_link = link["download_url"].replace(old_base, second.base_url)
        download = requests.get(old_link, timeout=10)
        assert download.status_code == 200 and len(download.content) == link["size_bytes"]
        replay = api.post(f"/scenes/{scene['id']}/assets", body, headers=idem)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert len(api.get(f"/scenes/{scene['id']}").json()["assets"]) == 1
        api.close()


def test_keys_stay_valid_without_being_passed_again(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,)) as first:
        scene = Api(first.base_url, KEY).scene("Mine")
    with LocalServer(data_dir=tmp_path) as second:
        assert second.api_key != KEY  # a fresh key was generated: a second account
        assert Api(second.base_url, KEY).get(f"/scenes/{scene['id']}").status_code == 200
        assert Api(second.base_url, second.api_key).get(f"/scenes/{scene['id']}").status_code == 403


def test_keys_are_stored_only_as_hashes(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,)) as server:
        Api(server.base_url, KEY).scene("x")
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("gizmo.sqlite3*"))
        assert KEY.encode() not in stored
        assert hash_key(KEY).encode() in stored


def test_the_database_uses_wal(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path):
        with sqlite3.connect(tmp_path / "gizmo.sqlite3") as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unfinished_generations_resume_after_a_restart(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,), generation_delay=60.0) as first:
        asset = Api(first.base_url, KEY).asset("blue plastic bin")
        assert asset["status"] == "pending"
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,), generation_delay=0.02) as second:
        ready = Api(second.base_url, KEY).wait_for(asset["id"])
        assert ready["export_formats"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    try:
        account = store.ensure_account(hash_key(KEY))
        scene = store.create_scene(account, "S", None)
        with pytest.raises(sqlite3.IntegrityError):  # no such asset: the foreign key fails
            store.add_placement(scene.id, "ast_missing", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
        found = store.get_scene_with_placements(scene.id)
        assert found is not None and found[1] == []
    finally:
        store.close()
