"""The results model: findings, per-format results, per-scene results and the whole run's report.

Everything here is plain data (picklable, so worker processes can hand it back) and turns into
JSON through `to_json`. A check that fails returns a `Finding`; it never raises.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from gizmo_client.models import ExportFormat

__all__ = [
    "CROSS",
    "FORMATS",
    "MJCF",
    "USD",
    "Finding",
    "FormatResult",
    "Pose",
    "Report",
    "SceneResult",
]

MJCF = ExportFormat.MUJOCO_MJCF.value
USD = ExportFormat.ISAAC_SIM_USD.value
FORMATS: tuple[str, ...] = (MJCF, USD)
MIN_TIMED_SECONDS = 0.05
CROSS = "cross_format"
"""The pseudo-format of the check that both exports agree with each other."""

Vec3 = tuple[float, float, float]
Matrix3 = tuple[Vec3, Vec3, Vec3]


@dataclass(frozen=True)
class Pose:
    """A frame in the scene: position (m) and row-major rotation matrix (body -> scene)."""

    position: Vec3
    rotation: Matrix3


@dataclass(frozen=True)
class Finding:
    """One defect: which check found it, what is wrong, and where (placement, prim or body)."""

    check: str
    message: str
    placement: str | None = None
    where: str | None = None

    def __str__(self) -> str:
        subject = f"placement {self.placement}: " if self.placement else ""
        location = f" [{self.where}]" if self.where else ""
        return f"{self.check}: {subject}{self.message}{location}"

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "message": self.message,
            "placement": self.placement,
            "where": self.where,
        }


@dataclass
class FormatResult:
    """The checks of one export format of one scene (or the cross-format comparison)."""

    format: str
    findings: list[Finding] = field(default_factory=list)
    file: str | None = None
    fetch_seconds: float | None = None
    load_seconds: float | None = None
    from_cache: bool | None = None
    stats: dict[str, float | int] = field(default_factory=dict)
    skipped: str | None = None
    """Why the case could not run at all (it then neither passes nor fails)."""
    notes: list[str] = field(default_factory=list)
    """Remarks that do not fail the case (matched by order, thumbnail not rendered...)."""
    root_poses: dict[str, Pose] = field(default_factory=dict)
    """Placement key -> root frame as found in the export (for the cross-format check)."""

    @property
    def passed(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "passed": self.passed,
            "skipped": self.skipped,
            "file": self.file,
            "fetch_seconds": self.fetch_seconds,
            "load_seconds": self.load_seconds,
            "from_cache": self.from_cache,
            "stats": self.stats,
            "notes": self.notes,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class SceneResult:
    """Every case of one scene: one `FormatResult` per format checked, plus the cross check."""

    scene_id: str
    scene_name: str
    placements: int
    results: dict[str, FormatResult] = field(default_factory=dict)
    seconds: float = 0.0
    thumbnails: dict[str, str] = field(default_factory=dict)
    """Format -> PNG of that export drawn at t=0 (USD stages drawn by MuJoCo's renderer too)."""
    process: int = field(default_factory=os.getpid)
    """The process that checked the scene (which worker, when a run is parallel)."""
    node: str = field(default_factory=socket.gethostname)
    """The machine that checked it: its host name, or the Ray node id on a cluster."""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.scene_id,
            "name": self.scene_name,
            "placements": self.placements,
            "passed": self.passed,
            "seconds": self.seconds,
            "process": self.process,
            "node": self.node,
            "thumbnails": self.thumbnails,
            "results": {name: r.to_json() for name, r in self.results.items()},
        }


@dataclass
class Report:
    """A whole run: where it pointed, how it was configured, every scene, and the throughput."""

    target: str
    workers: int
    settings: dict[str, Any]
    scenes: list[SceneResult] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    started_at: str = ""
    partial: bool = False
    """The run was interrupted (Ctrl-C): only the scenes finished by then are in it."""

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scenes)

    @property
    def scenes_per_minute(self) -> float | None:
        """None for a run too short to time (under 0.05 s, shown as 0.0 s): no made-up rate."""
        if self.elapsed_seconds < MIN_TIMED_SECONDS or not self.scenes:
            return None
        return 60.0 * len(self.scenes) / self.elapsed_seconds

    def cases(self) -> list[tuple[SceneResult, FormatResult]]:
        return [(s, r) for s in self.scenes for r in s.results.values()]

    def to_json(self) -> dict[str, Any]:
        cases = self.cases()
        return {
            "tool": "gizmo loadtest",
            "target": self.target,
            "started_at": self.started_at,
            "elapsed_seconds": self.elapsed_seconds,
            "workers": self.workers,
            "scenes_per_minute": self.scenes_per_minute,
            "partial": self.partial,
            "settings": self.settings,
            "passed": self.passed,
            "summary": {
                "scenes": len(self.scenes),
                "cases": len(cases),
                "failed_cases": sum(not r.passed for _, r in cases),
                "findings": sum(len(r.findings) for _, r in cases),
            },
            "scenes": [s.to_json() for s in self.scenes],
        }
