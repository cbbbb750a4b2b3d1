"""`LocalServer`: the local server in a background thread on a free loopback port.

For tests and for the other parts' `--demo` modes:

    with LocalServer(demo=True) as server:
        client = server.client()
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .app import create_app
from .auth import generate_api_key
from .demo import DEMO_API_KEY, seed_demo
from .gen2.accounts import is_gen2_key
from .gen2.demo import GEN2_DEMO_API_KEY, seed_gen2_demo
from .gen2.runtime import Gen2Settings
from .runner import bind_socket, make_server
from .service import Service, Settings

if TYPE_CHECKING:
    import uvicorn

    from gizmo_client import GizmoClient

__all__ = ["DEMO_API_KEY", "GEN2_DEMO_API_KEY", "LocalServer"]

_START_TIMEOUT = 15.0


class LocalServer:
    """A running local server; `start()`/`stop()` or use it as a context manager.

    With `demo=True` the first key is `DEMO_API_KEY` and its account holds the demo scenes, and
    `gen2_api_key` (`GEN2_DEMO_API_KEY`, the newer "jobs" generation) holds two generated scenes;
    every key in `api_keys` is an account of its own (keys starting `gzm_k1_` are accounts of the
    newer generation); with neither, one alpha key is generated. Without `data_dir`, data lives
    in a temporary directory removed on stop.

    Newer-generation knobs: `job_seconds` (about how long a job runs; 0 = no waits between
    stages), `gen2_rate_limit` (requests per minute per key; the hosted default is 100, the
    embedded default is high so test suites are not throttled), `gen2_credits` (each account's
    starting balance), `ping_interval` (idle seconds before an SSE ping) and `gen2_rate_window`
    (seconds of a rate-limit window, 60 as hosted; shorter lets a test see a 429 clear quickly).

    Exports: `export_workers` renders at once (default `export_pool.default_workers()`; 0 = in
    the request thread, unbounded, as before), `export_queue` may wait, and exports of up to
    `export_inline_max` placements (with small textures) render inline, the rest in a worker
    process; servers with the same three share one pool of workers.
    """

    def __init__(
        self,
        *,
        demo: bool = False,
        data_dir: Path | str | None = None,
        api_keys: Sequence[str] = (),
        generation_delay: float = 0.05,
        link_ttl: float = 900.0,
        rate_limit_writes: int | None = None,
        faults: str | None = None,
        fault_seed: int = 0,
        slow_seconds: float = 2.0,
        zip_exports: bool = False,
        job_seconds: float = 0.4,
        gen2_rate_limit: int = 6000,
        gen2_credits: int = 1000,
        ping_interval: float = 0.25,
        gen2_rate_window: float = 60.0,
        export_workers: int | None = None,
        export_queue: int = 8,
        export_inline_max: int = 50,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._demo = demo
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._settings_args: dict[str, Any] = {
            "generation_delay": generation_delay,
            "link_ttl": link_ttl,
            "rate_limit_writes": rate_limit_writes,
            "faults": faults,
            "fault_seed": fault_seed,
            "slow_seconds": slow_seconds,
            "zip_exports": zip_exports,
            "gen2": Gen2Settings(
                job_seconds, gen2_rate_limit, gen2_credits, ping_interval, gen2_rate_window
            ),
            "export_queue": export_queue,
            "export_inline_max": export_inline_max,
        }
        if export_workers is not None:
            self._settings_args["export_workers"] = export_workers
        keys = [DEMO_API_KEY] if demo else []
        keys += [key for key in api_keys if key not in keys and not is_gen2_key(key)]
        self.api_keys: tuple[str, ...] = tuple(keys) or (generate_api_key(),)
        gen2_keys = [GEN2_DEMO_API_KEY] if demo else []
        gen2_keys += [key for key in api_keys if is_gen2_key(key) and key not in gen2_keys]
        self.gen2_api_keys: tuple[str, ...] = tuple(gen2_keys)
        self._host = host
        self._port = port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._service: Service | None = None
        self._server: uvicorn.Server | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def api_key(self) -> str:
        """The first account's key (`DEMO_API_KEY` with `demo=True`)."""
        return self.api_keys[0]

    @property
    def gen2_api_key(self) -> str:
        """The first newer-generation key (`GEN2_DEMO_API_KEY` with `demo=True`)."""
        if not self.gen2_api_keys:
            raise RuntimeError("no gzm_k1_ key: pass demo=True or one in api_keys")
        return self.gen2_api_keys[0]

    @property
    def service(self) -> Service:
        """The running server's internals (store, faults...), for tests that need to reach in."""
        if self._service is None:
            raise RuntimeError("the server is not running; call start() or use `with`")
        return self._service

    @property
    def data_dir(self) -> Path:
        return self.service.settings.data_dir

    def start(self) -> LocalServer:
        if self._service is not None:
            raise RuntimeError("the server is already running")
        data_dir = self._data_dir
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="gizmo-server-")
            data_dir = Path(self._tmp.name)
        try:
            self._service = Service(Settings(data_dir=data_dir, **self._settings_args))
            for key in self.api_keys:
                self._service.accounts.register(key)
            for key in self.gen2_api_keys:
                self._service.gen2.accounts.register(key)
            if self._demo:
                seed_demo(self._service)
                seed_gen2_demo(self._service.gen2)
            self._service.start()
            self._sock = sock = bind_socket(self._host, self._port)
            host, port = sock.getsockname()[:2]
            self._server = make_server(
                create_app(self._service), on_shutdown=self._service.release_held_requests
            )
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [sock]},
                name=f"gizmo-server-{port}",
                daemon=True,
            )
            self._thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the local server did not start on {host}:{port}")
                time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        url_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{url_host}:{port}/v1"
        return self

    def stop(self) -> None:
        """Stop serving, finish the worker, close the database; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        if self._sock is not None:
            self._sock.close()  # uvicorn closes it too once it ran; closing twice is harmless
        if self._service is not None:
            self._service.close()
        if self._tmp is not None:
            self._tmp.cleanup()
        self._server = self._thread = self._service = self._tmp = self._sock = None
        self.base_url = ""

    def configure_faults(self, spec: str | None, seed: int = 0) -> None:
        """Change the injected faults while running (`None` turns them off)."""
        self.service.faults.configure(spec, seed)

    def client(self, **kwargs: Any) -> GizmoClient:
        """A `GizmoClient` for the first account (keyword arguments are passed on)."""
        from gizmo_client import GizmoClient

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.base_url)
        return GizmoClient(**kwargs)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
