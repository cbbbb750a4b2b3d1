"""`gizmo loadtest --ray` on a real Ray cluster on 127.0.0.1 (a head and two nodes, one CPU each,
no dashboard): every scene reported once with the node that checked it; a node killed mid-run
costs only a retry of its in-flight scene; Ctrl-C exits 130; `--ray local` runs its own
instance. Skipped where Ray (the `distributed` extra) is missing."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gizmo_client import GizmoClient
from gizmo_server.embedded import LocalServer

if importlib.util.find_spec("ray") is None:
    pytest.skip("Ray is not installed (the 'distributed' extra)", allow_module_level=True)

# Ray maps 127.0.0.1 to the host's outward address for a multi-node cluster unless multi-node
# support "off" makes it keep loopback (the nodes here are processes of this machine). Ray reads
# it when first imported, so it is imported only once this is set.
# The driver holds a worker's lease for 0.5 s by default, then hands it back and asks again;
# held for the run, every node keeps a scene in flight, so the node killed below has one.
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_worker_lease_timeout_milliseconds": "120000",
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    cluster_utils = importlib.import_module("ray.cluster_utils")
    cluster = cluster_utils.Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    try:
        for _ in range(2):  # nodes there from the start take scenes all through a run
            cluster.add_node(num_cpus=1)
        yield cluster
    finally:
        cluster.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def scene_ids(local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The demo account's scenes plus 20 generated ones (3 demo placements each, moved)."""
    cache = tmp_path_factory.mktemp("ray-scenes-cache")
    with GizmoClient(local_server.api_key, local_server.base_url, cache_dir=cache) as client:
        demo = [s.id for s in client.scenes.iter_all() if not s.name.startswith("ray copy")][:3]
        placements = client.scenes.get(demo[0]).assets[:3]
        ids = list(demo)
        for i in range(20):
            scene = client.scenes.create(f"ray copy {i}")
            for p in placements:
                position = p.position.model_copy(update={"x": p.position.x + 0.1 * i})
                client.scenes.add_asset(scene.id, p.asset_id, position, p.rotation)
            ids.append(scene.id)
    return ids


def _loadtest(
    cluster: Any, server: LocalServer, ids: list[str], artifacts: Path, *extra: str
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")} | RAY_ENV
    env |= {"GIZMO_API_KEY": server.api_key, "GIZMO_CONFIG": str(artifacts / "none.json")}
    scenes = [arg for scene_id in ids for arg in ("--scene", scene_id)]
    gizmo = Path(sys.executable).with_name("gizmo")
    argv = [str(gizmo), "loadtest", "--base-url", server.base_url, "--ray", cluster.address]
    return subprocess.Popen(
        [*argv, *scenes, "--steps", "50", "--artifacts", str(artifacts), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _descendants(pid: int) -> list[int]:
    """Every process under `pid` (from /proc: the nodes here are processes of this machine)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def _kill_node(cluster: Any, node: Any) -> None:
    """As when a machine dies: its worker processes go with its raylet, mid-task. (Removing the
    node alone kills the raylet, and a worker finishes its task and answers regardless.)"""
    raylet = node.all_processes["raylet"][0].process.pid
    for pid in _descendants(raylet):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    cluster.remove_node(node, allow_graceful=False)


def _report(artifacts: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((artifacts / "report.json").read_text())
    return report


def test_every_scene_is_reported_once_with_the_node_that_checked_it(
    cluster: Any, local_server: LocalServer, scene_ids: list[str], tmp_path: Path
) -> None:
    done = _loadtest(cluster, local_server, scene_ids, tmp_path)
    stdout, stderr = done.communicate(timeout=180)
    assert done.returncode == 0, stdout + stderr
    assert f"{len(scene_ids)} scene(s), {3 * len(scene_ids)} case(s)" in stdout
    report = _report(tmp_path)
    assert [s["id"] for s in report["scenes"]] == scene_ids
    nodes = {cluster.head_node.node_id} | {n.node_id for n in cluster.worker_nodes}
    used = {s["node"] for s in report["scenes"]}
    assert used <= nodes and len(used) >= 2, "the scenes are spread over the nodes"
    assert report["workers"] == 3 and report["settings"]["engine"].startswith("ray 127.0.0.1:")
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(scene_ids) and all(" on node " in line for line in progress)
    # thumbnails rendered on the nodes came back to this machine's artifacts
    html = (tmp_path / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2 * len(scene_ids)  # MJCF and USD
    # the console table and the HTML page name the node of each scene too
    header = next(line for line in stdout.splitlines() if line.startswith("SCENE"))
    assert header.split()[-1] == "NODE"
    for scene in report["scenes"]:
        row = next(line for line in stdout.splitlines() if line.startswith(scene["id"]))
        assert row.split()[-1] == scene["node"][:12]
    assert all(html.count(f'title="{node}"') > 0 for node in used)
    assert local_server.api_key not in stdout + stderr


def test_a_node_killed_mid_run_costs_only_a_retry_of_its_scene(
    cluster: Any, local_server: LocalServer, scene_ids: list[str], tmp_path: Path
) -> None:
    doomed = next(iter(cluster.worker_nodes))
    run = _loadtest(
        cluster, local_server, scene_ids, tmp_path, "--steps", "1000", "--no-thumbnails"
    )
    assert run.stderr is not None
    lines = []
    for line in run.stderr:
        lines.append(line)
        if f" on node {doomed.node_id})" in line:  # it has a warm worker and keeps taking scenes
            _kill_node(cluster, doomed)
            break
    _, rest = run.communicate(timeout=180)
    stderr = "".join(lines) + rest
    assert run.returncode in (0, 1), stderr
    report = _report(tmp_path)
    assert [s["id"] for s in report["scenes"]] == scene_ids, "every scene reported once"
    retried = []
    for scene in report["scenes"]:
        notes = [n for r in scene["results"].values() for n in r["notes"]]
        findings = [f for r in scene["results"].values() for f in r["findings"]]
        if any("checked again after" in n for n in notes):
            retried.append(scene)
            assert any("Died" in n or "died" in n or "Crashed" in n for n in notes), notes
            assert scene["node"] != doomed.node_id
        if not scene["passed"]:  # lost twice: failed with the cause, never silently
            assert findings and all(f["check"] == "crash" for f in findings), findings
    assert retried, f"doomed {doomed.node_id}:\n{stderr}"


def test_ctrl_c_cancels_the_outstanding_tasks_and_exits_130(
    cluster: Any, local_server: LocalServer, scene_ids: list[str], tmp_path: Path
) -> None:
    run = _loadtest(cluster, local_server, scene_ids, tmp_path, "--steps", "1000")
    assert run.stderr is not None
    for line in run.stderr:
        if line.startswith("[1/"):
            run.send_signal(signal.SIGINT)
            break
    _, rest = run.communicate(timeout=60)
    assert run.returncode == 130, rest
    assert rest.strip().splitlines()[-1] == "interrupted", rest
    assert "Traceback" not in rest
    report = _report(tmp_path)  # the scenes finished by then, marked partial
    assert report["partial"] is True and len(report["scenes"]) < len(scene_ids)


def test_ray_local_starts_its_own_instance_for_the_run(
    local_server: LocalServer, scene_ids: list[str], tmp_path: Path
) -> None:
    """`--ray local --workers 2`: a Ray instance on 127.0.0.1 with 2 CPUs, started and shut down
    by the run itself (Ray's loopback rewrite is not switched off here: the CLI needs no help)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIZMO_", "RAY_"))}
    env |= {"GIZMO_API_KEY": local_server.api_key, "GIZMO_CONFIG": str(tmp_path / "none.json")}
    gizmo = Path(sys.executable).with_name("gizmo")
    argv = [str(gizmo), "loadtest", "--base-url", local_server.base_url, "--ray", "local"]
    scenes = [arg for scene_id in scene_ids[:3] for arg in ("--scene", scene_id)]
    done = subprocess.run(
        [*argv, "--workers", "2", *scenes, "--steps", "50", "--no-thumbnails"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = _report(tmp_path / "artifacts" / "loadtest")
    assert [s["id"] for s in report["scenes"]] == scene_ids[:3]
    assert report["workers"] == 2 and report["settings"]["engine"] == "ray local (1 node(s))"
    assert len({s["node"] for s in report["scenes"]}) == 1
