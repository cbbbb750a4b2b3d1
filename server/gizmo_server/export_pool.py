"""The export engine: at most W exports at once, a bounded wait queue, big ones in worker processes.

Why: rendering is Python + usd-core and holds the GIL, so a few 5,000-placement exports rendered in
request threads starved every other request of the process (another account's small GET took
6.7 s) and each held its ~400 MB peak at once. Here an export first takes one of W slots (or waits
in a queue of at most Q; beyond that `ExportQueueFull` answers at once with an estimated wait).
Small exports then render inline (a few ms, not worth a process hop); big ones (many placements,
or large textures) are sent to a worker process, so the server's own process keeps the GIL.

Workers are plain child processes (`python -c`, nothing forked from the threaded server): they
start lazily, are reused and give memory back after each export (`malloc_trim`). A worker is
replaced when it dies (its export fails with `ExportWorkerLost`; the next gets a fresh one) or
when its resident memory passes `MAX_WORKER_RSS` after an export (a leak; not by a count of
exports: a fresh worker's 1-5 s of imports would land inside some hot-reload edit's request).
One pool serves every server of the process with the same limits (a test run creates
hundreds), and is shut down when the last of them closes.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import math
import multiprocessing.connection
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from .writers.materials import TEXTURE_SIZE_ENV, configured_texture_size

__all__ = [
    "ExportPool",
    "ExportQueueFull",
    "ExportWorkerLost",
    "PoolScope",
    "acquire",
    "default_workers",
    "release",
    "render",
]

T = TypeVar("T")

# Resident bytes past which a worker is replaced after its export: a safety net against leaks (a
# worker's RSS stays at ~205 MB after any number of 5,000-placement exports, 130 MB fresh:
# bench_export_pool).
MAX_WORKER_RSS = 1024**3
INLINE_TEXTURE_MAX = 64  # textures up to this many pixels a side paint fast enough to stay inline
_STOP_SECONDS = 5.0


def default_workers() -> int:
    """One CPU is left to the server's own requests; at most 4 (each big render peaks ~400 MB)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, (cpus or 1) - 1))


class ExportQueueFull(Exception):
    """Every export slot is busy and the queue is full; `retry_after` estimates the wait."""

    def __init__(self, retry_after: int, running: int, waiting: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"The export queue is full ({running} exports rendering, {waiting} waiting); "
            f"try again in about {retry_after} s (Retry-After)."
        )


class ExportWorkerLost(Exception):
    """The worker process rendering this export died (killed, or out of memory)."""

    def __init__(self, pid: int, exitcode: int | None) -> None:
        super().__init__(
            f"The export's worker process (pid {pid}, exit code {exitcode}) stopped before it "
            "finished, so nothing was exported; retry: the next export gets a fresh worker."
        )


def _trim_memory() -> None:
    """Give freed heap back to the system: glibc keeps it otherwise (80 MB of the 155 MB a
    5,000-placement USD render grew a worker by, bench_export_pool)."""
    name = ctypes.util.find_library("c")
    if name is not None:
        libc = ctypes.CDLL(name)
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)


def _resident_bytes() -> int:
    """This process's resident memory (0 where /proc is missing: never replaced for it)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling, else a RuntimeError with its text (the caller re-raises)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _serve(fd: int) -> None:
    """A worker's loop on socket `fd`: `(function, args, texture setting)` in, `(ok, value)` out.

    The renderers (and usd-core) are imported before the first task: a worker started ahead of
    need (a replacement) is then ready when the export arrives, rather than paying 1-5 s of
    imports inside someone's request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    conn = multiprocessing.connection.Connection(fd)
    import gizmo_server.exports
    import gizmo_server.gen2.archives  # noqa: F401

    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        function, args, texture_size = task
        if texture_size is None:
            os.environ.pop(TEXTURE_SIZE_ENV, None)
        else:
            os.environ[TEXTURE_SIZE_ENV] = texture_size
        try:
            ok, value = True, function(*args)
        except Exception as exc:
            ok, value = False, _portable(exc)
        del task, args
        _trim_memory()
        conn.send((ok, value, _resident_bytes()))
        del value


_WORKER_MAIN = "import sys; from gizmo_server.export_pool import _serve; _serve(int(sys.argv[1]))"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])  # the worker imports this gizmo_server


class _Worker:
    """One worker process and the socket to it; used by one export at a time.

    A plain `python -c` child, not `multiprocessing`: spawn and forkserver re-import the parent's
    `__main__` in the child, which runs a script that starts a `LocalServer` without a
    `__main__` guard a second time; fork is unsafe from a threaded server.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        self.conn = multiprocessing.connection.Connection(ours.detach())
        self.rss = 0  # resident bytes after its last export

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            self.conn.send((function, args, os.environ.get(TEXTURE_SIZE_ENV)))
            ok, value, self.rss = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise ExportWorkerLost(self.pid, self.process.returncode) from exc
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.conn.send(None)
        self.conn.close()
        try:
            self.process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ExportPool:
    """W export slots (`workers`), `queue` waiting places, and up to W worker processes.

    `workers=0` is the old behaviour, kept to measure against: every export renders in the
    request's thread, unbounded (and concurrent first uses of usd-core can deadlock the server).
    """

    def __init__(self, workers: int, queue: int, inline_max: int) -> None:
        self.workers = workers
        self.queue = queue
        self.inline_max = inline_max  # placements a scene may have and still render inline
        self.renders: Counter[int] = Counter()  # worker pid -> exports it rendered
        self._cond = threading.Condition()
        self._running = 0
        self._waiting = 0
        self._idle: list[_Worker] = []
        self._busy: set[int] = set()  # pids of workers rendering now
        # Small exports render inline one at a time: usd-core's first use can deadlock when two
        # threads start it at once (its resolver's static init waits on the GIL one of them
        # holds; seen with 8 concurrent exports at --export-workers 0), and they take ms anyway.
        self._inline = threading.Lock()
        self._seconds = 1.0  # moving average of an export's time, for Retry-After
        self._closed = False

    def run(self, function: Callable[..., T], *args: Any, placements: int, textured: bool) -> T:
        """`function(*args)` in a slot: inline if small, else in a worker (a module-level
        function, picklable arguments). Raises `ExportQueueFull` or `ExportWorkerLost`."""
        if self.workers == 0:
            return function(*args)
        self._enter()
        started = time.monotonic()
        try:
            if not self._small(placements, textured):
                return self._in_worker(function, args)
            with self._inline:
                return function(*args)
        finally:
            self._leave(time.monotonic() - started)

    def load(self) -> tuple[int, int, frozenset[int]]:
        """Exports running, exports waiting, and the pids of workers rendering now."""
        with self._cond:
            return self._running, self._waiting, frozenset(self._busy)

    def close(self) -> None:
        """Stop idle workers now; busy ones stop when their export ends."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _small(self, placements: int, textured: bool) -> bool:
        if placements > self.inline_max:
            return False
        size = configured_texture_size() if textured else None
        return size is None or size <= INLINE_TEXTURE_MAX

    def _enter(self) -> None:
        with self._cond:
            if self._running >= self.workers:
                if self._waiting >= self.queue:
                    ahead = self._running + self._waiting
                    wait = max(1, math.ceil(self._seconds * ahead / self.workers))
                    raise ExportQueueFull(wait, self._running, self._waiting)
                self._waiting += 1
                try:
                    while self._running >= self.workers:
                        self._cond.wait()
                finally:
                    self._waiting -= 1
            self._running += 1

    def _leave(self, seconds: float) -> None:
        with self._cond:
            self._running -= 1
            self._seconds = 0.7 * self._seconds + 0.3 * seconds
            self._cond.notify()

    def _in_worker(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._cond:
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.alive():
            if worker is not None:
                worker.stop()
            worker = _Worker()
        pid = worker.pid
        with self._cond:
            self._busy.add(pid)
        try:
            value = worker.call(function, args)
        except ExportWorkerLost:
            raise  # that worker is gone; the next export starts a fresh one
        except BaseException:
            self._give_back(worker)
            raise
        finally:
            with self._cond:
                self._busy.discard(pid)
        self._give_back(worker)
        with self._cond:
            self.renders[pid] += 1
        return value

    def _give_back(self, worker: _Worker) -> None:
        """Back to the idle list; a worker past `MAX_WORKER_RSS` is replaced at once, so the
        replacement's start-up overlaps the time until the next export."""
        with self._cond:
            keep = not self._closed and worker.rss < MAX_WORKER_RSS
            if keep:
                self._idle.append(worker)
            replace = not keep and not self._closed
        if keep:
            return
        worker.stop()
        if replace:
            fresh = _Worker()
            with self._cond:
                retire = self._closed  # closed meanwhile: nobody will take it
                if not retire:
                    self._idle.append(fresh)
            if retire:
                fresh.stop()


_shared: dict[tuple[int, int, int], tuple[ExportPool, int]] = {}
_shared_lock = threading.Lock()


def acquire(workers: int, queue: int, inline_max: int) -> ExportPool:
    """The process's pool for these limits (made on first use); `release` it when done."""
    key = (workers, queue, inline_max)
    with _shared_lock:
        pool, users = _shared.get(key) or (ExportPool(workers, queue, inline_max), 0)
        _shared[key] = (pool, users + 1)
    return pool


def release(pool: ExportPool) -> None:
    """One user fewer; the last one shuts the pool's workers down."""
    key = (pool.workers, pool.queue, pool.inline_max)
    with _shared_lock:
        users = _shared[key][1] - 1
        if users:
            _shared[key] = (pool, users)
        else:
            del _shared[key]
    if not users:
        pool.close()


_active: contextvars.ContextVar[ExportPool | None] = contextvars.ContextVar(
    "gizmo_export_pool", default=None
)


class PoolScope:
    """ASGI middleware: requests under it export through `pool` (see `render`)."""

    def __init__(self, app: ASGIApp, pool: ExportPool) -> None:
        self.app = app
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _active.set(self.pool)
        try:
            await self.app(scope, receive, send)
        finally:
            _active.reset(token)


def render(function: Callable[..., T], *args: Any, placements: int, textured: bool) -> T:
    """`ExportPool.run` on the pool of the request being served; inline outside a server."""
    pool = _active.get()
    if pool is None:
        return function(*args)
    return pool.run(function, *args, placements=placements, textured=textured)
