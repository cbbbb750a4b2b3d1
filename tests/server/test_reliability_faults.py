"""Knobs for client tests against the real server: a short jobs-generation rate window, and
damaged export ZIPs (`truncated_zip`, `unsafe_zip`) on both generations."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile

import pytest
import requests

from gizmo_server.embedded import LocalServer
from gizmo_server.zips import UNSAFE_ENTRY

from .conftest import Api
from .gen2_helpers import Gen2, nested_error

GEN2_KEY = "gzm_k1_rate_window_test_key"


def test_a_short_rate_window_lets_a_429_clear_in_about_a_second() -> None:
    with LocalServer(api_keys=(GEN2_KEY,), gen2_rate_limit=2, gen2_rate_window=1.0) as server:
        api = Gen2(server.base_url, GEN2_KEY)
        assert [api.get("/whoami").status_code for _ in range(2)] == [200, 200]
        limited = api.get("/whoami")
        nested_error(limited, 429, "rate_limit_exceeded")
        assert "Retry-After" not in limited.headers  # only X-RateLimit-Reset, as hosted
        reset = int(limited.headers["X-RateLimit-Reset"])
        assert reset - time.time() <= 2.1  # the window (1 s) rounded up to a whole second
        time.sleep(max(0.0, reset - time.time()) + 0.05)
        assert api.get("/whoami").status_code == 200
        api.close()


def test_jobs_export_zip_faults() -> None:
    with LocalServer(demo=True, faults="truncated_zip:1.0") as server:
        api = Gen2(server.base_url, server.gen2_api_key)
        scene = api.ok(api.get("/scenes"))["scenes"][0]["id"]
        truncated = api.post(f"/scenes/{scene}/export", {"format": "mjcf"})
        assert (
            truncated.status_code == 200 and truncated.headers["X-Gizmo-Fault"] == "truncated_zip"
        )
        assert int(truncated.headers["Content-Length"]) == len(truncated.content)
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(truncated.content))

        server.configure_faults("unsafe_zip:1.0")
        unsafe = api.post(f"/scenes/{scene}/export", {"format": "mjcf"})
        assert unsafe.headers["X-Gizmo-Fault"] == "unsafe_zip"
        names = zipfile.ZipFile(io.BytesIO(unsafe.content)).namelist()
        assert UNSAFE_ENTRY in names and "scene.xml" in names

        server.configure_faults(None)
        sound = api.post(f"/scenes/{scene}/export", {"format": "mjcf"})
        assert "X-Gizmo-Fault" not in sound.headers
        assert zipfile.ZipFile(io.BytesIO(sound.content)).testzip() is None
        api.close()


def test_alpha_truncated_zip_downloads_whole_and_fails_to_open() -> None:
    with LocalServer(demo=True, faults="truncated_zip:1.0") as server:
        api = Api(server.base_url, server.api_key)
        scene = api.get("/scenes").json()["scenes"][0]["id"]
        answer = api.post(f"/scenes/{scene}/export", {"format": "mujoco_mjcf"})
        assert answer.headers["X-Gizmo-Fault"] == "truncated_zip"
        link = answer.json()
        assert link["filename"].endswith(".zip")
        data = requests.get(link["download_url"], timeout=30).content
        assert (
            len(data) == link["size_bytes"] and hashlib.sha256(data).hexdigest() == link["sha256"]
        )
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(data))
        api.close()
