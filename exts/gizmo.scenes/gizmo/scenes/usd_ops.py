"""The USD edits the panel makes, in plain `pxr` so they run on usd-core as well as inside Kit.

A loaded scene is one prim, `/World/Gizmo/<scene name>` by default, that references (or payloads)
the export's default prim and carries `gizmo:*` attributes saying which scene, file and
fingerprint it holds. `gizmo:loadMode`, authored in the stage's own layers, is what marks a prim
as the panel's (the export's `/World` carries `gizmo:sceneId` itself, so that cannot): it is how
the panel finds its prims again after a reload, and what `remove_scene` insists on before
deleting anything.

Every function checks the file before it touches the stage, so a file that fails to open leaves
the stage as it was.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from pxr import Sdf, Tf, Usd, UsdGeom, UsdPhysics

from .data import LoadedScene, LoadMode, UsdFileError

__all__ = [
    "CONTAINER_ATTR",
    "FILE_ATTR",
    "FINGERPRINT_ATTR",
    "MODE_ATTR",
    "SCENE_ID_ATTR",
    "SCENE_NAME_ATTR",
    "AuthorFn",
    "Metrics",
    "UsdFileError",
    "UsdStagePort",
    "add_scene",
    "layer_metrics",
    "list_added",
    "metrics_warnings",
    "open_checked",
    "open_stage",
    "remove_scene",
    "replace_file",
    "stage_metrics",
    "unique_child_path",
]

SCENE_ID_ATTR = "gizmo:sceneId"
SCENE_NAME_ATTR = "gizmo:sceneName"
FINGERPRINT_ATTR = "gizmo:fingerprint"
MODE_ATTR = "gizmo:loadMode"
FILE_ATTR = "gizmo:file"
CONTAINER_ATTR = "gizmo:container"

#: USD's own fallbacks when a layer does not author its metrics (Y up, centimetres).
_FALLBACK_METERS_PER_UNIT = 0.01


@dataclass(frozen=True)
class Metrics:
    up_axis: str
    meters_per_unit: float


#: Creates the prim at `path` with one reference or payload to `asset`'s default prim.
AuthorFn = Callable[[Usd.Stage, Sdf.Path, str, LoadMode], None]


def open_checked(path: str | os.PathLike[str]) -> Sdf.Layer:
    """Open a USD file as a layer, or raise `UsdFileError` saying why it cannot be used."""
    try:
        layer = Sdf.Layer.FindOrOpen(str(path))
    except Tf.ErrorException as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise UsdFileError(f"{path} is not a readable USD file ({detail}).") from exc
    if layer is None:
        reason = "is not a readable USD file" if Path(path).exists() else "does not exist"
        raise UsdFileError(f"{path} {reason}; fetch the scene again.")
    default = layer.defaultPrim
    if not default or layer.GetPrimAtPath(Sdf.Path.absoluteRootPath.AppendChild(default)) is None:
        raise UsdFileError(
            f"{path} has no usable defaultPrim, so a reference to it would bring in nothing; "
            "export the scene again."
        )
    return layer


def layer_metrics(layer: Sdf.Layer) -> Metrics:
    """The up axis and metres per unit a layer declares (USD's fallbacks when it declares none)."""
    root = layer.pseudoRoot
    up = root.GetInfo("upAxis") if root.HasInfo("upAxis") else UsdGeom.GetFallbackUpAxis()
    mpu = root.GetInfo("metersPerUnit") if root.HasInfo("metersPerUnit") else None
    return Metrics(str(up), float(mpu) if mpu is not None else _FALLBACK_METERS_PER_UNIT)


def stage_metrics(stage: Usd.Stage) -> Metrics:
    return Metrics(str(UsdGeom.GetStageUpAxis(stage)), float(UsdGeom.GetStageMetersPerUnit(stage)))


def metrics_warnings(scene: Metrics, stage: Metrics, label: str) -> list[str]:
    """Say what goes wrong when a referenced layer's metrics differ: USD does not convert them."""
    warnings: list[str] = []
    if not math.isclose(scene.meters_per_unit, stage.meters_per_unit, rel_tol=1e-9):
        factor = scene.meters_per_unit / stage.meters_per_unit
        warnings.append(
            f"{label} is in metersPerUnit={scene.meters_per_unit:g} but this stage uses "
            f"{stage.meters_per_unit:g}; USD does not convert units across a reference, so it "
            f"will look {factor:g}x its real size. Set the stage to metres "
            "(UsdGeom.SetStageMetersPerUnit(stage, 1.0)) or scale the loaded prim."
        )
    if scene.up_axis != stage.up_axis:
        warnings.append(
            f"{label} is {scene.up_axis}-up but this stage is {stage.up_axis}-up; it will appear "
            f"rotated. Set the stage's upAxis to {scene.up_axis} (Isaac Sim uses Z)."
        )
    return warnings


def unique_child_path(stage: Usd.Stage, parent: str, name: str) -> Sdf.Path:
    """`parent/<name as an ASCII identifier>`, with `_1`, `_2`… appended until nothing is there."""
    text = name.strip() or "Scene"
    base = Tf.MakeValidIdentifier("_" + text if text[0].isdigit() else text)
    parent_path = Sdf.Path(parent)
    candidate = parent_path.AppendChild(base)
    suffix = 0
    while stage.GetPrimAtPath(candidate):
        suffix += 1
        candidate = parent_path.AppendChild(f"{base}_{suffix}")
    return candidate


def author_arc(stage: Usd.Stage, path: Sdf.Path, asset: str, mode: LoadMode) -> None:
    """The plain-pxr `AuthorFn`: an Xform prim with one reference or payload to `asset`."""
    prim = stage.DefinePrim(path, "Xform")
    if mode is LoadMode.PAYLOAD:
        prim.GetPayloads().AddPayload(asset)
    else:
        prim.GetReferences().AddReference(asset)


def _ensure_containers(stage: Usd.Stage, parent: Sdf.Path) -> list[Sdf.Path]:
    """Define the missing ancestors as Xforms marked as ours; return what was created."""
    created: list[Sdf.Path] = []
    for path in reversed(parent.GetPrefixes()):
        if stage.GetPrimAtPath(path):
            break
        created.append(path)
    created.reverse()
    for path in created:
        prim = stage.DefinePrim(path, "Xform")
        prim.CreateAttribute(CONTAINER_ATTR, Sdf.ValueTypeNames.Bool, custom=True).Set(True)
    return created


def _set_string(prim: Usd.Prim, name: str, value: str) -> None:
    prim.CreateAttribute(name, Sdf.ValueTypeNames.String, custom=True).Set(value)


def _get_string(prim: Usd.Prim, name: str) -> str:
    attr = prim.GetAttribute(name)
    value = attr.Get() if attr else None
    return value if isinstance(value, str) else ""


def add_scene(
    stage: Usd.Stage,
    file: str | os.PathLike[str],
    *,
    mode: LoadMode,
    parent: str,
    name: str,
    scene_id: str,
    fingerprint: str,
    author: AuthorFn = author_arc,
) -> tuple[LoadedScene, list[str]]:
    """Bring a scene export in under `parent` as a reference or payload.

    Returns the loaded scene and warnings (metrics mismatch). Raises `UsdFileError` before any
    edit when the file cannot be used; if authoring fails half-way, what was created is removed.
    """
    if mode is LoadMode.OPEN:
        raise ValueError("add_scene adds a reference or payload; use open_stage to open a file")
    layer = open_checked(file)
    warnings = metrics_warnings(layer_metrics(layer), stage_metrics(stage), f"Scene {name!r}")
    asset = str(Path(file).resolve())
    path = unique_child_path(stage, parent, name)
    created = _ensure_containers(stage, path.GetParentPath())
    try:
        author(stage, path, asset, mode)
        prim = stage.GetPrimAtPath(path)
        if not prim:
            raise UsdFileError(f"Creating {path} failed; the stage was left as it was.")
        for attr, value in (
            (SCENE_ID_ATTR, scene_id),
            (SCENE_NAME_ATTR, name),
            (FINGERPRINT_ATTR, fingerprint),
            (MODE_ATTR, mode.value),
            (FILE_ATTR, asset),
        ):
            _set_string(prim, attr, value)
    except BaseException:
        for undo in [path, *reversed(created)]:
            stage.RemovePrim(undo)
        raise
    return _loaded_from(prim), warnings + _defer_to_stage_physics(stage, prim)


def _defer_to_stage_physics(stage: Usd.Stage, prim: Usd.Prim) -> list[str]:
    """Deactivate the export's PhysicsScene when the stage already has one of its own.

    An export carries one PhysicsScene so it simulates when opened alone; referenced into a stage
    that has its own, it would make two, and PhysX would split the bodies between them. The
    opinion is authored on the referencing prim's path, so it holds across sync's file swaps.
    """
    inside = prim.GetPath()
    ours = [p for p in Usd.PrimRange(prim) if p.IsA(UsdPhysics.Scene)]
    theirs = [
        p.GetPath()
        for p in stage.Traverse()
        if p.IsA(UsdPhysics.Scene) and not p.GetPath().HasPrefix(inside)
    ]
    if not ours or not theirs:
        return []
    for physics in ours:
        physics.SetActive(False)
    return [
        f"The export's physics scene was switched off: the stage's own {theirs[0]} simulates "
        "the scene (one physics scene per stage)."
    ]


def _loaded_from(prim: Usd.Prim) -> LoadedScene:
    return LoadedScene(
        scene_id=_get_string(prim, SCENE_ID_ATTR),
        scene_name=_get_string(prim, SCENE_NAME_ATTR),
        mode=LoadMode(_get_string(prim, MODE_ATTR) or LoadMode.REFERENCE.value),
        file=_get_string(prim, FILE_ATTR),
        fingerprint=_get_string(prim, FINGERPRINT_ATTR),
        prim_path=str(prim.GetPath()),
    )


def _is_panel_prim(prim: Usd.Prim, local_layers: set[Sdf.Layer]) -> bool:
    """Marked by `gizmo:loadMode` authored in this stage's layers, not brought in by an arc."""
    attr = prim.GetAttribute(MODE_ATTR)
    return bool(attr) and any(spec.layer in local_layers for spec in attr.GetPropertyStack())


def _local_layers(stage: Usd.Stage) -> set[Sdf.Layer]:
    return set(stage.GetLayerStack(includeSessionLayers=True))


def _panel_prim(stage: Usd.Stage, prim_path: str) -> Usd.Prim:
    prim = stage.GetPrimAtPath(prim_path)
    if not prim or not _is_panel_prim(prim, _local_layers(stage)):
        raise UsdFileError(
            f"{prim_path} is not a scene the Gizmo panel loaded (no {MODE_ATTR} of its own); "
            "it was left alone."
        )
    return prim


def replace_file(
    stage: Usd.Stage, prim_path: str, file: str | os.PathLike[str], fingerprint: str
) -> LoadedScene:
    """Point a loaded scene's reference or payload at a new export, in place.

    Only the arc the panel authored (the one naming the recorded file) is changed, in every layer
    of the stage's layer stack that holds it; other arcs a user added on the prim stay.
    """
    open_checked(file)
    prim = _panel_prim(stage, prim_path)
    old = _get_string(prim, FILE_ATTR)
    new = str(Path(file).resolve())
    mode = LoadMode(_get_string(prim, MODE_ATTR) or LoadMode.REFERENCE.value)
    replaced = 0
    for layer in _local_layers(stage):
        spec = layer.GetPrimAtPath(prim.GetPath())
        if spec is None:
            continue
        replaced += _replace_arc(layer, spec, mode, old, new)
    if not replaced:
        raise UsdFileError(
            f"{prim_path} no longer references {old}; remove it and load the scene again."
        )
    _set_string(prim, FILE_ATTR, new)
    _set_string(prim, FINGERPRINT_ATTR, fingerprint)
    return _loaded_from(prim)


def _same_file(layer: Sdf.Layer, asset_path: str, file: str) -> bool:
    """Whether an arc's asset path names `file`, however it was written: Kit's commands may
    author it relative to the layer or as a `file:` URL instead of the absolute path given.
    Compared as paths, not by opening them: the old export may have left the cache already."""
    if asset_path.startswith("file:"):
        asset_path = url2pathname(urlparse(asset_path).path)
    anchored = layer.ComputeAbsolutePath(asset_path) if asset_path else ""
    if not os.path.isabs(anchored):
        return False
    return os.path.normcase(os.path.realpath(anchored)) == os.path.normcase(os.path.realpath(file))


def _replace_arc(layer: Sdf.Layer, spec: Sdf.PrimSpec, mode: LoadMode, old: str, new: str) -> int:
    arcs = spec.payloadList if mode is LoadMode.PAYLOAD else spec.referenceList
    count = 0
    for items in (
        arcs.explicitItems,
        arcs.prependedItems,
        arcs.appendedItems,
        arcs.addedItems,
        arcs.orderedItems,
    ):
        for item in list(items):
            if not _same_file(layer, item.assetPath, old):
                continue
            if mode is LoadMode.PAYLOAD:
                fresh = Sdf.Payload(new, item.primPath, item.layerOffset)
            else:
                fresh = Sdf.Reference(new, item.primPath, item.layerOffset, item.customData)
            arcs.ReplaceItemEdits(item, fresh)
            count += 1
    return count


def remove_scene(stage: Usd.Stage, prim_path: str) -> None:
    """Delete a loaded scene's prim, then the containers the panel created that are now empty."""
    prim = _panel_prim(stage, prim_path)
    parent = prim.GetParent()
    stage.RemovePrim(prim.GetPath())
    while parent and parent.HasAttribute(CONTAINER_ATTR) and not parent.GetAllChildren():
        above = parent.GetParent()
        stage.RemovePrim(parent.GetPath())
        parent = above


def _walk_panel_prims(stage: Usd.Stage) -> Iterator[Usd.Prim]:
    local = _local_layers(stage)
    walk = iter(Usd.PrimRange.Stage(stage, Usd.PrimAllPrimsPredicate))
    for prim in walk:
        if _is_panel_prim(prim, local):
            yield prim
            walk.PruneChildren()


def list_added(stage: Usd.Stage) -> list[LoadedScene]:
    """Every scene the panel loaded into this stage, found by its own `gizmo:loadMode`."""
    return [_loaded_from(prim) for prim in _walk_panel_prims(stage)]


def open_stage(file: str | os.PathLike[str]) -> Usd.Stage:
    """Open an export as a stage of its own, refusing a file that fails to open."""
    return Usd.Stage.Open(open_checked(file))


class UsdStagePort:
    """The controller's stage port over a plain `Usd.Stage` (usd-core, or any pxr).

    Kit's port (`kit_stage.KitStagePort`) subclasses it to take the stage from the USD context
    and author through Kit's undoable commands.
    """

    def __init__(self, stage: Usd.Stage) -> None:
        self._stage = stage

    @property
    def stage(self) -> Usd.Stage:
        return self._stage

    def author(self, stage: Usd.Stage, path: Sdf.Path, asset: str, mode: LoadMode) -> None:
        author_arc(stage, path, asset, mode)

    async def open_stage(self, file: Path) -> None:
        self._stage = open_stage(file)

    def root_file(self) -> str | None:
        path = self.stage.GetRootLayer().realPath
        return str(Path(path).resolve()) if path else None

    def add_scene(
        self,
        file: Path,
        *,
        mode: LoadMode,
        parent: str,
        name: str,
        scene_id: str,
        fingerprint: str,
    ) -> tuple[LoadedScene, list[str]]:
        return add_scene(
            self.stage,
            file,
            mode=mode,
            parent=parent,
            name=name,
            scene_id=scene_id,
            fingerprint=fingerprint,
            author=self.author,
        )

    def replace_file(self, prim_path: str, file: Path, fingerprint: str) -> LoadedScene:
        return replace_file(self.stage, prim_path, file, fingerprint)

    def remove(self, prim_path: str) -> None:
        remove_scene(self.stage, prim_path)

    def list_added(self) -> list[LoadedScene]:
        return list_added(self.stage)
