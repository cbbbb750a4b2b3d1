"""USD writer: one flattened binary crate (.usd) laid out the way Isaac Sim expects.

Layout (shared/gizmo-api.md Part B, shared/notes/usd.md §2):

    /World                      Xform, kind assembly, default prim, gizmo:sceneId/sceneName
      PhysicsMaterials          Scope of UsdShade Materials with UsdPhysics.MaterialAPI
      Looks                     Scope of render Materials (``writers.materials``): each a
                                UsdPreviewSurface and an OmniPBR MDL shader, textured from
                                ``textures/*.png`` beside the file when textures are on
      <readable name>           Xform, kind component, double translate + orient ops,
                                displayName, assetInfo, extentsHint,
                                gizmo:placementId/assetId/assetName,
                                ArticulationRootAPI (fixed-base articulated assets)
        <body>                  Xform, RigidBodyAPI, MassAPI (principalAxes authored), siblings
          <geom>                Cube/Cylinder/Capsule/Sphere collider, purpose guide (not
                                rendered), CollisionAPI, extent, displayColor, physics
                                material: the one bound on the placement prim (the asset's
                                most used) unless the geom binds its own
          <geom>_visual         Mesh of the same shape (``writers.meshes``) with normals and
                                st, bound to its look; no collision. Collision stays on the
                                primitives: exact, and the fastest shapes PhysX has
        joints                  Scope
          root_joint            FixedJoint, body0 = the placement prim, body1 = root body
          <joint>               Revolute/PrismaticJoint, limits (degrees / metres), DriveAPI,
                                PhysxJointAPI maxJointVelocity (deg/s or m/s) and armature
    /PhysicsScene               gravity, PhysxSceneAPI time step and solver iterations
      GroundPlane               Plane collider at z = 0 with its own material

Referencing the file's default prim brings the scene's objects only; the PhysicsScene, with the
ground inside it, is a sibling of it, so opening the file alone still gives a complete,
simulating stage, and NVIDIA's asset validator sees a single default-prim candidate.

Anchors: a fixed-base root joint's body0 is the placement prim, so its frame is in the placement's
own frame and follows it wherever the file is referenced, moved, rotated, scaled or instanced
(a world anchor, body0 empty, would stay at the pose this writer saw).

PhysX settings (time step, iterations, friction combine mode, joint velocity limits, armature)
are PhysxSchema attributes; usd-core has no PhysxSchema, so they are authored as plain typed
attributes plus the API schema names, which is what Isaac Sim reads.

Speed: each distinct asset is authored once with the Usd schema API into a scratch layer, then
copied per placement with ``Sdf.CopySpec`` (which remaps joint targets) into one layer with no
composition arcs, inside one ``Sdf.ChangeBlock`` and with no stage attached. Nothing is left to
flatten, so the layer is exported as it is.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from pxr import Gf, Kind, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

from gizmo_server.description import (
    RESTITUTION,
    SIMULATION,
    AssetDescription,
    Body,
    Box,
    Capsule,
    Cylinder,
    Geom,
    Joint,
    JointType,
    Material,
    Placement,
    Simulation,
    Sphere,
)
from gizmo_server.writers.materials import Look, look, scene_looks
from gizmo_server.writers.meshes import indexed_mesh
from gizmo_server.writers.names import placement_names
from gizmo_server.writers.textures import TextureRole

WORLD = Sdf.Path("/World")
PHYSICS_SCENE = Sdf.Path("/PhysicsScene")
# Under the (non-xformable) PhysicsScene: a root Xformable would be a rival default prim
# to NVIDIA's asset validator, and a typeless parent fails its TypeChecker.
GROUND = PHYSICS_SCENE.AppendChild("GroundPlane")
MATERIALS = WORLD.AppendChild("PhysicsMaterials")
LOOKS = WORLD.AppendChild("Looks")
VISUAL_SUFFIX = "_visual"
ROOT_JOINT = "root_joint"
_STRING = Sdf.ValueTypeNames.String
_PLACEMENT_ATTRS = ("gizmo:placementId", "gizmo:assetId", "gizmo:assetName")
_PURPOSES = [UsdGeom.Tokens.default_, UsdGeom.Tokens.render, UsdGeom.Tokens.proxy]


def write_usd(
    scene_id: str,
    scene_name: str,
    placements: Sequence[Placement],
    *,
    texture_size: int | None = None,
) -> bytes:
    """The scene as the bytes of a binary crate file.

    With a ``texture_size`` the looks name PNGs under ``textures/`` beside the file (the caller
    ships them: ``writers.materials.texture_files``); without one the file stands alone.
    """
    names = placement_names(p.asset_name for p in placements)
    scratch = Usd.Stage.CreateInMemory()
    _author_stage(scratch, scene_id, scene_name, SIMULATION)
    assets = list({id(p.asset): p.asset for p in placements}.values())
    _author_materials(scratch, MATERIALS, (m for a in assets for m in a.materials))
    _author_looks(scratch, scene_looks(assets), texture_size)
    prototypes = {id(a): Sdf.Path(f"/Prototype{i}") for i, a in enumerate(assets)}
    for asset in assets:
        _author_asset(scratch, prototypes[id(asset)], asset)
    source = scratch.GetRootLayer()
    out = Sdf.Layer.CreateAnonymous("scene.usd")
    with Sdf.ChangeBlock():
        for top in (WORLD, PHYSICS_SCENE):
            Sdf.CopySpec(source, top, out, top)
        for key in ("upAxis", "metersPerUnit", "kilogramsPerUnit", "defaultPrim"):
            out.pseudoRoot.SetInfo(key, source.pseudoRoot.GetInfo(key))
        out.customLayerData = {"SimReady_Metadata": _metadata(scene_id, scene_name)}
        for placement, name in zip(placements, names, strict=True):
            dst = WORLD.AppendChild(name)
            Sdf.CopySpec(source, prototypes[id(placement.asset)], out, dst)
            _place(out, dst, name, placement)
    with tempfile.TemporaryDirectory(prefix="gizmo-usd-") as tmp:
        path = Path(tmp) / "scene.usd"
        if not out.Export(str(path)):
            raise RuntimeError(f"usd-core could not write {path}")
        return path.read_bytes()


def _metadata(scene_id: str, scene_name: str) -> dict[str, str]:
    """What real exports say about themselves, minus the date: equal scenes give equal bytes."""
    return {
        "asset_name": scene_name,
        "asset_type": "scene",
        "source_file": f"gizmo://scene/{scene_id}",
        "generator": "gizmo-server",
    }


def _author_stage(stage: Usd.Stage, scene_id: str, scene_name: str, sim: Simulation) -> None:
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, UsdGeom.LinearUnits.meters)
    UsdPhysics.SetStageKilogramsPerUnit(stage, UsdPhysics.MassUnits.kilograms)
    world = UsdGeom.Xform.Define(stage, WORLD).GetPrim()
    stage.SetDefaultPrim(world)
    Usd.ModelAPI(world).SetKind(Kind.Tokens.assembly)
    world.CreateAttribute("gizmo:sceneId", _STRING, custom=True).Set(scene_id)
    world.CreateAttribute("gizmo:sceneName", _STRING, custom=True).Set(scene_name)
    UsdGeom.Scope.Define(stage, MATERIALS)
    physics = UsdPhysics.Scene.Define(stage, PHYSICS_SCENE)
    physics.CreateGravityDirectionAttr(Gf.Vec3f(0.0, 0.0, -1.0))
    physics.CreateGravityMagnitudeAttr(sim.gravity)
    _physx(
        physics.GetPrim(),
        "PhysxSceneAPI",
        [
            ("physxScene:timeStepsPerSecond", "uint", round(1.0 / sim.timestep)),
            ("physxScene:minPositionIterationCount", "uniform uint", sim.solver_iterations),
            ("physxScene:maxPositionIterationCount", "uniform uint", sim.solver_iterations),
            ("physxScene:minVelocityIterationCount", "uniform uint", sim.velocity_iterations),
            ("physxScene:maxVelocityIterationCount", "uniform uint", sim.velocity_iterations),
        ],
    )
    ground = UsdGeom.Plane.Define(stage, GROUND)
    ground.CreateAxisAttr(UsdGeom.Tokens.z)
    ground.CreateWidthAttr(50.0)
    ground.CreateLengthAttr(50.0)
    _finish_gprim(ground, (0.8, 0.8, 0.8))
    _author_materials(stage, GROUND, [sim.ground])
    _bind(ground.GetPrim(), GROUND.AppendChild(sim.ground.name))


def _physx(prim: Usd.Prim, schema: str, attrs: Iterable[tuple[str, str, object]]) -> None:
    """PhysxSchema API ``schema`` with its attributes, by name (usd-core lacks PhysxSchema).

    Each attribute comes with its type as the schema declares it (``"uniform uint"``).
    """
    prim.AddAppliedSchema(schema)
    for name, declared, value in attrs:
        uniform, _, type_name = declared.rpartition(" ")
        variability = Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying
        value_type = Sdf.ValueTypeNames.Find(type_name)
        prim.CreateAttribute(name, value_type, False, variability).Set(value)


def _author_materials(stage: Usd.Stage, parent: Sdf.Path, materials: Iterable[Material]) -> None:
    """One physics material per distinct name under ``parent``; a name means one set of values."""
    authored: dict[str, Material] = {}
    for material in materials:
        known = authored.setdefault(material.name, material)
        if known is not material:
            if known != material:
                raise ValueError(f"two different materials are both named {material.name!r}")
            continue
        prim = UsdShade.Material.Define(stage, parent.AppendChild(material.name)).GetPrim()
        api = UsdPhysics.MaterialAPI.Apply(prim)
        api.CreateStaticFrictionAttr(material.friction)
        api.CreateDynamicFrictionAttr(material.friction)
        api.CreateRestitutionAttr(RESTITUTION)
        if material.density > 0.0:
            api.CreateDensityAttr(material.density)
        # MuJoCo combines two geoms' friction by the larger one; PhysX averages unless told.
        _physx(
            prim,
            "PhysxMaterialAPI",
            [("physxMaterial:frictionCombineMode", "uniform token", "max")],
        )


# (role, UsdPreviewSurface input, UsdUVTexture output type and name, OmniPBR input, colour space)
_TEXTURE_INPUTS = (
    (TextureRole.BASE_COLOR, "diffuseColor", "float3", "rgb", "diffuse_texture", "sRGB"),
    (TextureRole.NORMAL, "normal", "float3", "rgb", "normalmap_texture", "raw"),
    (TextureRole.ROUGHNESS, "roughness", "float", "r", "reflectionroughness_texture", "raw"),
)

_PREVIEW_INPUT_TYPES = {
    "diffuseColor": Sdf.ValueTypeNames.Color3f,
    "normal": Sdf.ValueTypeNames.Normal3f,
    "roughness": Sdf.ValueTypeNames.Float,
}


def _author_looks(stage: Usd.Stage, looks: Iterable[Look], texture_size: int | None) -> None:
    """Each look as a Material with a UsdPreviewSurface (any renderer) and an OmniPBR (Kit).

    ``OmniPBR.mdl`` is one of Kit's core MDLs, found on Kit's own search path, not a file here.
    """
    UsdGeom.Scope.Define(stage, LOOKS)
    for item in looks:
        material = UsdShade.Material.Define(stage, LOOKS.AppendChild(item.name))
        path = material.GetPath()
        rgb = Gf.Vec3f(*item.rgba[:3])
        preview = UsdShade.Shader.Define(stage, path.AppendChild("PreviewSurface"))
        preview.CreateIdAttr("UsdPreviewSurface")
        _inputs(preview, [("diffuseColor", "color3f", rgb)])
        _inputs(preview, [("roughness", "float", item.surface.roughness)])
        _inputs(preview, [("metallic", "float", item.surface.metallic)])
        material.CreateSurfaceOutput().ConnectToSource(preview.ConnectableAPI(), "surface")
        mdl = UsdShade.Shader.Define(stage, path.AppendChild("OmniPBR"))
        mdl.SetSourceAsset(Sdf.AssetPath("OmniPBR.mdl"), "mdl")
        mdl.SetSourceAssetSubIdentifier("OmniPBR", "mdl")
        _inputs(
            mdl,
            [
                ("diffuse_color_constant", "color3f", rgb),
                ("reflection_roughness_constant", "float", item.surface.roughness),
                ("metallic_constant", "float", item.surface.metallic),
            ],
        )
        for output in ("Surface", "Displacement", "Volume"):
            getattr(material, f"Create{output}Output")("mdl").ConnectToSource(
                mdl.ConnectableAPI(), "out"
            )
        prim = material.GetPrim()
        prim.CreateAttribute("omni:simready:nonvisual:base", Sdf.ValueTypeNames.Token).Set(
            item.surface.kind
        )
        if texture_size is not None:
            _author_textures(stage, item, texture_size, preview, mdl)


def _author_textures(
    stage: Usd.Stage, item: Look, size: int, preview: UsdShade.Shader, mdl: UsdShade.Shader
) -> None:
    path = preview.GetPath().GetParentPath()
    reader = UsdShade.Shader.Define(stage, path.AppendChild("TexCoords"))
    reader.CreateIdAttr("UsdPrimvarReader_float2")
    _inputs(reader, [("varname", "token", "st")])
    st = reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
    _inputs(mdl, [("reflection_roughness_texture_influence", "float", 1.0)])
    for role, preview_input, value_type, channel, mdl_input, space in _TEXTURE_INPUTS:
        file = Sdf.AssetPath(item.texture_path(role, size))
        texture = UsdShade.Shader.Define(stage, path.AppendChild(f"{role}Texture"))
        texture.CreateIdAttr("UsdUVTexture")
        _inputs(texture, [("file", "asset", file), ("sourceColorSpace", "token", space)])
        _inputs(texture, [("wrapS", "token", "repeat"), ("wrapT", "token", "repeat")])
        texture.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(st)
        if role is TextureRole.NORMAL:  # stored 0..1, wanted -1..1
            _inputs(texture, [("scale", "float4", Gf.Vec4f(2, 2, 2, 1))])
            _inputs(texture, [("bias", "float4", Gf.Vec4f(-1, -1, -1, 0))])
        source = texture.CreateOutput(channel, Sdf.ValueTypeNames.Find(value_type))
        target = preview.CreateInput(preview_input, _PREVIEW_INPUT_TYPES[preview_input])
        target.ConnectToSource(source)
        mdl.CreateInput(mdl_input, Sdf.ValueTypeNames.Asset).Set(file)
        mdl.GetInput(mdl_input).GetAttr().SetColorSpace("auto" if space == "sRGB" else "raw")


def _inputs(shader: UsdShade.Shader, values: Iterable[tuple[str, str, object]]) -> None:
    for name, type_name, value in values:
        shader.CreateInput(name, Sdf.ValueTypeNames.Find(type_name)).Set(value)


def _bind(prim: Usd.Prim, material: Sdf.Path) -> None:
    UsdShade.MaterialBindingAPI.Apply(prim).Bind(
        UsdShade.Material(prim.GetStage().GetPrimAtPath(material)),
        UsdShade.Tokens.weakerThanDescendants,
        "physics",
    )


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
    # The asset's most used material is bound once, on its root (bindings are inherited); only
    # geoms of another material carry their own, which keeps the per-placement copy small.
    materials = Counter(g.material for b in asset.bodies for g in b.geoms)
    common = materials.most_common(1)[0][0]
    _bind(prim, MATERIALS.AppendChild(common.name))
    for body in asset.bodies:
        body_prim = _author_body(stage, path.AppendChild(body.name), body, common)
        if asset.articulated and not asset.fixed_base and body is asset.root:
            UsdPhysics.ArticulationRootAPI.Apply(body_prim)
    joints = UsdGeom.Scope.Define(stage, path.AppendChild("joints")).GetPath()
    if asset.fixed_base:
        anchor = UsdPhysics.FixedJoint.Define(stage, joints.AppendChild(ROOT_JOINT))
        anchor.CreateBody0Rel().SetTargets([path])
        anchor.CreateBody1Rel().SetTargets([path.AppendChild(asset.root.name)])
        anchor.CreateLocalPos0Attr(Gf.Vec3f(*asset.root.origin))
        anchor.CreateLocalRot0Attr(Gf.Quatf(1.0))
        anchor.CreateLocalPos1Attr(Gf.Vec3f(0.0))
        anchor.CreateLocalRot1Attr(Gf.Quatf(1.0))
    for joint in asset.joints:
        _author_joint(stage, joints.AppendChild(joint.name), path, asset, joint)
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), _PURPOSES)
    model = UsdGeom.ModelAPI(prim)
    model.SetExtentsHint(model.ComputeExtentsHint(cache))


def _author_body(stage: Usd.Stage, path: Sdf.Path, body: Body, inherited: Material) -> Usd.Prim:
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
        _author_geom(stage, path.AppendChild(geom.name), geom, inherited)
    return prim


def _author_geom(stage: Usd.Stage, path: Sdf.Path, geom: Geom, inherited: Material) -> None:
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
    gprim.CreatePurposeAttr(UsdGeom.Tokens.guide)
    if geom.material != inherited:
        _bind(gprim.GetPrim(), MATERIALS.AppendChild(geom.material.name))
    _author_visual(stage, path.GetParentPath().AppendChild(geom.name + VISUAL_SUFFIX), geom)


def _author_visual(stage: Usd.Stage, path: Sdf.Path, geom: Geom) -> None:
    """The geom's render mesh, bound to its look for every purpose but physics."""
    tri = indexed_mesh(geom.shape)
    mesh = UsdGeom.Mesh.Define(stage, path)
    points = Vt.Vec3fArray.FromNumpy(tri.points.astype(np.float32))
    mesh.CreatePointsAttr(points)
    triangles = len(tri.face_points) // 3
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(triangles, 3, np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(tri.face_points.astype(np.int32)))
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    primvars = UsdGeom.PrimvarsAPI(mesh)
    for name, type_name, values, indices in (
        ("normals", Sdf.ValueTypeNames.Normal3fArray, tri.normals, tri.face_normals),
        ("st", Sdf.ValueTypeNames.TexCoord2fArray, tri.uvs, tri.face_uvs),
    ):
        primvar = primvars.CreatePrimvar(name, type_name, UsdGeom.Tokens.faceVarying)
        primvar.Set(values.astype(np.float32))
        primvar.SetIndices(Vt.IntArray.FromNumpy(indices.astype(np.int32)))
    mesh.CreateExtentAttr(UsdGeom.Mesh.ComputeExtent(points))
    mesh.CreateDisplayColorAttr([Gf.Vec3f(*geom.rgba[:3])])
    mesh.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*geom.pos))
    UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(
        UsdShade.Material(stage.GetPrimAtPath(LOOKS.AppendChild(look(geom).name)))
    )


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
    physx = [("physxJoint:maxJointVelocity", "float", joint.max_velocity * unit)]
    if joint.armature:  # PhysX's fallback is 0
        physx.append(("physxJoint:armature", "float", joint.armature))
    _physx(usd_joint.GetPrim(), "PhysxJointAPI", physx)
    actuator = next((a for a in asset.actuators if a.joint == joint.name), None)
    if actuator is not None:
        drive = UsdPhysics.DriveAPI.Apply(usd_joint.GetPrim(), "angular" if revolute else "linear")
        drive.CreateTypeAttr("force")
        drive.CreateStiffnessAttr(actuator.kp / unit)
        drive.CreateDampingAttr(actuator.kv / unit)
        drive.CreateMaxForceAttr(actuator.max_effort)
        drive.CreateTargetPositionAttr(0.0)
        drive.CreateTargetVelocityAttr(0.0)


def _place(layer: Sdf.Layer, path: Sdf.Path, name: str, placement: Placement) -> None:
    """Per-placement values on a copied prototype: pose, identity, readable name."""
    w, x, y, z = placement.rotation.to_wxyz()
    values: list[tuple[str, object]] = [
        ("xformOp:translate", Gf.Vec3d(*placement.position)),
        ("xformOp:orient", Gf.Quatd(w, x, y, z)),
        ("gizmo:placementId", placement.placement_id),
        ("gizmo:assetId", placement.asset_id),
        ("gizmo:assetName", placement.asset_name),
    ]
    for attr, value in values:
        layer.GetAttributeAtPath(path.AppendProperty(attr)).default = value
    spec = layer.GetPrimAtPath(path)
    spec.SetInfo("displayName", name)
    spec.assetInfo = {"name": placement.asset_name, "gizmoAssetId": placement.asset_id}
