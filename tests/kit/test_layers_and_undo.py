"""The panel's edits on stages with several layers, their undo/redo, and the prim index, in
usd-core on real exports (what Kit's Layer window, Ctrl+Z and a big stage do to them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pytest
from gizmo.scenes import usd_ops
from gizmo.scenes.data import LoadedScene, LoadMode
from gizmo.scenes.stage_port import ADD_COMMAND, REMOVE_COMMAND, SYNC_COMMAND, UsdStagePort
from gizmo.scenes.usd_undo import StageEdit
from kit_support import PosesCheck
from pxr import Sdf, Usd, UsdGeom

from gizmo_client import FetchedScene, GizmoClient, Vector3
from gizmo_client.models import Scene

T = TypeVar("T")
PARENT = "/World/Gizmo"


@pytest.fixture
def export(api: GizmoClient, small_scene: Scene) -> FetchedScene:
    return api.fetch_scene(small_scene.id, "isaac_sim_usd")


@pytest.fixture
def newer(api: GizmoClient, export: FetchedScene, demo_asset_ids: list[str]) -> FetchedScene:
    api.scenes.add_asset(export.scene.id, demo_asset_ids[2], Vector3(x=1.5, y=0.5, z=0.0))
    return api.fetch_scene(export.scene.id, "isaac_sim_usd")


def _layered_stage(tmp_path: Path) -> tuple[Usd.Stage, Sdf.Layer]:
    """A saved stage with one sublayer, set up like Isaac Sim's (Z up, metres, /World)."""
    sub = Sdf.Layer.CreateNew(str(tmp_path / "sub.usda"))
    root = Sdf.Layer.CreateNew(str(tmp_path / "stage.usda"))
    root.subLayerPaths.append(sub.identifier)
    stage = Usd.Stage.Open(root)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.SetDefaultPrim(UsdGeom.Xform.Define(stage, "/World").GetPrim())
    return stage, sub


def _add(port: UsdStagePort, export: FetchedScene, mode: LoadMode = LoadMode.REFERENCE) -> str:
    loaded, _ = port.add_scene(
        export.path,
        mode=mode,
        parent=PARENT,
        name=export.scene.name,
        scene_id=export.scene.id,
        fingerprint=export.fingerprint,
    )
    return str(loaded.prim_path)


def test_remove_deletes_the_prim_from_every_layer(export: FetchedScene, tmp_path: Path) -> None:
    stage, sub = _layered_stage(tmp_path)
    port = UsdStagePort(stage)
    path = _add(port, export)
    stage.SetEditTarget(Usd.EditTarget(sub))  # the user picked the sublayer in the Layer window
    UsdGeom.Xformable(stage.GetPrimAtPath(path)).AddTranslateOp().Set((1.0, 0.0, 0.0))
    port.remove(path)
    assert not stage.GetPrimAtPath(path) and not stage.GetPrimAtPath(PARENT)
    assert port.list_added() == []
    for layer in (stage.GetRootLayer(), sub):
        assert not layer.GetPrimAtPath(path), f"{layer.identifier} still holds {path}"


@pytest.mark.parametrize("added_in", ["root", "sublayer"])
def test_sync_writes_where_the_arc_is_whatever_the_edit_target(
    export: FetchedScene,
    newer: FetchedScene,
    tmp_path: Path,
    added_in: str,
    check_poses: PosesCheck,
) -> None:
    stage, sub = _layered_stage(tmp_path)
    first, second = (
        (stage.GetRootLayer(), sub) if added_in == "root" else (sub, stage.GetRootLayer())
    )
    stage.SetEditTarget(Usd.EditTarget(first))
    port = UsdStagePort(stage)
    path = _add(port, export)
    stage.SetEditTarget(Usd.EditTarget(second))

    synced = port.replace_file(path, newer.path, newer.fingerprint)
    assert synced.fingerprint == newer.fingerprint and synced.file == str(newer.path.resolve())
    assert port.list_added() == [synced], "the fingerprint read back is the one just written"
    assert not second.GetPrimAtPath(path), "nothing was authored in the edit target"
    check_poses(stage, path, newer.scene)
    again = port.replace_file(path, export.path, export.fingerprint)  # the next sync works too
    assert again.fingerprint == export.fingerprint


def _text(stage: Usd.Stage) -> list[str]:
    return [str(layer.ExportToString()) for layer in stage.GetLayerStack()]


class RecordingPort(UsdStagePort):
    """Keeps every edit it applied, the way Kit's undo stack does."""

    def __init__(self, stage: Usd.Stage) -> None:
        super().__init__(stage)
        self.edits: list[tuple[str, StageEdit[Any]]] = []

    def apply(self, name: str, edit: StageEdit[T]) -> T:
        self.edits.append((name, edit))
        return edit.do()


@pytest.mark.parametrize("mode", [LoadMode.REFERENCE, LoadMode.PAYLOAD])
def test_every_action_undoes_and_redoes_as_one_step(
    export: FetchedScene,
    newer: FetchedScene,
    tmp_path: Path,
    mode: LoadMode,
    check_poses: PosesCheck,
) -> None:
    stage, sub = _layered_stage(tmp_path)
    port = RecordingPort(stage)
    empty = _text(stage)
    path = _add(port, export, mode)
    added = _text(stage)
    port.replace_file(path, newer.path, newer.fingerprint)
    synced = _text(stage)
    stage.SetEditTarget(Usd.EditTarget(sub))
    port.remove(path)
    assert [name for name, _ in port.edits] == [ADD_COMMAND, SYNC_COMMAND, REMOVE_COMMAND]
    (_, add), (_, sync), (_, remove) = port.edits

    remove.undo()
    assert _text(stage) == synced
    assert [e.fingerprint for e in port.list_added()] == [newer.fingerprint]
    sync.undo()
    assert _text(stage) == added
    (entry,) = port.list_added()
    assert entry.fingerprint == export.fingerprint and entry.file == str(export.path.resolve())
    check_poses(stage, path, export.scene)
    add.undo()
    assert _text(stage) == empty, "undo leaves no /World/Gizmo and no tag behind"
    assert port.list_added() == []

    add.do()
    (redone,) = port.list_added()
    assert redone.mode is mode, "redo keeps gizmo:loadMode"
    assert _text(stage) == added
    sync.do()
    assert _text(stage) == synced
    check_poses(stage, path, newer.scene)
    remove.do()
    assert port.list_added() == [] and not stage.GetPrimAtPath(PARENT)


def test_a_locked_layer_is_refused_before_anything_changes(
    export: FetchedScene, tmp_path: Path
) -> None:
    stage, sub = _layered_stage(tmp_path)
    port = UsdStagePort(stage)
    path = _add(port, export)
    Sdf.CreatePrimInLayer(sub, path).SetInfo("kind", "component")  # an opinion in the sublayer
    sub.SetPermissionToEdit(False)  # locked in Kit's Layer window
    before = _text(stage)
    with pytest.raises(usd_ops.UsdFileError, match="cannot be edited"):
        port.remove(path)
    assert _text(stage) == before and [e.prim_path for e in port.list_added()] == [path]


class _NoComposedWalk:
    """Stands in for `pxr.Usd` inside usd_ops: any walk over the composed stage fails."""

    def __getattr__(self, name: str) -> Any:
        if name == "PrimRange":
            raise AssertionError("usd_ops walked the composed stage")
        return getattr(Usd, name)


def test_the_index_answers_without_walking_the_stage(
    export: FetchedScene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polls, window shows and adds ask the index; only the specs of the local layers are read
    on a rescan, never what references bring in (most of a big stage)."""
    stage, _ = _layered_stage(tmp_path)
    port = UsdStagePort(stage)
    monkeypatch.setattr(usd_ops, "Usd", _NoComposedWalk())
    first = _add(port, export)
    second = _add(port, export, LoadMode.PAYLOAD)
    listed = port.list_added()
    assert [e.prim_path for e in listed] == [first, second]
    assert port.rescan() == listed

    stage.GetRootLayer().Save()
    reopened = UsdStagePort(Usd.Stage.Open(str(tmp_path / "stage.usda")))
    assert reopened.list_added() == listed, "a saved stage is found again after reopening"


def test_a_prim_moved_by_hand_is_found_by_a_rescan(export: FetchedScene, tmp_path: Path) -> None:
    stage, _ = _layered_stage(tmp_path)
    port = UsdStagePort(stage)
    path = _add(port, export)
    edit = Sdf.BatchNamespaceEdit()
    edit.Add(path, "/World/Moved")
    assert stage.GetRootLayer().Apply(edit)
    assert port.list_added() == [], "the index only knows the old path"
    (found,) = port.rescan()
    assert isinstance(found, LoadedScene) and found.prim_path == "/World/Moved"
