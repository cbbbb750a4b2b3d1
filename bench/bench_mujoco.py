"""MuJoCo plugin benchmarks, each against a baseline measured in the same run.

1. Change-to-live reload latency at 10 and 100 placements: a placement is added through the API
   of a local server at a random moment; timed until the live simulation (stepping at real time,
   60 frames/s, like the viewer loop) runs the new model with the state carried over. Baseline:
   the poll interval itself, the wait any polling design pays; target p95 < poll + 0.3 s at 100.
2. Load time (compile + data) for 1..1000 placements: `gizmo_mujoco.load_file` against plain
   `mujoco.MjModel.from_xml_path` + `MjData` on the same file; and name-based `transfer_state`
   against `mj_getState`/`mj_setState` (index-based, same sizes only) on the same model.
3. Resident memory over 20 reloads of the 100-placement scene: the watcher's reloads against
   20 plain loads of the same files keeping only the latest pair; plus, when a display is
   available (e.g. under `xvfb-run`), the passive viewer's in-place swaps.
4. Steps per second of the live loop (watcher polling in the background, `apply()` every frame)
   against a bare `mj_step` loop on the same model.

Run: .venv/bin/python bench/bench_mujoco.py [--reloads 12] [--poll 1.0]   (about 1 min;
     under `xvfb-run -a` to include the viewer's memory). Exits 1 if the latency target is missed.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mujoco
import numpy as np

import gizmo_mujoco  # noqa: F401  (picks the GL backend before mujoco is imported)
from gizmo_client import GizmoClient
from gizmo_client.models import Quaternion, Scene, Vector3
from gizmo_mujoco.display import display_problem
from gizmo_mujoco.loading import load_file
from gizmo_mujoco.pacing import RealTime
from gizmo_mujoco.sources import SceneSource
from gizmo_mujoco.transfer import transfer_state
from gizmo_mujoco.watcher import ReloadEvent, SceneWatcher
from gizmo_server.embedded import LocalServer
from gizmo_server.exports import PlacementInput, render_scene

PROMPTS = (
    ("Industrial Arm v1", "6-DOF industrial robot arm with a 0.9 m reach"),
    ("Parallel Gripper", "parallel-jaw gripper with two prismatic fingers"),
    ("Shipping Crate", "wooden shipping crate, 0.6 m cube"),
    ("Parts Bin", "blue plastic parts bin"),
    ("Steel Work Table", "steel work table, 1.2 m by 0.8 m"),
)
SPACING = 3.0  # metres between grid cells: no contacts between placements


def _pose(index: int) -> tuple[Vector3, Quaternion]:
    side = 32
    position = Vector3(x=SPACING * (index % side), y=SPACING * (index // side), z=0.0)
    return position, Quaternion.from_euler_degrees(0.0, 0.0, 17.0 + 37.0 * index)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


# 1. Reload latency ------------------------------------------------------------------------


def _api_scene(client: GizmoClient, count: int) -> tuple[Scene, list[str]]:
    assets = {a.name: a.id for a in client.assets.iter_all()}
    ids = [assets[name] for name, _ in PROMPTS if name in assets]
    scene = client.scenes.create(f"bench {count}")
    for index in range(count):
        client.scenes.add_asset(scene.id, ids[index % len(ids)], *_pose(index))
    return client.scenes.get(scene.id), ids


def _wait_live(watcher: SceneWatcher, clock: RealTime, timeout: float = 30.0) -> ReloadEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame_start = time.perf_counter()
        clock.advance()
        event = watcher.apply()
        if event is not None:
            clock.restart()
            return event
        clock.sleep_rest_of_frame(frame_start)
    raise TimeoutError("no reload")


def bench_latency(server: LocalServer, count: int, reloads: int, poll: float) -> dict[str, float]:
    rng = random.Random(count)
    with tempfile.TemporaryDirectory() as cache, server.client(cache_dir=cache) as client:
        scene, asset_ids = _api_scene(client, count)
        with server.client(cache_dir=cache) as api:
            watcher = SceneWatcher(SceneSource(client, scene.id), poll_interval=poll)
            start_bodies = watcher.load()[0].nbody
            clock = RealTime(watcher)
            latencies, builds, applies = [], [], []
            with watcher:
                for index in range(count, count + reloads):
                    until = time.perf_counter() + rng.uniform(0.0, poll)
                    while (frame_start := time.perf_counter()) < until:
                        clock.advance()
                        watcher.apply()
                        clock.sleep_rest_of_frame(frame_start)
                    api.scenes.add_asset(scene.id, asset_ids[index % len(asset_ids)], *_pose(index))
                    changed_at = time.monotonic()
                    event = _wait_live(watcher, clock)
                    assert event.ok, event.message()
                    latencies.append(event.applied_at - changed_at)
                    builds.append(event.build_seconds)
                    applies.append(event.applied_at - event.detected_at - event.build_seconds)
    return {
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "max": max(latencies),
        "build": statistics.median(builds),
        "poll+apply": statistics.median(applies),
        "nbody": float(start_bodies),
    }


# 2. Load and transfer ---------------------------------------------------------------------


def _scene_file(folder: Path, count: int) -> Path:
    placements = []
    for index in range(count):
        name, prompt = PROMPTS[index % len(PROMPTS)]
        position, rotation = _pose(index)
        asset_id = f"ast_{index % len(PROMPTS)}"
        where = position.as_tuple()
        placements.append(
            PlacementInput(f"pla_{index:05d}", asset_id, name, prompt, where, rotation)
        )
    rendered = render_scene("scn_bench", f"bench {count}", placements, "mujoco_mjcf")
    path = folder / f"scene_{count}.xml"
    path.write_bytes(rendered.data)
    return path


def bench_load(path: Path, repeat: int) -> tuple[float, float, float, float]:
    ours = _best(lambda: load_file(path), repeat)
    base = _best(
        lambda: mujoco.MjData(mujoco.MjModel.from_xml_path(str(path))), repeat
    )  # fmt: skip
    model, data = load_file(path)
    data.ctrl[:] = 0.1
    for _ in range(50):
        mujoco.mj_step(model, data)
    target = mujoco.MjData(model)
    transfer = _best(lambda: transfer_state(model, data, model, target), repeat)
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    state = np.empty(mujoco.mj_stateSize(model, spec))

    def by_index() -> None:
        mujoco.mj_getState(model, data, state, spec)
        mujoco.mj_setState(model, target, state, spec)
        mujoco.mj_forward(model, target)

    return ours, base, transfer, _best(by_index, repeat)


# 3. Memory --------------------------------------------------------------------------------


@contextmanager
def _passive_viewer(model: mujoco.MjModel, data: mujoco.MjData) -> Iterator[object]:
    from gizmo_mujoco.viewer import PassiveViewer

    viewer = PassiveViewer(model, data)
    try:
        yield viewer
    finally:
        viewer.close()


def bench_memory(server: LocalServer, reloads: int, with_viewer: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache, server.client(cache_dir=cache) as client:
        scene, asset_ids = _api_scene(client, 100)
        watcher = SceneWatcher(SceneSource(client, scene.id), poll_interval=1.0)
        watcher.load()
        paths = []

        def reload_once(index: int) -> ReloadEvent:
            client.scenes.add_asset(scene.id, asset_ids[index % len(asset_ids)], *_pose(index))
            assert watcher.poll()
            event = watcher.apply()
            assert event is not None and event.ok
            paths.append(client.fetch_scene(scene.id).path)
            return event

        reload_once(100)  # warm up caches and allocators once
        gc.collect()
        start = _rss_mb()
        for index in range(101, 101 + reloads):
            reload_once(index)
        gc.collect()
        out["watcher"] = (_rss_mb() - start) / reloads

        gc.collect()
        start = _rss_mb()
        kept = None
        for path in paths[1:]:
            model = mujoco.MjModel.from_xml_path(str(path))
            kept = (model, mujoco.MjData(model))
        del kept
        gc.collect()
        out["baseline"] = (_rss_mb() - start) / reloads

        if with_viewer:
            with _passive_viewer(watcher.model, watcher.data) as viewer:
                time.sleep(1.0)
                start = _rss_mb()
                for index in range(200, 200 + reloads):
                    reload_once(index)
                    viewer.swap(watcher.model, watcher.data)  # type: ignore[attr-defined]
                    viewer.sync()  # type: ignore[attr-defined]
                gc.collect()
                out["viewer"] = (_rss_mb() - start) / reloads
    return out


# 4. Steps per second ----------------------------------------------------------------------


def bench_steps(server: LocalServer, count: int, seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as cache, server.client(cache_dir=cache) as client:
        scene, _ = _api_scene(client, count)
        watcher = SceneWatcher(SceneSource(client, scene.id), poll_interval=0.1)
        model, data = watcher.load()

        def rate(live: bool) -> float:
            steps, until = 0, time.perf_counter() + seconds
            while time.perf_counter() < until:
                for _ in range(20):
                    mujoco.mj_step(model, data)
                steps += 20
                if live:
                    watcher.apply()
            return steps / seconds

        bare = rate(live=False)
        with watcher:  # polls every 0.1 s meanwhile: ten times the default rate
            live = rate(live=True)
    return bare, live


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=12, help="reloads per latency row")
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval (s)")
    parser.add_argument("--repeat", type=int, default=5, help="best-of for load timings")
    args = parser.parse_args()
    display = display_problem() is None
    print(f"mujoco {mujoco.__version__}, Python {sys.version.split()[0]}, display: {display}\n")
    with LocalServer(demo=True) as server:
        print(f"1. change-to-live reload latency (poll {args.poll:g} s, {args.reloads} reloads)")
        print("| placements | bodies | p50 (s) | p95 (s) | max (s) | p95 / poll | fetch+compile "
              "(s) | frame wait + transfer (s) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for count in (10, 100):
            row = bench_latency(server, count, args.reloads, args.poll)
            p95_at_100 = row["p95"]
            print(
                f"| {count} | {row['nbody']:.0f} | {row['p50']:.3f} | {row['p95']:.3f} | "
                f"{row['max']:.3f} | {row['p95'] / args.poll:.2f} | {row['build']:.3f} | "
                f"{row['poll+apply']:.3f} |"
            )

        verdict = "met" if p95_at_100 < args.poll + 0.3 else "MISSED"
        print(f"target p95 < poll + 0.3 s at 100 placements: {verdict}")

        print("\n2. load and state transfer (best of", args.repeat, "runs)")
        print("| placements | bodies | load_file (s) | from_xml_path+MjData (s) | ratio | "
              "transfer by name (s) | mj_get/setState (s) | ratio |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as folder:
            for count in (1, 10, 100, 1000):
                path = _scene_file(Path(folder), count)
                ours, base, transfer, by_index = bench_load(path, args.repeat)
                nbody = mujoco.MjModel.from_xml_path(str(path)).nbody
                print(
                    f"| {count} | {nbody} | {ours:.4f} | {base:.4f} | {ours / base:.2f} | "
                    f"{transfer:.4f} | {by_index:.5f} | {transfer / by_index:.0f} |"
                )

        print("\n3. resident memory growth per reload, 100 placements, 20 reloads")
        memory = bench_memory(server, 20, with_viewer=display)
        print("| route | MB per reload |")
        print("|---|---|")
        print(f"| watcher reload (fetch, compile, transfer, swap) | {memory['watcher']:.2f} |")
        print(f"| baseline: plain from_xml_path + MjData, latest kept | {memory['baseline']:.2f} |")
        if "viewer" in memory:
            print(f"| watcher + passive viewer in-place swap | {memory['viewer']:.2f} |")

        print("\n4. steps per second (2 s each)")
        print("| placements | bare mj_step loop | live loop (watcher polling at 0.1 s) | ratio |")
        print("|---|---|---|---|")
        for count in (8, 100):
            bare, live = bench_steps(server, count, 2.0)
            print(f"| {count} | {bare:,.0f} | {live:,.0f} | {live / bare:.2f} |")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
