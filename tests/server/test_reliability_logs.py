"""No download token or link signature in any log line of a running `gizmo-server` (its access
log prints every request's path and query)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import requests

from gizmo_server.demo import DEMO_API_KEY


def test_access_and_error_logs_hold_no_token_or_signature() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "gizmo_server.cli", "--port", "0", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    base_url = ""
    while not base_url:
        line = process.stdout.readline()
        assert line, "gizmo-server exited early"
        base_url = line.split()[-1] if "base URL:" in line else ""
    auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    scene = requests.get(f"{base_url}/scenes", headers=auth, timeout=30).json()["scenes"][0]["id"]
    link = requests.post(
        f"{base_url}/scenes/{scene}/export",
        json={"format": "mujoco_mjcf"},
        headers=auth,
        timeout=30,
    ).json()["download_url"]
    assert requests.get(link, timeout=30).status_code == 200
    tampered = link.replace("signature=", "signature=0")
    assert requests.get(tampered, timeout=30).status_code == 403
    process.send_signal(signal.SIGINT)
    _, logged = process.communicate(timeout=20)

    parts = urlsplit(link)
    token = parts.path.rsplit("/", 1)[-1]
    signature = parse_qs(parts.query)["signature"][0]
    assert "GET /v1/downloads/REDACTED?expires=" in logged  # the lines are there, redacted
    assert "signature=REDACTED" in logged
    assert token not in logged and signature not in logged
