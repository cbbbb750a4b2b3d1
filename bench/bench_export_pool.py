"""Big exports against other accounts' reads (issue 12, defect 8), against a baseline measured in
the same run.

A `gizmo-server` child process serves two alpha accounts. Account A fires four concurrent
5,000-placement `isaac_sim_usd` exports (four scenes, written through the store beforehand);
account B meanwhile GETs its small scene in a loop. Reported per server setting:
B's p50/p95 latency against B's idle latency (same server, before the exports), the exports'
total time, and the server's peak RSS with its worker processes (sum of VmRSS over the process
tree, sampled from /proc every 20 ms). Settings: `--export-workers 0` (the old behaviour:
renders in the request threads) and the default pool. Targets: with the pool, B's p95 within 2x
of idle, and peak RSS bounded by the workers' exports, not by the number asked.

The jobs generation's planner makes at most 40 objects (`planner.MAX_OBJECTS`), so it cannot
make a big scene: it is not part of this run.

Also measured, for the design's choices: a worker's RSS after a big render before and after
`malloc_trim` (glibc keeps freed heap otherwise), and what moving a 12 MB answer through the
worker's pipe costs against producing it in-process (why the alpha worker writes its blob itself
and answers a hash, while the jobs generation's ZIP, sent as the answer anyway, comes back as
bytes).

Run: .venv/bin/python bench/bench_export_pool.py [--placements 5000] [--exports 4]   (~3 min).
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

from gizmo_server.auth import generate_api_key
from gizmo_server.export_pool import ExportPool
from gizmo_server.service import Service, Settings

A_KEY, B_KEY = generate_api_key(), generate_api_key()


def _seed(data: Path, placements: int, scenes: int) -> tuple[list[str], str]:
    """A's big scenes and B's one-placement scene, written through the store."""
    service = Service(Settings(data_dir=data))
    try:
        ids: dict[str, list[str]] = {}
        for key, count, number in ((A_KEY, placements, scenes), (B_KEY, 1, 1)):
            account = service.accounts.register(key)
            asset = service.store.create_asset(
                account, "Crate", "a cardboard box", [], status="ready",
                export_formats=["isaac_sim_usd"],
            )  # fmt: skip
            ids[key] = []
            for n in range(number):
                scene = service.store.create_scene(account, f"Scene {n}", None)
                for i in range(count):
                    position = (i % 100 * 0.6, i // 100 * 0.6, float(n))
                    service.store.add_placement(scene.id, asset.id, position, (0, 0, 0, 1.0))
                ids[key].append(scene.id)
    finally:
        service.close()
    return ids[A_KEY], ids[B_KEY][0]


def _tree_rss(pid: int) -> int:
    """VmRSS of `pid` and all its descendants, in bytes."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # it just ended
        rss = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
        total += int(rss.split()[1]) * 1024 if rss else 0
        stack += [int(child) for child in children]
    return total


@contextmanager
def _server(data: Path, workers: int) -> Iterator[tuple[int, str]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("gizmo-server")), "--quiet", "--data", str(data)]
    command += ["--port", str(port), "--export-workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/openapi.json", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gizmo-server did not start") from None
                time.sleep(0.05)
        yield process.pid, base
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()  # hung: see --export-workers 0 in docs/server.md
            process.wait()


def _latencies(session: requests.Session, url: str, stop: threading.Event | int) -> list[float]:
    """Seconds per GET, until `stop` is set (or for that many GETs)."""
    seconds: list[float] = []

    def more() -> bool:
        return not stop.is_set() if isinstance(stop, threading.Event) else len(seconds) < stop

    while more():
        started = time.perf_counter()
        answer = session.get(url, timeout=120)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return seconds


def _p(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(share * len(values)))]


def _run(data: Path, workers: int, big: list[str], small: str) -> dict[str, float]:
    with _server(data, workers) as (pid, base):
        a, b = requests.Session(), requests.Session()
        a.headers["Authorization"] = f"Bearer {A_KEY}"
        b.headers["Authorization"] = f"Bearer {B_KEY}"
        url = f"{base}/scenes/{small}"
        _latencies(b, url, 20)  # warm
        # usd-core started by one small export first: concurrent first uses can deadlock it
        # (why the pool renders inline exports one at a time)
        assert b.post(f"{url}/export", json={"format": "isaac_sim_usd"}).status_code == 200
        idle = _latencies(b, url, 200)
        peak, done = _tree_rss(pid), threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.02):
                peak = max(peak, _tree_rss(pid))

        def export(scene: str) -> int:
            body = {"format": "isaac_sim_usd"}
            answer = a.post(f"{base}/scenes/{scene}/export", json=body, timeout=600)
            return answer.status_code

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(len(big) + 1) as pool:
            reads = pool.submit(_latencies, b, url, done)
            statuses = list(pool.map(export, big))
            total = time.perf_counter() - started
            done.set()
            busy = reads.result()
        sampler.join()
        assert statuses == [200] * len(big), statuses
    return {
        "idle p50": statistics.median(idle),
        "idle p95": _p(idle, 0.95),
        "busy p50": statistics.median(busy),
        "busy p95": _p(busy, 0.95),
        "total": total,
        "peak MB": peak / 2**20,
    }


def _trim_effect(placements: int) -> tuple[float, float, float]:
    """A worker-like process's RSS (MB) once imported, after a big USD render, and after
    malloc_trim."""
    script = f"""
import gc
from pathlib import Path
from gizmo_server import exports
from gizmo_server.export_pool import _trim_memory
from gizmo_server.rotation import Quaternion
rss = lambda: int(next(l for l in Path("/proc/self/status").read_text().splitlines()
                      if l.startswith("VmRSS:")).split()[1]) / 1024
exports.render_scene("small", "Small", [], exports.ISAAC_SIM_USD)  # usd-core loaded
start = rss()
inputs = [exports.PlacementInput(f"p{{i}}", "crate", "Crate", "a cardboard box",
          (i * 0.6, 0.0, 0.0), Quaternion.identity()) for i in range({placements})]
data = exports.render_scene("big", "Big", inputs, exports.ISAAC_SIM_USD)
del data, inputs
gc.collect()
before = rss()
_trim_memory()
print(start, before, rss())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    start, before, after = (float(v) for v in out.stdout.split())
    return start, before, after


def _pipe_cost(megabytes: int, rounds: int = 5) -> tuple[float, float, float]:
    """Seconds to make `megabytes` random bytes in-process, through a worker, and a tiny call
    through a worker (best of `rounds`)."""
    pool = ExportPool(workers=1, queue=0, inline_max=-1)  # every call goes to the worker
    try:
        size = megabytes * 2**20
        pool.run(os.urandom, 16, placements=0, textured=False)  # start the worker

        def best(call: Callable[[], object]) -> float:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                call()
                times.append(time.perf_counter() - started)
            return min(times)

        local = best(lambda: os.urandom(size))
        remote = best(lambda: pool.run(os.urandom, size, placements=0, textured=False))
        tiny = best(lambda: pool.run(os.urandom, 16, placements=0, textured=False))
    finally:
        pool.close()
    return local, remote, tiny


def _report(label: str, r: dict[str, float], args: argparse.Namespace) -> dict[str, float]:
    ms = {key: value * 1000 for key, value in r.items()}
    print(f"\n{label}: {args.exports} concurrent {args.placements}-placement USD exports")
    print(f"  B idle GET  p50 {ms['idle p50']:7.1f} ms   p95 {ms['idle p95']:7.1f} ms")
    print(
        f"  B busy GET  p50 {ms['busy p50']:7.1f} ms   p95 {ms['busy p95']:7.1f} ms"
        f"   = {r['busy p95'] / r['idle p95']:.1f}x idle p95"
    )
    print(f"  exports' total {r['total']:.1f} s;  peak RSS with workers {r['peak MB']:.0f} MB")
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placements", type=int, default=5000)
    parser.add_argument("--exports", type=int, default=4)
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[], help="more pool sizes to run (e.g. 2)"
    )
    args = parser.parse_args()
    missed = []
    with tempfile.TemporaryDirectory(prefix="bench-export-pool-") as folder:
        data = Path(folder) / "data"
        started = time.perf_counter()
        big, small = _seed(data, args.placements, args.exports)
        seeding = time.perf_counter() - started
        print(f"seeded {args.exports} x {args.placements} placements in {seeding:.1f} s")
        default = Settings(data_dir=data).export_workers
        runs = {"old: inline (--export-workers 0)": 0, f"pool: --export-workers {default}": default}
        runs |= {f"pool: --export-workers {w}": w for w in args.workers}
        results = [_report(label, _run(data, w, big, small), args) for label, w in runs.items()]
        old, new = results[:2]
        print(
            f"\ndefault pool vs old: B p95 {new['busy p95'] / old['busy p95']:.3f}x, peak RSS "
            f"{new['peak MB'] / old['peak MB']:.2f}x, "
            f"exports' total {new['total'] / old['total']:.2f}x"
        )
        if new["busy p95"] > 2 * new["idle p95"]:
            missed.append("B's p95 within 2x of idle")
    start, before, after = _trim_effect(args.placements)
    print(
        f"\nworker RSS: {start:.0f} MB ready, {before:.0f} MB after a {args.placements}-placement "
        f"render, {after:.0f} MB after malloc_trim (growth kept: "
        f"{(after - start) / (before - start):.2f}x)"
    )
    local, remote, tiny = (seconds * 1000 for seconds in _pipe_cost(12))
    print(
        f"12 MB answer: {local:.1f} ms in-process, {remote:.1f} ms through a worker (a 16-byte "
        f"call: {tiny:.1f} ms): the pipe adds {remote - local - tiny:.1f} ms"
    )
    for miss in missed:
        print(f"MISSED target: {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
