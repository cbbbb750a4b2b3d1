"""Run the checks: per scene, fetch each format, check it, compare the formats.

Where scenes get checked (this process, local processes, a Ray cluster) is `engines`' concern;
`run` and the pytest plugin both go through `engines.Checks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoError
from gizmo_client.models import Scene

from .checks_cross import check_cross
from .checks_mjcf import check_mjcf
from .checks_objects import check_objects
from .checks_usd import check_usd
from .engines import Checks, InProcess, make_engine
from .fetch import LoadtestInputError, Target, detect_format, unpack_export
from .findings import CROSS, MJCF, USD, Finding, FormatResult, Report, SceneResult
from .options import CheckOptions
from .placements import expected_placements
from .report_html import write_html
from .report_json import write_json
from .thumbnail_usd import render_usd_png

__all__ = [
    "RunInterrupted",
    "check_export",
    "check_files",
    "check_scene",
    "new_report",
    "run",
    "thumbnail_path",
    "write_reports",
]

THUMBNAILS = "thumbnails"


def check_export(
    fmt: str, path: Path, scene: Scene, options: CheckOptions, thumbnail: Path | None = None
) -> FormatResult:
    """Every check of one format on one export file; `thumbnail` gets its picture at t=0.

    A check that crashes becomes a finding: one file that trips up pxr or MuJoCo in a way nobody
    foresaw must fail its case, not hide the results of every other scene.
    """
    thumbnail = thumbnail if options.thumbnails else None
    if thumbnail is not None:
        thumbnail.unlink(missing_ok=True)  # an earlier run's picture must not pass for this one's
    try:
        if fmt == MJCF:
            return check_mjcf(path, scene, options, thumbnail)
        result = check_usd(path, scene, options)
    except Exception as exc:
        crash = Finding("crash", f"the {fmt} checks crashed: {type(exc).__name__}: {exc}")
        return FormatResult(fmt, [crash], file=str(path))
    if thumbnail is not None and result.load_seconds is not None:
        _usd_thumbnail(path, thumbnail, result)
    return result


def _usd_thumbnail(path: Path, png: Path, result: FormatResult) -> None:
    started = time.perf_counter()
    try:
        render_usd_png(path, png)
    except (ValueError, GizmoError) as exc:  # nothing drawable, or no OpenGL here
        result.notes.append(f"no thumbnail: {exc}")
        return
    result.stats["thumbnail_seconds"] = time.perf_counter() - started


def _assemble(
    scene: Scene, results: dict[str, FormatResult], options: CheckOptions, started: float
) -> SceneResult:
    """The scene's result: its format results plus the cross check when both formats ran."""
    if MJCF in results and USD in results:
        labels = {e.key: e.label for e in expected_placements(scene)}
        cross = check_cross(results[MJCF], results[USD], labels, options.tolerances)
        mjcf_file, usd_file = results[MJCF].file, results[USD].file
        if not scene.assets and cross.skipped is None and mjcf_file and usd_file:
            # No API placements to pair them through: pair the objects themselves.
            found, compared = check_objects(Path(mjcf_file), Path(usd_file), options.tolerances)
            cross.findings += found
            cross.stats["objects_compared"] = compared
        results[CROSS] = cross
    return SceneResult(
        scene.id, scene.name, len(scene.assets), results, time.perf_counter() - started
    )


def thumbnail_path(artifacts: Path, scene_id: str, fmt: str) -> Path:
    """Where a scene's thumbnail of one format goes in the artifacts directory."""
    suffix = "" if fmt == MJCF else ".usd"
    return artifacts / THUMBNAILS / f"{scene_id}{suffix}.png"


def _thumbnail(artifacts: Path | None, scene_id: str, fmt: str) -> Path | None:
    return thumbnail_path(artifacts, scene_id, fmt) if artifacts is not None else None


def _thumbnails(artifacts: Path | None, scene_id: str, formats: Sequence[str]) -> dict[str, str]:
    """The thumbnails that were drawn, by format."""
    found = {fmt: _thumbnail(artifacts, scene_id, fmt) for fmt in formats if fmt in (MJCF, USD)}
    return {fmt: str(path) for fmt, path in found.items() if path is not None and path.is_file()}


def check_scene(
    target: Target, scene_id: str, options: CheckOptions, artifacts: Path | None
) -> SceneResult:
    """Export, download (through the cache) and check one scene in every format asked for."""
    started = time.perf_counter()
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
            thumbnail = _thumbnail(artifacts, scene_id, fmt)
            result = check_export(fmt, fetched.path, fetched.scene, options, thumbnail)
            result.fetch_seconds = fetch_seconds
            result.from_cache = fetched.from_cache
            results[fmt] = result
        if scene is None:  # no export arrived: the report still names the scene
            scene = _scene_or_stand_in(client, scene_id)
    outcome = _assemble(scene, results, options, started)
    outcome.thumbnails = _thumbnails(artifacts, scene_id, list(results))
    return outcome


def _scene_or_stand_in(client: GizmoClient, scene_id: str) -> Scene:
    """The scene object for its name, or (when even that fails) a stand-in named by its id."""
    try:
        return client.scenes.get(scene_id)
    except (GizmoError, OSError):
        return Scene(id=scene_id, name=scene_id)


def check_files(
    files: Sequence[Path],
    scene: Scene,
    options: CheckOptions,
    artifacts: Path | None,
    workdir: Path,
) -> SceneResult:
    """The offline check: downloaded exports (one per format, ZIPs unpacked) against a scene."""
    started = time.perf_counter()
    exports: dict[str, Path] = {}
    for given in files:  # every input checked before anything is written
        path = unpack_export(given, workdir)
        fmt = detect_format(path)
        if fmt in exports:
            raise LoadtestInputError(
                f"Two {fmt} exports were given (the second is {given})",
                hint="Give at most one USD and one MJCF export per scene.",
            )
        exports[fmt] = path
    results: dict[str, FormatResult] = {}
    for fmt, path in exports.items():
        thumbnail = _thumbnail(artifacts, scene.id, fmt)
        results[fmt] = check_export(fmt, path, scene, options, thumbnail)
    outcome = _assemble(scene, results, options, started)
    outcome.thumbnails = _thumbnails(artifacts, scene.id, list(results))
    return outcome


def new_report(
    target: str, options: CheckOptions, workers: int = 1, engine: str = InProcess.description
) -> Report:
    """An empty report; `engine` says where the scenes are checked (`Engine.description`)."""
    return Report(
        target=target,
        workers=workers,
        settings={**options.to_json(), "engine": engine},
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def run(
    target: Target,
    scene_ids: Sequence[str],
    options: CheckOptions,
    workers: int = 1,
    artifacts: Path | None = None,
    on_result: Callable[[SceneResult], None] | None = None,
    ray: str | None = None,
) -> Report:
    """Check every scene in `workers` local processes, or as Ray tasks at `ray` (an address,
    `auto` or `local`); `on_result` sees each result as it finishes. The report lists the
    scenes in the given order."""
    engine = make_engine(target, options, artifacts, workers, ray)
    report = new_report(target.name, options, engine.workers, engine.description)
    done: dict[str, SceneResult] = {}
    with Checks(engine, options.formats) as checks:
        checks.submit(scene_ids)
        try:
            for result in checks.as_completed():
                done[result.scene_id] = result
                if on_result is not None:
                    on_result(result)
        except KeyboardInterrupt as exc:
            report.elapsed_seconds = checks.elapsed()
            report.partial = True
            report.scenes = [done[s] for s in dict.fromkeys(scene_ids) if s in done]
            raise RunInterrupted(report) from exc
        report.elapsed_seconds = checks.elapsed()
    report.scenes = [done[s] for s in dict.fromkeys(scene_ids)]
    return report


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run`: the checks still outstanding were cancelled; `report` holds the
    scenes finished by then (marked partial), for the caller to write before it exits."""

    def __init__(self, report: Report) -> None:
        super().__init__("interrupted")
        self.report = report


def write_reports(report: Report, directory: Path) -> tuple[Path, Path]:
    """`report.json` and `report.html` in `directory` (thumbnails are already in it)."""
    return write_json(report, directory / "report.json"), write_html(
        report, directory / "report.html"
    )
