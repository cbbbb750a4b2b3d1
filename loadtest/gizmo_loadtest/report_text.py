"""The console summary: one row per case, then every finding, then the totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .findings import FormatResult, Report

__all__ = ["describe_settings", "outcome", "short_node", "summary", "throughput"]

_FORMAT_NAMES = {"mujoco_mjcf": "MJCF", "isaac_sim_usd": "USD"}


def describe_settings(settings: dict[str, Any]) -> str:
    """The run's settings as a person reads them (report.json keeps the raw values)."""
    parts = []
    if "formats" in settings:
        formats = [_FORMAT_NAMES.get(f, f) for f in settings["formats"]]
        parts.append("formats " + " and ".join(formats))
    if "steps" in settings:
        parts.append(f"{settings['steps']} MuJoCo steps")
    tol = settings.get("tolerances") or {}
    if tol:
        parts.append(
            f"tolerances {tol['position']:g} m / {tol['rotation']:g} rad "
            f"(joint frames {tol['joint_position']:g} m / {tol['joint_rotation']:g} rad)"
        )
    if "thumbnails" in settings:
        parts.append("thumbnails " + ("on" if settings["thumbnails"] else "off"))
    if "engine" in settings:
        parts.append(f"checked in {settings['engine']}")
    return "; ".join(parts)


def throughput(report: Report) -> str:
    """`N scenes/min`, or why there is none (a run too short to time)."""
    rate = report.scenes_per_minute
    return "too short to time" if rate is None else f"{rate:.1f} scenes/min"


def outcome(result: FormatResult) -> str:
    """`pass`, `FAIL` or `skip`: one word per case, shared by every report."""
    if result.skipped:
        return "skip"
    return "pass" if result.passed else "FAIL"


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f}" if seconds is not None else "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *rows]
    ]


def short_node(node: str) -> str:
    """A node as the reports show it: a Ray node id (56 hex digits) is cut to its first 12."""
    return node[:12]


def summary(report: Report) -> str:
    """The table; a NODE column when more than one node (machine, Ray node) checked scenes."""
    nodes = len({scene.node for scene in report.scenes}) > 1
    rows = [
        [
            scene.scene_id,
            scene.scene_name[:32],
            result.format,
            outcome(result),
            _ms(result.load_seconds),
            str(len(result.findings)),
        ]
        + ([short_node(scene.node)] if nodes else [])
        for scene, result in report.cases()
    ]
    headers = ["SCENE", "NAME", "FORMAT", "RESULT", "LOAD ms", "FINDINGS"]
    lines = _table(headers + (["NODE"] if nodes else []), rows)
    failed = [(s, r) for s, r in report.cases() if r.findings]
    if failed:
        lines += ["", "Findings:"]
        for scene, result in failed:
            lines += [f"  {scene.scene_id} [{result.format}] {f}" for f in result.findings]
    cases = report.cases()
    counts = {word: sum(outcome(r) == word for _, r in cases) for word in ("pass", "FAIL", "skip")}
    worker_word = "worker" if report.workers == 1 else "workers"
    lines += [
        "",
        f"{len(report.scenes)} scene(s), {len(cases)} case(s): {counts['pass']} passed, "
        f"{counts['FAIL']} failed, {counts['skip']} skipped in {report.elapsed_seconds:.1f} s "
        f"({throughput(report)}, {report.workers} {worker_word})",
    ]
    if report.partial:
        lines.append("PARTIAL: interrupted; only the scenes finished by then are reported")
    return "\n".join(lines)
