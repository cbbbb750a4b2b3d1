"""USD, MJCF and URDF of the same scene agree: kinematics at rest and at random joint values,
masses, limits and gains (after unit conversion).

The USD side is computed from the USD file alone, by a small forward kinematics that walks the
UsdPhysics joint graph (shared/notes/usd.md §5.3): world anchor -> body0 frame * localPose0 *
joint motion * inverse(localPose1) -> body1 frame. MuJoCo computes the MJCF and URDF side.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import mujoco
import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom, UsdPhysics

from gizmo_server.description import AssetDescription
from gizmo_server.exports import PlacementInput, render_asset
from gizmo_server.generator import generate

from .test_export_cases import (
    PROMPTS,
    mjcf_prefix,
    open_usd,
    rendered_scene,
    scene_placements,
    usd_path,
)

AXES = {
    "X": np.array([1.0, 0.0, 0.0]),
    "Y": np.array([0.0, 1.0, 0.0]),
    "Z": np.array([0.0, 0.0, 1.0]),
}


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Usd.Stage:
    return open_usd(rendered_scene("isaac_sim_usd").data, tmp_path_factory.mktemp("usd"))


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(rendered_scene("mujoco_mjcf").data.decode())


def homogeneous(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rotation, translation
    return out


def from_usd(matrix: Gf.Matrix4d) -> np.ndarray:
    """Column-vector 4x4 of a USD (row-vector) transform."""
    return np.array(matrix).T


def local_pose(joint: UsdPhysics.Joint, side: int) -> np.ndarray:
    pos = (joint.GetLocalPos0Attr() if side == 0 else joint.GetLocalPos1Attr()).Get()
    rot = (joint.GetLocalRot0Attr() if side == 0 else joint.GetLocalRot1Attr()).Get()
    return from_usd(Gf.Matrix4d().SetRotate(Gf.Quatd(rot)).SetTranslateOnly(Gf.Vec3d(pos)))


def joint_motion(joint: UsdPhysics.Joint, value: float) -> np.ndarray:
    """The joint's motion for ``value`` (radians or metres) about/along its axis token."""
    axis = AXES[joint.GetPrim().GetAttribute("physics:axis").Get()]
    if joint.GetPrim().IsA(UsdPhysics.PrismaticJoint):
        return homogeneous(np.eye(3), axis * value)
    rotation = Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(*axis), math.degrees(value)))
    return from_usd(rotation)


def usd_forward_kinematics(
    stage: Usd.Stage, placement_id: str, values: dict[str, float]
) -> dict[str, np.ndarray]:
    """World transforms of a placement's bodies, from its joints alone (plus a free root's pose)."""
    root = stage.GetPrimAtPath(usd_path(placement_id))
    joints = [UsdPhysics.Joint(p) for p in root.GetChild("joints").GetChildren()]
    poses: dict[str, np.ndarray] = {}
    anchors = [j for j in joints if j.GetBody0Rel().GetTargets() == [root.GetPath()]]
    if anchors:  # welded to the placement prim: the anchor is in that prim's frame
        anchor = anchors[0]
        body = anchor.GetBody1Rel().GetTargets()[0].name
        placed = from_usd(UsdGeom.XformCache().GetLocalToWorldTransform(root))
        poses[body] = placed @ local_pose(anchor, 0) @ np.linalg.inv(local_pose(anchor, 1))
    else:  # floating: the root body is the one no joint moves
        moved = {j.GetBody1Rel().GetTargets()[0].name for j in joints}
        body = next(
            b
            for b in root.GetChildren()
            if b.HasAPI(UsdPhysics.RigidBodyAPI) and b.GetName() not in moved
        )
        poses[body.GetName()] = from_usd(UsdGeom.XformCache().GetLocalToWorldTransform(body))
    pending = [j for j in joints if j not in anchors]
    while pending:
        joint = next(j for j in pending if j.GetBody0Rel().GetTargets()[0].name in poses)
        pending.remove(joint)
        parent = poses[joint.GetBody0Rel().GetTargets()[0].name]
        poses[joint.GetBody1Rel().GetTargets()[0].name] = (
            parent
            @ local_pose(joint, 0)
            @ joint_motion(joint, values[joint.GetPrim().GetName()])
            @ np.linalg.inv(local_pose(joint, 1))
        )
    return poses


def mujoco_poses(
    model: mujoco.MjModel, data: mujoco.MjData, prefix: str, names: Iterator[str]
) -> dict[str, np.ndarray]:
    return {
        n: homogeneous(data.body(prefix + n).xmat.reshape(3, 3), data.body(prefix + n).xpos)
        for n in names
    }


def random_values(asset: AssetDescription, rng: random.Random) -> dict[str, float]:
    return {j.name: rng.uniform(*(j.limits or (-math.pi, math.pi))) for j in asset.joints}


def set_joints(
    model: mujoco.MjModel, data: mujoco.MjData, prefix: str, values: dict[str, float]
) -> None:
    for name, value in values.items():
        data.qpos[model.joint(prefix + name).qposadr[0]] = value
    mujoco.mj_kinematics(model, data)


def assert_same_poses(a: dict[str, np.ndarray], b: dict[str, np.ndarray], atol: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=atol, err_msg=name)


def inertia_tensor(model: mujoco.MjModel, body: str) -> np.ndarray:
    """The body-frame inertia tensor (MuJoCo may store the principal axes in another order)."""
    rotation = np.zeros(9)
    mujoco.mju_quat2Mat(rotation, model.body(body).iquat)
    r = rotation.reshape(3, 3)
    return r @ np.diag(model.body(body).inertia) @ r.T


def articulated() -> list[PlacementInput]:
    return [p for p in scene_placements() if generate(p.prompt).articulated]


def test_rest_pose_of_every_body_agrees_exactly(stage: Usd.Stage, model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    cache = UsdGeom.XformCache()
    for placement in scene_placements():
        asset = generate(placement.prompt)
        pid = placement.placement_id
        usd = {
            b.name: from_usd(
                cache.GetLocalToWorldTransform(stage.GetPrimAtPath(f"{usd_path(pid)}/{b.name}"))
            )
            for b in asset.bodies
        }
        assert_same_poses(usd, mujoco_poses(model, data, mjcf_prefix(pid), iter(usd)), atol=1e-6)


def test_forward_kinematics_agree_at_random_joint_values(
    stage: Usd.Stage, model: mujoco.MjModel
) -> None:
    rng = random.Random(7)
    data = mujoco.MjData(model)
    for placement in articulated():
        asset = generate(placement.prompt)
        for _ in range(5):
            values = random_values(asset, rng)
            set_joints(model, data, mjcf_prefix(placement.placement_id), values)
            usd = usd_forward_kinematics(stage, placement.placement_id, values)
            mj = mujoco_poses(model, data, mjcf_prefix(placement.placement_id), iter(usd))
            # Joint frames are float32 in UsdPhysics; placements reach ~10 m from the origin.
            assert_same_poses(usd, mj, atol=2e-5)
            assert len(usd) == len(asset.bodies)


def test_usd_fk_would_notice_a_wrong_axis(stage: Usd.Stage, model: mujoco.MjModel) -> None:
    """Negative control: feeding MuJoCo a different joint value than USD shows up."""
    placement = articulated()[0]
    asset = generate(placement.prompt)
    values = dict.fromkeys((j.name for j in asset.joints), 0.3)
    data = mujoco.MjData(model)
    set_joints(
        model, data, mjcf_prefix(placement.placement_id), {**values, asset.joints[0].name: -0.3}
    )
    usd = usd_forward_kinematics(stage, placement.placement_id, values)
    with pytest.raises(AssertionError):
        assert_same_poses(
            usd,
            mujoco_poses(model, data, mjcf_prefix(placement.placement_id), iter(usd)),
            atol=2e-5,
        )


def test_masses_limits_and_gains_agree(stage: Usd.Stage, model: mujoco.MjModel) -> None:
    for placement in scene_placements():
        pid = placement.placement_id
        asset = generate(placement.prompt)
        for body in asset.bodies:
            mass = UsdPhysics.MassAPI(stage.GetPrimAtPath(f"{usd_path(pid)}/{body.name}"))
            mj = model.body(mjcf_prefix(pid) + body.name)
            assert mass.GetMassAttr().Get() == pytest.approx(mj.mass[0], rel=1e-6)
            np.testing.assert_allclose(mass.GetCenterOfMassAttr().Get(), mj.ipos, atol=1e-6)
            np.testing.assert_allclose(mass.GetDiagonalInertiaAttr().Get(), mj.inertia, rtol=1e-6)
            assert mass.GetPrincipalAxesAttr().Get() == Gf.Quatf(1.0)
            np.testing.assert_allclose(mj.iquat, [1.0, 0.0, 0.0, 0.0])
        for joint in asset.joints:
            prim = stage.GetPrimAtPath(f"{usd_path(pid)}/joints/{joint.name}")
            mj_joint = model.joint(mjcf_prefix(pid) + joint.name)
            np.testing.assert_allclose(mj_joint.axis, AXES[prim.GetAttribute("physics:axis").Get()])
            revolute = prim.IsA(UsdPhysics.RevoluteJoint)
            unit = math.degrees(1.0) if revolute else 1.0
            lower = prim.GetAttribute("physics:lowerLimit")
            if joint.limits is None:
                assert not lower.HasAuthoredValue() and not mj_joint.limited[0]
            else:
                usd_range = [lower.Get(), prim.GetAttribute("physics:upperLimit").Get()]
                np.testing.assert_allclose(np.array(usd_range) / unit, mj_joint.range, rtol=1e-6)
        for actuator in asset.actuators:
            prim = stage.GetPrimAtPath(f"{usd_path(pid)}/joints/{actuator.joint}")
            unit = math.degrees(1.0) if prim.IsA(UsdPhysics.RevoluteJoint) else 1.0
            drive = UsdPhysics.DriveAPI(prim, "angular" if unit != 1.0 else "linear")
            mj_act = model.actuator(mjcf_prefix(pid) + actuator.name)
            # MuJoCo's bias is -kp*q - kv*qdot (position) or -kv*qdot (velocity actuators).
            assert drive.GetStiffnessAttr().Get() * unit == pytest.approx(
                -mj_act.biasprm[1], rel=1e-6
            )
            assert drive.GetDampingAttr().Get() * unit == pytest.approx(
                -mj_act.biasprm[2], rel=1e-6
            )
            assert drive.GetMaxForceAttr().Get() == pytest.approx(mj_act.forcerange[1], rel=1e-6)


def test_collision_geometry_agrees(stage: Usd.Stage, model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    cache = UsdGeom.XformCache()
    kinds = {
        "Cube": mujoco.mjtGeom.mjGEOM_BOX,
        "Sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
        "Cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
        "Capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
    }
    for placement in scene_placements():
        for body in generate(placement.prompt).bodies:
            for geom in body.geoms:
                path = f"{usd_path(placement.placement_id)}/{body.name}/{geom.name}"
                prim = stage.GetPrimAtPath(path)
                mj = data.geom(mjcf_prefix(placement.placement_id) + geom.name)
                world = from_usd(cache.GetLocalToWorldTransform(prim))
                assert model.geom_type[mj.id] == kinds[prim.GetTypeName()]
                np.testing.assert_allclose(world[:3, 3], mj.xpos, atol=1e-6)
                size = model.geom_size[mj.id]
                attr = prim.GetAttribute
                if prim.GetTypeName() == "Cube":  # unit cube scaled to the edge lengths
                    edges = attr("size").Get() * np.linalg.norm(world[:3, :3], axis=0)
                    np.testing.assert_allclose(edges, 2 * size, rtol=1e-9)
                elif prim.GetTypeName() == "Sphere":
                    assert attr("radius").Get() == pytest.approx(size[0])
                else:  # USD height is the full cylinder length, MuJoCo's the half-length
                    assert [attr("radius").Get(), attr("height").Get()] == pytest.approx(
                        [size[0], 2 * size[1]]
                    )
                    usd_axis = world[:3, :3] @ AXES[attr("axis").Get()]
                    np.testing.assert_allclose(usd_axis, mj.xmat.reshape(3, 3)[:, 2], atol=1e-9)


@pytest.mark.parametrize("key", sorted(PROMPTS))
def test_urdf_and_mjcf_asset_exports_agree(key: str, tmp_path: Path) -> None:
    asset = generate(PROMPTS[key])
    urdf = mujoco.MjModel.from_xml_string(
        render_asset("ast_x", "X", PROMPTS[key], "isaac_sim_urdf").data.decode()
    )
    mjcf = mujoco.MjModel.from_xml_string(
        render_asset("ast_x", "X", PROMPTS[key], "mujoco_mjcf").data.decode()
    )
    # MuJoCo's URDF import welds the root link into the world; every moving link must remain.
    moving = [j.child for j in asset.joints]
    rng = random.Random(key)
    for _ in range(3):
        values = random_values(asset, rng)
        urdf_data, mjcf_data = mujoco.MjData(urdf), mujoco.MjData(mjcf)
        set_joints(urdf, urdf_data, "", values)
        set_joints(mjcf, mjcf_data, "X_1__", values)
        assert_same_poses(
            mujoco_poses(urdf, urdf_data, "", iter(moving)),
            mujoco_poses(mjcf, mjcf_data, "X_1__", iter(moving)),
            atol=1e-9,
        )
    for name in moving:
        assert urdf.body(name).mass[0] == pytest.approx(mjcf.body(f"X_1__{name}").mass[0])
        np.testing.assert_allclose(
            inertia_tensor(urdf, name), inertia_tensor(mjcf, f"X_1__{name}"), atol=1e-12
        )
    for joint in asset.joints:
        np.testing.assert_allclose(
            urdf.joint(joint.name).range, mjcf.joint(f"X_1__{joint.name}").range
        )
