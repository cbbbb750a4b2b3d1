"""A scene's record (its graph as stored and shown with `include_record=true`) <-> `Layout`.

Rotations are stored scalar-last like the wire. Every planned object stands upright (identity),
so the record's rotation is always identity today; it is still read back, not assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gizmo_server.description import Kind

from .planner import Item, Layout

__all__ = ["layout_from_record", "record_from_layout"]

IDENTITY = {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}


def _xyz(values: tuple[float, ...]) -> dict[str, float]:
    return {axis: round(value, 6) for axis, value in zip("xyz", values, strict=False)}


def record_from_layout(layout: Layout, asset_ids: Mapping[str, str]) -> dict[str, Any]:
    """The record; `asset_ids` maps each object's prompt to the asset that holds it."""
    return {
        "units": "m",
        "up_axis": "Z",
        "room": {
            "width": layout.width,
            "depth": layout.depth,
            "walls": [
                {"name": w.name, "position": _xyz(w.centre), "size": _xyz(w.size)}
                for w in layout.walls
            ],
        },
        "objects": [
            {
                "name": item.name,
                "label": item.label,
                "kind": item.kind.value,
                "asset_id": asset_ids[item.prompt],
                "prompt": item.prompt,
                "position": _xyz(item.position),
                "rotation": dict(IDENTITY),
                "fixed": item.fixed,
                "size": _xyz(item.size),
                "footprint_centre": _xyz(item.centre),
            }
            for item in layout.items
        ],
    }


def layout_from_record(record: Mapping[str, Any]) -> Layout:
    room = record["room"]
    items = tuple(
        Item(
            name=o["name"],
            label=o["label"],
            kind=Kind(o["kind"]),
            prompt=o["prompt"],
            position=(o["position"]["x"], o["position"]["y"], o["position"]["z"]),
            size=(o["size"]["x"], o["size"]["y"], o["size"]["z"]),
            centre=(o["footprint_centre"]["x"], o["footprint_centre"]["y"]),
            fixed=o["fixed"],
        )
        for o in record["objects"]
    )
    return Layout(room["width"], room["depth"], items)
