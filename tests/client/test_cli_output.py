"""Newcomer findings 2 and 5: stdout holds the result only, exports land where asked (a ZIP is
never saved under a `.usd` name), and what is printed is consistent and free of secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_NETWORK, EXIT_USAGE
from gizmo_client.models import Quaternion
from gizmo_server.embedded import LocalServer

from .cli_support import gizmo, run, run_json, stderr_on_a_tty, subprocess_env, use_server

WORKCELL = "Warehouse Workcell Alpha"


@pytest.fixture(scope="module")
def zip_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, zip_exports=True) as server:
        yield server


def _scene_id(capsys: pytest.CaptureFixture[str], name: str = WORKCELL) -> str:
    listed = run_json(capsys, "scenes", "list", "--all")
    return str(next(s["id"] for s in listed["scenes"] if s["name"] == name))


def test_fetch_prints_the_bare_path_and_notes_on_stderr(
    local_server: LocalServer, tmp_path: Path
) -> None:
    env = subprocess_env(local_server, tmp_path)
    listed = gizmo("--json", "scenes", "list", env=env)
    scene_id = next(s["id"] for s in json.loads(listed.stdout)["scenes"])
    first = gizmo("scenes", "fetch", scene_id, "--format", "mjcf", env=env)
    assert first.returncode == 0, first.stderr
    path = Path(first.stdout.removesuffix("\n"))  # what $(gizmo scenes fetch ...) captures
    assert path.is_file() and path.suffix == ".xml" and "\n" not in first.stdout.strip()
    assert first.stderr.strip() == "exported and cached"
    again = gizmo("scenes", "fetch", scene_id, "--format", "mjcf", env=env)
    assert again.stdout == first.stdout
    assert again.stderr.strip() == "from the cache (placements unchanged)"


def test_a_cache_hit_on_a_terminal_shows_no_progress_bar(
    local_server: LocalServer, tmp_path: Path
) -> None:
    env = subprocess_env(local_server, tmp_path)
    listed = json.loads(gizmo("--json", "scenes", "list", env=env).stdout)
    scene_id = next(s["id"] for s in listed["scenes"] if s["name"] == WORKCELL)
    first = stderr_on_a_tty("scenes", "fetch", scene_id, env=env)
    assert f"fetch {scene_id}: 100%" in first and first.rstrip().endswith("exported and cached")
    hit = stderr_on_a_tty("scenes", "fetch", scene_id, env=env)
    assert hit.strip() == "from the cache (placements unchanged)"


@pytest.mark.usefixtures("env")
def test_fetch_out_copies_the_export_out_of_the_cache(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scene_id = _scene_id(capsys)
    out, _ = run(capsys, "scenes", "fetch", scene_id, "--format", "usd", "-o", str(tmp_path / "o"))
    assert Path(out.strip()) == tmp_path / "o" / "scene.usd"
    assert (tmp_path / "o" / "scene.usd").read_bytes()[:8] == b"PXR-USDC"


@pytest.fixture
def env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, local_server, tmp_path)


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.mark.usefixtures("env")
def test_export_prints_one_line_and_times_in_one_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene_id = _scene_id(capsys)
    out, err = run(capsys, "scenes", "export", scene_id, "--format", "mjcf", "--link")
    assert len(out.splitlines()) == 1 and out.startswith("http://127.0.0.1:")
    assert _STAMP.search(err), err
    listed, _ = run(capsys, "scenes", "list")
    stamps = re.findall(r"\d{4}-\d\d-\d\d\S*", listed)
    assert stamps and all(_STAMP.fullmatch(s) for s in stamps)


def test_a_zip_export_is_never_saved_under_a_scene_file_name(
    zip_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, zip_server, tmp_path)
    scene_id = _scene_id(capsys)
    out, err = run(
        capsys, "scenes", "export", scene_id, "--format", "usd", "-o", f"{tmp_path}/x.usd"
    )
    primary = Path(out.strip())
    assert not (tmp_path / "x.usd").exists()
    assert primary.parent == tmp_path / "x" and primary.read_bytes()[:8] == b"PXR-USDC"
    assert "ZIP archive" in err and f"{tmp_path}/x/" in err
    _, err = run(
        capsys,
        "scenes",
        "export",
        scene_id,
        "--format",
        "usd",
        "-o",
        f"{tmp_path}/x.usd",
        code=EXIT_USAGE,
    )
    assert "exists and is not empty" in err and primary.is_file()  # refused, nothing lost
    kept, _ = run(
        capsys, "scenes", "export", scene_id, "--format", "usd", "-o", f"{tmp_path}/k.zip"
    )
    assert (tmp_path / "k.zip").read_bytes()[:4] == b"PK\x03\x04" and kept.strip().endswith("k.zip")
    fetched, _ = run(capsys, "scenes", "fetch", scene_id, "-o", str(tmp_path / "f"))
    assert Path(fetched.strip()).suffix == ".xml" and Path(fetched.strip()).is_file()
    assert Path(fetched.strip()).parent == tmp_path / "f"
    assert [p.name for p in (tmp_path).glob(".gizmo-*")] == []  # nothing half-written left


@pytest.mark.usefixtures("env")
def test_empty_match_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    out, err = run(capsys, "scenes", "list", "--match", "no such scene anywhere")
    assert out == ""
    assert "no scene name contains 'no such scene anywhere'" in err


@pytest.mark.usefixtures("env")
def test_a_non_unit_rotation_is_normalised_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene = run_json(capsys, "scenes", "create", "normalise")
    asset = next(a for a in run_json(capsys, "assets", "list")["assets"] if a["status"] == "ready")
    capsys.readouterr()
    placed = run_json(
        capsys, "scenes", "add-asset", scene["id"], asset["id"], "--rotation", "0", "0", "1", "1"
    )
    rotation = Quaternion.model_validate(placed["assets"][0]["rotation"])
    assert rotation.to_xyzw() == pytest.approx((0, 0, 2**-0.5, 2**-0.5))
    _, err = run(
        capsys, "scenes", "add-asset", scene["id"], asset["id"], "--rotation", "0", "0", "2", "2"
    )
    assert "normalised to 0 0 0.707107 0.707107" in err and "norm 2.82843" in err


@pytest.mark.usefixtures("env")
def test_show_names_each_thing_once(capsys: pytest.CaptureFixture[str]) -> None:
    scene_id = _scene_id(capsys)
    out, _ = run(capsys, "scenes", "show", scene_id)
    header = out.splitlines()[0]
    assert header == f"{WORKCELL}  [{scene_id}]"
    asset = run_json(capsys, "assets", "list")["assets"][0]
    shown, _ = run(capsys, "assets", "show", asset["id"])
    assert shown.splitlines()[0].split()[:2] == [asset["id"], asset["status"]]
    assert shown.count(asset["name"]) == 1


def test_verbose_shows_the_clients_log_without_floods_or_secrets(
    local_server: LocalServer, tmp_path: Path
) -> None:
    env = subprocess_env(local_server, tmp_path)
    listed = json.loads(gizmo("--json", "scenes", "list", env=env).stdout)
    scene_id = next(s["id"] for s in listed["scenes"] if s["name"] == WORKCELL)
    local_server.configure_faults("truncate_download:1.0")
    try:
        done = gizmo("-v", "scenes", "fetch", scene_id, env=env)
    finally:
        local_server.configure_faults(None)
    assert done.returncode == EXIT_NETWORK, done.stderr
    assert "DEBUG gizmo_client: GET /scenes/" in done.stderr
    assert "urllib3" not in done.stderr and "filelock" not in done.stderr
    assert "download /v1/downloads/*** failed" in done.stderr  # each retry, redacted
    assert done.stderr.splitlines()[-1].startswith("error: download /v1/downloads/*** broke off")
    assert "signature=" not in done.stderr.replace("signature=***", "")
    assert not re.search(r"/downloads/(?!\*\*\*)", done.stderr)


@pytest.mark.usefixtures("env")
def test_export_without_out_saves_here_and_prints_no_link(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    scene_id = _scene_id(capsys)
    out, err = run(capsys, "scenes", "export", scene_id, "--format", "usd")
    assert out == f"{scene_id}.usd\n" and (tmp_path / f"{scene_id}.usd").is_file()
    assert "signature=" not in out + err and "/downloads/" not in out + err
    _, err = run(
        capsys,
        "scenes",
        "export",
        scene_id,
        "--format",
        "usd",
        "-o",
        "x",
        "--link",
        code=EXIT_USAGE,
    )
    assert "not allowed with argument" in err
