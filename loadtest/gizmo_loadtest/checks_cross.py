"""Cross-format check: the MJCF and the USD export put every placement root at the same pose.

Each export is also compared with the API on its own; this catches the exports drifting apart
even when a loose tolerance lets both pass alone.
"""

from __future__ import annotations

from .findings import CROSS, FormatResult
from .options import Tolerances
from .placements import compare_pose

__all__ = ["check_cross"]


def check_cross(
    mjcf: FormatResult, usd: FormatResult, labels: dict[str, str], tol: Tolerances
) -> FormatResult:
    """Compare the placement roots both exports hold; `labels` maps placement keys to labels."""
    result = FormatResult(CROSS)
    unloaded = [r.format for r in (mjcf, usd) if r.load_seconds is None]
    if unloaded:
        exports = "export" if len(unloaded) == 1 else "exports"
        result.skipped = f"not compared: the {' and '.join(unloaded)} {exports} did not load"
        return result
    common = [key for key in mjcf.root_poses if key in usd.root_poses]
    result.stats["compared"] = len(common)
    for key in common:
        finding = compare_pose(
            "cross.pose",
            "MJCF root body and USD root prim disagree",
            usd.root_poses[key],
            mjcf.root_poses[key],
            tol.position,
            tol.rotation,
            placement=labels.get(key, key),
            where=None,
        )
        if finding:
            result.findings.append(finding)
    return result
