"""The catalog: premade assets, one per kind the parametric generator builds."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gizmo_server.generator import generate

__all__ = ["CATEGORIES", "entries"]

# slug, name, category, prompt
_ENTRIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "robot-arm-6dof",
        "6-DOF Robot Arm",
        "robots",
        "6-DOF industrial robot arm with a 0.9 m reach",
    ),
    ("mobile-base", "Wheeled Mobile Base", "robots", "wheeled mobile base for warehouse transport"),
    (
        "parallel-gripper",
        "Parallel Gripper",
        "end_effectors",
        "parallel-jaw gripper with two fingers",
    ),
    ("belt-conveyor", "Belt Conveyor", "logistics", "2 m belt conveyor with powered rollers"),
    ("parts-bin", "Parts Bin", "logistics", "blue plastic parts bin"),
    ("shipping-crate", "Shipping Crate", "logistics", "wooden shipping crate, 0.5 m cube"),
    ("steel-workbench", "Steel Workbench", "furniture", "steel workbench, 1.2 m by 0.8 m"),
    ("work-table", "Work Table", "furniture", "work table, 1.0 m by 0.7 m"),
    ("storage-shelf", "Storage Shelf", "furniture", "four-level steel storage shelf"),
)
CATEGORIES = tuple(dict.fromkeys(category for _, _, category, _ in _ENTRIES))


@lru_cache(maxsize=1)
def entries() -> tuple[dict[str, Any], ...]:
    """Every catalog entry, described from the asset the generator builds for it."""
    out = []
    for slug, name, category, prompt in _ENTRIES:
        asset = generate(prompt)
        out.append(
            {
                "slug": slug,
                "name": name,
                "category": category,
                "kind": asset.kind.value,
                "prompt": prompt,
                "fixed_base": asset.fixed_base,
                "joints": len(asset.joints),
                "mass_kg": round(sum(b.inertial.mass for b in asset.bodies), 3),
            }
        )
    return tuple(out)
