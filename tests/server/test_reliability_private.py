"""The data directory is private (0700 folders, 0600 files, WAL and SHM and exports included),
and a secret read from a directory left world-readable by an older server forges no link."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import stat
from pathlib import Path

import requests

from gizmo_server.embedded import DEMO_API_KEY, LocalServer

from .conftest import Api, assert_error


def _export(server: LocalServer) -> str:
    """Export the demo's first scene as MJCF and USD; returns the MJCF link."""
    api = Api(server.base_url, server.api_key)
    scene = api.get("/scenes").json()["scenes"][0]["id"]
    for fmt in ("isaac_sim_usd", "mujoco_mjcf"):
        response = api.post(f"/scenes/{scene}/export", {"format": fmt})
        assert response.status_code == 200, response.text
    url: str = response.json()["download_url"]
    api.close()
    return url


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_every_folder_is_0700_and_every_file_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalServer(demo=True, data_dir=data) as server:
        _export(server)
        modes = _modes(data)  # while running: the WAL and SHM files exist
    assert {"gizmo.sqlite3", "gizmo.sqlite3-wal", "gizmo.sqlite3-shm"} <= set(modes)
    assert any(name.startswith("files/") for name in modes)  # the exported files
    for name, mode in modes.items():
        wanted = 0o700 if (data / name).is_dir() else 0o600
        assert mode == wanted, f"{name} is {mode:o}, expected {wanted:o}"


def _open_up(root: Path) -> None:
    """What an older server left: folders 0755, files 0644."""
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def test_a_secret_read_while_the_data_was_world_readable_forges_no_link(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalServer(demo=True, data_dir=data) as server:
        genuine = _export(server)
    _open_up(data)
    # Another local user reads the secret and a download token from the world-readable database.
    with sqlite3.connect(data / "gizmo.sqlite3") as db:
        secret = db.execute("SELECT value FROM meta WHERE key = 'link_secret'").fetchone()[0]
        token = db.execute("SELECT token FROM downloads").fetchone()[0]
    expires = 4_000_000_000
    signature = hmac.new(secret, f"{token}\n{expires}".encode(), hashlib.sha256).hexdigest()

    with LocalServer(demo=True, data_dir=data) as server:
        forged = f"{server.base_url}/downloads/{token}?expires={expires}&signature={signature}"
        assert_error(requests.get(forged, timeout=10), 403, "invalid_signature")
        old = f"{server.base_url}/downloads/{genuine.split('/downloads/')[1]}"
        assert_error(requests.get(old, timeout=10), 403, "invalid_signature")  # the old secret
        fresh = _export(server)
        assert requests.get(fresh, timeout=10).status_code == 200
        assert all(mode & 0o077 == 0 for mode in _modes(data).values())
    assert server.api_keys == (DEMO_API_KEY,)
