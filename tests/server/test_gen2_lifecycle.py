"""The jobs generation across restarts, and the server's independence from the client package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gizmo_server.embedded import LocalServer

from .gen2_helpers import Gen2

KEY = "gzm_k1_lifecycle_test_account"


def test_a_restart_keeps_scenes_and_fails_the_jobs_it_interrupted(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,), job_seconds=0.0) as first:
        api = Gen2(first.base_url, KEY)
        done = api.generate("a table and a crate")
        assert api.wait(done["job_id"])["status"] == "succeeded"
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,), job_seconds=60.0) as second:
        api = Gen2(second.base_url, KEY)
        assert api.scene(done["scene_id"])["version"] == 1
        running = api.generate("two shelves")
    with LocalServer(data_dir=tmp_path, api_keys=(KEY,)) as third:
        api = Gen2(third.base_url, KEY)
        job = api.job(running["job_id"])
        assert job["status"] == "failed" and job["error"]["code"] == "server_restarted"
        types = [e["event"] for e in api.events(running["job_id"])]
        assert types[-2:] == ["job_failed", "done"]
        assert api.scene(done["scene_id"])["status"] == "ready"


def test_demo_seeding_twice_on_one_data_dir_keeps_the_same_scenes(tmp_path: Path) -> None:
    ids = []
    for _ in range(2):
        with LocalServer(demo=True, data_dir=tmp_path) as server:
            api = Gen2(server.base_url, server.gen2_api_key)
            page = api.ok(api.get("/scenes"))
            ids.append(sorted(s["id"] for s in page["scenes"]))
    assert ids[0] == ids[1] and len(ids[0]) == 2


def test_serving_both_generations_never_imports_the_client() -> None:
    script = """
import sys, requests
from gizmo_server.embedded import LocalServer
with LocalServer(demo=True, job_seconds=0.0) as server:
    gen2 = {"Authorization": f"Bearer {server.gen2_api_key}"}
    alpha = {"Authorization": f"Bearer {server.api_key}"}
    scene = requests.get(server.base_url + "/scenes", headers=gen2).json()["scenes"][0]["id"]
    zipped = requests.post(server.base_url + f"/scenes/{scene}/export", json={"format": "usd"},
                           headers=gen2)
    alpha_scene = requests.get(server.base_url + "/scenes", headers=alpha).json()["scenes"][0]
    link = requests.post(server.base_url + f"/scenes/{alpha_scene['id']}/export",
                         json={"format": "mujoco_mjcf"}, headers=alpha)
    assert zipped.status_code == 200 and link.status_code == 200
print(sorted(m for m in sys.modules if m.startswith("gizmo_client")))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout
