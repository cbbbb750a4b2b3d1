"""The `gizmo-server` command: options, printed URL and keys, demo, clean exit on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from gizmo_server.cli import main
from gizmo_server.demo import DEMO_API_KEY, DEMO_SCENE_NAME
from gizmo_server.gen2.demo import GEN2_DEMO_API_KEY

_LAST: list[subprocess.Popen[str]] = []  # the process `running` started last


@contextmanager
def running(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    """Start `gizmo-server --port 0 ARGS`; yield (base URL, printed keys, all printed lines)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gizmo_server.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    _LAST[:] = [process]
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not any(line.strip().startswith("try:") or "existing" in line for line in lines):
            line = process.stdout.readline()
            assert line, f"gizmo-server exited early: {process.communicate()[1]}"
            lines.append(line.rstrip("\n"))
        base_url = next(line.split()[-1] for line in lines if "base URL:" in line)
        keys = [line.split()[-1] for line in lines if "API key:" in line]
        yield base_url, keys, lines
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def _get(base_url: str, path: str, key: str) -> requests.Response:
    return requests.get(base_url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_demo_prints_its_fixed_key_and_serves_the_demo_scene() -> None:
    with running("--demo") as (base_url, keys, lines):
        assert keys == [DEMO_API_KEY]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert any("not the real Gizmo" in line for line in lines)
        names = [s["name"] for s in _get(base_url, "/scenes", DEMO_API_KEY).json()["scenes"]]
        assert DEMO_SCENE_NAME in names


def test_demo_also_serves_the_jobs_generation_with_its_own_key() -> None:
    with running("--demo", "--job-seconds", "0") as (base_url, _, lines):
        assert f"  jobs key:  {GEN2_DEMO_API_KEY}  (the newer jobs generation)" in lines
        whoami = _get(base_url, "/whoami", GEN2_DEMO_API_KEY)
        assert whoami.status_code == 200 and whoami.headers["X-RateLimit-Limit"] == "100"
        assert _get(base_url, "/scenes", GEN2_DEMO_API_KEY).json()["total"] == 2


def test_a_gzm_k1_key_is_an_account_of_the_jobs_generation(tmp_path: Path) -> None:
    key = "gzm_k1_cli_test_account_key"
    with running("--data", str(tmp_path), "--api-key", key, "--gen2-credits", "7") as (
        base_url,
        keys,
        _,
    ):
        assert keys == []  # no alpha key was asked for
        assert _get(base_url, "/whoami", key).json()["user"]["credits"] == 7
        assert _get(base_url, "/whoami", "gzm_k1_some_other_key_here").status_code == 401


def test_without_a_key_one_is_generated_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    with running("--data", str(tmp_path)) as (base_url, keys, _):
        (key,) = keys
        assert key.startswith("gzk_") and len(key) > 30
        assert _get(base_url, "/scenes", key).status_code == 200
    with running("--data", str(tmp_path)) as (base_url, keys, lines):
        assert keys == []  # the existing account is reused, its key is not known any more
        assert any("1 existing" in line for line in lines)
        assert _get(base_url, "/scenes", key).status_code == 200


def test_each_key_is_an_account_of_its_own(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# team keys\ngzk_from_file_key_1  # ci\n\n", encoding="utf-8")
    args = (
        "--data",
        str(tmp_path / "data"),
        "--api-key",
        "gzk_cli_key_one_1",
        "--keys-file",
        str(keys_file),
    )
    with running(*args) as (base_url, keys, lines):
        assert keys == ["gzk_…ey_1", "gzk_…ne_1"]  # given keys are printed masked
        assert not any("gzk_cli_key_one_1" in line or "from_file" in line for line in lines)
        scene = requests.post(
            base_url + "/scenes",
            json={"name": "Private"},
            headers={"Authorization": "Bearer gzk_cli_key_one_1"},
            timeout=10,
        ).json()
        assert _get(base_url, f"/scenes/{scene['id']}", "gzk_from_file_key_1").status_code == 403


def test_keys_from_the_environment_stay_out_of_ps_and_the_banner(tmp_path: Path) -> None:
    env = {"GIZMO_SERVER_API_KEYS": "gzk_env_key_number_1, gzm_k1_env_jobs_key_2"}
    with running("--data", str(tmp_path), env=env) as (base_url, keys, lines):
        assert keys == ["gzk_…er_1"]
        assert "  jobs key:  gzm_k1_…ey_2  (the newer jobs generation)" in lines
        assert any("GIZMO_API_KEY=<your key>" in line for line in lines)
        assert _get(base_url, "/scenes", "gzk_env_key_number_1").status_code == 200
        assert _get(base_url, "/whoami", "gzm_k1_env_jobs_key_2").status_code == 200


def test_a_busy_port_is_one_line_naming_the_way_out() -> None:
    with running("--demo") as (base_url, _, _):
        port = base_url.split(":")[-1].split("/")[0]
        busy = subprocess.run(
            [sys.executable, "-m", "gizmo_server.cli", "--port", port, "--demo"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert busy.returncode == 2
    assert busy.stderr.strip().splitlines() == [
        f"gizmo-server: error: port {port} is in use: is another gizmo-server running? use --port"
    ]


def test_quiet_logs_no_request_and_all_interfaces_warn() -> None:
    with running("--demo", "--quiet", "--host", "0.0.0.0") as (base_url, _, lines):
        assert any("Swagger UI loads from a CDN" in line for line in lines)
        local = base_url.replace("0.0.0.0", "127.0.0.1")
        for _ in range(3):
            assert _get(local, "/scenes", DEMO_API_KEY).status_code == 200
        process = _LAST[0]
    logged = process.stderr.read() if process.stderr else ""
    assert "listening on 0.0.0.0, not loopback" in logged
    assert "GET /v1/scenes" not in logged


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--api-key", "short"], "8 to 256 characters"),
        (["--api-key", "has space in it"], "8 to 256 characters"),
        (["--faults", "explode:0.5"], "KIND one of"),
        (["--faults", "500:2"], "from 0 to 1"),
        (["--rate-limit-writes", "0"], ">= 1"),
        (["--link-ttl", "0"], "> 0"),
        (["--generation-delay", "-1"], ">= 0"),
        (["--keys-file", "/nonexistent/keys.txt"], "--keys-file"),
    ],
)
def test_bad_options_exit_2_saying_what_is_wrong(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert fragment in capsys.readouterr().err
