"""Newcomer finding 4: waiting for generation shows time passing, names what to wait for, never
tells a failed asset to wait, and says how to resume after a timeout or Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_INTERRUPTED, EXIT_NETWORK, EXIT_NOT_READY
from gizmo_server.embedded import LocalServer

from .cli_support import GIZMO, run, run_json, subprocess_env, use_server


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LocalServer]:
    with LocalServer(generation_delay=60.0) as server:
        yield server


@pytest.fixture(scope="module")
def failing_server() -> Iterator[LocalServer]:
    with LocalServer(faults="generation_failed:1.0") as server:
        yield server


def test_generate_wait_shows_each_status_once_with_elapsed_time(
    local_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, local_server, tmp_path)
    out, err = run(capsys, "assets", "generate", "a small parts bin", "--wait")
    asset_id = out.split()[0]
    lines = err.strip().splitlines()
    assert all(re.fullmatch(rf"{asset_id}: \w+ \(\d+\.\d s\)", line) for line in lines), lines
    statuses = [line.split()[1] for line in lines]
    assert statuses[-1] == "ready" and len(statuses) == len(set(statuses))


def test_a_timeout_says_generation_goes_on_and_how_to_resume(
    slow_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, slow_server, tmp_path)
    asset = run_json(capsys, "assets", "generate", "a conveyor")
    _, err = run(capsys, "assets", "wait", asset["id"], "--timeout", "0.5", code=EXIT_NETWORK)
    assert "generation goes on on the service" in err
    assert f"Watch it again with `gizmo assets wait {asset['id']}`" in err


def test_ctrl_c_while_waiting_says_how_to_resume(slow_server: LocalServer, tmp_path: Path) -> None:
    env = subprocess_env(slow_server, tmp_path)
    with subprocess.Popen(
        [*GIZMO, "assets", "generate", "a gripper", "--wait"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # "<id>: pending (0.0 s)": it is waiting now
        asset_id = first.split(":")[0]
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == EXIT_INTERRUPTED
    assert asset_id.startswith("ast_")
    assert rest.strip() == (
        f"interrupted: stopped watching; generation of {asset_id} goes on. "
        f"Watch again: gizmo assets wait {asset_id}"
    )


def test_a_failed_asset_is_not_told_to_wait(
    failing_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, failing_server, tmp_path)
    _, err = run(capsys, "assets", "generate", "a shelf", "--wait", code=EXIT_NOT_READY)
    asset_id = re.search(r"ast_\w+", err)
    assert asset_id and "failed to generate" in err
    assert "wait" not in err.lower().replace("--wait", "")
    _, again = run(capsys, "assets", "wait", asset_id.group(), code=EXIT_NOT_READY)
    assert "It will not become ready: generate it again" in again


def _workcell(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    listed = run_json(capsys, "scenes", "list", "--all")["scenes"]
    scene_id = next(s["id"] for s in listed if s["name"] == "Warehouse Workcell Alpha")
    scene: dict[str, object] = run_json(capsys, "scenes", "show", scene_id)
    return scene


def test_fetch_names_the_assets_to_wait_for_and_waits_with_wait(
    local_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, local_server, tmp_path)
    scene = _workcell(capsys)
    local_server.configure_faults("export_not_ready:1.0")
    try:
        _, err = run(capsys, "scenes", "fetch", str(scene["id"]), code=EXIT_NOT_READY)
        _, waited = run(
            capsys,
            "scenes",
            "fetch",
            str(scene["id"]),
            "--wait",
            "--timeout",
            "1.5",
            code=EXIT_NOT_READY,
        )
    finally:
        local_server.configure_faults(None)
    assets = scene["assets"]
    assert isinstance(assets, list)
    first = assets[0]["asset_id"]
    assert f"asset(s) {first}" in err or f", {first}" in err
    assert re.search(r"Wait with `gizmo assets wait ast_\w+`, or fetch with --wait", err)
    assert "is still not ready after 2 s" in waited
    assert f"gizmo scenes fetch {scene['id']} --wait" in waited
    out, _ = run(capsys, "scenes", "fetch", str(scene["id"]), "--wait")
    assert Path(out.strip()).is_file()
