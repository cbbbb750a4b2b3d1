"""Triangle meshes of the description's primitive shapes: the visual geometry of every export.

Real Gizmo exports draw objects with meshes and collide with simple shapes; so do ours. Each mesh
is built in the geom's own frame (centred at the origin, long axis along the shape's ``axis``)
with per-vertex normals and UVs. Vertices are split where a normal or UV jumps (box edges,
cylinder rims, the UV seam), as MuJoCo wants them (one normal and UV per vertex);
``indexed_mesh`` welds coincident vertices into a closed, consistently outward-wound manifold
with per-corner normals and UVs, as USD wants them (``test_writers_meshes`` checks both).

UVs are in metres along the surface, so one texture tile covers 1 m everywhere and a texture is
never stretched across a long face. Numpy only: the shapes are few and simple, and a mesh
library would add a dependency for what a lathe and six quads already do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from gizmo_server.description import Axis, Box, Capsule, Cylinder, Shape, Sphere

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SLICES = 32  # segments around a round shape
STACKS = 16  # segments from pole to pole of a sphere (half of them per capsule cap)

# Built along Z; a cyclic permutation of the columns (det +1, so winding stays outward) turns
# Z into the axis: for "X" the result's (x, y, z) are the build's (z, x, y).
_AXIS_ORDER: dict[Axis, tuple[int, int, int]] = {"Z": (0, 1, 2), "X": (2, 0, 1), "Y": (1, 2, 0)}


@dataclass(frozen=True, eq=False)
class TriMesh:
    """Vertex positions, unit normals and UVs (one row per vertex) and triangles (CCW outside)."""

    points: FloatArray  # (n, 3), metres
    normals: FloatArray  # (n, 3)
    uvs: FloatArray  # (n, 2), metres along the surface
    faces: IntArray  # (m, 3)


@dataclass(frozen=True, eq=False)
class IndexedMesh:
    """The same surface with shared corners, as USD wants it: each point once (a closed
    manifold), normals and UVs per face corner, each as distinct values plus an index per corner.
    """

    points: FloatArray  # (p, 3)
    face_points: IntArray  # (m * 3,) point of each face corner
    normals: FloatArray  # (k, 3) distinct normals
    face_normals: IntArray  # (m * 3,)
    uvs: FloatArray  # (l, 2) distinct UVs
    face_uvs: IntArray  # (m * 3,)


@lru_cache(maxsize=256)
def indexed_mesh(shape: Shape) -> IndexedMesh:
    """``shape_mesh(shape)`` with coincident vertices welded and attributes indexed."""
    tri = shape_mesh(shape)
    corners = tri.faces.ravel()
    points, face_points = _unique(tri.points[corners])
    normals, face_normals = _unique(tri.normals[corners])
    uvs, face_uvs = _unique(tri.uvs[corners])
    return IndexedMesh(points, face_points, normals, face_normals, uvs, face_uvs)


def _unique(rows: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct rows (equal to 1e-9, well below float32 precision) and each row's index."""
    keys = np.round(rows / 1e-9).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel().astype(np.int64)


@lru_cache(maxsize=256)
def shape_mesh(shape: Shape) -> TriMesh:
    """The mesh of ``shape`` (shapes are frozen dataclasses, so equal shapes share one mesh)."""
    match shape:
        case Box(size=size):
            return _box(size)
        case Sphere(radius=r):
            return _lathe([_arc(r, 0.0, -math.pi / 2, math.pi / 2, STACKS)], "Z")
        case Capsule(radius=r, length=h, axis=axis):
            half = STACKS // 2
            bottom = _arc(r, -h / 2, -math.pi / 2, 0.0, half)
            top = _arc(r, h / 2, 0.0, math.pi / 2, half)
            return _lathe([bottom + top], axis)
        case Cylinder(radius=r, length=h, axis=axis):
            down, up = (0.0, -1.0), (0.0, 1.0)
            strips = [
                [(0.0, -h / 2, down), (r, -h / 2, down)],
                [(r, -h / 2, (1.0, 0.0)), (r, h / 2, (1.0, 0.0))],
                [(r, h / 2, up), (0.0, h / 2, up)],
            ]
            return _lathe(strips, axis)
    raise TypeError(f"unknown shape {shape!r}")


_Ring = tuple[float, float, tuple[float, float]]  # radius, height, (radial, axial) normal


def _arc(r: float, z0: float, start: float, stop: float, steps: int) -> list[_Ring]:
    """Rings of a sphere of radius ``r`` centred at height ``z0``, latitudes start..stop."""
    out = []
    for i in range(steps + 1):
        lat = start + (stop - start) * i / steps
        c, s = math.cos(lat), math.sin(lat)
        out.append((0.0 if abs(c) < 1e-12 else r * c, z0 + r * s, (c, s)))
    return out


def _lathe(strips: list[list[_Ring]], axis: Axis) -> TriMesh:
    """Revolve profile strips (bottom to top along the outer surface) about Z, then to ``axis``.

    Consecutive rings of a strip are joined by quads, or by single triangles where a ring has
    radius 0 (a pole or a cap centre). Strips are not joined to each other: that is a hard edge.
    """
    theta = np.linspace(0.0, 2.0 * math.pi, SLICES + 1)
    cos, sin = np.cos(theta), np.sin(theta)
    points, normals, uvs, faces = [], [], [], []
    count = 0
    for strip in strips:
        v = 0.0
        widest = max(ring[0] for ring in strip)
        rows = []
        for i, (r, z, (nr, nz)) in enumerate(strip):
            if i:
                v += math.hypot(r - strip[i - 1][0], z - strip[i - 1][1])
            points.append(np.column_stack([r * cos, r * sin, np.full(SLICES + 1, z)]))
            normals.append(np.column_stack([nr * cos, nr * sin, np.full(SLICES + 1, nz)]))
            uvs.append(np.column_stack([widest * theta, np.full(SLICES + 1, v)]))
            rows.append(count + np.arange(SLICES + 1))
            count += SLICES + 1
        for i in range(len(strip) - 1):
            lo, hi = rows[i], rows[i + 1]
            a, b, c, d = lo[:-1], lo[1:], hi[1:], hi[:-1]
            if strip[i][0] > 0.0:
                faces.append(np.column_stack([a, b, c]))
            if strip[i + 1][0] > 0.0:
                faces.append(np.column_stack([a, c, d]))
    return _oriented(
        TriMesh(np.vstack(points), np.vstack(normals), np.vstack(uvs), np.vstack(faces)), axis
    )


def _oriented(mesh: TriMesh, axis: Axis) -> TriMesh:
    order = list(_AXIS_ORDER[axis])  # column k of the result is column order[k] of the Z build
    return TriMesh(mesh.points[:, order], mesh.normals[:, order], mesh.uvs, mesh.faces)


def _box(size: tuple[float, float, float]) -> TriMesh:
    half = np.asarray(size, dtype=np.float64) / 2
    points: list[FloatArray] = []
    normals: list[FloatArray] = []
    uvs: list[FloatArray] = []
    faces: list[IntArray] = []
    for axis in range(3):
        u_axis, v_axis = (axis + 1) % 3, (axis + 2) % 3  # (u, v, n) right-handed
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            corners = np.zeros((4, 3))
            corners[:, axis] = sign * half[axis]
            # Counter-clockwise seen from outside: flip the v direction on the negative side.
            us = np.array([-1.0, 1.0, 1.0, -1.0])
            vs = np.array([-1.0, -1.0, 1.0, 1.0]) * sign
            corners[:, u_axis] = us * half[u_axis]
            corners[:, v_axis] = vs * half[v_axis]
            base = len(points) * 4
            points.append(corners)
            normals.append(np.tile(n, (4, 1)))
            uvs.append(np.column_stack([corners[:, u_axis], corners[:, v_axis]]))
            faces.append(np.array([[base, base + 1, base + 2], [base, base + 2, base + 3]]))
    return TriMesh(np.vstack(points), np.vstack(normals), np.vstack(uvs), np.vstack(faces))
