"""MuJoCo helper on jobs-generation scenes: polling cost and change-to-live latency, each against
a baseline measured in the same run.

1. CPU spent watching an unchanged scene, for the client process (`/proc/self/stat`) and for a
   `gizmo-server --demo` child process (`/proc/<pid>/stat`), in % of one core: by GETs the
   server holds until a change (`Prefer: wait`, the watcher's default) and by plain polling
   every 0.2 s. Baseline: the same two processes over the same time with no polling. Target:
   watching adds at most 2 % of a core on each side.
2. Change-to-live latency of edit jobs ("add a crate"), from the moment the job has succeeded
   (a second client sees its terminal event) to the live simulation running the new model,
   polling every 0.2 s, with the job followed by its event stream, and with the watcher's GETs
   held by the server until the scene changes (its default). Scenes: a small warehouse
   (about 10 objects) and a furnished one (24 objects); both exports are textured ZIPs. Baseline:
   poll + 1.2 x plain `from_xml_path` of the same exported files (the target).
3. Change-to-live latency on the alpha generation at 10 and 100 placements, poll 0.2 s, with
   the watcher's long wait (held GETs) and with it off (plain polling): a placement added at a
   random moment, to the live loop stepping the new model. Baseline: poll + 1.2 x plain
   `from_xml_path` of a fresh copy of each revision's export (the target, issue 15).

Run: .venv/bin/python bench/bench_mujoco_jobs.py [--seconds 10] [--reloads 8]   (about 2 min).
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mujoco

import gizmo_mujoco  # noqa: F401  (picks the GL backend before mujoco is imported)
from gizmo_client import GizmoClient
from gizmo_mujoco.pacing import RealTime
from gizmo_mujoco.sources import SceneSource
from gizmo_mujoco.watcher import LONG_WAIT, ReloadEvent, SceneWatcher

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mujoco import (  # the plain bench's helpers
    _add_one,
    _api_scene,
    _percentile,
    _wait_live,
)

POLL = 0.2
DEMO_KEYS = {
    "alpha": "gzk_demo_local_development_key_not_secret",
    "jobs": "gzm_k1_demo_local_development_key_not_secret",
}
ROUTES = (  # label, follow the edit job's events, the watcher's long wait
    ("polling", False, 0.0),
    ("job followed (SSE)", True, 0.0),
    (f"long wait ({LONG_WAIT:g} s held GETs)", False, LONG_WAIT),
)
SCENES = {  # label: the prompt the local server generates it from
    "warehouse, ~10 objects": "a warehouse aisle with shelves, a conveyor and three crates",
    "furnished, 24 objects, textured": "a warehouse with 12 shelves and 80 crates",
}


# 1. Polling CPU -----------------------------------------------------------------------------


def _cpu_seconds(pid: int | str = "self") -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _server_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`gizmo-server --demo` as a child process on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(sys.executable).with_name("gizmo-server")
    process = subprocess.Popen(
        [str(server), "--demo", "--port", str(port), "--gen2-rate-limit", "100000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gizmo-server did not start")
        yield process, f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cpu_share(seconds: float, pid: int, run: Callable[[], None] | None) -> tuple[float, float]:
    """Client and server CPU over `seconds` in % of one core, with `run` going meanwhile."""
    client0, server0, started = _cpu_seconds(), _cpu_seconds(pid), time.monotonic()
    if run is None:
        time.sleep(seconds)
    else:
        run()
    wall = time.monotonic() - started
    client, server = _cpu_seconds() - client0, _cpu_seconds(pid) - server0
    return 100 * client / wall, 100 * server / wall


def bench_polling_cpu(seconds: float) -> list[tuple[str, float, float]]:
    rows = []
    with _server_process() as (process, base_url):
        rows.append(("baseline: idle, no polling", *_cpu_share(seconds, process.pid, None)))
        for generation, key in DEMO_KEYS.items():
            with (
                tempfile.TemporaryDirectory() as cache,
                GizmoClient(api_key=key, base_url=base_url, cache_dir=cache) as client,
            ):
                scene_id = next(client.scenes.iter_all()).id
                for long_wait, how in (
                    (LONG_WAIT, "held GETs"),
                    (0.0, f"polling every {POLL:g} s"),
                ):
                    source = SceneSource(client, scene_id)
                    watcher = SceneWatcher(source, poll_interval=POLL, long_wait=long_wait)
                    watcher.load()

                    def poll_for(watcher: SceneWatcher = watcher) -> None:
                        with watcher:
                            time.sleep(seconds)

                    label = f"{generation} generation, watcher, {how}"
                    rows.append((label, *_cpu_share(seconds, process.pid, poll_for)))
    return rows


# 2. Change-to-live latency ------------------------------------------------------------------


def _plain_compile(path: Path) -> float:
    """`from_xml_path` of a copy of the export's folder at a new path, as any loader of a new
    revision meets it (MuJoCo's asset cache is keyed by path: the same path again is warm)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(shutil.copytree(path.parent, Path(folder) / "export")) / path.name
        started = time.perf_counter()
        mujoco.MjModel.from_xml_path(str(copy))
        return time.perf_counter() - started


def bench_latency(
    server_url: str, prompt: str, reloads: int, follow: bool, long_wait: float
) -> dict[str, float]:
    key = DEMO_KEYS["jobs"]
    with (
        tempfile.TemporaryDirectory() as cache,
        GizmoClient(api_key=key, base_url=server_url, cache_dir=Path(cache) / "watcher") as client,
        GizmoClient(api_key=key, base_url=server_url, cache_dir=Path(cache) / "api") as api,
    ):
        scene_id = api.jobs.wait(api.scenes.generate(prompt).id).result_scene_id
        assert scene_id is not None
        source = SceneSource(client, scene_id)
        watcher = SceneWatcher(source, poll_interval=POLL, long_wait=long_wait)
        watcher.load()
        clock = RealTime(watcher)
        latencies, fetches, compiles, plains = [], [], [], []
        with watcher:
            for _ in range(reloads):
                job = api.scenes.edit(scene_id, "add a crate")
                if follow:
                    watcher.follow_in_background(job.id)
                succeeded: list[float] = []

                def note_success(job_id: str = job.id, into: list[float] = succeeded) -> None:
                    api.jobs.wait(job_id)
                    into.append(time.monotonic())

                waiter = threading.Thread(target=note_success)
                waiter.start()
                event: ReloadEvent = _wait_live(watcher, clock)
                waiter.join()
                assert event.ok, event.message()
                latencies.append(event.applied_at - succeeded[0])
                fetches.append(event.fetch_seconds)
                compiles.append(event.build_seconds - event.fetch_seconds)
                fetched = client.fetch_scene(scene_id, "mjcf")  # the cached file just loaded
                plains.append(_plain_compile(fetched.path))
        objects = len(api.scenes.get(scene_id, include_record=True).assets)
    return {
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "fetch": statistics.median(fetches),
        "compile": statistics.median(compiles),
        "plain": statistics.median(plains),
        "objects": float(objects),
    }


# 3. Alpha generation: the long wait against plain polling ----------------------------------


def bench_alpha_latency(
    server_url: str, count: int, reloads: int, long_wait: float
) -> dict[str, float]:
    rng = random.Random(count)
    key = DEMO_KEYS["alpha"]
    with (
        tempfile.TemporaryDirectory() as cache,
        GizmoClient(api_key=key, base_url=server_url, cache_dir=Path(cache) / "watcher") as client,
        GizmoClient(api_key=key, base_url=server_url, cache_dir=Path(cache) / "api") as api,
    ):
        scene, asset_ids = _api_scene(api, count)
        source = SceneSource(client, scene.id)
        watcher = SceneWatcher(source, poll_interval=POLL, long_wait=long_wait)
        watcher.load()
        clock = RealTime(watcher)
        latencies, builds, plains = [], [], []
        with watcher:
            for index in range(count, count + reloads):
                latency, event = _add_one(
                    watcher, clock, api, scene.id, asset_ids, index, rng, POLL
                )
                latencies.append(latency)
                builds.append(event.build_seconds)
                plains.append(_plain_compile(client.fetch_scene(scene.id, "mjcf").path))
        held = source.holds_waits
    return {
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "build": statistics.median(builds),
        "plain": statistics.median(plains),
        "held": float(held),
    }


def _alpha_section(base_url: str, reloads: int) -> bool:
    print(f"\n3. alpha generation, placement added to live (poll {POLL:g} s, {reloads} reloads)")
    print("| placements | route | p50 (s) | p95 (s) | fetch + compile (s) | plain from_xml_path "
          "(s) | target: poll + 1.2 x plain (s) | p50 / target | p95 / target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    for count in (10, 100):
        for long_wait in (LONG_WAIT, 0.0):
            row = bench_alpha_latency(base_url, count, reloads, long_wait)
            target = POLL + 1.2 * row["plain"]
            ok = ok and (row["p95"] <= target or not long_wait)
            route = f"long wait ({long_wait:g} s)" if long_wait else "plain polling"
            if long_wait and not row["held"]:
                route += ", NOT held by the server"
            print(
                f"| {count} | {route} | {row['p50']:.3f} | {row['p95']:.3f} | "
                f"{row['build']:.3f} | {row['plain']:.4f} | {target:.3f} | "
                f"{row['p50'] / target:.2f} | {row['p95'] / target:.2f} |"
            )
    verdict = "met" if ok else "MISSED"
    print(f"target p95 <= poll + 1.2 x plain from_xml_path, with the long wait: {verdict}")
    print("(plain polling for comparison: its wait for the next poll alone is up to the interval)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per polling-CPU row")
    parser.add_argument("--reloads", type=int, default=8, help="edits per latency row")
    args = parser.parse_args()
    print(f"mujoco {mujoco.__version__}, Python {sys.version.split()[0]}")
    return 0 if run(args.seconds, args.reloads) else 1


def run(seconds: float, reloads: int) -> bool:
    """Every section (also run by `bench_mujoco.py`); True when every target is met."""
    print(f"\n1. CPU watching an unchanged scene ({seconds:g} s per row)")
    print("| route | client (% of a core) | server (% of a core) |")
    print("|---|---|---|")
    rows = bench_polling_cpu(seconds)
    for label, client, server in rows:
        print(f"| {label} | {client:.2f} | {server:.2f} |")
    idle_client, idle_server = rows[0][1], rows[0][2]
    added = [(c - idle_client, s - idle_server) for _, c, s in rows[1:]]
    cpu_ok = all(c <= 2.0 and s <= 2.0 for c, s in added)
    worst = max(max(c, s) for c, s in added)
    print(f"target watching adds <= 2 % of a core each side: {'met' if cpu_ok else 'MISSED'} "
          f"(worst {worst:.2f} %)")  # fmt: skip

    print(f"\n2. jobs generation, edit job to live (poll {POLL:g} s, {reloads} edits per row)")
    print("| scene | objects | route | p50 (s) | p95 (s) | fetch (s) | compile (s) | plain "
          "from_xml_path (s) | target: poll + 1.2 x plain (s) | p95 / target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    latency_ok = True
    with _server_process() as (_, base_url):
        for label, prompt in SCENES.items():
            for route, follow, long_wait in ROUTES:
                row = bench_latency(base_url, prompt, reloads, follow, long_wait)
                target = POLL + 1.2 * row["plain"]
                latency_ok = latency_ok and row["p95"] <= target
                print(
                    f"| {label} | {row['objects']:.0f} | {route} | {row['p50']:.3f} | "
                    f"{row['p95']:.3f} | {row['fetch']:.3f} | {row['compile']:.3f} | "
                    f"{row['plain']:.4f} | {target:.3f} | {row['p95'] / target:.2f} |"
                )
        print(
            f"target p95 <= poll + 1.2 x plain from_xml_path: {'met' if latency_ok else 'MISSED'}"
        )
        alpha_ok = _alpha_section(base_url, reloads)
    return cpu_ok and latency_ok and alpha_ok


if __name__ == "__main__":
    sys.exit(main())
