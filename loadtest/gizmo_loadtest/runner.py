"""Run the checks: per scene, fetch each format, check it, compare the formats.

Where scenes get checked (this process, local processes, a Ray cluster) is `engines`' concern;
`run` and the pytest plugin both go through `engines.Checks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

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

__all__ = [
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


def thumbnail_path(artifacts: Path, scene_id: str) -> Path:
    """Where a scene's MuJoCo thumbnail goes in the artifacts directory."""
    return artifacts / THUMBNAILS / f"{scene_id}.png"


def _thumbnail(artifacts: Path | None, scene_id: str) -> Path | None:
    return thumbnail_path(artifacts, scene_id) if artifacts is not None else None


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
    with Checks(engine, options.formats) as checks:
        checks.submit(scene_ids)
        done: dict[str, SceneResult] = {}
        for result in checks.as_completed():
            done[result.scene_id] = result
            if on_result is not None:
                on_result(result)
        report.elapsed_seconds = checks.elapsed()
    report.scenes = [done[s] for s in dict.fromkeys(scene_ids)]
    return report


def write_reports(report: Report, directory: Path) -> tuple[Path, Path]:
    """`report.json` and `report.html` in `directory` (thumbnails are already in it)."""
    return write_json(report, directory / "report.json"), write_html(
        report, directory / "report.html"
    )
