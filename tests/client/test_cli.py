"""The `gizmo` command line against the real local server: a walk through, exit codes, login."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_AUTH, EXIT_NOT_FOUND, EXIT_USAGE
from gizmo_server.embedded import LocalServer

from .cli_support import run, run_json, use_server


@pytest.fixture
def env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, local_server, tmp_path)


@pytest.mark.usefixtures("env")
def test_walk_through_a_scene(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listed = run_json(capsys, "scenes", "list", "--all")
    assert listed["total"] == len(listed["scenes"])
    assert any(s["name"] == "Warehouse Workcell Alpha" for s in listed["scenes"])
    scene = run_json(capsys, "scenes", "create", "CLI cell", "--description", "from the CLI")
    asset = run_json(capsys, "assets", "generate", "a 5-DOF arm", "--wait", "--timeout", "30")
    assert asset["status"] == "ready"
    placed = run_json(
        capsys,
        "scenes",
        "add-asset",
        scene["id"],
        asset["id"],
        "--position",
        "1",
        "2",
        "0.5",
        "--rpy",
        "10",
        "20",
        "30",
    )
    rotation = placed["assets"][0]["rotation"]
    assert rotation["w"] == pytest.approx(0.9515485, abs=1e-6)
    shown, _ = run(capsys, "scenes", "show", scene["id"])
    assert "CLI cell" in shown and "rpy=(10.0, 20.0, 30.0)" in shown
    out = tmp_path / "cell.usd"
    run(capsys, "scenes", "export", scene["id"], "--format", "usd", "-o", str(out))
    assert out.read_bytes()[:8] == b"PXR-USDC"
    fetched = run_json(capsys, "scenes", "fetch", scene["id"], "--format", "mjcf")
    assert Path(fetched["path"]).suffix == ".xml" and fetched["from_cache"] is False
    assert run_json(capsys, "scenes", "fetch", scene["id"], "--format", "mjcf")["from_cache"]


@pytest.mark.usefixtures("env")
def test_exit_codes_tell_failures_apart(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, err = run(capsys, "scenes", "show", "scn_missing", code=EXIT_NOT_FOUND)
    assert "HTTP 404" in err and "scn_missing" in err
    run(capsys, "--api-key", "gz_bad", "scenes", "list", code=EXIT_AUTH)
    monkeypatch.delenv("GIZMO_API_KEY")
    _, err = run(capsys, "scenes", "list", code=EXIT_AUTH)
    assert "gizmo login" in err
    _, err = run(capsys, "scenes", "export", "scn_x", "--format", "obj", code=EXIT_USAGE)
    assert err.startswith("error: argument --format: unsupported format 'obj'")


@pytest.mark.usefixtures("env")
def test_login_checks_the_key_then_saves_it(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, _ = run(capsys, "login", "--api-key", local_server.api_key)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["api_key"] == local_server.api_key
    assert saved["base_url"] == local_server.base_url
    assert local_server.api_key not in out
    run(capsys, "--api-key", "gz_wrong_key", "login", code=EXIT_AUTH)
    answer = run_json(capsys, "login", "--api-key", local_server.api_key)
    assert answer == {
        "base_url": local_server.base_url,
        "api_generation": "alpha",
        "saved_to": str(tmp_path / "config.json"),
    }
