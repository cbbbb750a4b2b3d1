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
   available (e.g. under `xvfb-run`), 50 in-place swaps in our viewer window and (10 swaps:
   it is the "before") in MuJoCo's passive viewer through `Simulate.load`, on a primitive
   scene, the tests' textured fixture and a jobs-generation export with 1024 px textures made
   by the local server, against 50 plain loads of the same file (target: ours at most 2 MB
   per swap). The model's own size (`mj_sizeModel`) is printed beside: what MuJoCo's viewer
   keeps per swap.
4. Steps per second of the live loop (watcher polling in the background, `apply()` every frame)
   against a bare `mj_step` loop on the same model.
5. `bench_mujoco_jobs.py`'s sections at poll 0.2 s: the CPU of watching an unchanged scene,
   change-to-live of edit jobs on textured scenes (1024 px) and of the alpha generation at 10 and
   100 placements, each against poll + 1.2 x plain `from_xml_path` (issue 15's targets).

Run: .venv/bin/python bench/bench_mujoco.py [--only SECTION] [--swaps 50]   (about 8 min;
     under `xvfb-run -a` to include the viewer's memory). Exits 1 if a target is missed.
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
from collections.abc import Callable
from pathlib import Path

import mujoco
import mujoco.viewer
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
from gizmo_server.rotation import Quaternion as rotation_type

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "mujoco"))
from real_scenes import write_real_scene  # the tests' realistic-export writer

PROMPTS = (
    ("Industrial Arm v1", "6-DOF industrial robot arm with a 0.9 m reach"),
    ("Parallel Gripper", "parallel-jaw gripper with two prismatic fingers"),
    ("Shipping Crate", "wooden shipping crate, 0.6 m cube"),
    ("Parts Bin", "blue plastic parts bin"),
    ("Steel Work Table", "steel work table, 1.2 m by 0.8 m"),
)
REAL_PROMPT = "a warehouse with 12 shelves and 80 crates"  # the jobs generation's textured scene
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


def _step_for(watcher: SceneWatcher, clock: RealTime, seconds: float) -> None:
    """Run the live loop (stepping, applying) for `seconds`: the change lands at a random
    moment of the watcher's cycle."""
    until = time.perf_counter() + seconds
    while (frame_start := time.perf_counter()) < until:
        clock.advance()
        watcher.apply()
        clock.sleep_rest_of_frame(frame_start)


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


def _add_one(
    watcher: SceneWatcher,
    clock: RealTime,
    api: GizmoClient,
    scene_id: str,
    asset_ids: list[str],
    index: int,
    rng: random.Random,
    poll: float,
) -> tuple[float, ReloadEvent]:
    """Run the live loop to a random moment of the poll cycle, add placement `index` through the
    API, and wait until the loop runs it: the change-to-live seconds and the reload."""
    _step_for(watcher, clock, rng.uniform(0.0, poll))
    api.scenes.add_asset(scene_id, asset_ids[index % len(asset_ids)], *_pose(index))
    changed_at = time.monotonic()
    event = _wait_live(watcher, clock)
    assert event.ok, event.message()
    return event.applied_at - changed_at, event


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
                    latency, event = _add_one(
                        watcher, clock, api, scene.id, asset_ids, index, rng, poll
                    )
                    latencies.append(latency)
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
        turn = rotation_type(rotation.x, rotation.y, rotation.z, rotation.w)  # the server's own
        placements.append(PlacementInput(f"pla_{index:05d}", asset_id, name, prompt, where, turn))
    rendered = render_scene("scn_bench", f"bench {count}", placements, "mujoco_mjcf")
    path = folder / f"scene_{count}.xml"
    path.write_bytes(rendered.data)
    return path


def bench_load(path: Path, repeat: int) -> tuple[float, float, float, float, float]:
    """load_file, plain load, transfer (pairing known), first transfer to a new model (pairing
    worked out, as on a real reload), and mj_get/setState; seconds, best of `repeat`."""
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
    fresh = iter([mujoco.MjModel.from_xml_path(str(path)) for _ in range(repeat)])

    def first_transfer() -> None:
        new_model = next(fresh)
        transfer_state(model, data, new_model, mujoco.MjData(new_model))

    first = _best(first_transfer, repeat)
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    state = np.empty(mujoco.mj_stateSize(model, spec))

    def by_index() -> None:
        mujoco.mj_getState(model, data, state, spec)
        mujoco.mj_setState(model, target, state, spec)
        mujoco.mj_forward(model, target)

    return ours, base, transfer, first, _best(by_index, repeat)


# 3. Memory --------------------------------------------------------------------------------


def bench_memory(server: LocalServer, reloads: int) -> dict[str, float]:
    """MB per reload: the watcher's reloads, and plain loads of the same files (baseline)."""
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
        out["baseline"] = _plain_loads(paths[1:])
    return out


def _plain_loads(paths: list[Path]) -> float:
    """Baseline: `from_xml_path` + `MjData` per file, only the latest pair kept; MB per load."""
    gc.collect()
    start = _rss_mb()
    kept = None
    for path in paths:
        model = mujoco.MjModel.from_xml_path(str(path))
        kept = (model, mujoco.MjData(model))
    del kept
    gc.collect()
    return (_rss_mb() - start) / len(paths)


def _settled_rss(sync: Callable[[], None]) -> float:
    """The lowest RSS over ten frames: the render thread's transient buffers come and go."""
    samples = []
    for _ in range(10):
        sync()
        time.sleep(0.03)
        samples.append(_rss_mb())
    return min(samples)


def _viewer_swaps(path: Path, swaps: int, ours: bool) -> float:
    """MB per in-place swap: our window, or MuJoCo's passive viewer with its private `load`."""
    from gizmo_mujoco.viewer import PassiveViewer

    model, data = load_file(path)
    swap: Callable[[mujoco.MjModel, mujoco.MjData], None]
    if ours:
        viewer = PassiveViewer(model, data)
        swap, sync, close = viewer.swap, viewer.sync, viewer.close
    else:
        handle = mujoco.viewer.launch_passive(model, data)
        load = handle._sim().load  # the private route MuJoCo offers, measured as is

        def simulate_load(m: mujoco.MjModel, d: mujoco.MjData) -> None:
            load(m, d, "")

        swap, sync, close = simulate_load, handle.sync, handle.close
    try:
        time.sleep(1.0)
        for _ in range(3):  # the first swaps size the allocator's pools
            swap(*load_file(path))
        start = _settled_rss(sync)
        for _ in range(swaps):
            model, data = load_file(path)
            mujoco.mj_step(model, data)
            swap(model, data)
            sync()
        del model, data
        return (_settled_rss(sync) - start) / swaps
    finally:
        close()


def _real_export(server: LocalServer, cache: Path) -> Path:
    """A jobs-generation scene generated and exported by the local server at the default
    texture size (the MJCF ZIP's PNGs: about 10 MB), unpacked; the server is idle afterwards."""
    with server.client(api_key=server.gen2_api_key, cache_dir=cache) as client:
        job = client.jobs.wait(client.scenes.generate(REAL_PROMPT).id, timeout=120)
        assert job.result_scene_id is not None, job
        return client.fetch_scene(job.result_scene_id, "mjcf").path


def bench_viewer_memory(
    scenes: dict[str, Path], swaps: int
) -> list[tuple[str, float, float, float, float]]:
    """Per scene: model size, baseline, our window, MuJoCo's passive viewer; MB (per swap)."""
    rows = []
    for label, path in scenes.items():
        size = mujoco.mj_sizeModel(load_file(path)[0]) / 2**20
        baseline = _plain_loads([path] * swaps)
        ours = _viewer_swaps(path, swaps, ours=True)
        plain = _viewer_swaps(path, max(8, swaps // 5), ours=False)  # the "before": kept short
        rows.append((label, size, baseline, ours, plain))
    return rows


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


def _viewer_memory_table(server: LocalServer, swaps: int) -> bool:
    """Print the viewer rows; returns whether ours stays within 2 MB per swap everywhere."""
    print(f"\n3b. interactive viewer, resident memory per in-place swap ({swaps} swaps)")
    print("| scene | model (mj_sizeModel, MB) | baseline: plain loads (MB) | our window (MB) | "
          "ours - baseline (MB) | MuJoCo passive + Simulate.load, not used (MB) | of which "
          "not its model copy: GL, heap (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        scenes = {
            "primitives, 100 placements": _scene_file(Path(folder), 100),
            "textured fixture, inline meshes": write_real_scene(Path(folder) / "real").path,
            "jobs-generation export, 1024 px textures": _real_export(server, Path(folder) / "c"),
        }
        for label, size, baseline, ours, plain in bench_viewer_memory(scenes, swaps):
            ok = ok and ours <= 2.0
            print(f"| {label} | {size:.2f} | {baseline:.2f} | {ours:.2f} | {ours - baseline:.2f} "
                  f"| {plain:.2f} | {plain - size:.2f} |")  # fmt: skip
    print(f"target: our window <= 2 MB per swap: {'met' if ok else 'MISSED'}")
    return ok


def _latency_section(server: LocalServer, reloads: int, poll: float) -> bool:
    print(f"1. change-to-live reload latency (poll {poll:g} s, {reloads} reloads)")
    print("| placements | bodies | p50 (s) | p95 (s) | max (s) | p95 / poll | fetch+compile "
          "(s) | frame wait + transfer (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    p95_at_100 = math.inf
    for count in (10, 100):
        row = bench_latency(server, count, reloads, poll)
        p95_at_100 = row["p95"]
        print(
            f"| {count} | {row['nbody']:.0f} | {row['p50']:.3f} | {row['p95']:.3f} | "
            f"{row['max']:.3f} | {row['p95'] / poll:.2f} | {row['build']:.3f} | "
            f"{row['poll+apply']:.3f} |"
        )
    ok = p95_at_100 < poll + 0.3
    print(f"target p95 < poll + 0.3 s at 100 placements: {'met' if ok else 'MISSED'}")
    return ok


def _load_section(repeat: int) -> bool:
    print(f"2. load and state transfer (best of {repeat} runs)")
    print("| placements | bodies | load_file (s) | from_xml_path+MjData (s) | ratio | "
          "transfer by name (s) | mj_get/setState (s) | ratio | first transfer to a new "
          "model (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    ratio_at_1000 = math.inf
    with tempfile.TemporaryDirectory() as folder:
        for count in (1, 10, 100, 1000):
            path = _scene_file(Path(folder), count)
            ours, base, transfer, first, by_index = bench_load(path, repeat)
            nbody = mujoco.MjModel.from_xml_path(str(path)).nbody
            ratio_at_1000 = transfer / by_index
            print(
                f"| {count} | {nbody} | {ours:.4f} | {base:.4f} | {ours / base:.2f} | "
                f"{transfer:.5f} | {by_index:.5f} | {transfer / by_index:.1f} | {first:.4f} |"
            )
    ok = ratio_at_1000 <= 10.0
    print(f"target transfer <= 10x mj_get/setState at 1000 placements: {'met' if ok else 'MISSED'}")
    return ok


def _memory_section(server: LocalServer, swaps: int, display: bool) -> bool:
    print("3. resident memory growth per reload, 100 placements, 20 reloads")
    memory = bench_memory(server, 20)
    print("| route | MB per reload |")
    print("|---|---|")
    print(f"| watcher reload (fetch, compile, transfer, swap) | {memory['watcher']:.2f} |")
    print(f"| baseline: plain from_xml_path + MjData, latest kept | {memory['baseline']:.2f} |")
    if not display:
        print("(no display: the passive viewer rows need `xvfb-run -a`)")
        return True
    return _viewer_memory_table(server, swaps)


def _steps_section(server: LocalServer) -> bool:
    print("4. steps per second (2 s each)")
    print("| placements | bare mj_step loop | live loop (watcher polling at 0.1 s) | ratio |")
    print("|---|---|---|---|")
    for count in (8, 100):
        bare, live = bench_steps(server, count, 2.0)
        print(f"| {count} | {bare:,.0f} | {live:,.0f} | {live / bare:.2f} |")
    return True


def _jobs_section(reloads: int) -> bool:
    """bench_mujoco_jobs.py's sections: polling CPU, textured and alpha change-to-live at 0.2 s."""
    import bench_mujoco_jobs  # it imports this module's helpers: loaded only when run

    print("5. bench_mujoco_jobs.py: watching cost and change-to-live at poll 0.2 s")
    return bench_mujoco_jobs.run(10.0, min(reloads, 10))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=12, help="reloads per latency row")
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval (s)")
    parser.add_argument("--repeat", type=int, default=5, help="best-of for load timings")
    parser.add_argument("--swaps", type=int, default=50, help="viewer swaps per memory row")
    parser.add_argument(
        "--only", choices=("latency", "load", "memory", "steps", "jobs"), help="run one section"
    )
    args = parser.parse_args()
    display = display_problem() is None
    print(f"mujoco {mujoco.__version__}, Python {sys.version.split()[0]}, display: {display}")
    with LocalServer(demo=True) as server:
        sections: dict[str, Callable[[], bool]] = {
            "latency": lambda: _latency_section(server, args.reloads, args.poll),
            "load": lambda: _load_section(args.repeat),
            "memory": lambda: _memory_section(server, args.swaps, display),
            "steps": lambda: _steps_section(server),
            "jobs": lambda: _jobs_section(args.reloads),
        }
        verdicts = []
        for name, section in sections.items():
            if args.only in (None, name):
                print()
                verdicts.append(section())
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
