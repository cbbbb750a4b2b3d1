"""A `gizmo-server` process killed (SIGKILL) between a write and its Idempotency-Key record.

The hook `GIZMO_SERVER_PAUSE_BEFORE_COMMIT` pauses every keyed POST after its handler ran and
before the answer is recorded; the test waits for its log line, kills the process there,
restarts it on the same data directory and retries with the same key: the placement must exist
exactly once (before the fix, data and record were separate transactions and the retry wrote again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from gizmo_server.idempotency import PAUSE_ENV

KEY = "gzk_crash_test_account_key"
ROUNDS = 3
SERVER = (sys.executable, "-m", "gizmo_server.cli", "--port", "0")


@contextmanager
def server_process(data: Path, **env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`gizmo-server` on a free port; yields the process and its base URL; killed on exit."""
    process = subprocess.Popen(
        [*SERVER, "--data", str(data), "--api-key", KEY, "--generation-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )
    assert process.stdout is not None
    try:
        base_url = ""
        while not base_url:
            line = process.stdout.readline()
            assert line, f"gizmo-server exited early: {process.communicate()[1]}"
            if "base URL:" in line:
                base_url = line.split()[-1]
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _api(base_url: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {KEY}", **kwargs.pop("headers", {})}
    return requests.request(method, base_url + path, headers=headers, timeout=30, **kwargs)


def _prepare(data: Path) -> tuple[str, str]:
    """A scene and a ready asset, made by a server that then stops cleanly."""
    with server_process(data) as (process, base_url):
        scene = _api(base_url, "POST", "/scenes", json={"name": "Crash"}).json()["id"]
        asset = _api(base_url, "POST", "/assets", json={"prompt": "steel work table"}).json()["id"]
        deadline = time.monotonic() + 20
        while _api(base_url, "GET", f"/assets/{asset}").json()["status"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    return scene, asset


def _post_expecting_a_kill(
    base_url: str, path: str, body: Any, headers: dict[str, str], lost: list[BaseException]
) -> None:
    try:
        _api(base_url, "POST", path, json=body, headers=headers)
    except requests.ConnectionError as exc:  # the kill ends it
        lost.append(exc)


def test_a_kill_between_write_and_record_leaves_no_duplicate_after_retry(tmp_path: Path) -> None:
    scene, asset = _prepare(tmp_path)
    body = {"asset_id": asset, "position": {"x": 1.0, "y": 0.0, "z": 0.0}}
    for round_ in range(ROUNDS):
        key = {"Idempotency-Key": str(uuid.uuid4())}
        with server_process(tmp_path, **{PAUSE_ENV: "60"}) as (process, base_url):
            lost: list[BaseException] = []
            request = threading.Thread(
                target=_post_expecting_a_kill,
                args=(base_url, f"/scenes/{scene}/assets", body, key, lost),
            )
            request.start()
            assert process.stderr is not None
            while PAUSE_ENV not in (line := process.stderr.readline()):
                assert line, "the server exited before pausing"
            process.kill()
            request.join(timeout=20)
            assert len(lost) == 1  # the client never got an answer: it must retry
        with server_process(tmp_path) as (_, base_url):
            retry = _api(base_url, "POST", f"/scenes/{scene}/assets", json=body, headers=key)
            assert retry.status_code == 200, retry.text
            again = _api(base_url, "POST", f"/scenes/{scene}/assets", json=body, headers=key)
            assert again.headers.get("Idempotent-Replayed") == "true"
            placements = _api(base_url, "GET", f"/scenes/{scene}").json()["assets"]
            assert len(placements) == round_ + 1, f"duplicates after round {round_ + 1}"
