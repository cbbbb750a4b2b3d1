"""Concurrent writers: every write persists, nothing is lost or duplicated."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from gizmo_server.embedded import LocalServer

from .conftest import Api

THREADS = 20


def test_twenty_threads_adding_placements_to_one_scene(fresh: tuple[LocalServer, Api]) -> None:
    server, api = fresh
    scene = api.scene("Crowded")
    asset = api.ready_asset("parallel-jaw gripper")
    start = threading.Barrier(THREADS)

    def place(i: int) -> int:
        body = {"asset_id": asset["id"], "position": {"x": i * 0.5, "y": -i * 0.25, "z": 0.0}}
        start.wait()
        response = requests.post(
            f"{server.base_url}/scenes/{scene['id']}/assets",
            json=body,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(place, range(THREADS)))
    assert statuses == [200] * THREADS

    placed = api.get(f"/scenes/{scene['id']}").json()["assets"]
    assert len(placed) == THREADS
    assert len({p["id"] for p in placed}) == THREADS
    assert sorted(p["position"]["x"] for p in placed) == [i * 0.5 for i in range(THREADS)]


def test_concurrent_creations_all_persist(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh

    def create(i: int) -> str:
        kind, body, status = (
            ("/scenes", {"name": f"S{i}"}, 201)
            if i % 2
            else ("/assets", {"prompt": f"crate {i}"}, 202)
        )
        response = requests.post(
            api.base_url + kind, json=body, headers=dict(api.session.headers), timeout=30
        )
        assert response.status_code == status
        return str(response.json()["id"])

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(create, range(2 * THREADS)))
    assert len(set(ids)) == 2 * THREADS
    assert api.get("/scenes").json()["total"] == THREADS
    assert api.get("/assets").json()["total"] == THREADS
