"""Match the API's placements to what an export holds, and compare poses against the API.

Matching is by placement id (USD `gizmo:placementId`, or the `<placement id>/` name prefix in
MJCF). Exports that carry no ids at all are matched by order, which is the best that can be done
and is said so in the report (`by_order`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from gizmo_client.models import PlacedAsset, Scene

from .findings import Finding, Matrix3, Pose, Vec3

__all__ = [
    "ORDER_NOTE",
    "Expected",
    "Matching",
    "api_pose",
    "compare_pose",
    "expected_placements",
    "match",
    "matching_findings",
    "placement_mentioned",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Expected:
    """One placement of the API's scene; `key` is its id, or `#<n>` when the API gave none."""

    key: str
    index: int
    placement: PlacedAsset

    @property
    def label(self) -> str:
        name = self.placement.name or self.placement.asset_id
        return f"{self.key} ({name})"


def expected_placements(scene: Scene) -> list[Expected]:
    return [Expected(p.id or f"#{i + 1}", i, p) for i, p in enumerate(scene.assets)]


@dataclass
class Matching(Generic[T]):
    """Which export item stands for which placement, and what is missing or extra."""

    pairs: list[tuple[Expected, T]] = field(default_factory=list)
    missing: list[Expected] = field(default_factory=list)
    unexpected: list[tuple[str, T]] = field(default_factory=list)
    duplicates: list[tuple[str, T]] = field(default_factory=list)
    """(placement label, the extra item) for each id found more than once."""
    by_order: bool = False


def match(expected: Sequence[Expected], found: Sequence[tuple[str | None, T]]) -> Matching[T]:
    """Pair placements with export items `(id or None, item)` given in export order.

    A scene without API placements (the newer generation, or a file checked without its scene)
    pairs nothing and finds nothing unexpected: its objects are checked on their own terms."""
    if not expected:
        return Matching()
    api_has_ids = all(e.placement.id for e in expected)
    export_has_ids = any(pid is not None for pid, _ in found)
    if not (api_has_ids and export_has_ids):
        return _match_by_order(expected, [item for _, item in found])
    result: Matching[T] = Matching()
    labels = {e.key: e.label for e in expected}
    by_id: dict[str, T] = {}
    for pid, item in found:
        if pid is None:
            continue
        if pid in by_id:
            result.duplicates.append((labels.get(pid, pid), item))
        else:
            by_id[pid] = item
    known = set(labels)
    for e in expected:
        if e.key in by_id:
            result.pairs.append((e, by_id[e.key]))
        else:
            result.missing.append(e)
    result.unexpected = [(pid, item) for pid, item in by_id.items() if pid not in known]
    return result


def _match_by_order(expected: Sequence[Expected], items: Sequence[T]) -> Matching[T]:
    result: Matching[T] = Matching(by_order=True)
    result.pairs = list(zip(expected, items, strict=False))
    result.missing = list(expected[len(items) :])
    result.unexpected = [(f"#{i + 1}", item) for i, item in enumerate(items) if i >= len(expected)]
    return result


def api_pose(placement: PlacedAsset) -> Pose:
    """The pose the API gives a placement's root frame."""
    return Pose(placement.position.as_tuple(), placement.rotation.to_matrix())


def rotation_angle(a: Matrix3, b: Matrix3) -> float:
    """The angle (rad) of the rotation between two rotation matrices.

    From the Frobenius distance, ``|A - B| = 2 sqrt(2) sin(angle / 2)``, which stays accurate
    for tiny angles where ``acos((trace - 1) / 2)`` loses everything below ~1e-8.
    """
    squared = sum((a[i][j] - b[i][j]) ** 2 for i in range(3) for j in range(3))
    return 2.0 * math.asin(min(1.0, math.sqrt(squared) / (2.0 * math.sqrt(2.0))))


def distance(a: Vec3, b: Vec3) -> float:
    return math.dist(a, b)


def compare_pose(
    check: str,
    what: str,
    expected: Pose,
    actual: Pose,
    position_tol: float,
    rotation_tol: float,
    *,
    placement: str | None,
    where: str | None,
) -> Finding | None:
    """A finding when `actual` strays from `expected` beyond the tolerances, else None."""
    dpos = distance(expected.position, actual.position)
    dang = rotation_angle(expected.rotation, actual.rotation)
    if dpos <= position_tol and dang <= rotation_tol:
        return None
    parts = []
    if dpos > position_tol:
        offset = tuple(
            round(a - e, 9) for a, e in zip(actual.position, expected.position, strict=True)
        )
        parts.append(
            f"position off by {dpos:.3g} m: expected {_xyz(expected.position)}, "
            f"got {_xyz(actual.position)} (delta {offset}, tolerance {position_tol:g} m)"
        )
    if dang > rotation_tol:
        parts.append(
            f"rotation off by {math.degrees(dang):.4g} deg ({dang:.3g} rad, "
            f"tolerance {rotation_tol:g} rad): expected x axis {_xyz(_column(expected, 0))}, "
            f"got {_xyz(_column(actual, 0))}"
        )
    return Finding(check, f"{what}: " + "; ".join(parts), placement=placement, where=where)


def _xyz(v: Vec3) -> str:
    return "(" + ", ".join(f"{c:.4g}" for c in v) + ")"


def _column(pose: Pose, axis: int) -> Vec3:
    """Where the body's axis points in the scene (a column of its rotation matrix)."""
    r = pose.rotation
    return (r[0][axis], r[1][axis], r[2][axis])


def matching_findings(
    prefix: str, matching: Matching[T], where: Callable[[T], str]
) -> list[Finding]:
    """Findings for placements the export lacks, holds twice, or holds without the API knowing."""
    findings = [
        Finding(f"{prefix}.missing_placement", "missing from the export", placement=e.label)
        for e in matching.missing
    ]
    findings += [
        Finding(
            f"{prefix}.duplicate_placement",
            "its placement id appears more than once in the export",
            placement=label,
            where=where(item),
        )
        for label, item in matching.duplicates
    ]
    findings += [
        Finding(
            f"{prefix}.unexpected_placement",
            f"the export holds placement {pid!r}, which the API scene does not list",
            where=where(item),
        )
        for pid, item in matching.unexpected
    ]
    return findings


ORDER_NOTE = "the export carries no placement ids; placements were matched by order"


def placement_mentioned(text: str, scene: Scene) -> str | None:
    """The placement whose id occurs last in `text`: where a broken file breaks off, or the
    placement a loader's error message names."""
    best: str | None = None
    best_at = -1
    for expected in expected_placements(scene):
        at = text.rfind(expected.placement.id) if expected.placement.id else -1
        if at > best_at:
            best, best_at = expected.label, at
    return best
