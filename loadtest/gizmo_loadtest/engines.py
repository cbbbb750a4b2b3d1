"""Where scene checks run: in this process, in a local process pool, or as Ray tasks.

An `Engine` only starts one scene's check and hands back its result; `Checks` (the one code path
every run takes) streams the results as they finish, retries a scene once when the process or
node checking it died, and cancels what is outstanding on Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from .fetch import LoadtestInputError, Target
from .findings import CROSS, Finding, FormatResult, SceneResult
from .options import CheckOptions

__all__ = ["Checks", "Engine", "InProcess", "Lost", "ProcessPool", "crashed", "make_engine"]

H = TypeVar("H")


class Lost(Exception):
    """The process or node checking a scene died before it answered (the scene may be fine)."""


class Engine(Protocol[H]):
    """Starts scene checks somewhere; `H` is its handle of one running check."""

    workers: int
    """How many scenes it checks at once (the report's `workers`)."""
    description: str
    """Where the checks run, for the report's settings."""

    def submit(self, scene_id: str) -> H: ...

    def wait(self, handles: Collection[H]) -> H:
        """Block until one of `handles` has finished; return it."""
        ...

    def result(self, handle: H, scene_id: str) -> SceneResult:
        """The finished check's result; raises `Lost` if its process or node died."""
        ...

    def cancel(self, handles: Collection[H]) -> None: ...

    def close(self) -> None: ...


def crashed(scene_id: str, formats: Sequence[str], why: str) -> SceneResult:
    """A scene whose checks never returned: every format fails with the reason (so each pytest
    case says why), the cross-format comparison is skipped."""
    crash = Finding("crash", why)
    results = {fmt: FormatResult(fmt, [crash]) for fmt in formats}
    if len(formats) > 1:
        results[CROSS] = FormatResult(CROSS, skipped="not compared: the checks did not return")
    return SceneResult(scene_id, scene_id, 0, results)


class InProcess:
    """Checks each scene in this process, when its result is asked for."""

    workers = 1
    description = "this process"

    def __init__(self, target: Target, options: CheckOptions, artifacts: Path | None) -> None:
        self._args = (target, options, artifacts)

    def submit(self, scene_id: str) -> str:
        return scene_id

    def wait(self, handles: Collection[str]) -> str:
        return next(iter(handles))  # nothing runs ahead: the oldest is checked now

    def result(self, handle: str, scene_id: str) -> SceneResult:
        from .runner import check_scene

        target, options, artifacts = self._args
        return check_scene(target, handle, options, artifacts)

    def cancel(self, handles: Collection[str]) -> None:
        pass

    def close(self) -> None:
        pass


class ProcessPool:
    """`workers` spawned processes on this machine (spawn, not fork: this process may run the
    local server's threads and hold pxr state). A pool whose worker died is replaced."""

    def __init__(
        self, target: Target, options: CheckOptions, artifacts: Path | None, workers: int
    ) -> None:
        self._args = (target, options, artifacts)
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, scene_id: str) -> Future[SceneResult]:
        from .runner import check_scene

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        target, options, artifacts = self._args
        return self._pool.submit(check_scene, target, scene_id, options, artifacts)

    def wait(self, handles: Collection[Future[SceneResult]]) -> Future[SceneResult]:
        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        return next(h for h in handles if h in done)  # the oldest of the finished ones

    def result(self, handle: Future[SceneResult], scene_id: str) -> SceneResult:
        try:
            return handle.result()
        except BrokenProcessPool as exc:
            if self._pool is not None:  # every scene in it is lost; later ones get a new pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            raise Lost(f"a worker process died ({exc})") from exc

    def cancel(self, handles: Collection[Future[SceneResult]]) -> None:
        for handle in handles:
            handle.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_engine(
    target: Target,
    options: CheckOptions,
    artifacts: Path | None,
    workers: int = 1,
    ray: str | None = None,
) -> Engine[Any]:
    """The engine the options ask for: Ray at `ray` (an address, `auto` or `local`), else
    `workers` local processes (1: this process)."""
    if ray is not None:
        try:
            from .engine_ray import RayEngine
        except ImportError as exc:
            raise LoadtestInputError(
                f"--ray needs Ray, which is not installed here ({exc})",
                hint="Install it with `pip install 'gizmo-sim[distributed]'`.",
            ) from exc
        return RayEngine(target, options, artifacts, ray, workers)
    if workers > 1:
        return ProcessPool(target, options, artifacts, workers)
    return InProcess(target, options, artifacts)


class Checks:
    """Scenes being checked by one engine: results stream back as they finish, or by id.

    A scene whose process or node died is submitted once more (on a cluster Ray places it on a
    live node); lost twice, it is reported failed with the cause. Ctrl-C cancels every check
    still outstanding.
    """

    def __init__(self, engine: Engine[Any], formats: Sequence[str]) -> None:
        self.engine = engine
        self._formats = formats
        self._running: dict[Any, str] = {}
        self._lost: dict[str, str] = {}
        self._submitted: set[str] = set()
        self._done: dict[str, SceneResult] = {}
        self._unclaimed: list[str] = []
        self.first_started: float | None = None
        self.last_finished: float | None = None

    def submit(self, scene_ids: Sequence[str]) -> None:
        """Start checking these scenes (each once, in order)."""
        if self.first_started is None:
            self.first_started = time.perf_counter()
        for scene_id in dict.fromkeys(scene_ids):
            if scene_id not in self._submitted:
                self._submitted.add(scene_id)
                self._running[self.engine.submit(scene_id)] = scene_id

    def as_completed(self) -> Iterator[SceneResult]:
        """Each submitted scene's result once, in the order they finish."""
        while self._unclaimed or self._running:
            if self._unclaimed:
                yield self._done[self._unclaimed.pop(0)]
            else:
                self._next()

    def result(self, scene_id: str) -> SceneResult:
        """One scene's result (submitted now if it was not), waiting for it if need be."""
        self.submit([scene_id])
        while scene_id not in self._done:
            self._next()
        if scene_id in self._unclaimed:
            self._unclaimed.remove(scene_id)
        return self._done[scene_id]

    def _next(self) -> None:
        """Wait for the next check to finish and file its result; Ctrl-C cancels the rest."""
        try:
            self._file_next()
        except KeyboardInterrupt:
            self.engine.cancel(self._running)
            self._running.clear()
            raise

    def _file_next(self) -> None:
        handle = self.engine.wait(self._running)
        scene_id = self._running.pop(handle)
        try:
            result = self.engine.result(handle, scene_id)
        except Lost as exc:
            if scene_id not in self._lost:  # once more: a dead node or pool takes no more
                self._lost[scene_id] = str(exc)
                self._running[self.engine.submit(scene_id)] = scene_id
                return
            result = crashed(
                scene_id,
                self._formats,
                f"lost twice: {self._lost[scene_id]}; then {exc}. "
                "Run with --workers 1 to see whether this scene brings the checks down",
            )
        if scene_id in self._lost:
            for fmt in result.results.values():
                fmt.notes.append(f"checked again after: {self._lost[scene_id]}")
        self._done[scene_id] = result
        self._unclaimed.append(scene_id)
        self.last_finished = time.perf_counter()

    def elapsed(self) -> float:
        """From the first scene submitted to the last one finished."""
        if self.first_started is None or self.last_finished is None:
            return 0.0
        return self.last_finished - self.first_started

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Checks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
