"""Test fixtures: the USD side of a real-style scene, shaped like the newer generation's USD
exports (a `scene.usda` folder with `textures/*.png`, `/World/Looks` materials with a
`UsdPreviewSurface` and an `OmniPBR` shader naming `@OmniPBR.mdl@`, one `a_<object>` Xform of
Mesh prims per object, free rigid bodies, `/World/physicsScene`, `customLayerData`
SimReady_Metadata). Each object is written from the compiled MJCF of `tests/mujoco/real_scenes`
(same names, poses and meshes), so the pair agrees object by object. Written by test code; no
one's published file is copied."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mujoco"))
from real_scenes import write_real_scene  # the MuJoCo part's MJCF writer

__all__ = ["RealPair", "write_real_pair"]

_BOX_FACES = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]


@dataclass(frozen=True)
class RealPair:
    """A real-style scene in both formats: `mjcf` (scene.xml + PNG) and `usd` (scene.usda +
    textures/); `objects` are the MJCF object names."""

    mjcf: Path
    usd: Path
    texture: Path
    objects: tuple[str, ...]


def _geom_mesh(model: mujoco.MjModel, geom: int) -> tuple[np.ndarray, list[int], list[int]]:
    """Points in the geom's frame, face indices and counts: the MJCF mesh, or a box's corners."""
    if model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_MESH:
        mesh = model.geom_dataid[geom]
        start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        face, nface = model.mesh_faceadr[mesh], model.mesh_facenum[mesh]
        points = model.mesh_vert[start : start + count]
        faces = model.mesh_face[face : face + nface].ravel().tolist()
        return points, faces, [3] * nface
    half = model.geom_size[geom]
    signs = np.array([(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    return signs * half, [i for f in _BOX_FACES for i in f], [4] * len(_BOX_FACES)


def _material(stage: Usd.Stage, name: str, texture: str | None) -> UsdShade.Material:
    material = UsdShade.Material.Define(stage, f"/World/Looks/{name}")
    preview = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("PreviewSurface"))
    preview.CreateIdAttr("UsdPreviewSurface")
    preview.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.7)
    omni = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("OmniPBR"))
    omni.SetSourceAsset(Sdf.AssetPath("OmniPBR.mdl"), "mdl")
    omni.SetSourceAssetSubIdentifier("OmniPBR", "mdl")
    material.CreateSurfaceOutput().ConnectToSource(preview.ConnectableAPI(), "surface")
    material.CreateSurfaceOutput("mdl").ConnectToSource(omni.ConnectableAPI(), "out")
    material.GetPrim().CreateAttribute("unisim:material:surfaceType", Sdf.ValueTypeNames.String)
    if texture is not None:
        reader = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("BaseColor"))
        reader.CreateIdAttr("UsdUVTexture")
        reader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(texture))
        output = reader.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
        preview.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(output)
        omni.CreateInput("diffuse_texture", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(texture))
    return material


def write_real_pair(folder: Path) -> RealPair:
    """Write `folder/mjcf/scene.xml` (by `real_scenes`) and `folder/usd/scene.usda` to match."""
    real = write_real_scene(folder / "mjcf")
    model = mujoco.MjModel.from_xml_path(str(real.path))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    usd_dir = folder / "usd"
    (usd_dir / "textures").mkdir(parents=True, exist_ok=True)
    texture = usd_dir / "textures" / real.texture.name
    shutil.copyfile(real.texture, texture)

    stage = Usd.Stage.CreateNew(str(usd_dir / "scene.usda"))
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(600)
    stage.SetTimeCodesPerSecond(60)
    stage.GetRootLayer().customLayerData = {
        "SimReady_Metadata": {
            "asset_name": "simstudio_scene",
            "asset_type": "scene",
            "source_file": "gizmo://scene/simstudio-scene",
            "usd_date_generated": "2026-11-30T14:02:11Z",
            "generator": "Gizmo",
        }
    }
    physics = UsdPhysics.Scene.Define(stage, "/World/physicsScene")
    physics.CreateGravityDirectionAttr(Gf.Vec3f(0, 0, -1))
    physics.CreateGravityMagnitudeAttr(9.81)
    scene_prim = physics.GetPrim()
    scene_prim.AddAppliedSchema("PhysxSceneAPI")
    scene_prim.CreateAttribute("physxScene:solverType", Sdf.ValueTypeNames.Token).Set("TGS")
    steps = scene_prim.CreateAttribute("physxScene:timeStepsPerSecond", Sdf.ValueTypeNames.UInt)
    steps.Set(round(1.0 / model.opt.timestep))
    UsdGeom.Scope.Define(stage, "/World/Looks")
    plain = _material(stage, "mat_0", None)
    textured = _material(stage, "mat_3", f"./textures/{texture.name}")

    objects: list[str] = []
    for body in range(1, model.nbody):
        if model.body_parentid[body] != 0:
            continue
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body)
        objects.append(name)
        # Real exports name object Xforms `a_<slug>_<n>`; the hinged one keeps only its slug.
        prim_name = "a_" + name.removesuffix("_articulation_interactable")
        xform = UsdGeom.Xform.Define(stage, f"/World/{prim_name}")
        x, y, z = (float(v) for v in data.xpos[body])
        w, qx, qy, qz = (float(v) for v in data.xquat[body])
        xform.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(x, y, z))
        xform.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(w, qx, qy, qz))
        free = model.body_jntnum[body] and model.jnt_type[model.body_jntadr[body]] == 0
        if free:
            UsdPhysics.RigidBodyAPI.Apply(xform.GetPrim())
            UsdPhysics.MassAPI.Apply(xform.GetPrim()).CreateMassAttr(0.5)
        for n, geom in enumerate(
            range(model.body_geomadr[body], model.body_geomadr[body] + model.body_geomnum[body])
        ):
            points, faces, counts = _geom_mesh(model, geom)
            mesh = UsdGeom.Mesh.Define(stage, xform.GetPath().AppendChild(f"mesh_{n}"))
            gx, gy, gz = (float(v) for v in model.geom_pos[geom])
            gw, gqx, gqy, gqz = (float(v) for v in model.geom_quat[geom])
            mesh.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(gx, gy, gz))
            mesh.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(gw, gqx, gqy, gqz))
            mesh.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(*map(float, p)) for p in points]))
            mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(faces))
            mesh.CreateFaceVertexCountsAttr(Vt.IntArray(counts))
            UsdPhysics.CollisionAPI.Apply(mesh.GetPrim())
            look = textured if name.startswith("textured") else plain
            UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(look)
    stage.GetRootLayer().Save()
    return RealPair(real.path, usd_dir / "scene.usda", texture, tuple(objects))
