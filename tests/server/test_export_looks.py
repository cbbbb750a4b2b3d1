"""Exports that look like the real service's: visual meshes beside primitive colliders, PBR
materials with textures, free bodies with a home keyframe and pose sensors, metadata, ZIP layout.

Real usd-core and mujoco read the files back; textures are 32 px to stay fast.
"""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

import mujoco
import numpy as np
import pytest
from pxr import Usd, UsdGeom, UsdPhysics, UsdShade, UsdUtils

from gizmo_server.exports import RenderedFile, render_scene
from gizmo_server.gen2.archives import scene_zip
from gizmo_server.writers.materials import TEXTURE_SIZE_ENV
from gizmo_server.writers.names import placement_names

from .test_export_cases import SCENE_ID, SCENE_NAME, scene_placements

SIZE = "32"


@pytest.fixture(autouse=True)
def small_textures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEXTURE_SIZE_ENV, SIZE)


@functools.cache
def textured(fmt: str) -> RenderedFile:
    return render_scene(SCENE_ID, SCENE_NAME, scene_placements(), fmt, textures=True)


def unpacked(rendered: RenderedFile, folder: Path) -> Path:
    for relative, data in rendered.files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    path = folder / rendered.filename
    path.write_bytes(rendered.data)
    return path


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Usd.Stage:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEXTURE_SIZE_ENV, SIZE)
        path = unpacked(textured("isaac_sim_usd"), tmp_path_factory.mktemp("usd"))
    return Usd.Stage.Open(str(path))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> mujoco.MjModel:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEXTURE_SIZE_ENV, SIZE)
        path = unpacked(textured("mujoco_mjcf"), tmp_path_factory.mktemp("mjcf"))
    return mujoco.MjModel.from_xml_path(str(path))


def colliders(stage: Usd.Stage) -> list[Usd.Prim]:
    return [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.CollisionAPI)]


def test_usd_every_collider_is_a_hidden_primitive_with_a_visual_mesh_of_its_size(
    stage: Usd.Stage,
) -> None:
    world = [p for p in colliders(stage) if p.GetPath().HasPrefix("/World")]
    assert len(world) > 50
    render = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    guide = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.guide])
    for prim in world:
        assert UsdGeom.Imageable(prim).GetPurposeAttr().Get() == UsdGeom.Tokens.guide
        visual = prim.GetParent().GetChild(prim.GetName() + "_visual")
        assert visual.IsA(UsdGeom.Mesh) and not visual.HasAPI(UsdPhysics.CollisionAPI)
        seen = render.ComputeWorldBound(visual).ComputeAlignedRange()
        collides = guide.ComputeWorldBound(prim).ComputeAlignedRange()
        # Round shapes are polygons inscribed in the true surface: a little smaller, never off.
        assert np.allclose(seen.GetMin(), collides.GetMin(), atol=0.02), prim.GetPath()
        assert np.allclose(seen.GetMax(), collides.GetMax(), atol=0.02), prim.GetPath()


def test_usd_meshes_carry_indexed_normals_and_uvs(stage: Usd.Stage) -> None:
    meshes = [UsdGeom.Mesh(p) for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
    assert meshes
    for mesh in meshes[:40]:
        corners = len(mesh.GetFaceVertexIndicesAttr().Get())
        for name in ("normals", "st"):
            primvar = UsdGeom.PrimvarsAPI(mesh).GetPrimvar(name)
            assert primvar.GetInterpolation() == UsdGeom.Tokens.faceVarying
            assert len(primvar.GetIndices()) == corners
            assert len(primvar.ComputeFlattened()) == corners


def test_usd_looks_have_preview_surface_and_omnipbr_with_shipped_textures(
    stage: Usd.Stage,
) -> None:
    files = textured("isaac_sim_usd").files
    looks = stage.GetPrimAtPath("/World/Looks").GetChildren()
    assert len(looks) >= 5
    for prim in looks:
        material = UsdShade.Material(prim)
        preview = material.ComputeSurfaceSource()[0]
        assert preview.GetIdAttr().Get() == "UsdPreviewSurface"
        mdl = material.ComputeSurfaceSource("mdl")[0]
        assert mdl.GetSourceAsset("mdl").path == "OmniPBR.mdl"
        assert mdl.GetSourceAssetSubIdentifier("mdl") == "OmniPBR"
        for name in ("diffuse_texture", "normalmap_texture", "reflectionroughness_texture"):
            assert mdl.GetInput(name).Get().path in files
        texture = preview.GetInput("diffuseColor").GetConnectedSources()[0][0].source
        assert UsdShade.Shader(texture).GetInput("file").Get().path in files
    # Every visual mesh is bound (for rendering) to one of those looks.
    paths = {p.GetPath() for p in looks}
    for mesh in (p for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)):
        bound = UsdShade.MaterialBindingAPI(mesh).ComputeBoundMaterial()[0]
        assert bound.GetPath() in paths, mesh.GetPath()


def test_usd_layer_says_what_it_is(stage: Usd.Stage) -> None:
    metadata = stage.GetRootLayer().customLayerData["SimReady_Metadata"]
    assert metadata["asset_type"] == "scene"
    assert metadata["source_file"] == f"gizmo://scene/{SCENE_ID}"
    assert metadata["asset_name"] == SCENE_NAME


def test_usd_movable_objects_are_free_rigid_bodies(stage: Usd.Stage) -> None:
    names = placement_names(p.asset_name for p in scene_placements())
    for placement, name in zip(scene_placements(), names, strict=True):
        joints = stage.GetPrimAtPath(f"/World/{name}/joints")
        welded = joints.GetChild("root_joint").IsValid()
        movable = any(k in placement.prompt for k in ("crate", "box", "mobile"))
        assert welded is not movable, name
        root = next(
            c
            for c in stage.GetPrimAtPath(f"/World/{name}").GetChildren()
            if c.HasAPI(UsdPhysics.RigidBodyAPI)
        )
        assert root.HasAPI(UsdPhysics.RigidBodyAPI)


def test_mjcf_visual_meshes_do_not_collide_and_primitives_do(model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    visuals = [i for i in range(model.ngeom) if model.geom(i).name.endswith("_visual")]
    assert len(visuals) == int(np.sum(model.geom_group == 3)) > 50
    for i in visuals:
        geom = model.geom(i)
        assert geom.type[0] == mujoco.mjtGeom.mjGEOM_MESH
        assert geom.contype[0] == 0 and geom.conaffinity[0] == 0 and geom.group[0] == 2
        twin = model.geom(geom.name.removesuffix("_visual"))
        assert twin.group[0] == 3 and twin.contype[0] == 1
        assert np.allclose(data.geom_xpos[i], data.geom_xpos[twin.id], atol=1e-6)
        mesh = model.mesh(geom.dataid[0])
        verts = model.mesh_vert[mesh.vertadr[0] : mesh.vertadr[0] + mesh.vertnum[0]]
        half = np.sort((verts.max(axis=0) - verts.min(axis=0)) / 2)
        assert np.allclose(half, np.sort(half_extents(twin)), rtol=0.02), geom.name


def half_extents(geom: mujoco._structs._MjModelGeomViews) -> tuple[float, float, float]:
    """Half extents of a primitive geom in its own frame, from MuJoCo's sizes."""
    a, b, c = (float(v) for v in geom.size)
    match int(geom.type[0]):
        case mujoco.mjtGeom.mjGEOM_BOX:
            return a, b, c
        case mujoco.mjtGeom.mjGEOM_SPHERE:
            return a, a, a
        case mujoco.mjtGeom.mjGEOM_CYLINDER:
            return a, a, b
        case mujoco.mjtGeom.mjGEOM_CAPSULE:
            return a, a, a + b
    raise AssertionError(f"unexpected collider type {geom.type}")


def test_mjcf_materials_have_pbr_texture_layers(model: mujoco.MjModel) -> None:
    assert model.ntex >= 3 * 5 and model.nmat >= 5
    roles = [mujoco.mjtTextureRole.mjTEXROLE_RGB, mujoco.mjtTextureRole.mjTEXROLE_NORMAL]
    roles.append(mujoco.mjtTextureRole.mjTEXROLE_ROUGHNESS)
    for mat in range(model.nmat):
        assert all(model.mat_texid[mat][role] >= 0 for role in roles)
    assert set(model.tex_width) == {int(SIZE)}


def test_mjcf_home_keyframe_puts_every_free_body_at_its_placement(model: mujoco.MjModel) -> None:
    key = model.key("home")
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, key.id)
    mujoco.mj_forward(model, data)
    names = placement_names(p.asset_name for p in scene_placements())
    free = 0
    for placement, name in zip(scene_placements(), names, strict=True):
        sensor = f"pos_{name}"
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, sensor) < 0:
            continue
        free += 1
        assert np.allclose(data.sensor(sensor).data, placement.position)
        quat = data.sensor(f"quat_{name}").data
        assert abs(np.dot(quat, placement.rotation.to_wxyz())) == pytest.approx(1.0)
    assert free == 6  # crate, box and mobile base, twice each
    assert np.allclose(key.qpos, model.qpos0)


def test_mjcf_header_is_deterministic_and_names_units_and_axes() -> None:
    data = textured("mujoco_mjcf").data
    assert data.startswith(b"<mujoco model=")
    head = data[:1200].decode()
    assert f"Scene id : {SCENE_ID}" in head and "Up-axis : Z" in head and "Units : meters" in head
    again = render_scene(SCENE_ID, SCENE_NAME, scene_placements(), "mujoco_mjcf", textures=True)
    assert again.data == data and again.files == textured("mujoco_mjcf").files


def test_no_textures_gives_one_standalone_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEXTURE_SIZE_ENV, "0")
    for fmt in ("mujoco_mjcf", "isaac_sim_usd"):
        rendered = render_scene(SCENE_ID, SCENE_NAME, scene_placements(), fmt, textures=True)
        assert rendered.files == {}
        assert b"textures/" not in rendered.data
    plain = render_scene(SCENE_ID, SCENE_NAME, scene_placements(), "mujoco_mjcf")
    model = mujoco.MjModel.from_xml_string(plain.data.decode())
    assert model.ntex == 0 and model.nmesh > 0  # still meshes and coloured materials


def record() -> dict[str, object]:
    return {
        "room": None,
        "objects": [
            {
                "name": f"obj_{i}",
                "label": p.asset_name,
                "asset_id": p.asset_id,
                "prompt": p.prompt,
                "position": dict(zip("xyz", p.position, strict=True)),
                "rotation": {
                    "x": p.rotation.x,
                    "y": p.rotation.y,
                    "z": p.rotation.z,
                    "w": p.rotation.w,
                },
            }
            for i, p in enumerate(scene_placements())
        ],
    }


@pytest.mark.parametrize(("fmt", "primary"), [("mjcf", "scene.xml"), ("usd", "scene.usda")])
def test_jobs_zip_holds_the_scene_at_its_root_and_textures_beside_it(
    fmt: str, primary: str, tmp_path: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(scene_zip("scn_z", "Z", record(), fmt, None)))  # type: ignore[arg-type]
    names = archive.namelist()
    assert names[0] == primary
    textures = [n for n in names if n.startswith("textures/")]
    assert textures and all(n.endswith(".png") for n in textures)
    assert set(names) == {primary, "README.txt", *textures}
    archive.extractall(tmp_path)
    path = tmp_path / primary
    if fmt == "mjcf":
        model = mujoco.MjModel.from_xml_path(str(path))
        assert model.ntex == len(textures)
    else:
        _layers, assets, unresolved = UsdUtils.ComputeAllDependencies(str(path))
        assert list(unresolved) == ["OmniPBR.mdl"]  # Kit's core MDL, from Kit's library
        used = {Path(a).relative_to(tmp_path).as_posix() for a in assets}
        assert used == set(textures)
