"""usd_ops on real exports of the local server, in usd-core."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from gizmo.scenes import usd_ops
from gizmo.scenes.data import LoadedScene, LoadMode, UsdFileError
from kit_support import PosesCheck, isaac_like_stage
from pxr import Sdf, Usd, UsdGeom, UsdPhysics

from gizmo_client import FetchedScene, GizmoClient, Quaternion, Vector3
from gizmo_client.models import Scene

PARENT = "/World/Gizmo"


@pytest.fixture
def export(api: GizmoClient, small_scene: Scene) -> FetchedScene:
    return api.fetch_scene(small_scene.id, "isaac_sim_usd")


def _add(
    stage: Usd.Stage, export: FetchedScene, mode: LoadMode = LoadMode.REFERENCE, **kw: Any
) -> tuple[LoadedScene, list[str]]:
    return usd_ops.add_scene(
        stage,
        export.path,
        mode=mode,
        parent=PARENT,
        name=export.scene.name,
        scene_id=export.scene.id,
        fingerprint=export.fingerprint,
        **kw,
    )


def _text(stage: Usd.Stage) -> str:
    return str(stage.GetRootLayer().ExportToString())


@pytest.mark.parametrize("mode", [LoadMode.REFERENCE, LoadMode.PAYLOAD])
def test_add_places_every_asset_at_its_api_pose(
    export: FetchedScene, mode: LoadMode, check_poses: PosesCheck
) -> None:
    stage = isaac_like_stage()
    loaded, warnings = _add(stage, export, mode)
    assert warnings == []
    assert loaded.prim_path == "/World/Gizmo/Kit_Test_Cell"
    assert loaded.mode is mode and loaded.fingerprint == export.fingerprint
    prim = stage.GetPrimAtPath(loaded.prim_path)
    arcs = prim.GetPrimStack()[0].payloadList if mode is LoadMode.PAYLOAD else None
    if arcs is not None:
        assert [p.assetPath for p in arcs.prependedItems] == [str(export.path.resolve())]
    else:
        assert prim.HasAuthoredReferences()
    check_poses(stage, loaded.prim_path, export.scene)


def test_unique_child_paths(export: FetchedScene) -> None:
    stage = isaac_like_stage()
    paths = [_add(stage, export)[0].prim_path for _ in range(3)]
    assert paths == [
        "/World/Gizmo/Kit_Test_Cell",
        "/World/Gizmo/Kit_Test_Cell_1",
        "/World/Gizmo/Kit_Test_Cell_2",
    ]
    assert {e.prim_path for e in usd_ops.list_added(stage)} == set(paths)
    assert (
        str(usd_ops.unique_child_path(stage, PARENT, "9 lives / Ω")) == "/World/Gizmo/_9_lives_____"
    )
    assert str(usd_ops.unique_child_path(stage, PARENT, "  ")) == "/World/Gizmo/Scene"


def test_metrics_mismatch_is_reported(export: FetchedScene) -> None:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)
    loaded, warnings = _add(stage, export)
    assert len(warnings) == 2
    units, axis = warnings
    assert "metersPerUnit=1" in units and "0.01" in units and "100x" in units
    assert "Z-up" in axis and "Y-up" in axis
    assert stage.GetPrimAtPath(loaded.prim_path), "a mismatch warns, it does not refuse"


def test_the_metrics_assembler_leaves_only_the_axis_to_warn_about() -> None:
    scene, stage = usd_ops.Metrics("Z", 1.0), usd_ops.Metrics("Y", 0.01)
    (axis,) = usd_ops.metrics_warnings(scene, stage, "Scene 'x'", assembled=True)
    assert "Z-up" in axis and "metersPerUnit" not in axis
    assert len(usd_ops.metrics_warnings(scene, stage, "Scene 'x'")) == 2


def test_unauthored_stage_metrics_fall_back_like_usd(export: FetchedScene) -> None:
    stage = Usd.Stage.CreateInMemory()  # no metadata: USD reads it as Y up, centimetres
    assert usd_ops.stage_metrics(stage) == usd_ops.Metrics("Y", 0.01)
    assert usd_ops.layer_metrics(Sdf.Layer.FindOrOpen(str(export.path))) == usd_ops.Metrics(
        "Z", 1.0
    )
    assert len(_add(stage, export)[1]) == 2


def _corrupt_copies(export: FetchedScene, tmp_path: Path) -> list[Path]:
    data = export.path.read_bytes()
    truncated = tmp_path / "truncated.usd"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.usda"
    garbage.write_text("#usda 1.0\n(\n  this is not usd\n", encoding="utf-8")
    no_default = tmp_path / "no_default.usda"
    layer = Sdf.Layer.CreateNew(str(no_default))
    Sdf.CreatePrimInLayer(layer, "/Lonely")
    layer.Save()
    return [truncated, garbage, no_default, tmp_path / "missing.usd"]


def test_unusable_file_is_refused_and_stage_untouched(export: FetchedScene, tmp_path: Path) -> None:
    stage = isaac_like_stage()
    before = _text(stage)
    for bad in _corrupt_copies(export, tmp_path):
        with pytest.raises(UsdFileError) as info:
            usd_ops.add_scene(
                stage,
                bad,
                mode=LoadMode.REFERENCE,
                parent=PARENT,
                name="Bad",
                scene_id="scn_x",
                fingerprint="f",
            )
        assert str(bad) in str(info.value)
        assert _text(stage) == before, f"{bad.name} changed the stage"
        with pytest.raises(UsdFileError):
            usd_ops.open_stage(bad)


def test_failed_authoring_rolls_back(export: FetchedScene) -> None:
    stage = Usd.Stage.CreateInMemory()
    before = _text(stage)

    def half_then_fail(stage: Usd.Stage, path: Sdf.Path, asset: str, mode: LoadMode) -> None:
        stage.DefinePrim(path, "Xform")
        raise RuntimeError("command failed")

    with pytest.raises(RuntimeError, match="command failed"):
        _add(stage, export, author=half_then_fail)
    assert _text(stage) == before


@pytest.mark.parametrize("world_exists", [True, False])
def test_remove_leaves_no_residue(export: FetchedScene, world_exists: bool) -> None:
    stage = isaac_like_stage() if world_exists else Usd.Stage.CreateInMemory()
    before = _text(stage)
    first, _ = _add(stage, export)
    second, _ = _add(stage, export, LoadMode.PAYLOAD)
    usd_ops.remove_scene(stage, str(first.prim_path))
    assert stage.GetPrimAtPath(PARENT), "the container still holds the second scene"
    usd_ops.remove_scene(stage, str(second.prim_path))
    assert _text(stage) == before
    assert usd_ops.list_added(stage) == []


def test_remove_keeps_what_the_user_put_beside_it(export: FetchedScene) -> None:
    stage = isaac_like_stage()
    loaded, _ = _add(stage, export)
    stage.DefinePrim("/World/Gizmo/MyLight", "SphereLight")
    usd_ops.remove_scene(stage, str(loaded.prim_path))
    assert stage.GetPrimAtPath("/World/Gizmo/MyLight")
    with pytest.raises(UsdFileError, match="not a scene the Gizmo panel loaded"):
        usd_ops.remove_scene(stage, "/World/Gizmo/MyLight")
    assert stage.GetPrimAtPath("/World/Gizmo/MyLight")


def test_list_added_reads_the_tags_back(export: FetchedScene) -> None:
    stage = isaac_like_stage()
    loaded, _ = _add(stage, export, LoadMode.PAYLOAD)
    reopened = Usd.Stage.Open(Sdf.Layer.CreateAnonymous())
    reopened.GetRootLayer().TransferContent(stage.GetRootLayer())
    assert usd_ops.list_added(reopened) == [loaded]
    assert loaded.scene_id == export.scene.id and loaded.scene_name == export.scene.name


def test_replace_file_updates_in_place(
    api: GizmoClient,
    export: FetchedScene,
    demo_asset_ids: list[str],
    tmp_path: Path,
    check_poses: PosesCheck,
) -> None:
    stage = isaac_like_stage()
    loaded, _ = _add(stage, export)
    prim_path = str(loaded.prim_path)
    extra = tmp_path / "extra.usda"
    layer = Sdf.Layer.CreateNew(str(extra))
    Sdf.CreatePrimInLayer(layer, "/Extra").specifier = Sdf.SpecifierDef
    layer.defaultPrim = "Extra"
    layer.Save()
    stage.GetPrimAtPath(prim_path).GetReferences().AddReference(str(extra))

    api.scenes.add_asset(
        export.scene.id,
        demo_asset_ids[2],
        Vector3(x=2.0, y=1.5, z=0.25),
        Quaternion.from_euler_degrees(25.0, 10.0, -120.0),
    )
    newer = api.fetch_scene(export.scene.id, "isaac_sim_usd")
    assert newer.fingerprint != export.fingerprint

    bad = tmp_path / "bad.usd"
    bad.write_bytes(newer.path.read_bytes()[:100])
    before = _text(stage)
    with pytest.raises(UsdFileError):
        usd_ops.replace_file(stage, prim_path, bad, "x")
    assert _text(stage) == before

    updated = usd_ops.replace_file(stage, prim_path, newer.path, newer.fingerprint)
    assert updated.prim_path == prim_path and updated.fingerprint == newer.fingerprint
    assert updated.file == str(newer.path.resolve())
    refs = stage.GetPrimAtPath(prim_path).GetPrimStack()[0].referenceList.prependedItems
    assert [r.assetPath for r in refs] == [str(newer.path.resolve()), str(extra)]
    check_poses(stage, prim_path, newer.scene)


def test_replace_refuses_a_prim_whose_arc_was_edited_away(
    export: FetchedScene, tmp_path: Path
) -> None:
    stage = isaac_like_stage()
    loaded, _ = _add(stage, export)
    stage.GetPrimAtPath(str(loaded.prim_path)).GetReferences().ClearReferences()
    copy = tmp_path / "copy.usd"
    shutil.copy(export.path, copy)
    with pytest.raises(UsdFileError, match="no longer references"):
        usd_ops.replace_file(stage, str(loaded.prim_path), copy, "f2")


def test_open_stage_opens_the_export(export: FetchedScene, check_poses: PosesCheck) -> None:
    stage = usd_ops.open_stage(export.path)
    assert usd_ops.stage_metrics(stage) == usd_ops.Metrics("Z", 1.0)
    check_poses(stage, "/World", export.scene)
    assert stage.GetPrimAtPath("/World").HasAttribute(usd_ops.SCENE_ID_ATTR), "the export's own tag"
    assert usd_ops.list_added(stage) == [], "an export's own tags do not make it the panel's"
    with pytest.raises(UsdFileError):
        usd_ops.remove_scene(stage, "/World")


def _older_layout(export: FetchedScene, tmp_path: Path) -> Path:
    """The export as older (and hosted) exports lay it out: the PhysicsScene under /World."""
    layer = Sdf.Layer.FindOrOpen(str(export.path))
    older = Sdf.Layer.CreateNew(str(tmp_path / "older.usda"))
    older.TransferContent(layer)
    (physics,) = [p for p in older.rootPrims if p.typeName == "PhysicsScene"]
    edit = Sdf.BatchNamespaceEdit()
    edit.Add(physics.path, Sdf.Path("/World/PhysicsScene"))
    assert older.Apply(edit)
    older.Save()
    return Path(older.realPath)


def _physics_scenes(stage: Usd.Stage) -> list[Sdf.Path]:
    return [p.GetPath() for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]


def test_a_referenced_export_brings_no_physics_scene(
    export: FetchedScene, check_poses: PosesCheck
) -> None:
    opened = usd_ops.open_stage(export.path)
    assert _physics_scenes(opened), "opened alone, the export simulates"
    stage = isaac_like_stage()
    UsdPhysics.Scene.Define(stage, "/physicsScene")
    loaded, warnings = _add(stage, export)
    assert _physics_scenes(stage) == [Sdf.Path("/physicsScene")] and warnings == []
    check_poses(stage, str(loaded.prim_path), export.scene)


@pytest.mark.parametrize("mode", [LoadMode.REFERENCE, LoadMode.PAYLOAD])
def test_an_older_export_defers_to_the_stage_physics_scene(
    export: FetchedScene, tmp_path: Path, mode: LoadMode, check_poses: PosesCheck
) -> None:
    older = _older_layout(export, tmp_path)
    stage = isaac_like_stage()
    UsdPhysics.Scene.Define(stage, "/physicsScene")
    loaded, warnings = usd_ops.add_scene(
        stage, older, mode=mode, parent=PARENT, name="Old", scene_id="scn_old", fingerprint="f"
    )
    assert _physics_scenes(stage) == [Sdf.Path("/physicsScene")]
    assert any("/physicsScene" in w for w in warnings)
    check_poses(stage, str(loaded.prim_path), export.scene)

    alone = isaac_like_stage()
    _add(alone, export, mode)  # the current layout next to nothing: still nothing to switch off
    usd_ops.add_scene(
        alone, older, mode=mode, parent=PARENT, name="Old", scene_id="scn_old", fingerprint="f"
    )
    assert _physics_scenes(alone) == [Sdf.Path("/World/Gizmo/Old/PhysicsScene")]


def test_an_unloaded_payload_physics_scene_is_switched_off_too(
    export: FetchedScene, tmp_path: Path
) -> None:
    """Loading the payload later must not bring a second physics scene: the opinion is a spec
    on the path, authored while the payload was not loaded and the prim not composed."""
    older = _older_layout(export, tmp_path)
    stage = Usd.Stage.CreateInMemory(load=Usd.Stage.LoadNone)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.Scene.Define(stage, "/physicsScene")
    loaded, warnings = usd_ops.add_scene(
        stage,
        older,
        mode=LoadMode.PAYLOAD,
        parent=PARENT,
        name="Old",
        scene_id="scn_old",
        fingerprint="f",
    )
    assert warnings and not stage.GetPrimAtPath(str(loaded.prim_path)).IsLoaded()
    stage.Load(str(loaded.prim_path))
    assert _physics_scenes(stage) == [Sdf.Path("/physicsScene")]


@pytest.mark.parametrize("style", ["relative", "file_url"])
def test_replace_file_finds_an_arc_kit_rewrote(
    api: GizmoClient,
    export: FetchedScene,
    demo_asset_ids: list[str],
    tmp_path: Path,
    style: str,
    check_poses: PosesCheck,
) -> None:
    """Kit's CreateReference may author the path anchored to the saved stage or as a file: URL;
    sync must still find the arc by the file it names, not by the exact string."""
    root = Sdf.Layer.CreateNew(str(tmp_path / "cell" / "stage.usda"))
    stage = Usd.Stage.Open(root)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)

    def author_like_kit(stage: Usd.Stage, path: Sdf.Path, asset: str, mode: LoadMode) -> None:
        if style == "relative":
            written = "./" + Path(os.path.relpath(asset, tmp_path / "cell")).as_posix()
        else:
            written = Path(asset).as_uri().replace("file:///", "file:/")
        stage.DefinePrim(path, "Xform").GetReferences().AddReference(written)

    loaded, _ = _add(stage, export, author=author_like_kit)
    api.scenes.add_asset(
        export.scene.id,
        demo_asset_ids[1],
        Vector3(x=-0.75, y=2.0, z=0.4),
        Quaternion.from_euler_degrees(-40.0, 15.0, 77.0),
    )
    newer = api.fetch_scene(export.scene.id, "isaac_sim_usd")

    updated = usd_ops.replace_file(stage, str(loaded.prim_path), newer.path, newer.fingerprint)
    refs = stage.GetPrimAtPath(str(loaded.prim_path)).GetPrimStack()[0].referenceList
    assert [r.assetPath for r in refs.prependedItems] == [str(newer.path.resolve())]
    assert updated.fingerprint == newer.fingerprint
    check_poses(stage, str(loaded.prim_path), newer.scene)
