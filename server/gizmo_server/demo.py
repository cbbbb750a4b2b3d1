"""The demo account: a fixed development key and three seeded scenes, the same on every run.

"Warehouse Workcell Alpha" holds an arm, two grippers facing each other above a table, a conveyor,
two bins and a tilted crate; "Pick Station Beta" and "Mobile Inspection Cell" are smaller. Seeding
goes straight to the store (assets are created ready) with fixed ids and timestamps, and is
idempotent, so a persistent data directory can be seeded again safely. The layout is physically
clean: at qpos0 no two placements' collision geoms overlap (tests/server/test_export_users.py).
"""

from __future__ import annotations

import math

from . import exports
from .ids import stable_id
from .rotation import Quaternion
from .service import Service

__all__ = ["DEMO_API_KEY", "DEMO_SCENE_NAME", "seed_demo"]

DEMO_API_KEY = "gzk_demo_local_development_key_not_secret"
DEMO_SCENE_NAME = "Warehouse Workcell Alpha"

# key: (name, prompt, tags)
_ASSETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "arm": ("Industrial Arm v1", "6-DOF industrial robot arm with a 0.9 m reach", ("robot",)),
    "gripper": (
        "Parallel Gripper",
        "parallel-jaw gripper with two prismatic fingers",
        ("end-effector",),
    ),
    "conveyor": ("Belt Conveyor", "2 m belt conveyor with powered rollers", ("logistics",)),
    "table": ("Steel Work Table", "steel work table, 1.2 m by 0.8 m", ("furniture",)),
    "bin": ("Parts Bin", "blue plastic parts bin", ("storage",)),
    "crate": ("Shipping Crate", "wooden shipping crate, 0.6 m cube", ("cargo",)),
    "shelf": ("Storage Shelf", "four-level steel storage shelf", ("storage",)),
    "mobile": ("Mobile Base", "wheeled mobile base for warehouse transport", ("robot",)),
}

_YAW = 30.0  # the workcell's grippers face each other along this heading
_DIR = (math.cos(math.radians(_YAW)), math.sin(math.radians(_YAW)))
_GRIP_CENTRE = (0.8, 0.0, 1.05)
_GRIP_GAP = 0.15
_TABLE_TOP = 0.775  # the work table's top surface: a bin standing on it touches, nothing more

# (scene key, name, description, [(asset key, position, (roll, pitch, yaw) degrees)])
_Placement = tuple[str, tuple[float, float, float], tuple[float, float, float]]
_SCENES: tuple[tuple[str, str, str, tuple[_Placement, ...]], ...] = (
    (
        "workcell-alpha",
        DEMO_SCENE_NAME,
        "An arm beside a work table, two grippers facing each other above it, a conveyor, "
        "two parts bins and a tilted shipping crate.",
        (
            ("table", (0.8, 0.0, 0.0), (0.0, 0.0, _YAW)),
            ("arm", (0.0, 0.0, 0.0), (0.0, 0.0, _YAW)),
            # Fingers point along +Z; pitching +-90 degrees turns them to face each other.
            (
                "gripper",
                (
                    _GRIP_CENTRE[0] - _GRIP_GAP * _DIR[0],
                    _GRIP_CENTRE[1] - _GRIP_GAP * _DIR[1],
                    _GRIP_CENTRE[2],
                ),
                (0.0, 90.0, _YAW),
            ),
            (
                "gripper",
                (
                    _GRIP_CENTRE[0] + _GRIP_GAP * _DIR[0],
                    _GRIP_CENTRE[1] + _GRIP_GAP * _DIR[1],
                    _GRIP_CENTRE[2],
                ),
                (0.0, -90.0, _YAW),
            ),
            ("conveyor", (2.2, -1.0, 0.0), (0.0, 0.0, -15.0)),
            ("bin", (1.6, 1.1, 0.0), (0.0, 0.0, 10.0)),
            ("bin", (2.4, 1.3, 0.0), (0.0, 0.0, 45.0)),
            ("crate", (-0.9, 1.2, 0.35), (12.0, -8.0, 20.0)),
        ),
    ),
    (
        "pick-station-beta",
        "Pick Station Beta",
        "An arm picking from a bin on a table.",
        (
            ("table", (0.8, 0.0, 0.0), (0.0, 0.0, -45.0)),
            ("arm", (0.0, 0.0, 0.0), (0.0, 0.0, -45.0)),
            ("bin", (0.85, -0.05, _TABLE_TOP), (0.0, 0.0, 17.5)),
        ),
    ),
    (
        "mobile-inspection",
        "Mobile Inspection Cell",
        "A mobile base between a shelf and a crate.",
        (
            ("mobile", (0.0, 0.0, 0.0), (0.0, 0.0, 120.0)),
            ("shelf", (1.5, 0.5, 0.0), (0.0, 0.0, -60.0)),
            ("crate", (-1.0, -0.8, 0.3), (0.0, 15.0, 75.0)),
        ),
    ),
)


def _time(hours: float) -> str:
    """Fixed timestamps (the demo is repeatable); the workcell is the newest."""
    return f"2025-01-01T{9 + int(hours):02d}:{int(hours % 1 * 60):02d}:00.000Z"


def seed_demo(service: Service) -> str:
    """Register `DEMO_API_KEY` and seed its scenes (idempotent); returns the account id."""
    account = service.accounts.register(DEMO_API_KEY)
    store = service.store
    asset_ids: dict[str, str] = {}
    for index, (key, (name, prompt, tags)) in enumerate(_ASSETS.items()):
        asset_ids[key] = stable_id("ast", f"demo/{key}")
        store.create_asset(
            account,
            name,
            prompt,
            tags,
            asset_id=asset_ids[key],
            status="ready",
            export_formats=exports.asset_export_formats(prompt),
            created_at=_time(index / 60),
        )
    for index, (key, name, description, placements) in enumerate(reversed(_SCENES)):
        scene_id = stable_id("scn", f"demo/{key}")
        created = _time(1 + index)
        store.create_scene(account, name, description, scene_id=scene_id, created_at=created)
        for number, (asset_key, position, (roll, pitch, yaw)) in enumerate(placements):
            rotation = Quaternion.from_euler_degrees(roll, pitch, yaw)
            store.add_placement(
                scene_id,
                asset_ids[asset_key],
                position,
                rotation.to_xyzw(),
                placement_id=stable_id("pla", f"demo/{key}/{number}"),
                added_at=created,
            )
    return account
