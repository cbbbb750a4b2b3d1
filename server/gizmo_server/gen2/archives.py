"""Export ZIPs: the primary file at the root (`scene.xml`, `scene.usda`, `scene.sdf`), anything
else in sub-folders by relative path (`robots/franka_panda.xml` with `robot_profile`).

MJCF and USD come from the alpha writers through `gizmo_server.exports` (the planner's objects
become placements named after the objects); USD is delivered as a text layer (`.usda`), converted
from the writer's crate by usd-core. SDFormat comes from `sdf`.

Each ZIP is built through the export pool of the request being served (`export_pool.render`): a
big one in a worker process, which answers the ZIP's bytes (the route sends them as the answer,
so storing a blob first would only add a copy).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from gizmo_server import export_pool, exports, zips
from gizmo_server.rotation import Quaternion

from . import franka, sdf

__all__ = ["FORMATS", "ROBOT_PROFILES", "asset_zip", "scene_zip"]

Format = Literal["mjcf", "usd", "sdf"]
FORMATS: tuple[Format, ...] = ("mjcf", "usd", "sdf")
ROBOT_PROFILES = ("franka_panda",)
_README = "Exported by gizmo-server (local stand-in for Gizmo; not the real service).\n"


def _placements(record: Mapping[str, Any]) -> list[exports.PlacementInput]:
    return [
        exports.PlacementInput(
            placement_id=o["name"],
            asset_id=o["asset_id"],
            asset_name=o["label"],  # the writers name it <label>_<ordinal>, as the record does
            prompt=o["prompt"],
            position=(o["position"]["x"], o["position"]["y"], o["position"]["z"]),
            rotation=Quaternion(**o["rotation"]),
        )
        for o in record["objects"]
    ]


def _usda(crate: bytes) -> bytes:
    from pxr import Sdf

    with tempfile.TemporaryDirectory(prefix="gizmo-usd-") as folder:
        path = Path(folder) / "scene.usd"
        path.write_bytes(crate)
        layer = Sdf.Layer.FindOrOpen(str(path))
        text: str = layer.ExportToString()
    return text.encode("utf-8")


def _primary(
    stem: str, ident: str, name: str, record: Mapping[str, Any], fmt: Format
) -> dict[str, bytes]:
    """The primary file first, then the files it names (MJCF and USD: ``textures/*.png``)."""
    if fmt == "sdf":
        return {f"{stem}.sdf": sdf.write_world(name, record)}
    placements = _placements(record)
    if fmt == "mjcf":
        xml = exports.render_scene(ident, name, placements, exports.MUJOCO_MJCF, textures=True)
        return {f"{stem}.xml": xml.data, **xml.files}
    crate = exports.render_scene(ident, name, placements, exports.ISAAC_SIM_USD, textures=True)
    return {f"{stem}.usda": _usda(crate.data), **crate.files}


def scene_zip(
    scene_id: str,
    name: str,
    record: Mapping[str, Any],
    fmt: Format,
    robot_profile: str | None,
    fault: str | None = None,
) -> bytes:
    """The scene's ZIP; `fault` (one of `zips.ZIP_FAULTS`) damages it."""
    objects = len(record["objects"])
    args = (scene_id, name, dict(record), fmt, robot_profile, fault)
    return export_pool.render(_scene_zip, *args, placements=objects, textured=fmt != "sdf")


def asset_zip(asset_id: str, name: str, prompt: str, fmt: Format) -> bytes:
    """One asset at the origin, as a one-object scene (`asset.xml`, `asset.usda`, `asset.sdf`)."""
    record = {
        "room": None,
        "objects": [
            {
                "name": asset_id,
                "label": name,
                "asset_id": asset_id,
                "prompt": prompt,
                "position": {"x": 0.0, "y": 0.0, "z": 0.0},
                "rotation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
            }
        ],
    }
    return export_pool.render(
        _zip, "asset", asset_id, name, record, fmt, None, placements=1, textured=fmt != "sdf"
    )


def _scene_zip(
    scene_id: str,
    name: str,
    record: Mapping[str, Any],
    fmt: Format,
    robot_profile: str | None,
    fault: str | None,
) -> bytes:
    robot = robot_profile == "franka_panda"
    extra = {"robots/franka_panda.xml": franka.write_mjcf()} if robot else {}
    return _zip("scene", scene_id, name, record, fmt, fault, extra)


def _zip(
    stem: str,
    ident: str,
    name: str,
    record: Mapping[str, Any],
    fmt: Format,
    fault: str | None,
    extra: Mapping[str, bytes] | None = None,
) -> bytes:
    """Primary file, README and `extra` packed; runs in an export worker for big ZIPs."""
    files = {**_primary(stem, ident, name, record, fmt), "README.txt": _README.encode()}
    return zips.pack({**files, **(extra or {})}, fault)
