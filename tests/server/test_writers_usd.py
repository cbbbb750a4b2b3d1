"""The isaac_sim_usd scene export, read back with real usd-core: structure, validation, poses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdUtils, UsdValidation

from gizmo_server.generator import generate

from .test_export_cases import open_usd, rendered_scene, scene_placements, usd_path

VALIDATOR_KEYWORDS = [
    "UsdCoreValidators",
    "UsdGeomValidators",
    "UsdPhysicsValidators",
    "UsdUtilsValidators",
]


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Usd.Stage:
    return open_usd(rendered_scene("isaac_sim_usd").data, tmp_path_factory.mktemp("usd"))


def validate(stage: Usd.Stage) -> list[str]:
    registry = UsdValidation.ValidationRegistry()
    names = [m.name for m in registry.GetValidatorMetadataForKeywords(VALIDATOR_KEYWORDS)]
    assert len(names) >= 10, names  # the keyword lookup itself must not silently come back empty
    context = UsdValidation.ValidationContext(registry.GetOrLoadValidatorsByName(names))
    findings = [f"{e.GetIdentifier()}: {e.GetMessage()}" for e in context.Validate(stage)]
    return [f for f in findings if f != KIT_CORE_MDL_FINDING]


# Kit resolves its core MDLs from its own library; outside Kit this one finding is expected.
KIT_CORE_MDL_FINDING = (
    "usdUtilsValidators:MissingReferenceValidator.UnresolvableDependency: "
    "Found unresolvable external dependency 'OmniPBR.mdl'."
)


def rotation_of(matrix: Gf.Matrix4d) -> np.ndarray:
    """Column-vector rotation matrix of a USD (row-vector) transform."""
    return np.array(matrix.ExtractRotationMatrix()).T


def test_file_is_a_self_contained_crate_that_opens_cleanly(stage: Usd.Stage) -> None:
    assert stage.GetCompositionErrors() == []
    layer = stage.GetRootLayer()
    assert Path(layer.realPath).read_bytes()[:8] == b"PXR-USDC"  # binary crate
    layers, assets, unresolved = UsdUtils.ComputeAllDependencies(layer.identifier)
    assert [lyr.identifier for lyr in layers] == [layer.identifier]
    # The only dependency is Kit's core MDL, which Kit finds on its own search path.
    assert list(assets) == [] and list(unresolved) == ["OmniPBR.mdl"]
    assert not any(
        p.HasAuthoredReferences() or p.HasAuthoredPayloads() for p in stage.Traverse()
    ), "flattened files carry no composition arcs"


def test_passes_usd_validation_with_zero_findings(stage: Usd.Stage) -> None:
    assert validate(stage) == []


def test_validation_would_notice_a_broken_mass(tmp_path: Path) -> None:
    """Negative control: the same validators flag diagonalInertia without principalAxes."""
    stage = open_usd(rendered_scene("isaac_sim_usd").data, tmp_path)
    body = stage.GetPrimAtPath(usd_path(scene_placements()[0].placement_id) + "/base")
    body.RemoveProperty("physics:principalAxes")
    assert any("RigidBodyChecker" in finding for finding in validate(stage))


def test_stage_metadata_is_what_isaac_sim_expects(stage: Usd.Stage) -> None:
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert all(
        stage.HasAuthoredMetadata(key)
        for key in ("upAxis", "metersPerUnit", "kilogramsPerUnit", "defaultPrim")
    )
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert UsdPhysics.GetStageKilogramsPerUnit(stage) == 1.0
    world = stage.GetDefaultPrim()
    assert world.GetPath() == Sdf.Path("/World")
    assert Usd.ModelAPI(world).GetKind() == "assembly"
    assert world.GetAttribute("gizmo:sceneId").Get() == "scn_writers"


def test_exactly_one_physics_scene_with_earth_gravity(stage: Usd.Stage) -> None:
    scenes = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]
    assert len(scenes) == 1
    scene = UsdPhysics.Scene(scenes[0])
    assert scene.GetGravityDirectionAttr().Get() == Gf.Vec3f(0, 0, -1)
    assert scene.GetGravityMagnitudeAttr().Get() == pytest.approx(9.81)


def test_every_placement_sits_exactly_at_its_api_pose(stage: Usd.Stage) -> None:
    placements = scene_placements()
    tagged = {
        str(p.GetPath())
        for p in stage.GetPrimAtPath("/World").GetChildren()
        if p.HasAttribute("gizmo:placementId")
    }
    assert tagged == {usd_path(p.placement_id) for p in placements}
    cache = UsdGeom.XformCache()
    for placement in placements:
        prim = stage.GetPrimAtPath(usd_path(placement.placement_id))
        assert prim.GetAttribute("gizmo:placementId").Get() == placement.placement_id
        assert prim.GetAttribute("gizmo:assetId").Get() == placement.asset_id
        assert prim.GetAttribute("gizmo:assetName").Get() == placement.asset_name
        ops = UsdGeom.Xformable(prim).GetOrderedXformOps()
        assert [(op.GetOpType(), op.GetPrecision()) for op in ops] == [
            (UsdGeom.XformOp.TypeTranslate, UsdGeom.XformOp.PrecisionDouble),
            (UsdGeom.XformOp.TypeOrient, UsdGeom.XformOp.PrecisionDouble),
        ]
        world = cache.GetLocalToWorldTransform(prim)
        np.testing.assert_allclose(world.ExtractTranslation(), placement.position, atol=1e-6)
        np.testing.assert_allclose(rotation_of(world), placement.rotation.to_matrix(), atol=1e-6)


def test_rigid_bodies_are_siblings_with_mass_and_colliders(stage: Usd.Stage) -> None:
    bodies = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    assert len(bodies) == sum(len(generate(p.prompt).bodies) for p in scene_placements())
    for body in bodies:
        assert body.GetParent().HasAttribute("gizmo:placementId"), "bodies are not nested"
        mass = UsdPhysics.MassAPI(body)
        assert mass.GetMassAttr().Get() > 0
        assert mass.GetPrincipalAxesAttr().HasAuthoredValue()
        assert all(m > 0 for m in mass.GetDiagonalInertiaAttr().Get())
        colliders = [c for c in body.GetChildren() if c.HasAPI(UsdPhysics.CollisionAPI)]
        assert colliders and all(c.IsA(UsdGeom.Gprim) for c in colliders)


def test_physics_parse_finds_one_articulation_per_articulated_placement(stage: Usd.Stage) -> None:
    parsed = UsdPhysics.UsdPhysicsLoadStageFromPrimRange(stage, ["/"])
    roots = {
        "/".join(str(path).split("/")[:3]) for path in parsed[UsdPhysics.ObjectType.Articulation][0]
    }
    expected = {
        usd_path(p.placement_id) for p in scene_placements() if generate(p.prompt).articulated
    }
    assert roots == expected
    assert len(parsed[UsdPhysics.ObjectType.Articulation][0]) == len(expected)
    assert len(parsed[UsdPhysics.ObjectType.Scene][0]) == 1


def test_fixed_bases_are_anchored_to_their_placement_prim(stage: Usd.Stage) -> None:
    """body0 is the placement prim and the anchor is in its frame, so it moves with the prim."""
    for placement in scene_placements():
        asset, path = generate(placement.prompt), usd_path(placement.placement_id)
        joint = stage.GetPrimAtPath(f"{path}/joints/root_joint")
        assert joint.IsValid() == asset.fixed_base
        if joint.IsValid():
            fixed = UsdPhysics.FixedJoint(joint)
            assert fixed.GetBody0Rel().GetTargets() == [Sdf.Path(path)]
            assert fixed.GetBody1Rel().GetTargets() == [Sdf.Path(f"{path}/{asset.root.name}")]
            assert tuple(fixed.GetLocalPos0Attr().Get()) == asset.root.origin
            assert fixed.GetLocalRot0Attr().Get() == Gf.Quatf(1.0)


def _joint_frame(cache: UsdGeom.XformCache, joint: UsdPhysics.Joint, side: int) -> Gf.Matrix4d:
    """World transform of one side of a joint (body frame times the local joint frame)."""
    targets = (joint.GetBody0Rel() if side == 0 else joint.GetBody1Rel()).GetTargets()
    pos = (joint.GetLocalPos0Attr() if side == 0 else joint.GetLocalPos1Attr()).Get()
    rot = (joint.GetLocalRot0Attr() if side == 0 else joint.GetLocalRot1Attr()).Get()
    local = Gf.Matrix4d().SetRotate(Gf.Quatd(rot)).SetTranslateOnly(Gf.Vec3d(pos))
    if not targets:
        return local
    return local * cache.GetLocalToWorldTransform(
        joint.GetPrim().GetStage().GetPrimAtPath(targets[0])
    )


def test_joint_frames_agree_on_both_sides(stage: Usd.Stage) -> None:
    cache = UsdGeom.XformCache()
    joints = [UsdPhysics.Joint(p) for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)]
    assert len(joints) > len(scene_placements())
    for joint in joints:
        a, b = _joint_frame(cache, joint, 0), _joint_frame(cache, joint, 1)
        # Joint frames are float32 (point3f/quatf): ~1e-7 relative, here up to ~20 m out.
        np.testing.assert_allclose(a.ExtractTranslation(), b.ExtractTranslation(), atol=1e-5)
        np.testing.assert_allclose(rotation_of(a), rotation_of(b), atol=1e-6)


def test_limits_and_drives_are_in_degrees(stage: Usd.Stage) -> None:
    placement = next(p for p in scene_placements() if p.prompt.startswith("a 6-DOF"))
    asset = generate(placement.prompt)
    for joint, actuator in zip(asset.joints, asset.actuators, strict=True):
        prim = stage.GetPrimAtPath(f"{usd_path(placement.placement_id)}/joints/{joint.name}")
        revolute = UsdPhysics.RevoluteJoint(prim)
        assert joint.limits is not None
        assert revolute.GetLowerLimitAttr().Get() == pytest.approx(math.degrees(joint.limits[0]))
        assert revolute.GetUpperLimitAttr().Get() == pytest.approx(math.degrees(joint.limits[1]))
        drive = UsdPhysics.DriveAPI(prim, "angular")
        assert drive.GetStiffnessAttr().Get() == pytest.approx(math.radians(actuator.kp))
        assert drive.GetDampingAttr().Get() == pytest.approx(math.radians(actuator.kv))
        assert drive.GetMaxForceAttr().Get() == pytest.approx(actuator.max_effort)
