"""Visual meshes of the primitive shapes: closed, outward, the right size, UVs in metres."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from gizmo_server.description import Box, Capsule, Cylinder, Shape, Sphere
from gizmo_server.writers.meshes import indexed_mesh, shape_mesh

SHAPES: list[tuple[Shape, float]] = [
    (Box((0.4, 1.2, 0.1)), 0.4 * 1.2 * 0.1),
    (Sphere(0.3), 4 / 3 * math.pi * 0.3**3),
    (Cylinder(0.05, 0.8, "X"), math.pi * 0.05**2 * 0.8),
    (Cylinder(0.2, 0.1, "Y"), math.pi * 0.2**2 * 0.1),
    (Capsule(0.1, 0.5, "Z"), math.pi * 0.1**2 * 0.5 + 4 / 3 * math.pi * 0.1**3),
]


def signed_volume(points: np.ndarray, faces: np.ndarray) -> float:
    p = points[faces]
    return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6)


@pytest.mark.parametrize(("shape", "volume"), SHAPES, ids=lambda v: type(v).__name__)
def test_welded_mesh_is_a_closed_outward_manifold_of_the_shapes_volume(
    shape: Shape, volume: float
) -> None:
    mesh = indexed_mesh(shape)
    faces = mesh.face_points.reshape(-1, 3)
    directed = Counter(
        (int(a), int(b)) for f in faces for a, b in zip(f, np.roll(f, -1), strict=True)
    )
    assert max(directed.values()) == 1, "an edge is used twice the same way: bad winding"
    assert all((b, a) in directed for a, b in directed), "an edge has one face: not closed"
    assert set(faces.ravel()) == set(range(len(mesh.points))), "every point is used"
    # Polygonal round shapes sit inside the true surface: a few per cent small, never larger.
    assert 0.97 * volume <= signed_volume(mesh.points, faces) <= volume * (1 + 1e-9)


@pytest.mark.parametrize(("shape", "volume"), SHAPES, ids=lambda v: type(v).__name__)
def test_split_mesh_has_unit_outward_normals_on_its_surface(shape: Shape, volume: float) -> None:
    mesh = shape_mesh(shape)
    assert np.allclose(np.linalg.norm(mesh.normals, axis=1), 1.0)
    assert signed_volume(mesh.points, mesh.faces) == pytest.approx(
        signed_volume(indexed_mesh(shape).points, indexed_mesh(shape).face_points.reshape(-1, 3))
    )
    # Each face's winding normal points the way its vertices' normals do.
    p = mesh.points[mesh.faces]
    winding = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    assert np.all(np.einsum("ij,ij->i", winding, mesh.normals[mesh.faces].sum(axis=1)) > 0)


def test_bounds_follow_the_shape_and_its_axis() -> None:
    for shape, extent in [
        (Box((0.4, 1.2, 0.1)), (0.4, 1.2, 0.1)),
        (Cylinder(0.05, 0.8, "X"), (0.8, 0.1, 0.1)),
        (Capsule(0.1, 0.5, "Y"), (0.2, 0.7, 0.2)),
    ]:
        points = shape_mesh(shape).points
        assert np.allclose(points.max(axis=0) - points.min(axis=0), extent)
        assert np.allclose(points.max(axis=0), -points.min(axis=0))  # centred on the geom


def test_uvs_are_metres_along_the_surface() -> None:
    box = shape_mesh(Box((2.0, 0.5, 0.25)))
    spans = box.uvs.max(axis=0) - box.uvs.min(axis=0)
    assert spans.max() == pytest.approx(2.0)  # one tile per metre, not stretched to 0..1
    cylinder = shape_mesh(Cylinder(0.5, 3.0))
    assert cylinder.uvs[:, 0].max() == pytest.approx(math.pi)  # circumference, 2*pi*r
