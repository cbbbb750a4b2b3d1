"""The pytest plugin in real pytest subprocesses: inert by default; enabled, one case per scene and
format in JUnit XML, `-k` selects, failures carry their findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from gizmo_server.embedded import LocalServer


def _pytest(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env=base | {"GIZMO_CONFIG": str(tmp_path / "none.json")} | (env or {}),
        capture_output=True,
        text=True,
        timeout=240,
    )
    return f"exit={done.returncode}\n{done.stdout}{done.stderr}"


def _cases(junit: Path) -> dict[str, ET.Element]:
    root = ET.parse(junit).getroot()
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


def test_plugin_is_inert_without_its_option(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    out = _pytest(tmp_path, "-q")
    assert out.startswith("exit=0") and "1 passed" in out
    assert "gizmo loadtest" not in out
    assert not (tmp_path / "artifacts").exists()


def test_plugin_collects_one_case_per_scene_and_format_and_honours_k(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_not_collected():\n    assert False\n")
    junit = tmp_path / "junit.xml"
    out = _pytest(
        tmp_path,
        "--gizmo-loadtest",
        "--gizmo-loadtest-no-thumbnails",
        f"--gizmo-loadtest-artifacts={tmp_path / 'art'}",
        f"--junitxml={junit}",
        "-k",
        "Beta or Mobile",
    )
    assert out.startswith("exit=0"), out
    assert "6 passed, 3 deselected" in out
    cases = _cases(junit)
    assert len(cases) == 6
    assert {name.split("::")[1] for name in cases} == {
        "mujoco_mjcf",
        "isaac_sim_usd",
        "cross_format",
    }
    assert all(name.startswith("gizmo-loadtest.scn_") for name in cases)
    report = json.loads((tmp_path / "art" / "report.json").read_text())
    assert sorted(s["name"] for s in report["scenes"]) == [
        "Mobile Inspection Cell",
        "Pick Station Beta",
    ]


def test_plugin_failures_carry_the_findings(tmp_path: Path) -> None:
    """A hosted account whose exports are refused: both formats fail saying why, the cross-format
    case is skipped (there is nothing to compare)."""
    with LocalServer(demo=True, faults="export_not_ready:1.0") as server:
        junit = tmp_path / "junit.xml"
        out = _pytest(
            tmp_path,
            "--gizmo-loadtest",
            "--gizmo-loadtest-hosted",
            "--gizmo-loadtest-match=alpha",
            f"--gizmo-loadtest-artifacts={tmp_path / 'art'}",
            f"--junitxml={junit}",
            env={"GIZMO_API_KEY": server.api_key, "GIZMO_BASE_URL": server.base_url},
        )
    assert out.startswith("exit=1"), out
    assert "2 failed, 1 skipped" in out
    cases = {name.split("::")[1]: case for name, case in _cases(junit).items()}
    assert cases["cross_format"].find("skipped") is not None
    for fmt in ("mujoco_mjcf", "isaac_sim_usd"):
        failure = cases[fmt].find("failure")
        assert failure is not None
        assert "Warehouse Workcell Alpha" in (failure.text or "")
        assert "fetch: export or download failed" in (failure.text or "")
    assert server.api_key not in out


def test_plugin_under_xdist_runs_every_case_once_with_one_server(tmp_path: Path) -> None:
    """`pytest -n 2`: the controller's one demo server serves both workers, so they collect the
    same cases; each case runs once, a scene's cases stay on one worker, one report is written."""
    junit = tmp_path / "junit.xml"
    out = _pytest(
        tmp_path,
        "-n",
        "2",
        "-rA",
        "--gizmo-loadtest",
        "--gizmo-loadtest-no-thumbnails",
        "--gizmo-loadtest-steps=50",
        f"--gizmo-loadtest-artifacts={tmp_path / 'art'}",
        f"--junitxml={junit}",
    )
    assert out.startswith("exit=0"), out
    assert "9 passed" in out
    passed = [line.split()[1] for line in out.splitlines() if line.startswith("PASSED ")]
    assert len(passed) == 9 and len(set(passed)) == 9, passed
    cases = _cases(junit)
    assert len(cases) == 9
    report = json.loads((tmp_path / "art" / "report.json").read_text())
    assert sorted(s["name"] for s in report["scenes"]) == [
        "Mobile Inspection Cell",
        "Pick Station Beta",
        "Warehouse Workcell Alpha",
    ]
    # each scene checked once, by the worker that ran its cases (loadscope keeps them together)
    assert {s["id"] for s in report["scenes"]} == {n.split("/")[1].split("::")[0] for n in passed}
    assert {s["node"] for s in report["scenes"]} <= {"gw0", "gw1"}
    assert report["workers"] == 2 and report["passed"] is True
    assert "gizmo loadtest" in out and "3 scene(s), 9 case(s): 9 passed" in out


def test_plugin_refuses_xdist_with_its_own_workers(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--gizmo-loadtest", "-n", "2", "--gizmo-loadtest-workers", "2")
    assert not out.startswith("exit=0")
    assert "give either pytest-xdist's -n or --gizmo-loadtest-workers" in out
