"""A thumbnail of a USD stage, drawn by MuJoCo's renderer.

The stage's visible geometry is turned into an MJCF model in memory (each Mesh a mesh geom with
its points in world coordinates, every other Gprim its world-aligned bounding box) and drawn by
`gizmo_mujoco.render_png`, the renderer the MJCF thumbnails already use: no second rendering
stack (pyrender would need its own OpenGL context setup), and both pictures framed and lit the
same way, so the two formats of one scene can be compared at a glance.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
from pxr import Gf, Usd, UsdGeom

import gizmo_mujoco

__all__ = ["render_usd_png"]

_GREY = (0.7, 0.7, 0.7, 1.0)


def _visible(prim: Usd.Prim) -> bool:
    imageable = UsdGeom.Imageable(prim)
    return bool(
        imageable.ComputeVisibility() != UsdGeom.Tokens.invisible
        and imageable.ComputePurpose() in (UsdGeom.Tokens.default_, UsdGeom.Tokens.render)
    )


def _colour(prim: Usd.Prim) -> tuple[float, float, float, float]:
    colours = UsdGeom.Gprim(prim).GetDisplayColorAttr().Get()
    if not colours:
        return _GREY
    r, g, b = colours[0]
    return (float(r), float(g), float(b), 1.0)


def _triangles(counts: list[int], indices: list[int]) -> list[int]:
    """Polygons fanned into triangles (USD meshes hold any polygon, MuJoCo only triangles)."""
    out: list[int] = []
    start = 0
    for count in counts:
        face = indices[start : start + count]
        for k in range(1, count - 1):
            out += [face[0], face[k], face[k + 1]]
        start += count
    return out


def _add_mesh(spec: mujoco.MjSpec, prim: Usd.Prim, world: Gf.Matrix4d, n: int) -> None:
    mesh = UsdGeom.Mesh(prim)
    local = np.array(mesh.GetPointsAttr().Get() or [], dtype=float).reshape(-1, 3)
    faces = _triangles(
        [int(c) for c in mesh.GetFaceVertexCountsAttr().Get() or []],
        [int(i) for i in mesh.GetFaceVertexIndicesAttr().Get() or []],
    )
    if len(local) < 4 or not faces:
        return
    matrix = np.array(world, dtype=float)  # row vectors: p' = p @ M
    points = np.hstack([local, np.ones((len(local), 1))]) @ matrix
    asset = spec.add_mesh(name=f"usd_mesh_{n}")
    asset.uservert = points[:, :3].ravel().tolist()
    asset.userface = faces
    asset.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL  # flat meshes are fine here
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_MESH,
        meshname=asset.name,
        rgba=_colour(prim),
        contype=0,
        conaffinity=0,
    )


def _add_box(spec: mujoco.MjSpec, prim: Usd.Prim, bounds: UsdGeom.BBoxCache) -> None:
    box = bounds.ComputeWorldBound(prim).ComputeAlignedRange()
    if box.IsEmpty():
        return
    half = [max(float(v) / 2, 1e-4) for v in box.GetSize()]
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=half,
        pos=[float(v) for v in box.GetMidpoint()],
        rgba=_colour(prim),
        contype=0,
        conaffinity=0,
    )


def render_usd_png(stage_path: Path, png: Path) -> Path:
    """Draw the stage at `stage_path` into `png`; raises ValueError when nothing can be drawn."""
    stage = Usd.Stage.Open(str(stage_path))
    spec = mujoco.MjSpec()
    # USD lights do not carry over; a bright headlight and a key light from above instead.
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.5, 0.5, 0.5]
    spec.worldbody.add_light(pos=[0, 0, 10], dir=[0.3, 0.3, -1], diffuse=[0.5, 0.5, 0.5])
    transforms = UsdGeom.XformCache()
    bounds = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    drawn = 0
    for prim in stage.Traverse():
        if not prim.IsA(UsdGeom.Gprim) or not _visible(prim):
            continue
        if prim.IsA(UsdGeom.Mesh):
            _add_mesh(spec, prim, transforms.GetLocalToWorldTransform(prim), drawn)
        else:
            _add_box(spec, prim, bounds)
        drawn += 1
    if not spec.worldbody.geoms:
        raise ValueError("the stage holds no visible geometry")
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return gizmo_mujoco.render_png(model, data, png)
