"""USD writer: one flattened binary crate (.usd) laid out the way Isaac Sim expects.

Layout (shared/gizmo-api.md Part B, shared/notes/usd.md §2):

    /World                      Xform, kind assembly, default prim, gizmo:sceneId/sceneName
      PhysicsScene              gravity (0, 0, -1) * 9.81
      GroundPlane               Plane collider at z = 0
      <placement id>            Xform, kind component, double translate + orient ops,
                                gizmo:placementId/assetId/assetName,
                                ArticulationRootAPI (fixed-base articulated assets)
        <body>                  Xform, RigidBodyAPI, MassAPI (principalAxes authored), siblings
          <geom>                Cube/Cylinder/Capsule/Sphere, CollisionAPI, extent, displayColor
        joints                  Scope
          root_joint            FixedJoint, body0 empty (world), body1 = root body (fixed bases)
          <joint>               Revolute/PrismaticJoint with limits (degrees / metres), DriveAPI

A floating articulated asset carries ArticulationRootAPI on its root body instead (UsdPhysics
ArticulationRootAPI doc). A fixed-base root joint has no body0, so its localPos0/localRot0 are
world coordinates: they are rewritten per placement, or every copy would be anchored at the origin.

Speed: each distinct asset is authored once with the Usd schema API into a scratch layer, then
copied per placement with ``Sdf.CopySpec`` (which remaps joint targets) into one layer with no
composition arcs, inside one ``Sdf.ChangeBlock`` and with no stage attached. Nothing is left to
flatten, so the layer is exported as it is.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pxr import Gf, Kind, Sdf, Usd, UsdGeom, UsdPhysics

from gizmo_server.description import (
    AssetDescription,
    Body,
    Box,
    Capsule,
    Cylinder,
    Geom,
    Joint,
    JointType,
    Placement,
    Sphere,
)

WORLD = Sdf.Path("/World")
RESERVED_NAMES = frozenset({"PhysicsScene", "GroundPlane"})
ROOT_JOINT = "root_joint"
_STRING = Sdf.ValueTypeNames.String
_PLACEMENT_ATTRS = ("gizmo:placementId", "gizmo:assetId", "gizmo:assetName")


def write_usd(scene_id: str, scene_name: str, placements: Sequence[Placement]) -> bytes:
    """The scene as the bytes of a self-contained binary crate file."""
    clashes = sorted({p.placement_id for p in placements} & RESERVED_NAMES)
    if clashes:
        raise ValueError(f"placement ids {clashes} clash with prims the USD writer reserves")
    scratch = Usd.Stage.CreateInMemory()
    _author_world(scratch, scene_id, scene_name)
    prototypes: dict[int, Sdf.Path] = {}
    for placement in placements:
        if id(placement.asset) not in prototypes:
            path = Sdf.Path(f"/Prototype{len(prototypes)}")
            _author_asset(scratch, path, placement.asset)
            prototypes[id(placement.asset)] = path
    source = scratch.GetRootLayer()
    out = Sdf.Layer.CreateAnonymous("scene.usd")
    with Sdf.ChangeBlock():
        Sdf.CopySpec(source, WORLD, out, WORLD)
        for key in ("upAxis", "metersPerUnit", "kilogramsPerUnit", "defaultPrim"):
            out.pseudoRoot.SetInfo(key, source.pseudoRoot.GetInfo(key))
        for placement in placements:
            dst = WORLD.AppendChild(placement.placement_id)
            Sdf.CopySpec(source, prototypes[id(placement.asset)], out, dst)
            _place(out, dst, placement)
    with tempfile.TemporaryDirectory(prefix="gizmo-usd-") as tmp:
        path = Path(tmp) / "scene.usd"
        if not out.Export(str(path)):
            raise RuntimeError(f"usd-core could not write {path}")
        return path.read_bytes()


def _author_world(stage: Usd.Stage, scene_id: str, scene_name: str) -> None:
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
    UsdPhysics.SetStageKilogramsPerUnit(stage, UsdPhysics.MassUnits.kilograms)
    world = UsdGeom.Xform.Define(stage, WORLD).GetPrim()
    stage.SetDefaultPrim(world)
    Usd.ModelAPI(world).SetKind(Kind.Tokens.assembly)
    world.CreateAttribute("gizmo:sceneId", _STRING, custom=True).Set(scene_id)
    world.CreateAttribute("gizmo:sceneName", _STRING, custom=True).Set(scene_name)
    physics = UsdPhysics.Scene.Define(stage, WORLD.AppendChild("PhysicsScene"))
    physics.CreateGravityDirectionAttr(Gf.Vec3f(0.0, 0.0, -1.0))
    physics.CreateGravityMagnitudeAttr(9.81)
    ground = UsdGeom.Plane.Define(stage, WORLD.AppendChild("GroundPlane"))
    ground.CreateAxisAttr(UsdGeom.Tokens.z)
    ground.CreateWidthAttr(50.0)
    ground.CreateLengthAttr(50.0)
    _finish_gprim(ground, (0.8, 0.8, 0.8))


def _author_asset(stage: Usd.Stage, path: Sdf.Path, asset: AssetDescription) -> None:
    """The asset at the origin; ``_place`` fills in the per-placement values later."""
    root = UsdGeom.Xform.Define(stage, path)
    prim = root.GetPrim()
    Usd.ModelAPI(prim).SetKind(Kind.Tokens.component)
    root.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(0.0))
    root.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(1.0))
    for name in _PLACEMENT_ATTRS:
        prim.CreateAttribute(name, _STRING, custom=True).Set("")
    if asset.articulated and asset.fixed_base:
        UsdPhysics.ArticulationRootAPI.Apply(prim)
    for body in asset.bodies:
        body_prim = _author_body(stage, path.AppendChild(body.name), body)
        if asset.articulated and not asset.fixed_base and body is asset.root:
            UsdPhysics.ArticulationRootAPI.Apply(body_prim)
    joints = UsdGeom.Scope.Define(stage, path.AppendChild("joints")).GetPath()
    if asset.fixed_base:
        anchor = UsdPhysics.FixedJoint.Define(stage, joints.AppendChild(ROOT_JOINT))
        anchor.CreateBody1Rel().SetTargets([path.AppendChild(asset.root.name)])
        anchor.CreateLocalPos0Attr(Gf.Vec3f(0.0))
        anchor.CreateLocalRot0Attr(Gf.Quatf(1.0))
        anchor.CreateLocalPos1Attr(Gf.Vec3f(0.0))
        anchor.CreateLocalRot1Attr(Gf.Quatf(1.0))
    for joint in asset.joints:
        _author_joint(stage, joints.AppendChild(joint.name), path, asset, joint)


def _author_body(stage: Usd.Stage, path: Sdf.Path, body: Body) -> Usd.Prim:
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*body.origin))
    prim = xform.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim)
    mass = UsdPhysics.MassAPI.Apply(prim)
    mass.CreateMassAttr(body.inertial.mass)
    mass.CreateCenterOfMassAttr(Gf.Vec3f(*body.inertial.com))
    mass.CreateDiagonalInertiaAttr(Gf.Vec3f(*body.inertial.diagonal_inertia))
    mass.CreatePrincipalAxesAttr(Gf.Quatf(1.0))
    for geom in body.geoms:
        _author_geom(stage, path.AppendChild(geom.name), geom)
    return prim


def _author_geom(stage: Usd.Stage, path: Sdf.Path, geom: Geom) -> None:
    gprim: UsdGeom.Gprim
    match geom.shape:
        case Box():
            gprim = UsdGeom.Cube.Define(stage, path)
            gprim.CreateSizeAttr(1.0)
        case Sphere(radius=radius):
            gprim = UsdGeom.Sphere.Define(stage, path)
            gprim.CreateRadiusAttr(radius)
        case Cylinder(radius=radius, length=length, axis=axis):
            gprim = UsdGeom.Cylinder.Define(stage, path)
            gprim.CreateRadiusAttr(radius)
            gprim.CreateHeightAttr(length)
            gprim.CreateAxisAttr(axis)
        case Capsule(radius=radius, length=length, axis=axis):
            gprim = UsdGeom.Capsule.Define(stage, path)
            gprim.CreateRadiusAttr(radius)
            gprim.CreateHeightAttr(length)
            gprim.CreateAxisAttr(axis)
    gprim.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*geom.pos))
    if isinstance(geom.shape, Box):
        gprim.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*geom.shape.size))
    _finish_gprim(gprim, geom.rgba[:3])


def _finish_gprim(gprim: UsdGeom.Gprim, rgb: tuple[float, float, float]) -> None:
    gprim.CreateExtentAttr(
        UsdGeom.Boundable.ComputeExtentFromPlugins(gprim, Usd.TimeCode.Default())
    )
    gprim.CreateDisplayColorAttr([Gf.Vec3f(*rgb)])
    UsdPhysics.CollisionAPI.Apply(gprim.GetPrim())


def _author_joint(
    stage: Usd.Stage, path: Sdf.Path, root: Sdf.Path, asset: AssetDescription, joint: Joint
) -> None:
    parent, child = asset.body(joint.parent), asset.body(joint.child)
    revolute = joint.type is JointType.REVOLUTE
    usd_joint: UsdPhysics.RevoluteJoint | UsdPhysics.PrismaticJoint = (
        UsdPhysics.RevoluteJoint if revolute else UsdPhysics.PrismaticJoint
    ).Define(stage, path)
    usd_joint.CreateBody0Rel().SetTargets([root.AppendChild(parent.name)])
    usd_joint.CreateBody1Rel().SetTargets([root.AppendChild(child.name)])
    usd_joint.CreateAxisAttr(joint.axis)
    usd_joint.CreateLocalPos0Attr(
        Gf.Vec3f(*(c - p for c, p in zip(child.origin, parent.origin, strict=True)))
    )
    usd_joint.CreateLocalRot0Attr(Gf.Quatf(1.0))
    usd_joint.CreateLocalPos1Attr(Gf.Vec3f(0.0))
    usd_joint.CreateLocalRot1Attr(Gf.Quatf(1.0))
    # UsdPhysics angles and angular gains are per degree; the description's are per radian.
    unit = math.degrees(1.0) if revolute else 1.0
    if joint.limits is not None:
        usd_joint.CreateLowerLimitAttr(joint.limits[0] * unit)
        usd_joint.CreateUpperLimitAttr(joint.limits[1] * unit)
    actuator = next((a for a in asset.actuators if a.joint == joint.name), None)
    if actuator is not None:
        drive = UsdPhysics.DriveAPI.Apply(usd_joint.GetPrim(), "angular" if revolute else "linear")
        drive.CreateTypeAttr("force")
        drive.CreateStiffnessAttr(actuator.kp / unit)
        drive.CreateDampingAttr(actuator.kv / unit)
        drive.CreateMaxForceAttr(actuator.max_effort)
        drive.CreateTargetPositionAttr(0.0)
        drive.CreateTargetVelocityAttr(0.0)


def _place(layer: Sdf.Layer, path: Sdf.Path, placement: Placement) -> None:
    """Per-placement values on a copied prototype: pose, identity, world anchor."""
    w, x, y, z = placement.rotation.to_wxyz()
    values: list[tuple[str, object]] = [
        ("xformOp:translate", Gf.Vec3d(*placement.position)),
        ("xformOp:orient", Gf.Quatd(w, x, y, z)),
        ("gizmo:placementId", placement.placement_id),
        ("gizmo:assetId", placement.asset_id),
        ("gizmo:assetName", placement.asset_name),
    ]
    for name, value in values:
        layer.GetAttributeAtPath(path.AppendProperty(name)).default = value
    if placement.asset.fixed_base:
        joint = path.AppendChild("joints").AppendChild(ROOT_JOINT)
        anchor = placement.to_scene(placement.asset.root.origin)
        layer.GetAttributeAtPath(joint.AppendProperty("physics:localPos0")).default = Gf.Vec3f(
            *anchor
        )
        layer.GetAttributeAtPath(joint.AppendProperty("physics:localRot0")).default = Gf.Quatf(
            w, x, y, z
        )
