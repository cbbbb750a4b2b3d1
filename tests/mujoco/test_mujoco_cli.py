"""`gizmo-mujoco` as a user runs it: a child process, a real server, no display unless given."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mujoco_scenes import ARM, CRATE, scene_xml
from PIL import Image
from real_scenes import write_real_scene

from gizmo_client.models import Scene
from gizmo_server.embedded import LocalServer


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [sys.executable, "-m", "gizmo_mujoco.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_clean_failure(result: subprocess.CompletedProcess[str], status: int) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr


def test_viewer_without_a_display_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "scene.xml").write_text(scene_xml([ARM]))
    result = _run("view", "scene.xml", cwd=tmp_path)
    _assert_clean_failure(result, 1)
    assert "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)" in result.stderr
    assert "--headless" in result.stderr and "xvfb-run -a gizmo-mujoco view" in result.stderr


def test_a_missing_scene_file_is_named_with_a_hint_about_the_path(tmp_path: Path) -> None:
    result = _run("view", "missing.xml", "--headless", cwd=tmp_path)
    _assert_clean_failure(result, 1)
    assert "missing.xml: No such file or directory" in result.stderr
    assert "Check the path" in result.stderr and "GIZMO_CACHE_DIR" not in result.stderr


def test_viewer_on_a_display_that_does_not_answer_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "scene.xml").write_text(scene_xml([ARM]))
    result = _run("view", "scene.xml", cwd=tmp_path, env={"DISPLAY": ":31999"})
    _assert_clean_failure(result, 1)
    assert "no window can open on display :31999" in result.stderr


def test_headless_scene_from_the_api_prints_a_summary_and_renders(
    local_server: LocalServer, demo_scene: Scene, tmp_path: Path
) -> None:
    env = {
        "GIZMO_API_KEY": local_server.api_key,
        "GIZMO_BASE_URL": local_server.base_url,
        "GIZMO_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = _run(
        "view", demo_scene.id, "--headless", "--steps", "500", "--render", "thumb.png",
        "--size", "400x300", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"scene 'Warehouse Workcell Alpha' ({demo_scene.id}, 8 placements)" in result.stdout
    assert "8 placements, 26 bodies" in result.stdout
    assert "500 steps = 1.000 s simulated" in result.stdout and "x real time" in result.stdout
    with Image.open(tmp_path / "thumb.png") as image:
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.shape == (300, 400, 3)
    assert pixels.std() > 10, "the thumbnail should show something, not one flat colour"
    assert not list(tmp_path.glob("MUJOCO_LOG.TXT")) and not list(tmp_path.glob(".*partial"))


def test_headless_broken_file_names_the_line_and_exits_1(tmp_path: Path) -> None:
    broken = scene_xml([CRATE]).replace('dir="0 0 -1"', 'dir="0 zero -1"', 1)
    (tmp_path / "scene.xml").write_text(broken)
    result = _run("view", "scene.xml", "--headless", cwd=tmp_path)
    _assert_clean_failure(result, 1)
    assert "scene.xml, line 4, element <light>: bad format in attribute 'dir'" in result.stderr


def test_unknown_scene_is_an_api_error_not_a_crash(
    local_server: LocalServer, tmp_path: Path
) -> None:
    env = {"GIZMO_API_KEY": local_server.api_key, "GIZMO_BASE_URL": local_server.base_url,
           "GIZMO_CACHE_DIR": str(tmp_path)}  # fmt: skip
    result = _run("view", "scn_doesnotexist", "--headless", cwd=tmp_path, env=env)
    _assert_clean_failure(result, 4)  # `gizmo`'s code for "not found"
    assert "HTTP 404" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a scene id, a .xml or .zip file, or --demo"),
        (("scene.xml", "--steps", "5"), "--steps and --render go with --headless"),
        (("scene.xml", "--headless", "--size", "big"), "--size wants WIDTHxHEIGHT"),
        (("scene.xml", "--poll", "0"), "--poll must be a positive number"),
        (("scene.xml", "--headless", "--edit", "add a crate"), "--edit needs a scene id"),
        (("scn_x", "--headless", "--edit", " "), "--edit wants a prompt"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = _run("view", *args, cwd=tmp_path)
    _assert_clean_failure(result, 2)
    assert message in result.stderr


def test_headless_edit_of_a_jobs_scene_reloads_when_the_job_succeeds(
    local_server: LocalServer, warehouse: str, tmp_path: Path
) -> None:
    env = {
        "GIZMO_API_KEY": local_server.gen2_api_key,
        "GIZMO_BASE_URL": local_server.base_url,
        "GIZMO_CACHE_DIR": str(tmp_path / "cache"),
    }
    edit = ("view", warehouse, "--headless", "--steps", "10", "--edit")
    result = _run(*edit, "add a conveyor belt along the north wall", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Editing scene" in result.stdout and "new 1 placement" in result.stdout
    assert "Conveyor_2" in result.stdout and "7 placements" in result.stdout
    failed = _run(*edit, "move the table 1 m east", cwd=tmp_path, env=env)  # no table there
    _assert_clean_failure(failed, 5)  # gizmo's exit code for a failed generation
    assert "no table" in failed.stderr


def test_edit_of_an_alpha_scene_names_the_generation_in_one_line(
    local_server: LocalServer, demo_scene: Scene, tmp_path: Path
) -> None:
    env = {"GIZMO_API_KEY": local_server.api_key, "GIZMO_BASE_URL": local_server.base_url}
    result = _run(
        "view", demo_scene.id, "--headless", "--edit", "add a crate", cwd=tmp_path, env=env
    )
    _assert_clean_failure(result, 2)
    assert "scenes.edit belongs to the jobs API generation" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_headless_demo_reloads_keeps_state_and_leaves_pictures(tmp_path: Path) -> None:
    """The README's first command, exactly: `gizmo-mujoco view --demo` with no display."""
    result = _run("view", "--demo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "No display found: running the headless demo" in out
    assert out.count("  state: t=") == 3 and out.count("kept 8 placements") == 1
    kept = re.findall(r"(-?[\d.]+) rad just before the swap, (-?[\d.]+) after", out)
    assert len(kept) == 3 and all(before == after for before, after in kept), kept
    pictures = sorted(p.name for p in (tmp_path / "gizmo-demo").iterdir())
    assert pictures == [
        "00-start.png", "01-shipping-crate.png", "02-industrial-arm-v1.png", "03-parts-bin.png"
    ]  # fmt: skip
    assert f"4 pictures in {tmp_path / 'gizmo-demo'}/" in out
    assert result.stderr == "", "a clean demo logs no warnings"


def _one_error_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    _assert_clean_failure(result, status)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scene.usda", b"#usda 1.0\n(\n    defaultPrim = \"World\"\n)\n", "it is a USD file"),
        ("thumb.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "it is a PNG image, not an MJCF scene"),
        ("scene.xml", b'<mujoco><worldbody><geom size="1"></worldbody>', "line 1, element <geom>: "
         "malformed XML"),
    ],
)  # fmt: skip
def test_files_mujoco_cannot_load_fail_in_one_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    line = _one_error_line(_run("view", name, "--headless", cwd=tmp_path), 1)
    assert (message in line and "--format mjcf" in line) or "malformed" in line


def test_version_names_both_versions(tmp_path: Path) -> None:
    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert re.fullmatch(r"gizmo-mujoco \d+\.\d+\.\d+ \(mujoco \d+\.\d+\.\d+\)\n", result.stdout)


def test_global_options_after_the_subcommand_and_gizmo_exit_codes(
    local_server: LocalServer, demo_scene: Scene, tmp_path: Path
) -> None:
    env = {"GIZMO_CACHE_DIR": str(tmp_path / "cache"), "GIZMO_API_KEY": "", "GIZMO_BASE_URL": ""}
    connect = ("--api-key", local_server.api_key, "--base-url", local_server.base_url)
    result = _run("view", "-v", demo_scene.id, "--headless", "--steps", "10", *connect,
                  cwd=tmp_path, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "8 placements, 26 bodies" in result.stdout and "INFO gizmo_mujoco" in result.stderr
    bad_key = ("--api-key", "gz_wrong", "--base-url", local_server.base_url)
    _one_error_line(_run("view", demo_scene.id, "--headless", *bad_key, cwd=tmp_path, env=env), 3)
    as_json = _run("view", "scn_doesnotexist", "--headless", "--json", *connect, cwd=tmp_path,
                   env=env)  # fmt: skip
    _assert_clean_failure(as_json, 4)
    error = json.loads(as_json.stderr)["error"]
    assert (error["exit_code"], error["status"]) == (4, 404)


def test_a_real_export_renders_a_thumbnail_from_a_named_keyframe(tmp_path: Path) -> None:
    scene = write_real_scene(tmp_path)
    result = _run("view", scene.path.name, "--headless", "--steps", "0", "--keyframe",
                  "simstudio_home", "--render", "thumb.png", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "thumb.png") as image:
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.std() > 10, "not one flat colour"
    warm = (pixels[..., 0] > pixels[..., 2] + 40).mean()  # the crate texture and cardboard
    assert warm > 0.002, f"the brown objects should show, {warm:.4f} of the pixels are brown"
    line = _one_error_line(
        _run("view", scene.path.name, "--headless", "--keyframe", "home", cwd=tmp_path), 2
    )
    assert "no keyframe 'home'" in line and "simstudio_home, simstudio_reset" in line
