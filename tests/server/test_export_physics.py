"""Physics parity: the USD, MJCF and URDF exports of every asset kind carry the same physics.

One neutral description feeds all writers; here each file is read back with its own real reader
(usd-core, mujoco, the URDF XML) and friction, restitution, time step, solver iterations, joint
velocity limits and armature are compared after unit conversion. The PhysX attribute names and
types are checked against NVIDIA's codeless PhysxSchema (``physx-usd-schemas``) where it has them.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np
import pytest
from pxr import Sdf, Usd, UsdGeom, UsdPhysics, UsdShade

from gizmo_server.exports import render_asset

from .test_export_cases import PROMPTS, open_usd

KINDS = sorted(PROMPTS)


def exports(key: str, tmp_path: Path) -> tuple[Usd.Stage, mujoco.MjModel, ET.Element]:
    asset_id = f"ast_{key}"
    stage = open_usd(render_asset(asset_id, key, PROMPTS[key], "isaac_sim_usd").data, tmp_path)
    mjcf = render_asset(asset_id, key, PROMPTS[key], "mujoco_mjcf").data.decode()
    urdf = ET.fromstring(render_asset(asset_id, key, PROMPTS[key], "isaac_sim_urdf").data)
    return stage, mujoco.MjModel.from_xml_string(mjcf), urdf


def physics_material(prim: Usd.Prim) -> UsdPhysics.MaterialAPI:
    bound, _rel = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
    assert bound, f"{prim.GetPath()} has no physics material"
    api = UsdPhysics.MaterialAPI(bound.GetPrim())
    assert bound.GetPrim().HasAPI(UsdPhysics.MaterialAPI)
    return api


def authored_schemas(prim: Usd.Prim) -> list[str]:
    """API schema names as authored (GetAppliedSchemas drops names usd-core does not know)."""
    return list(prim.GetMetadata("apiSchemas").GetAddedOrExplicitItems())


def colliders(stage: Usd.Stage) -> list[Usd.Prim]:
    world = stage.GetPrimAtPath("/World")
    return [p for p in Usd.PrimRange(world) if p.HasAPI(UsdPhysics.CollisionAPI)]


@pytest.mark.parametrize("key", KINDS)
def test_every_collider_has_the_friction_of_its_mjcf_geom(key: str, tmp_path: Path) -> None:
    stage, model, _urdf = exports(key, tmp_path)
    found = colliders(stage)
    # every MJCF geom that collides (group 3; the floor is group 0, visual meshes group 2)
    assert len(found) == int(np.sum(model.geom_group == 3)) > 0
    for prim in found:
        material = physics_material(prim)
        mj = model.geom(f"{key}_1__{prim.GetName()}")
        assert material.GetStaticFrictionAttr().Get() == pytest.approx(mj.friction[0])
        assert material.GetDynamicFrictionAttr().Get() == pytest.approx(mj.friction[0])
        assert material.GetRestitutionAttr().Get() == 0.0  # MuJoCo contacts are inelastic
        combine = material.GetPrim().GetAttribute("physxMaterial:frictionCombineMode")
        assert combine.Get() == "max", "PhysX must combine like MuJoCo (the larger friction)"


@pytest.mark.parametrize("key", ["arm", "crate"])
def test_the_ground_has_the_friction_of_mjcf_floor(key: str, tmp_path: Path) -> None:
    stage, model, _urdf = exports(key, tmp_path)
    ground = physics_material(stage.GetPrimAtPath("/PhysicsScene/GroundPlane"))
    floor = model.geom("floor")
    assert ground.GetStaticFrictionAttr().Get() == pytest.approx(floor.friction[0])
    assert ground.GetDynamicFrictionAttr().Get() == pytest.approx(floor.friction[0])


@pytest.mark.parametrize("key", KINDS)
def test_time_step_and_solver_iterations_match_mjcf(key: str, tmp_path: Path) -> None:
    stage, model, _urdf = exports(key, tmp_path)
    scene = stage.GetPrimAtPath("/PhysicsScene")
    assert "PhysxSceneAPI" in authored_schemas(scene)
    steps = scene.GetAttribute("physxScene:timeStepsPerSecond").Get()
    assert steps == round(1.0 / model.opt.timestep)
    assert 1.0 / steps == pytest.approx(model.opt.timestep, rel=1e-12)
    for kind in ("min", "max"):
        count = scene.GetAttribute(f"physxScene:{kind}PositionIterationCount").Get()
        assert count == model.opt.iterations
    gravity = UsdPhysics.Scene(scene).GetGravityMagnitudeAttr().Get()
    assert gravity == pytest.approx(-model.opt.gravity[2])


@pytest.mark.parametrize("key", KINDS)
def test_joint_velocity_limits_match_urdf_and_armature_matches_mjcf(
    key: str, tmp_path: Path
) -> None:
    stage, model, urdf = exports(key, tmp_path)
    limits = {j.get("name"): j.find("limit") for j in urdf.iter("joint")}
    joints = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)]
    movable = [p for p in joints if not p.IsA(UsdPhysics.FixedJoint)]
    assert len(movable) == sum(1 for j in urdf.iter("joint") if j.get("type") != "fixed")
    for prim in movable:
        assert "PhysxJointAPI" in authored_schemas(prim)
        revolute = prim.IsA(UsdPhysics.RevoluteJoint)
        velocity = prim.GetAttribute("physxJoint:maxJointVelocity").Get()
        limit = limits[prim.GetName()]
        assert limit is not None
        si = math.radians(velocity) if revolute else velocity  # USD: deg/s for revolute
        assert si == pytest.approx(float(limit.get("velocity", "nan")), rel=1e-6)
        mj = model.joint(f"{key}_1__{prim.GetName()}")
        armature = prim.GetAttribute("physxJoint:armature").Get() or 0.0  # PhysX's fallback
        assert armature == pytest.approx(model.dof_armature[mj.dofadr[0]], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("key", ["conveyor", "mobile"])
def test_mjcf_velocity_drives_are_limited_to_the_urdf_velocity(key: str, tmp_path: Path) -> None:
    """MuJoCo has no joint speed limit; where the MJCF says one (a velocity drive's control
    range) it is the URDF's, as USD's maxJointVelocity is."""
    _stage, model, urdf = exports(key, tmp_path)
    limits = {j.get("name"): j.find("limit") for j in urdf.iter("joint")}
    velocity_drives = [a for a in range(model.nu) if model.actuator_biasprm[a, 1] == 0]
    assert velocity_drives
    for act in velocity_drives:
        joint = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[act, 0])
        limit = limits[joint.split("__", 1)[1]]
        assert limit is not None
        assert model.actuator_ctrlrange[act, 1] == pytest.approx(float(limit.get("velocity", "")))


def test_the_arm_has_armature_somewhere(tmp_path: Path) -> None:
    """Guard: the armature comparison above must not compare zeros only."""
    _stage, model, _urdf = exports("arm", tmp_path)
    assert min(model.dof_armature) > 0.0


@pytest.mark.parametrize(
    ("schema", "attribute", "prim_path"),
    [
        ("PhysxSceneAPI", "physxScene:timeStepsPerSecond", "/PhysicsScene"),
        ("PhysxSceneAPI", "physxScene:minPositionIterationCount", "/PhysicsScene"),
        ("PhysxSceneAPI", "physxScene:maxVelocityIterationCount", "/PhysicsScene"),
        (
            "PhysxMaterialAPI",
            "physxMaterial:frictionCombineMode",
            "/World/PhysicsMaterials/aluminium",
        ),
    ],
)
def test_physx_attributes_have_the_schema_types(
    schema: str, attribute: str, prim_path: str, tmp_path: Path
) -> None:
    """Names and value types as NVIDIA's PhysxSchema defines them (usd-core lacks the schema).

    The schema is read as the layer it ships as, since usd-core builds its schema registry once
    per process and would not take in a plugin registered later.
    """
    import physx_usd_schemas

    resources = physx_usd_schemas.schema_paths()[0] / "generatedSchema.usda"
    layer = Sdf.Layer.FindOrOpen(str(resources))
    expected = layer.GetAttributeAtPath(f"/{schema}.{attribute}")
    assert expected is not None, f"PhysxSchema's {schema} has no {attribute}"
    stage, _model, _urdf = exports("arm", tmp_path)
    prim = stage.GetPrimAtPath(prim_path)
    assert schema in authored_schemas(prim)
    got = prim.GetAttribute(attribute)
    assert got.GetTypeName() == expected.typeName
    assert got.GetVariability() == expected.variability


def test_colliders_carry_their_shape_and_the_placement_its_extents(tmp_path: Path) -> None:
    stage, _model, _urdf = exports("conveyor", tmp_path)
    root = stage.GetPrimAtPath("/World/conveyor_1")
    hint = UsdGeom.ModelAPI(root).GetExtentsHintAttr().Get()
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    box = cache.ComputeUntransformedBound(root).ComputeAlignedRange()
    assert list(hint[0]) == pytest.approx(list(box.GetMin()))
    assert list(hint[1]) == pytest.approx(list(box.GetMax()))
    assert root.GetDisplayName() == "conveyor_1"
    assert Usd.ModelAPI(root).GetAssetInfo()["name"] == "conveyor"
