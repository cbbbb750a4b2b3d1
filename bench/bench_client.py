"""Client overhead against plain `requests` doing the same HTTP calls, in the same run.

1. `fetch_scene` of a 50 MB export (GET scene, POST export, GET download) against a baseline of
   three bare `requests` calls that write the body to disk. The export is served by a minimal
   stand-in of the three endpoints on loopback, because the local server's real exports are far
   smaller than 50 MB; what is measured is the client's own cost (streaming, hashing, verifying,
   atomic rename, cache bookkeeping). Target: ratio at most 1.10.
2. `scenes.iter_all()` over 5,000 scenes on the real local server against a plain loop of
   `requests.get` pages. Target: ratio close to 1 (the client adds model validation).
3. `jobs.events()` over a stream of 50,000 job events against `requests` `iter_lines()` with a
   `json.loads` per `data:` line, the same bytes from the same stand-in. Target: at most 1.10.
4. `scenes.export_zip(..., unpack_to=DIR)` of a 50 MB ZIP body (jobs generation), what
   `fetch_scene` and `-o DIR` do, against a plain `requests` POST streamed to disk and
   `ZipFile.extractall`; the client also checks Content-Length and the central directory, unpacks
   safely into a temporary folder (the unpack checks every entry's CRC) and renames atomically.
   Target: at most 1.10.
5. `scenes.export_zip()` to a file only, against the same plain POST: the client adds a CRC pass
   over the saved ZIP (nothing else reads it), so no target; the note says what that pass costs.

Run: .venv/bin/python bench/bench_client.py [--repeat 5] [--only events zip_unpack zip]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from gizmo_client import GizmoClient
from gizmo_client.archive import check_zip_integrity, extract_zip_safely
from gizmo_server.embedded import LocalServer

SIZE = 50 * 1024 * 1024
NOTES: list[str] = []  # what a ratio alone does not say, printed under the table
KEY = "gz_bench_key_000000000001"


Route = Callable[[str, str, str], tuple[bytes, str]]


def _serve(route: Route) -> ThreadingHTTPServer:
    """A minimal loopback stand-in: `route(method, path, host) -> (body, content type)`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            body, kind = route(self.command, self.path, host)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stand_in(blob: bytes) -> ThreadingHTTPServer:
    """The alpha generation's scene, export link and download."""
    digest = hashlib.sha256(blob).hexdigest()
    scene = {"id": "scn_bench", "name": "bench", "description": None, "assets": []}

    def route(method: str, path: str, host: str) -> tuple[bytes, str]:
        if path.startswith("/v1/downloads/"):
            return blob, "application/octet-stream"
        if method == "GET":
            return json.dumps(scene).encode(), "application/json"
        link = {
            "download_url": f"{host}/v1/downloads/blob",
            "expires_at": "2099-01-01T00:00:00Z",
            "size_bytes": len(blob),
            "sha256": digest,
            "filename": "scene.xml",
        }
        return json.dumps(link).encode(), "application/json"

    return _serve(route)


def _jobs_stand_in(events: bytes, archive: bytes) -> ThreadingHTTPServer:
    """The jobs generation's event stream, job and ZIP export."""
    job = json.dumps({"ok": True, "job": {"id": "job_bench", "status": "succeeded"}}).encode()

    def route(method: str, path: str, host: str) -> tuple[bytes, str]:
        if path.startswith("/v1/jobs/job_bench/events"):
            return events, "text/event-stream"
        if path.startswith("/v1/jobs/"):
            return job, "application/json"
        return archive, "application/zip"

    return _serve(route)


def _event_stream(count: int) -> bytes:
    lines = []
    for seq in range(1, count + 1):
        kind = "stage_complete" if seq < count else "done"
        data = {
            "seq": seq,
            "type": kind,
            "job_id": "job_bench",
            "stage": "floorplan",
            "asset_id": None,
            "message": f"step {seq}",
            "progress": seq / count,
            "ts": 1733000000,
        }
        lines.append(f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n")
    return "".join(lines).encode()


def _zip_of(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("scene.xml", b"<mujoco/>")
        archive.writestr("meshes/blob.bin", os.urandom(size))
    return buffer.getvalue()


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
            with GizmoClient(
                api_key=KEY, base_url=base, cache_dir=out, api_generation="alpha"
            ) as client:
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


def _alternate(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, runs interleaved, after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for run in range(repeat + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if run:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def bench_events(repeat: int, count: int = 50_000) -> tuple[float, float]:
    server = _jobs_stand_in(_event_stream(count), b"")
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    session = requests.Session()
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "text/event-stream"}

    def plain() -> int:
        seen = 0
        with session.get(f"{base}/jobs/job_bench/events", headers=headers, stream=True) as r:
            for line in r.iter_lines():
                if line.startswith(b"data:"):
                    json.loads(line[5:])
                    seen += 1
        return seen

    with GizmoClient(api_key=KEY, base_url=base, api_generation="jobs") as client:

        def ours() -> int:
            return sum(1 for _ in client.jobs.events("job_bench"))

        assert plain() == ours() == count
        result = _alternate({"plain": plain, "ours": ours}, repeat)
    server.shutdown()
    return result["plain"], result["ours"]


@contextmanager
def _zip_stand_in() -> Iterator[tuple[bytes, Callable[[Path], None], GizmoClient, Path]]:
    """A jobs-generation stand-in answering exports with a SIZE-byte ZIP: the archive, a plain
    `requests` POST of the export to a file (the baseline), our client and a work folder."""
    archive = _zip_of(SIZE)
    server = _jobs_stand_in(b"", archive)
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    session = requests.Session()
    headers = {"Authorization": f"Bearer {KEY}"}

    def plain_post(out: Path) -> None:
        url = f"{base}/scenes/scn_bench/export"
        with session.post(url, json={"format": "mjcf"}, headers=headers, stream=True) as r:
            with open(out, "wb") as f:
                for chunk in r.iter_content(1024 * 1024):
                    f.write(chunk)

    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            GizmoClient(api_key=KEY, base_url=base, api_generation="jobs", cache_dir=tmp) as client,
        ):
            yield archive, plain_post, client, Path(tmp)
    finally:
        server.shutdown()


def bench_zip_export(repeat: int) -> tuple[float, float]:
    with _zip_stand_in() as (archive, plain_post, client, root):
        plain_out, ours_out = root / "plain.zip", root / "ours.zip"

        def plain() -> None:
            plain_out.unlink(missing_ok=True)
            plain_post(plain_out)

        def ours() -> None:
            ours_out.unlink(missing_ok=True)
            client.scenes.export_zip("scn_bench", "mjcf", ours_out)

        result = _alternate({"plain": plain, "ours": ours}, repeat)
        assert ours_out.read_bytes() == plain_out.read_bytes() == archive
        check = _median(lambda: check_zip_integrity(ours_out), repeat)
    NOTES.append(
        f"export_zip: of its {result['ours']:.3f} s, the CRC pass (testzip) takes {check:.3f} s"
    )
    return result["plain"], result["ours"]


def bench_zip_unpack(repeat: int) -> tuple[float, float]:
    with _zip_stand_in() as (_, plain_post, client, root):

        def plain() -> None:
            shutil.rmtree(root / "plain", ignore_errors=True)
            (root / "plain").mkdir()
            plain_post(root / "plain" / "x.zip")
            with zipfile.ZipFile(root / "plain" / "x.zip") as z:
                z.extractall(root / "plain" / "out")

        def ours() -> None:
            shutil.rmtree(root / "ours", ignore_errors=True)
            (root / "ours").mkdir()
            client.scenes.export_zip(
                "scn_bench", "mjcf", root / "ours" / "x.zip", unpack_to=root / "ours" / "out"
            )

        def before() -> None:  # the former path: a CRC pass on the saved ZIP, then the unpack
            shutil.rmtree(root / "before", ignore_errors=True)
            (root / "before").mkdir()
            saved = client.scenes.export_zip("scn_bench", "mjcf", root / "before" / "x.zip")
            extract_zip_safely(saved, root / "before" / "out")

        result = _alternate({"plain": plain, "ours": ours, "before": before}, repeat)
        NOTES.append(
            f"export_zip+unpack: the former path (CRC pass, then unpack) takes "
            f"{result['before']:.3f} s, ratio {result['before'] / result['plain']:.2f}"
        )
        for side in ("plain", "ours", "before"):
            blob = root / side / "out" / "meshes" / "blob.bin"
            assert blob.stat().st_size == SIZE, side
    return result["plain"], result["ours"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--only", choices=["fetch", "iter_all", "events", "zip_unpack", "zip"], nargs="*"
    )
    args = parser.parse_args()
    benches: dict[str, tuple[str, Callable[[int], tuple[float, float]], float | None]] = {
        "fetch": ("fetch_scene, 50 MB export", bench_fetch, 1.10),
        "iter_all": ("scenes.iter_all, 5000 scenes", bench_iter_all, None),
        "events": ("jobs.events, 50000 events", bench_events, 1.10),
        "zip_unpack": ("export_zip+unpack, 50 MB ZIP", bench_zip_unpack, 1.10),
        "zip": ("export_zip to a file, 50 MB ZIP", bench_zip_export, None),
    }
    rows = [
        (title, *bench(args.repeat), target)
        for key, (title, bench, target) in benches.items()
        if not args.only or key in args.only
    ]
    print(f"{'benchmark':32} {'baseline s':>11} {'client s':>9} {'ratio':>6}  target")
    for name, baseline, measured, target in rows:
        goal = f"<= {target:.2f}" if target else "-"
        print(f"{name:32} {baseline:11.3f} {measured:9.3f} {measured / baseline:6.2f}  {goal}")
    for note in NOTES:
        print(note)


if __name__ == "__main__":
    main()
