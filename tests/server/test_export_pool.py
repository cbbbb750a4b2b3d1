"""The bounded export pool (issue 12, defect 8): a full queue answers 503 at once, in each
generation's envelope; big exports render in a worker process; a killed worker fails only its
export. Slots are held by the test itself (a blocking job in the pool), so nothing here is timed."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from gizmo_server import export_pool
from gizmo_server.cli import build_parser
from gizmo_server.embedded import LocalServer
from gizmo_server.export_pool import ExportPool
from gizmo_server.gen2.archives import scene_zip

from .conftest import Api, assert_error
from .gen2_helpers import Gen2
from .test_reliability_errors import _fill, small_disk  # noqa: F401 (a fixture)

WAIT_SECONDS = 20.0


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.005)


@pytest.fixture
def pooled() -> Iterator[LocalServer]:
    """One worker, two waiting places, and every export (however small) sent to the worker."""
    with LocalServer(demo=True, export_workers=1, export_queue=2, export_inline_max=0) as running:
        yield running


def _clients(server: LocalServer) -> tuple[Api, Gen2, str, str]:
    api = Api(server.base_url, server.api_key)
    jobs = Gen2(server.base_url, server.gen2_api_key)
    scene = api.get("/scenes").json()["scenes"][0]["id"]
    gen2_scene = jobs.get("/scenes").json()["scenes"][0]["id"]
    return api, jobs, scene, gen2_scene


def _alpha_bytes(api: Api, scene: str, fmt: str = "isaac_sim_usd") -> bytes:
    answer = api.post(f"/scenes/{scene}/export", {"format": fmt})
    assert answer.status_code == 200, answer.text
    data = requests.get(answer.json()["download_url"], timeout=30).content
    assert hashlib.sha256(data).hexdigest() == answer.json()["sha256"]
    return data


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """A ZIP's members in order (its entries' timestamps are the time of packing)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def _gen2_files(jobs: Gen2, scene: str) -> list[tuple[str, bytes]]:
    answer = jobs.post(f"/scenes/{scene}/export", {"format": "usd"})
    assert answer.status_code == 200, answer.text
    return _members(answer.content)


def _hold_slot(pool: ExportPool) -> tuple[threading.Event, threading.Thread]:
    """Occupy the pool's only slot until the returned event is set."""
    release = threading.Event()
    holder = threading.Thread(
        target=pool.run, args=(release.wait,), kwargs={"placements": 0, "textured": False}
    )
    holder.start()
    _until(lambda: pool.load()[0] == 1, "the slot to be taken")
    return release, holder


def test_a_full_queue_is_503_with_retry_after_and_admitted_exports_complete(
    pooled: LocalServer,
) -> None:
    api, jobs, scene, gen2_scene = _clients(pooled)
    pool = pooled.service.exports
    release, holder = _hold_slot(pool)
    with ThreadPoolExecutor(2) as executor:
        try:
            alpha: Future[bytes] = executor.submit(_alpha_bytes, api, scene)
            _until(lambda: pool.load()[1] == 1, "the first export to queue")
            gen2: Future[list[tuple[str, bytes]]] = executor.submit(_gen2_files, jobs, gen2_scene)
            _until(lambda: pool.load()[1] == 2, "the second export to queue")

            refused = api.post(f"/scenes/{scene}/export", {"format": "mujoco_mjcf"})
            body = assert_error(refused, 503, "export_queue_full")
            assert "export queue is full" in body["message"] and "try again" in body["message"]
            assert int(refused.headers["Retry-After"]) >= 1

            nested = jobs.post(f"/scenes/{gen2_scene}/export", {"format": "mjcf"})
            assert nested.status_code == 503, nested.text
            error = nested.json()
            assert error["ok"] is False and error["error"]["code"] == "export_queue_full"
            assert error["error"]["status"] == 503 and "try again" in error["error"]["message"]
            assert int(nested.headers["Retry-After"]) >= 1
            assert "X-RateLimit-Remaining" in nested.headers  # as on every jobs answer
        finally:
            release.set()
            holder.join()
        admitted = alpha.result(), gen2.result()

    stored = pooled.service.gen2.store.get("scene", gen2_scene)
    assert stored is not None  # rendered here, outside any request: inline, serially
    doc = stored[1]
    assert admitted[1] == _members(scene_zip(gen2_scene, doc["name"], doc["record"], "usd", None))
    with LocalServer(demo=True, export_workers=0) as serial:  # the old inline renders; fixed ids
        api2, _, scene2, _ = _clients(serial)
        assert admitted[0] == _alpha_bytes(api2, scene2)
        api2.close()
    api.close()
    jobs.close()


def test_big_exports_render_in_a_reused_worker_process(pooled: LocalServer) -> None:
    api, jobs, scene, gen2_scene = _clients(pooled)
    _alpha_bytes(api, scene)
    _gen2_files(jobs, gen2_scene)
    renders = pooled.service.exports.renders
    assert len(renders) == 1, renders  # one worker did both
    (pid,) = renders
    assert pid != os.getpid() and renders[pid] == 2
    status = Path(f"/proc/{pid}/status").read_text()
    assert f"PPid:\t{os.getpid()}" in status  # a live child of the server's process
    api.close()
    jobs.close()


def _worker_children() -> list[int]:
    """Pids of this process's live export workers, from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        mine = f"PPid:\t{os.getpid()}\n" in text and b"export_pool" in cmdline
        if mine and "State:\tZ" not in text:
            found.append(int(status.parent.name))
    return found


def test_a_worker_past_its_memory_limit_is_replaced_before_the_next_export(
    pooled: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that grew past the limit retires after its export, and its replacement starts
    then, so the start-up (imports of 1-5 s) does not land inside the next export's request."""
    monkeypatch.setattr(export_pool, "MAX_WORKER_RSS", 1)
    api, jobs, scene, gen2_scene = _clients(pooled)
    _alpha_bytes(api, scene)
    (first,) = pooled.service.exports.renders
    _until(lambda: first not in _worker_children(), "the retired worker exits")
    (waiting,) = _worker_children()  # started already, with no export asking for it
    _gen2_files(jobs, gen2_scene)
    assert set(pooled.service.exports.renders) == {first, waiting}
    api.close()
    jobs.close()


def test_small_exports_render_inline_under_the_default_limits() -> None:
    with LocalServer(demo=True) as server:
        api, jobs, scene, gen2_scene = _clients(server)
        _alpha_bytes(api, scene, "mujoco_mjcf")
        _gen2_files(jobs, gen2_scene)  # tests paint 32 px textures: small enough to stay inline
        assert not server.service.exports.renders
        api.close()
        jobs.close()


def _lost(response: requests.Response, generation: str) -> str:
    """The message of a 500 `export_worker_lost`, checked in the generation's envelope."""
    if generation == "alpha":
        return str(assert_error(response, 500, "export_worker_lost")["message"])
    assert response.status_code == 500 and "X-RateLimit-Remaining" in response.headers
    error = response.json()["error"]
    assert error["code"] == "export_worker_lost" and error["status"] == 500
    return str(error["message"])


@pytest.mark.parametrize("generation", ["alpha", "jobs"])
def test_a_killed_worker_fails_its_export_and_the_next_gets_a_fresh_worker(
    pooled: LocalServer, generation: str
) -> None:
    api, jobs, scene, gen2_scene = _clients(pooled)
    pool = pooled.service.exports
    _alpha_bytes(api, scene)
    (first,) = pool.renders
    os.kill(first, signal.SIGSTOP)  # it cannot finish what it is sent next...
    post = {"alpha": (api.post, scene, "mujoco_mjcf"), "jobs": (jobs.post, gen2_scene, "mjcf")}
    send, target, fmt = post[generation]
    with ThreadPoolExecutor(1) as executor:
        pending = executor.submit(send, f"/scenes/{target}/export", {"format": fmt})
        _until(lambda: first in pool.load()[2], "the export to reach the stopped worker")
        os.kill(first, signal.SIGKILL)  # ...and dies while it holds the export
        lost: requests.Response = pending.result()
    message = _lost(lost, generation)
    assert "worker process" in message and "retry" in message

    _alpha_bytes(api, scene, "mujoco_mjcf")
    assert set(pool.renders) - {first}, pool.renders  # a fresh worker rendered it
    assert pool.load() == (0, 0, frozenset())
    api.close()
    jobs.close()


def test_a_full_disk_on_the_jobs_generation_keeps_its_rate_limit_headers(
    small_disk: Path,  # noqa: F811
) -> None:
    with LocalServer(demo=True, data_dir=small_disk / "data") as server:
        jobs = Gen2(server.base_url, server.gen2_api_key)
        filler = _fill(small_disk)
        full = jobs.post("/scenes", {"prompt": "a warehouse aisle with shelves"})
        assert full.status_code == 507, full.text
        assert full.json()["error"]["code"] == "insufficient_storage"
        assert "X-RateLimit-Limit" in full.headers and "X-RateLimit-Remaining" in full.headers
        filler.unlink()
        jobs.close()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], None), (["--export-workers", "0", "--export-queue", "3"], (0, 3))],
)
def test_the_server_command_sets_the_pool_limits(
    argv: list[str], expected: tuple[int, int] | None
) -> None:
    args: Any = build_parser().parse_args(argv)
    limits = (args.export_workers, args.export_queue)
    assert limits == (expected or (limits[0], 8)) and limits[0] >= (0 if expected else 1)


def test_the_server_command_refuses_a_negative_pool_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["--export-workers", "-1"])
    assert stopped.value.code == 2
    assert "--export-workers: must be a whole number >= 0, got -1" in capsys.readouterr().err


def test_stopping_the_last_server_of_a_pool_stops_its_workers() -> None:
    server = LocalServer(demo=True, export_workers=1, export_queue=0, export_inline_max=0)
    with server:
        api, jobs, scene, _ = _clients(server)
        _alpha_bytes(api, scene)
        (pid,) = server.service.exports.renders
        api.close()
        jobs.close()
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped
