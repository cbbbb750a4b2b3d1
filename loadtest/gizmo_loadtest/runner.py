"""Run the checks: per scene, fetch each format, check it, compare the formats; scenes in
parallel worker processes when asked to.

`Scheduler` is the one way scenes get checked (the CLI's `run` and the pytest plugin both use
it). With one worker, scenes are checked in this process, lazily, when their result is asked for.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Any

from gizmo_client.errors import GizmoError
from gizmo_client.models import Scene

from .checks_cross import check_cross
from .checks_mjcf import check_mjcf
from .checks_usd import check_usd
from .fetch import LoadtestInputError, Target, detect_format, unpack_export
from .findings import CROSS, MJCF, USD, Finding, FormatResult, Report, SceneResult
from .options import CheckOptions
from .placements import expected_placements
from .report_html import write_html
from .report_json import write_json

__all__ = [
    "Scheduler",
    "check_export",
    "check_files",
    "check_scene",
    "new_report",
    "run",
    "write_reports",
]

THUMBNAILS = "thumbnails"


def check_export(
    fmt: str, path: Path, scene: Scene, options: CheckOptions, thumbnail: Path | None = None
) -> FormatResult:
    """Every check of one format on one export file.

    A check that crashes becomes a finding: one file that trips up pxr or MuJoCo in a way nobody
    foresaw must fail its case, not hide the results of every other scene.
    """
    try:
        if fmt == MJCF:
            return check_mjcf(path, scene, options, thumbnail if options.thumbnails else None)
        return check_usd(path, scene, options)
    except Exception as exc:
        crash = Finding("crash", f"the {fmt} checks crashed: {type(exc).__name__}: {exc}")
        return FormatResult(fmt, [crash], file=str(path))


def _assemble(
    scene: Scene, results: dict[str, FormatResult], options: CheckOptions, started: float
) -> SceneResult:
    """The scene's result: its format results plus the cross check when both formats ran."""
    if MJCF in results and USD in results:
        labels = {e.key: e.label for e in expected_placements(scene)}
        results[CROSS] = check_cross(results[MJCF], results[USD], labels, options.tolerances)
    return SceneResult(
        scene.id, scene.name, len(scene.assets), results, time.perf_counter() - started
    )


def _thumbnail(artifacts: Path | None, scene_id: str) -> Path | None:
    return artifacts / THUMBNAILS / f"{scene_id}.png" if artifacts is not None else None


def check_scene(
    target: Target, scene_id: str, options: CheckOptions, artifacts: Path | None
) -> SceneResult:
    """Export, download (through the cache) and check one scene in every format asked for."""
    started = time.perf_counter()
    thumbnail = _thumbnail(artifacts, scene_id)
    results: dict[str, FormatResult] = {}
    scene: Scene | None = None
    with target.client() as client:
        for fmt in options.formats:
            fetch_started = time.perf_counter()
            try:
                fetched = client.fetch_scene(scene_id, fmt)
            except (GizmoError, OSError) as exc:  # OSError: the disk or the cache failed
                results[fmt] = FormatResult(
                    fmt, [Finding("fetch", f"export or download failed: {exc}")]
                )
                continue
            fetch_seconds = time.perf_counter() - fetch_started
            scene = scene or fetched.scene
            result = check_export(fmt, fetched.path, fetched.scene, options, thumbnail)
            result.fetch_seconds = fetch_seconds
            result.from_cache = fetched.from_cache
            results[fmt] = result
    if scene is None:  # no export arrived, so the scene object is unknown too
        scene = Scene(id=scene_id, name=scene_id)
    outcome = _assemble(scene, results, options, started)
    outcome.thumbnail = _existing(thumbnail)
    return outcome


def check_files(
    files: Sequence[Path],
    scene: Scene,
    options: CheckOptions,
    artifacts: Path | None,
    workdir: Path,
) -> SceneResult:
    """The offline check: downloaded exports (one per format, ZIPs unpacked) against a scene."""
    started = time.perf_counter()
    thumbnail = _thumbnail(artifacts, scene.id)
    results: dict[str, FormatResult] = {}
    for given in files:
        path = unpack_export(given, workdir)
        fmt = detect_format(path)
        if fmt in results:
            raise LoadtestInputError(
                f"Two {fmt} exports were given (the second is {given})",
                hint="Give at most one USD and one MJCF export per scene.",
            )
        results[fmt] = check_export(fmt, path, scene, options, thumbnail)
    outcome = _assemble(scene, results, options, started)
    outcome.thumbnail = _existing(thumbnail)
    return outcome


def _existing(path: Path | None) -> str | None:
    return str(path) if path is not None and path.is_file() else None


def _worker_ready() -> int:
    """A first task per spawned worker: it returns once the worker has imported everything."""
    return os.getpid()


def _collect(scene_id: str, future: Future[SceneResult], formats: Sequence[str]) -> SceneResult:
    """A worker's result; a worker that died (segfault, out of memory) fails every format of
    the scene with the reason (so each case, the pytest plugin's too, says why)."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        crash = Finding(
            "crash",
            f"a worker process died while this scene was being checked ({exc}); "
            "run with --workers 1 to see which scene brings the checks down",
        )
        results = {fmt: FormatResult(fmt, [crash]) for fmt in formats}
        if len(formats) > 1:
            results[CROSS] = FormatResult(CROSS, skipped="not compared: the worker died")
        return SceneResult(scene_id, scene_id, 0, results)


class Scheduler:
    """Checks scenes on demand with `workers` processes: this one and `workers - 1` spawned.

    A spawned worker gets a scene only once it has started (importing pxr and MuJoCo takes it a
    second or so) and is free, one scene at a time. Until then, and whenever it waits for a
    result, this process checks pending scenes itself, from the back of the queue while the
    workers take them from the front. So worker start-up never holds a scene hostage, and a
    handful of scenes is not slower with more workers than with one.
    """

    def __init__(
        self, target: Target, options: CheckOptions, workers: int, artifacts: Path | None
    ) -> None:
        self.target = target
        self.options = options
        self.workers = workers
        self.artifacts = artifacts
        self._lock = threading.Lock()  # the pool's callbacks run in its own thread
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[str] = deque()
        self._futures: dict[str, Future[SceneResult]] = {}
        self._done: dict[str, SceneResult] = {}
        self.first_started: float | None = None
        self.last_finished: float | None = None

    def submit(self, scene_ids: Sequence[str]) -> None:
        """Queue scenes, in order; spawned workers (if any) start now and take them when ready."""
        self._mark_start()
        with self._lock:
            known = set(self._pending) | set(self._futures) | set(self._done)
            self._pending.extend(s for s in dict.fromkeys(scene_ids) if s not in known)
        if self.workers < 2 or self._pool is not None:
            return
        # spawn, not fork: the parent may run the local server's threads and hold pxr state
        self._pool = ProcessPoolExecutor(self.workers - 1, mp_context=get_context("spawn"))
        for _ in range(self.workers - 1):
            self._pool.submit(_worker_ready).add_done_callback(self._feed)

    def _feed(self, finished: Future[Any]) -> None:
        """A worker is free (started, or done with a scene): hand it the next pending scene."""
        with self._lock:
            if self._pool is None or not self._pending or finished.cancelled():
                return
            scene_id = self._pending.popleft()
            future = self._pool.submit(
                check_scene, self.target, scene_id, self.options, self.artifacts
            )
            self._futures[scene_id] = future
        future.add_done_callback(self._feed)

    def result(self, scene_id: str) -> SceneResult:
        """The scene's result: checked here, or by a worker while this process checks others."""
        self._mark_start()
        while True:
            with self._lock:
                if scene_id in self._done:
                    return self._done[scene_id]
                future = self._futures.get(scene_id)
                if future is None:  # still pending (or never queued): this process takes it
                    if scene_id in self._pending:
                        self._pending.remove(scene_id)
                    here = scene_id
                elif future.done() or not self._pending:
                    here = None
                else:
                    here = self._pending.pop()
            if here is not None:
                self._finish(here, check_scene(self.target, here, self.options, self.artifacts))
            else:
                assert future is not None
                self._finish(scene_id, _collect(scene_id, future, self.options.formats))

    def _finish(self, scene_id: str, result: SceneResult) -> None:
        with self._lock:
            self._futures.pop(scene_id, None)
            self._done[scene_id] = result
        self.last_finished = time.perf_counter()

    def elapsed(self) -> float:
        if self.first_started is None or self.last_finished is None:
            return 0.0
        return self.last_finished - self.first_started

    def _mark_start(self) -> None:
        if self.first_started is None:
            self.first_started = time.perf_counter()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None  # `_feed` hands out nothing from now on
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def new_report(target: str, workers: int, options: CheckOptions) -> Report:
    return Report(
        target=target,
        workers=workers,
        settings=options.to_json(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def run(
    target: Target,
    scene_ids: Sequence[str],
    options: CheckOptions,
    workers: int = 1,
    artifacts: Path | None = None,
    on_result: Callable[[SceneResult], None] | None = None,
) -> Report:
    """Check every scene; `on_result` sees each result as it arrives (in the given order)."""
    report = new_report(target.base_url, workers, options)
    with Scheduler(target, options, workers, artifacts) as scheduler:
        scheduler.submit(scene_ids)
        for scene_id in scene_ids:
            result = scheduler.result(scene_id)
            report.scenes.append(result)
            if on_result is not None:
                on_result(result)
        report.elapsed_seconds = scheduler.elapsed()
    return report


def write_reports(report: Report, directory: Path) -> tuple[Path, Path]:
    """`report.json` and `report.html` in `directory` (thumbnails are already in it)."""
    return write_json(report, directory / "report.json"), write_html(
        report, directory / "report.html"
    )
