"""`gizmo_client` runs on the Pythons Isaac Sim embeds besides ours: 3.10 (4.5) and 3.12 (6.x).

The test installs the client's dependencies for that Python into a folder under `.venv/` (once)
and drives the real local server from a process of it: list, show, fetch with the cache.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gizmo_server.embedded import LocalServer

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = ["pydantic>=2.6,<3", "requests>=2.31", "platformdirs>=4", "filelock>=3.12"]

SCRIPT = """
import json, sys
from gizmo_client import GizmoClient
from gizmo_client.models import Quaternion
with GizmoClient(cache_dir=sys.argv[1]) as client:
    summary = next(s for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")
    scene = client.scenes.get(summary.id)
    first = client.fetch_scene(scene.id, "isaac_sim_usd")
    again = client.fetch_scene(scene.id, "isaac_sim_usd")
    q = Quaternion.from_euler_degrees(10, 20, 30)
    print(json.dumps({
        "version": sys.version_info[:2],
        "placements": len(scene.assets),
        "magic": first.path.read_bytes()[:8].decode(),
        "cached": again.from_cache,
        "rpy": q.to_euler_degrees(),
    }))
"""


SCRIPT_JOBS = """
import json, sys
from gizmo_client import GizmoClient
with GizmoClient(cache_dir=sys.argv[1]) as client:
    job = client.scenes.generate("A table with two bins")
    events = []
    client.jobs.wait(job.id, on_event=lambda e: events.append(e.type), timeout=120)
    first = client.fetch_scene(job.scene_id, "mjcf")
    again = client.fetch_scene(job.scene_id, "mujoco_mjcf")
    print(json.dumps({
        "version": sys.version_info[:2],
        "generation": client.api_generation.value,
        "events": events[-2:],
        "head": first.path.read_bytes()[:8].decode(),
        "cached": again.from_cache,
    }))
"""


def _python(version: str) -> str:
    """A working interpreter of `version`: installed by pyenv (selected or not), or on PATH."""
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    wanted = tuple(int(part) for part in version.split("."))
    check = f"import sys, ensurepip; assert sys.version_info[:2] == {wanted}"
    for candidate in filter(None, [*map(str, pyenv), shutil.which(f"python{version}")]):
        probe = subprocess.run([candidate, "-c", check], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return candidate
    pytest.skip(f"python{version} is not installed (pyenv install {version})")


def _run(python: str, script: str, key: str, server: LocalServer, tmp_path: Path) -> Any:
    env = {
        "PYTHONPATH": f"{REPO / 'common'}:{_site(python)}",
        "GIZMO_API_KEY": key,
        "GIZMO_BASE_URL": server.base_url,
        "GIZMO_CONFIG": str(tmp_path / "config.json"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [python, "-c", script, str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _site(python: str) -> Path:
    """The client's dependencies for that interpreter, installed once under `.venv/`."""
    version = python.rsplit("python", 1)[-1]
    site = REPO / ".venv" / f"py{version}-site"
    if not (site / "pydantic").is_dir():
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--target", str(site), *REQUIREMENTS],
            check=True,
            timeout=300,
        )
    return site


@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_the_client_works_on_isaac_sims_pythons(
    local_server: LocalServer, tmp_path: Path, version: str
) -> None:
    result = _run(_python(version), SCRIPT, local_server.api_key, local_server, tmp_path)
    assert result["version"] == [int(v) for v in version.split(".")]
    assert result["placements"] == 8 and result["magic"] == "PXR-USDC" and result["cached"]
    assert result["rpy"] == pytest.approx([10, 20, 30])


@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_the_jobs_generation_works_on_isaac_sims_pythons(
    local_server: LocalServer, tmp_path: Path, version: str
) -> None:
    result = _run(_python(version), SCRIPT_JOBS, local_server.gen2_api_key, local_server, tmp_path)
    assert result["version"] == [int(v) for v in version.split(".")]
    assert result["generation"] == "jobs" and result["events"] == ["job_succeeded", "done"]
    assert result["head"].startswith("<") and result["cached"]
