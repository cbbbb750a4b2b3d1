"""Errors that used to escape the envelope: a malformed or unsatisfiable `Range` (Starlette's
plain text), and a full disk (a 500 "this is a bug"); the disk is a real, small tmpfs."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error
from .gen2_helpers import Gen2


def _link(api: Api) -> str:
    scene = api.get("/scenes").json()["scenes"][0]["id"]
    url: str = api.post(f"/scenes/{scene}/export", {"format": "mujoco_mjcf"}).json()["download_url"]
    return url


def test_range_refusals_are_enveloped(server: LocalServer, api: Api) -> None:
    url = _link(api)
    size = len(requests.get(url, timeout=30).content)
    for bad in ("bytes", "lines=0-10", "bytes=9-3"):
        body = assert_error(
            requests.get(url, headers={"Range": bad}, timeout=30), 400, "invalid_range"
        )
        assert "bytes=0-1023" in body["message"]
    beyond = requests.get(url, headers={"Range": f"bytes={size + 10}-"}, timeout=30)
    assert_error(beyond, 416, "range_not_satisfiable")
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert requests.get(url, headers={"Range": "bytes=0-9"}, timeout=30).status_code == 206


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (mounting needs root; skipped where that is refused)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path) -> Path:
    """Write a filler file until the disk is full."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_is_507_saying_so_and_saves_nothing(small_disk: Path) -> None:
    data = small_disk / "data"
    with LocalServer(demo=True, data_dir=data) as server:
        api = Api(server.base_url, server.api_key)
        jobs = Gen2(server.base_url, server.gen2_api_key)
        scene = api.get("/scenes").json()["scenes"][0]["id"]
        filler = _fill(small_disk)

        full = api.post(f"/scenes/{scene}/export", {"format": "isaac_sim_usd"})
        body = assert_error(full, 507, "insufficient_storage")
        assert "disk is full" in body["message"] and "this is a bug" not in body["message"]
        assert not list((data / "files").rglob(".incoming-*"))  # no partial file left
        created = jobs.post("/scenes", {"prompt": "a warehouse aisle with shelves"})
        assert created.status_code == 507, created.text
        error = created.json()["error"]  # the jobs generation's nested envelope
        assert error["code"] == "insufficient_storage" and "disk is full" in error["message"]

        filler.unlink()
        assert api.post(f"/scenes/{scene}/export", {"format": "isaac_sim_usd"}).status_code == 200
        assert jobs.post("/scenes", {"prompt": "a warehouse aisle with shelves"}).status_code == 202
        api.close()
        jobs.close()
