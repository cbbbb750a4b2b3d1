"""Client overhead against plain `requests` doing the same HTTP calls, in the same run.

1. `fetch_scene` of a 50 MB export (GET scene, POST export, GET download) against a baseline of
   three bare `requests` calls that write the body to disk. The export is served by a minimal
   stand-in of the three endpoints on loopback, because the local server's real exports are far
   smaller than 50 MB; what is measured is the client's own cost (streaming, hashing, verifying,
   atomic rename, cache bookkeeping). Target: ratio at most 1.10.
2. `scenes.iter_all()` over 5,000 scenes on the real local server against a plain loop of
   `requests.get` pages. Target: ratio close to 1 (the client adds model validation).

Run: .venv/bin/python bench/bench_client.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from gizmo_client import GizmoClient
from gizmo_server.embedded import LocalServer

SIZE = 50 * 1024 * 1024
KEY = "gz_bench_key_000000000001"


def _stand_in(blob: bytes) -> ThreadingHTTPServer:
    digest = hashlib.sha256(blob).hexdigest()
    scene = {"id": "scn_bench", "name": "bench", "description": None, "assets": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/v1/downloads/"):
                self._send(blob, "application/octet-stream")
            else:
                self._send(json.dumps(scene).encode(), "application/json")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            link = {
                "download_url": f"{host}/v1/downloads/blob",
                "expires_at": "2099-01-01T00:00:00Z",
                "size_bytes": len(blob),
                "sha256": digest,
                "filename": "scene.xml",
            }
            self._send(json.dumps(link).encode(), "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_fetch(repeat: int) -> tuple[float, float]:
    """Both sides write a new 50 MB file per run (removed untimed before the next run), and the
    runs alternate, so page-cache and disk state are the same for both."""
    server = _stand_in(os.urandom(SIZE))
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    headers = {"Authorization": f"Bearer {KEY}"}
    session = requests.Session()
    times: dict[str, list[float]] = {"plain": [], "ours": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"

        def plain() -> None:
            session.get(f"{base}/scenes/scn_bench", headers=headers).json()
            link = session.post(
                f"{base}/scenes/scn_bench/export", json={"format": "mujoco_mjcf"}, headers=headers
            ).json()
            out.mkdir()
            with session.get(link["download_url"], stream=True) as r:
                with open(out / "scene.xml", "wb") as f:
                    for chunk in r.iter_content(1024 * 1024):
                        f.write(chunk)

        def ours() -> None:
            with GizmoClient(api_key=KEY, base_url=base, cache_dir=out) as client:
                client.fetch_scene("scn_bench")

        for run in range(repeat + 1):  # the first round warms up both paths
            for name, fn in (("plain", plain), ("ours", ours)):
                shutil.rmtree(out, ignore_errors=True)
                start = time.perf_counter()
                fn()
                if run:
                    times[name].append(time.perf_counter() - start)
    server.shutdown()
    return statistics.median(times["plain"]), statistics.median(times["ours"])


def bench_iter_all(repeat: int, count: int = 5000) -> tuple[float, float]:
    with LocalServer(demo=False, api_keys=(KEY,)) as server:
        with GizmoClient(api_key=KEY, base_url=server.base_url) as client:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda i: client.scenes.create(f"bench {i}"), range(count)))
            session = requests.Session()
            headers = {"Authorization": f"Bearer {KEY}"}

            def plain() -> int:
                seen, offset = set(), 0
                while True:
                    body = session.get(
                        f"{server.base_url}/scenes",
                        params={"limit": 100, "offset": offset},
                        headers=headers,
                    ).json()
                    seen.update(s["id"] for s in body["scenes"])
                    offset += len(body["scenes"])
                    if not body["scenes"] or offset >= body["total"]:
                        return len(seen)

            def ours() -> int:
                return sum(1 for _ in client.scenes.iter_all())

            assert plain() == ours() == count
            baseline = _median(plain, repeat)
            measured = _median(ours, repeat)
    return baseline, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [
        ("fetch_scene, 50 MB export", *bench_fetch(args.repeat), 1.10),
        ("scenes.iter_all, 5000 scenes", *bench_iter_all(args.repeat), None),
    ]
    print(f"{'benchmark':32} {'baseline s':>11} {'client s':>9} {'ratio':>6}  target")
    for name, baseline, measured, target in rows:
        goal = f"<= {target:.2f}" if target else "-"
        print(f"{name:32} {baseline:11.3f} {measured:9.3f} {measured / baseline:6.2f}  {goal}")


if __name__ == "__main__":
    main()
