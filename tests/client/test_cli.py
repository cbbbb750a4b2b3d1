"""The `gizmo` command line against the real local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_AUTH, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, main
from gizmo_server.embedded import LocalServer


@pytest.fixture
def env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIZMO_API_KEY", local_server.api_key)
    monkeypatch.setenv("GIZMO_BASE_URL", local_server.base_url)
    monkeypatch.setenv("GIZMO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GIZMO_CONFIG", str(tmp_path / "config.json"))


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert main(["--json", *argv]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("env")
def test_walk_through_a_scene(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenes = _json(capsys, "scenes", "list", "--all")
    assert isinstance(scenes, list) and any(s["name"] == "Warehouse Workcell Alpha" for s in scenes)
    scene = _json(capsys, "scenes", "create", "CLI cell", "--description", "from the CLI")
    assert isinstance(scene, dict)
    asset = _json(capsys, "assets", "generate", "a 5-DOF arm", "--wait", "--timeout", "30")
    assert isinstance(asset, dict) and asset["status"] == "ready"
    placed = _json(
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
    assert isinstance(placed, dict)
    rotation = placed["assets"][0]["rotation"]
    assert rotation["w"] == pytest.approx(0.9515485, abs=1e-6)
    assert main(["scenes", "show", scene["id"]]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "CLI cell" in shown and "rpy=(10.0, 20.0, 30.0)" in shown
    out = tmp_path / "cell.usd"
    assert main(["scenes", "export", scene["id"], "--format", "usd", "-o", str(out)]) == EXIT_OK
    assert out.read_bytes()[:8] == b"PXR-USDC"
    fetched = _json(capsys, "scenes", "fetch", scene["id"], "--format", "mjcf")
    assert isinstance(fetched, dict) and Path(fetched["path"]).suffix == ".xml"
    assert _json(capsys, "scenes", "fetch", scene["id"], "--format", "mjcf")["from_cache"] is True


@pytest.mark.usefixtures("env")
def test_exit_codes_tell_failures_apart(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["scenes", "show", "scn_missing"]) == EXIT_NOT_FOUND
    assert "HTTP 404" in capsys.readouterr().err
    assert main(["--api-key", "gz_bad", "scenes", "list"]) == EXIT_AUTH
    monkeypatch.delenv("GIZMO_API_KEY")
    assert main(["scenes", "list"]) == EXIT_AUTH
    assert "gizmo login" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["scenes", "export", "scn_x", "--format", "obj"])
    assert usage.value.code == EXIT_USAGE


@pytest.mark.usefixtures("env")
def test_login_checks_the_key_then_saves_it(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--api-key", local_server.api_key, "login"]) == EXIT_OK
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["api_key"] == local_server.api_key
    assert local_server.api_key not in capsys.readouterr().out
    assert main(["--api-key", "gz_wrong_key", "login"]) == EXIT_AUTH
