"""A fixed camera that frames a whole scene at qpos0, for the MJCF export's ``overview`` camera.

Users open an export and want to see all of it at once: the camera looks at the centre of the
scene's bounding box from above and in front, far enough back that the box's bounding sphere fits
the vertical field of view (the narrower one for any image at least as wide as tall).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gizmo_server.description import (
    AXIS_VECTOR,
    AssetDescription,
    Box,
    Capsule,
    Cylinder,
    Placement,
    Shape,
    Sphere,
)

FOVY_DEGREES = 45.0  # MuJoCo's default; written explicitly so the framing does not depend on it
# Seen from the front-left, 30 degrees above the horizon: the view of the default free camera.
_AZIMUTH, _ELEVATION = math.radians(-120.0), math.radians(30.0)
_MARGIN = 1.1  # a little room around the bounding sphere
_EMPTY_RADIUS = 1.0  # an empty scene: look at the origin from a few metres


@dataclass(frozen=True)
class Overview:
    """A camera pose: position and its frame's x and y axes (MJCF ``xyaxes``), world frame."""

    pos: tuple[float, float, float]
    xyaxes: tuple[float, float, float, float, float, float]


def _half_extents(shape: Shape) -> np.ndarray:
    """Half extents of the shape's box in its body's frame (geoms are never rotated there)."""
    match shape:
        case Box(size=size):
            return np.asarray(size, dtype=float) / 2
        case Sphere(radius=r):
            return np.full(3, r)
        case Cylinder(radius=r, length=h, axis=axis) | Capsule(radius=r, length=h, axis=axis):
            along = np.abs(np.asarray(AXIS_VECTOR[axis], dtype=float))
            tip = h / 2 + (r if isinstance(shape, Capsule) else 0.0)
            half: np.ndarray = r * (1 - along) + tip * along
            return half
    raise TypeError(f"unknown shape {shape!r}")


def _asset_box(asset: AssetDescription) -> np.ndarray:
    """The 8 corners of the box holding every geom of the asset at rest, in its root frame."""
    centres = np.array(
        [np.add(body.origin, geom.pos) for body in asset.bodies for geom in body.geoms]
    )
    halves = np.array([_half_extents(geom.shape) for body in asset.bodies for geom in body.geoms])
    low, high = (centres - halves).min(axis=0), (centres + halves).max(axis=0)
    return np.array([[(low, high)[k][i] for i, k in enumerate(c)] for c in np.ndindex(2, 2, 2)])


def scene_bounds(placements: Sequence[Placement]) -> tuple[np.ndarray, np.ndarray] | None:
    """World-frame (low, high) corners holding every geom at qpos0; None for an empty scene.

    Each distinct asset's box is computed once; a placement moves its 8 corners (a scene of
    1000 placements costs milliseconds, not a share of the export)."""
    if not placements:
        return None
    boxes: dict[int, np.ndarray] = {}
    for placement in placements:
        if id(placement.asset) not in boxes:
            boxes[id(placement.asset)] = _asset_box(placement.asset)
    local = np.stack([boxes[id(p.asset)] for p in placements])  # (n, 8, 3)
    rotations = np.array([p.rotation.to_matrix() for p in placements])  # (n, 3, 3)
    positions = np.array([p.position for p in placements])  # (n, 3)
    world = np.einsum("nij,nkj->nki", rotations, local) + positions[:, None, :]
    return world.min(axis=(0, 1)), world.max(axis=(0, 1))


def overview(placements: Sequence[Placement]) -> Overview:
    """The camera that keeps every placement in view (rounded to 0.1 mm for readable text)."""
    bounds = scene_bounds(placements)
    if bounds is None:
        centre, radius = np.zeros(3), _EMPTY_RADIUS
    else:
        low, high = bounds
        centre, radius = (low + high) / 2, max(float(np.linalg.norm(high - low)) / 2, 0.1)
    back = np.array(
        [
            math.cos(_AZIMUTH) * math.cos(_ELEVATION),
            math.sin(_AZIMUTH) * math.cos(_ELEVATION),
            math.sin(_ELEVATION),
        ]
    )
    distance = _MARGIN * radius / math.sin(math.radians(FOVY_DEGREES) / 2)
    right = np.cross((0.0, 0.0, 1.0), back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)

    def rounded(values: np.ndarray) -> list[float]:
        return [round(float(v), 4) + 0.0 for v in values]  # + 0.0 turns -0.0 into 0.0

    x, y = rounded(right), rounded(up)
    px, py, pz = rounded(centre + distance * back)
    return Overview((px, py, pz), (x[0], x[1], x[2], y[0], y[1], y[2]))
