"""The USD scene export used the way Isaac Sim users use a file: referenced, moved and instanced.

The export is composed with real usd-core under parents that translate, rotate and scale
non-uniformly (as a reference, a payload and an instanceable reference). Every joint's two frames
must still coincide and every placement must sit at parent x API pose; the stage-level prims
(PhysicsScene, ground) stay behind, so the parent stage keeps its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

from gizmo_server.generator import generate

from .test_export_cases import rendered_scene, scene_placements, usd_path

Frame = tuple[np.ndarray, np.ndarray]  # world position, column-vector rotation matrix


def _parent_chain(stage: Usd.Stage, ops: list[Callable[[UsdGeom.Xform], None]]) -> Sdf.Path:
    """Nested Xforms /Env/P0/P1/..., one transform op each; returns the innermost path."""
    path = Sdf.Path("/Env")
    UsdGeom.Xform.Define(stage, path)
    for i, op in enumerate(ops):
        path = path.AppendChild(f"P{i}")
        op(UsdGeom.Xform.Define(stage, path))
    return path


def _moved(xform: UsdGeom.Xform) -> None:
    xform.AddTranslateOp().Set(Gf.Vec3d(5.0, 0.0, 0.0))
    xform.AddRotateZOp().Set(90.0)


def _stretched(xform: UsdGeom.Xform) -> None:
    xform.AddScaleOp().Set(Gf.Vec3f(2.0, 0.5, 1.5))


def _tilted(xform: UsdGeom.Xform) -> None:
    xform.AddTranslateOp().Set(Gf.Vec3d(-3.0, 7.5, 1.25))
    xform.AddRotateXYZOp().Set(Gf.Vec3f(31.0, -47.0, 112.0))


LAYOUTS = {
    "moved-reference": ([_moved], "reference"),
    "non-uniform-scale-chain": ([_stretched, _tilted, _stretched], "reference"),
    "payload": ([_tilted, _moved], "payload"),
    "instanceable": ([_moved, _tilted], "instance"),
}


@pytest.fixture(scope="module")
def export_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "scene.usd"
    path.write_bytes(rendered_scene("isaac_sim_usd").data)
    return path


def compose(export: Path, ops: list[Callable[[UsdGeom.Xform], None]], arc: str) -> Usd.Stage:
    """A new stage with the export's default prim under the parent chain, by ``arc``."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    parent = _parent_chain(stage, ops).AppendChild("Scene")
    prim = UsdGeom.Xform.Define(stage, parent).GetPrim()
    if arc == "payload":
        prim.GetPayloads().AddPayload(str(export))
    else:
        prim.GetReferences().AddReference(str(export))
        prim.SetInstanceable(arc == "instance")
    assert stage.GetCompositionErrors() == []
    return stage


def _world_frame(body: Gf.Matrix4d, pos: Gf.Vec3f, rot: Gf.Quatf) -> Frame:
    """A joint frame in world coordinates: scale moves the anchor point, not the frame's axes."""
    position = np.array(body.Transform(Gf.Vec3d(pos)))
    local = np.array(Gf.Matrix3d(Gf.Rotation(Gf.Quatd(rot)))).T
    body_rotation = np.array(body.RemoveScaleShear().ExtractRotationMatrix()).T
    return position, body_rotation @ local


def joint_frames(stage: Usd.Stage, joint: Usd.Prim, cache: UsdGeom.XformCache) -> list[Frame]:
    api = UsdPhysics.Joint(joint)
    frames = []
    for rel, pos, rot in (
        (api.GetBody0Rel(), api.GetLocalPos0Attr(), api.GetLocalRot0Attr()),
        (api.GetBody1Rel(), api.GetLocalPos1Attr(), api.GetLocalRot1Attr()),
    ):
        targets = rel.GetForwardedTargets()
        body = Gf.Matrix4d(1.0)  # no body: the world
        if targets:
            body = cache.GetLocalToWorldTransform(stage.GetPrimAtPath(targets[0]))
        frames.append(_world_frame(body, pos.Get(), rot.Get()))
    return frames


def rotation_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of a^T b, accurate near zero (from the skew part, not the trace)."""
    r = a.T @ b
    skew = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]]) / 2
    return math.atan2(float(np.linalg.norm(skew)), (float(np.trace(r)) - 1) / 2)


def worst_joint_gap(stage: Usd.Stage) -> tuple[float, float, str]:
    """Largest position and rotation gap between the two frames of any joint, and where."""
    cache = UsdGeom.XformCache()
    worst = (0.0, 0.0, "")
    joints = [
        p
        for p in Usd.PrimRange(stage.GetPseudoRoot(), Usd.TraverseInstanceProxies())
        if p.IsA(UsdPhysics.Joint)
    ]
    assert len(joints) > len(scene_placements())
    for joint in joints:
        (p0, r0), (p1, r1) = joint_frames(stage, joint, cache)
        # At rest the frames of every joint coincide, fixed or not.
        dpos, dang = float(np.linalg.norm(p1 - p0)), rotation_angle(r0, r1)
        if (dpos, dang) > worst[:2]:
            worst = (dpos, dang, str(joint.GetPath()))
    return worst


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_joint_stays_welded_under_a_moved_parent(export_file: Path, layout: str) -> None:
    ops, arc = LAYOUTS[layout]
    dpos, dang, where = worst_joint_gap(compose(export_file, ops, arc))
    assert dpos < 1e-6 and dang < 1e-6, (layout, dpos, dang, where)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_roots_sit_at_parent_times_api_pose(export_file: Path, layout: str) -> None:
    ops, arc = LAYOUTS[layout]
    stage = compose(export_file, ops, arc)
    cache = UsdGeom.XformCache()
    scene = _scene_path(stage)
    parent = cache.GetLocalToWorldTransform(stage.GetPrimAtPath(scene))
    for placement in scene_placements():
        prim = stage.GetPrimAtPath(scene + usd_path(placement.placement_id).removeprefix("/World"))
        assert prim.GetAttribute("gizmo:placementId").Get() == placement.placement_id
        w, x, y, z = placement.rotation.to_wxyz()
        api = (
            Gf.Matrix4d()
            .SetRotate(Gf.Quatd(w, x, y, z))
            .SetTranslateOnly(Gf.Vec3d(*placement.position))
        )
        expected = api * parent  # USD matrices act on row vectors: local first
        got = cache.GetLocalToWorldTransform(prim)
        np.testing.assert_allclose(np.array(got), np.array(expected), atol=1e-9)


def _scene_path(stage: Usd.Stage) -> str:
    return next(str(p.GetPath()) for p in stage.Traverse() if p.GetName() == "Scene")


def test_an_old_style_world_anchor_comes_apart_under_a_moved_reference(
    export_file: Path, tmp_path: Path
) -> None:
    """Negative control: the welds check finds the bug this layout fixes (body0 left empty)."""
    layer = Sdf.Layer.FindOrOpen(str(export_file))
    broken = tmp_path / "world_anchor.usd"
    stage = Usd.Stage.Open(layer.identifier)
    placement = next(p for p in scene_placements() if generate(p.prompt).fixed_base)
    joint = UsdPhysics.FixedJoint(
        stage.GetPrimAtPath(usd_path(placement.placement_id) + "/joints/root_joint")
    )
    joint.GetBody0Rel().ClearTargets(True)
    root = generate(placement.prompt).root.origin
    world = UsdGeom.XformCache().GetLocalToWorldTransform(
        stage.GetPrimAtPath(usd_path(placement.placement_id))
    )
    joint.GetLocalPos0Attr().Set(Gf.Vec3f(world.Transform(Gf.Vec3d(*root))))
    joint.GetLocalRot0Attr().Set(Gf.Quatf(world.ExtractRotationQuat()))
    stage.Export(str(broken))
    assert worst_joint_gap(Usd.Stage.Open(str(broken)))[0] < 1e-5, "fine where it was written"
    dpos, dang, where = worst_joint_gap(compose(broken, *LAYOUTS["moved-reference"]))
    assert dpos > 1.0 and dang > 1.0 and "root_joint" in where


def test_opened_alone_the_file_is_a_complete_stage(export_file: Path) -> None:
    stage = Usd.Stage.Open(str(export_file))
    scenes = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]
    assert [str(p.GetPath()) for p in scenes] == ["/PhysicsScene"]
    ground = stage.GetPrimAtPath("/PhysicsScene/GroundPlane")
    assert ground.IsA(UsdGeom.Plane) and ground.HasAPI(UsdPhysics.CollisionAPI)
    assert stage.GetDefaultPrim().GetPath() == Sdf.Path("/World")
    parsed = UsdPhysics.UsdPhysicsLoadStageFromPrimRange(stage, ["/"])
    assert len(parsed[UsdPhysics.ObjectType.Scene][0]) == 1


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_referencing_brings_the_scene_objects_only(export_file: Path, layout: str) -> None:
    """No PhysicsScene or ground comes along: the stage that references keeps its own."""
    ops, arc = LAYOUTS[layout]
    stage = compose(export_file, ops, arc)
    prims = list(Usd.PrimRange(stage.GetPseudoRoot(), Usd.TraverseInstanceProxies()))
    assert not [p for p in prims if p.IsA(UsdPhysics.Scene) or p.IsA(UsdGeom.Plane)]
    scene = stage.GetPrimAtPath(_scene_path(stage))
    physical = [
        p
        for p in prims
        if p.HasAPI(UsdPhysics.RigidBodyAPI)
        or p.HasAPI(UsdPhysics.CollisionAPI)
        or p.IsA(UsdPhysics.Joint)
    ]
    assert physical and all(p.GetPath().HasPrefix(scene.GetPath()) for p in physical)
    tagged = [p for p in prims if p.HasAttribute("gizmo:placementId")]
    assert len(tagged) == len(scene_placements())
