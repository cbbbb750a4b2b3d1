"""The USD edits the panel makes, in plain `pxr` so they run on usd-core as well as inside Kit.

A loaded scene is one prim, `/World/Gizmo/<scene name>` by default, that references (or payloads)
the export's default prim and carries `gizmo:*` attributes saying which scene, file and
fingerprint it holds. `gizmo:loadMode`, authored in the stage's own layers, is what marks a prim
as the panel's (an export's own prims may carry `gizmo:sceneId`, so that cannot): it is how the
panel finds its prims again after a reload, and what `remove_scene` insists on before deleting.

The stage may have several local layers (session, root, sublayers) and Kit lets the user pick any
of them as the edit target. So nothing here writes "to the edit target" and hopes: the `gizmo:*`
attributes go to the layer that holds the prim's arc (and to every layer already holding an
opinion on them), and removing deletes the prim's specs from every local layer, as Kit's
`DeletePrims` does with `destructive=True`.

Every function checks the file before it touches the stage, so a file that fails to open leaves
the stage as it was. `check_export` does the slow part (reading the file) and may run on a worker
thread; the stage itself is only touched by the caller's (main) thread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from pxr import Sdf, Tf, Usd, UsdGeom, UsdPhysics

from .data import LoadedScene, LoadMode, UsdFileError
from .usd_undo import LayerSnapshot, local_layers, remove_spec

__all__ = [
    "CONTAINER_ATTR",
    "FILE_ATTR",
    "FINGERPRINT_ATTR",
    "MODE_ATTR",
    "SCENE_ID_ATTR",
    "SCENE_NAME_ATTR",
    "AuthorFn",
    "ExportFile",
    "Metrics",
    "UsdFileError",
    "add_scene",
    "author_arc",
    "check_export",
    "edit_root",
    "find_panel_paths",
    "layer_metrics",
    "list_added",
    "loaded_at",
    "metrics_warnings",
    "open_checked",
    "open_stage",
    "remove_scene",
    "replace_file",
    "scene_tags",
    "stage_metrics",
    "stage_physics_scenes",
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
_PHYSICS_SCENE = "PhysicsScene"


@dataclass(frozen=True)
class Metrics:
    up_axis: str
    meters_per_unit: float


@dataclass(frozen=True)
class ExportFile:
    """An export already opened and checked; holding it keeps the layer in USD's registry, so
    the main thread's later `FindOrOpen` does not read the file again."""

    path: Path
    layer: Sdf.Layer
    metrics: Metrics
    #: PhysicsScene prims under the default prim, relative to it (older exports carry one there).
    physics_scenes: tuple[Sdf.Path, ...]


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


def check_export(path: str | os.PathLike[str]) -> ExportFile:
    """Open and inspect an export without touching any stage (safe on a worker thread)."""
    layer = open_checked(path)
    default = Sdf.Path.absoluteRootPath.AppendChild(layer.defaultPrim)
    physics: list[Sdf.Path] = []
    pending = [layer.GetPrimAtPath(default)]
    while pending:  # the file's specs, not a composed stage: sees inside unloaded payloads too
        spec = pending.pop()
        if spec.typeName == _PHYSICS_SCENE:
            physics.append(spec.path.MakeRelativePath(default))
        else:
            pending.extend(spec.nameChildren)
    return ExportFile(Path(path).resolve(), layer, layer_metrics(layer), tuple(sorted(physics)))


def scene_tags(layer: Sdf.Layer) -> tuple[str, str]:
    """The Gizmo scene id and name an export's default prim carries ("" where it has none)."""
    default = Sdf.Path.absoluteRootPath.AppendChild(layer.defaultPrim)

    def tag(name: str) -> str:
        spec = layer.GetAttributeAtPath(default.AppendProperty(name))
        value = spec.default if spec is not None else None
        return value if isinstance(value, str) else ""

    return tag(SCENE_ID_ATTR), tag(SCENE_NAME_ATTR)


def layer_metrics(layer: Sdf.Layer) -> Metrics:
    """The up axis and metres per unit a layer declares (USD's fallbacks when it declares none)."""
    root = layer.pseudoRoot
    up = root.GetInfo("upAxis") if root.HasInfo("upAxis") else UsdGeom.GetFallbackUpAxis()
    mpu = root.GetInfo("metersPerUnit") if root.HasInfo("metersPerUnit") else None
    return Metrics(str(up), float(mpu) if mpu is not None else _FALLBACK_METERS_PER_UNIT)


def stage_metrics(stage: Usd.Stage) -> Metrics:
    return Metrics(str(UsdGeom.GetStageUpAxis(stage)), float(UsdGeom.GetStageMetersPerUnit(stage)))


def metrics_warnings(
    scene: Metrics, stage: Metrics, label: str, assembled: bool = False
) -> list[str]:
    """Say what goes wrong when a referenced layer's metrics differ: USD does not convert them.

    With `assembled` (Isaac Sim's `omni.usd.metrics.assembler` is enabled), the assembler scales
    a reference whose metersPerUnit differs, so only the up axis is left to warn about."""
    warnings: list[str] = []
    differs = not math.isclose(scene.meters_per_unit, stage.meters_per_unit, rel_tol=1e-9)
    if differs and not assembled:
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


def edit_root(stage: Usd.Stage, path: Sdf.Path) -> Sdf.Path:
    """The highest path an add or remove at `path` may change: the first ancestor that does not
    exist yet or is a container the panel made, else `path` itself (what undo must snapshot)."""
    for prefix in path.GetPrefixes():
        prim = stage.GetPrimAtPath(prefix)
        if not prim or prim.HasAttribute(CONTAINER_ATTR):
            return prefix
    return path


def _ensure_containers(stage: Usd.Stage, parent: Sdf.Path) -> None:
    """Define the missing ancestors as Xforms marked as ours."""
    missing = [p for p in parent.GetPrefixes() if not stage.GetPrimAtPath(p)]
    for path in missing:
        prim = stage.DefinePrim(path, "Xform")
        prim.CreateAttribute(CONTAINER_ATTR, Sdf.ValueTypeNames.Bool, custom=True).Set(True)


def _get_string(prim: Usd.Prim, name: str) -> str:
    attr = prim.GetAttribute(name)
    value = attr.Get() if attr else None
    return value if isinstance(value, str) else ""


def _arc_layers(stage: Usd.Stage, path: Sdf.Path, mode: LoadMode, file: str) -> list[Sdf.Layer]:
    """The local layers, strongest first, whose spec at `path` holds the arc naming `file`."""
    found = []
    for layer in local_layers(stage):
        spec = layer.GetPrimAtPath(path)
        if spec and any(_same_file(layer, item.assetPath, file) for item in _arc_items(spec, mode)):
            found.append(layer)
    return found


def _arc_items(spec: Sdf.PrimSpec, mode: LoadMode) -> Iterable[Sdf.Reference | Sdf.Payload]:
    arcs = spec.payloadList if mode is LoadMode.PAYLOAD else spec.referenceList
    for items in (
        arcs.explicitItems,
        arcs.prependedItems,
        arcs.appendedItems,
        arcs.addedItems,
        arcs.orderedItems,
    ):
        yield from items


def _write_tags(stage: Usd.Stage, path: Sdf.Path, home: Sdf.Layer, tags: dict[str, str]) -> None:
    """Author `tags` in `home` (the layer holding the arc) and in every local layer that already
    has an opinion on one of them, so no stronger stale value hides the new one."""
    prim = stage.GetPrimAtPath(path)
    for layer in local_layers(stage):
        spec = layer.GetPrimAtPath(path)
        names = [n for n in tags if layer == home or (spec and n in spec.properties)]
        if not names:
            continue
        with Usd.EditContext(stage, layer):
            for name in names:
                prim.CreateAttribute(name, Sdf.ValueTypeNames.String, custom=True).Set(tags[name])


def add_scene(
    stage: Usd.Stage,
    file: ExportFile | str | os.PathLike[str],
    *,
    mode: LoadMode,
    parent: str,
    name: str,
    scene_id: str,
    fingerprint: str,
    author: AuthorFn = author_arc,
    path: Sdf.Path | None = None,
    metrics_assembled: bool = False,
) -> tuple[LoadedScene, list[str]]:
    """Bring a scene export in under `parent` (at `path`, or a free child named after the scene)
    as a reference or payload.

    Returns the loaded scene and warnings (metrics, physics scenes). Raises `UsdFileError` before
    any edit when the file cannot be used; if authoring fails half-way, the stage is restored.
    """
    if mode is LoadMode.OPEN:
        raise ValueError("add_scene adds a reference or payload; use open_stage to open a file")
    export = file if isinstance(file, ExportFile) else check_export(file)
    label = f"Scene {name!r}"
    warnings = metrics_warnings(export.metrics, stage_metrics(stage), label, metrics_assembled)
    asset = str(export.path)
    path = path or unique_child_path(stage, parent, name)
    before = LayerSnapshot(stage, edit_root(stage, path))
    try:
        _ensure_containers(stage, path.GetParentPath())
        author(stage, path, asset, mode)
        layers = _arc_layers(stage, path, mode, asset) if stage.GetPrimAtPath(path) else []
        if not layers:
            raise UsdFileError(f"Creating {path} failed; the stage was left as it was.")
        tags = {
            SCENE_ID_ATTR: scene_id,
            SCENE_NAME_ATTR: name,
            FINGERPRINT_ATTR: fingerprint,
            MODE_ATTR: mode.value,
            FILE_ATTR: asset,
        }
        _write_tags(stage, path, layers[0], tags)
        warnings += _settle_physics(stage, path, export, layers[0])
    except BaseException:
        before.restore()
        raise
    return _loaded_from(stage.GetPrimAtPath(path)), warnings


def stage_physics_scenes(stage: Usd.Stage) -> list[Sdf.Path]:
    """PhysicsScene prims at the top two levels of the stage (`/physicsScene`,
    `/World/PhysicsScene`: where Isaac Sim and the exports put theirs). Deeper ones are not
    looked for: that would mean traversing the whole stage on the main thread."""
    found = []
    for top in stage.GetPseudoRoot().GetChildren():
        for prim in (top, *top.GetChildren()):
            if prim.IsA(UsdPhysics.Scene):
                found.append(prim.GetPath())
    return found


def _settle_physics(
    stage: Usd.Stage, path: Sdf.Path, export: ExportFile, layer: Sdf.Layer
) -> list[str]:
    """One physics scene per stage. Current exports keep their PhysicsScene beside the default
    prim, so a reference brings none; an older or hosted export may carry one under it, and
    into a stage that has its own that copy is switched off (PhysX would split the bodies).

    The `active = false` opinions go on the loaded prim's path in the arc's layer, as specs, so
    they also cover a payload that is not loaded and hold across sync's file swaps."""
    if not export.physics_scenes:
        return []
    theirs = [p for p in stage_physics_scenes(stage) if not p.HasPrefix(path)]
    if not theirs:
        return []
    for relative in export.physics_scenes:
        Sdf.CreatePrimInLayer(layer, path.AppendPath(relative)).active = False
    return [
        f"The export's physics scene was switched off: the stage's own {theirs[0]} "
        "simulates the scene (one physics scene per stage)."
    ]


def loaded_at(stage: Usd.Stage, path: str | Sdf.Path) -> LoadedScene | None:
    """The panel's scene at `path`, or None when there is none (gone, undone, not ours)."""
    prim = stage.GetPrimAtPath(str(path))
    if not prim or not _is_panel_prim(prim, set(local_layers(stage))):
        return None
    return _loaded_from(prim)


def _loaded_from(prim: Usd.Prim) -> LoadedScene:
    return LoadedScene(
        scene_id=_get_string(prim, SCENE_ID_ATTR),
        scene_name=_get_string(prim, SCENE_NAME_ATTR),
        mode=LoadMode(_get_string(prim, MODE_ATTR) or LoadMode.REFERENCE.value),
        file=_get_string(prim, FILE_ATTR),
        fingerprint=_get_string(prim, FINGERPRINT_ATTR),
        prim_path=str(prim.GetPath()),
    )


def _is_panel_prim(prim: Usd.Prim, local: set[Sdf.Layer]) -> bool:
    """Marked by `gizmo:loadMode` authored in this stage's layers, not brought in by an arc."""
    attr = prim.GetAttribute(MODE_ATTR)
    return bool(attr) and any(spec.layer in local for spec in attr.GetPropertyStack())


def _panel_prim(stage: Usd.Stage, prim_path: str) -> Usd.Prim:
    if loaded_at(stage, prim_path) is None:
        raise UsdFileError(
            f"{prim_path} is not a scene the Gizmo panel loaded (no {MODE_ATTR} of its own); "
            "it was left alone."
        )
    return stage.GetPrimAtPath(prim_path)


def replace_file(
    stage: Usd.Stage,
    prim_path: str,
    file: ExportFile | str | os.PathLike[str],
    fingerprint: str,
) -> LoadedScene:
    """Point a loaded scene's reference or payload at a new export, in place.

    Only the arc the panel authored (the one naming the recorded file) is changed, in every local
    layer that holds it; other arcs a user added on the prim stay. The new file and fingerprint
    are written where the arc is, whatever the edit target.
    """
    export = file if isinstance(file, ExportFile) else check_export(file)
    prim = _panel_prim(stage, prim_path)
    path = prim.GetPath()
    old = _get_string(prim, FILE_ATTR)
    new = str(export.path)
    mode = LoadMode(_get_string(prim, MODE_ATTR) or LoadMode.REFERENCE.value)
    layers = _arc_layers(stage, path, mode, old)
    if not layers:
        raise UsdFileError(
            f"{prim_path} no longer references {old}; remove it and load the scene again."
        )
    _check_editable(layers)
    with Sdf.ChangeBlock():
        for layer in layers:
            _replace_arc(layer, layer.GetPrimAtPath(path), mode, old, new)
    _write_tags(stage, path, layers[0], {FILE_ATTR: new, FINGERPRINT_ATTR: fingerprint})
    return _loaded_from(stage.GetPrimAtPath(path))


def _check_editable(layers: Iterable[Sdf.Layer]) -> None:
    locked = [layer.identifier for layer in layers if not layer.permissionToEdit]
    if locked:
        raise UsdFileError(
            f"{', '.join(locked)} cannot be edited (locked or read-only); unlock it in the "
            "Layer window and try again."
        )


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


def _replace_arc(layer: Sdf.Layer, spec: Sdf.PrimSpec, mode: LoadMode, old: str, new: str) -> None:
    arcs = spec.payloadList if mode is LoadMode.PAYLOAD else spec.referenceList
    for item in list(_arc_items(spec, mode)):
        if not _same_file(layer, item.assetPath, old):
            continue
        if mode is LoadMode.PAYLOAD:
            fresh = Sdf.Payload(new, item.primPath, item.layerOffset)
        else:
            fresh = Sdf.Reference(new, item.primPath, item.layerOffset, item.customData)
        arcs.ReplaceItemEdits(item, fresh)


def remove_scene(stage: Usd.Stage, prim_path: str) -> None:
    """Delete a loaded scene's prim from every local layer, then the containers the panel made
    that are now empty (Kit's `DeletePrims` with `destructive=True`)."""
    prim = _panel_prim(stage, prim_path)
    path = prim.GetPath()
    doomed = [path]
    parent = path.GetParentPath()
    while parent != Sdf.Path.absoluteRootPath:
        above = stage.GetPrimAtPath(parent)
        others = [c for c in above.GetAllChildren() if c.GetPath() != doomed[-1]]
        if not above.HasAttribute(CONTAINER_ATTR) or others:
            break
        doomed.append(parent)
        parent = parent.GetParentPath()
    _check_editable(layer for layer in local_layers(stage) if layer.GetPrimAtPath(doomed[-1]))
    with Sdf.ChangeBlock():
        for layer in local_layers(stage):
            remove_spec(layer, doomed[-1])
    if stage.GetPrimAtPath(path):
        raise UsdFileError(f"{prim_path} is still on the stage after removing its specs.")


def find_panel_paths(stage: Usd.Stage) -> list[Sdf.Path]:
    """Every prim path where a local layer authors `gizmo:loadMode`, outermost only.

    Reads the local layers' specs, not the composed stage: what references and payloads bring
    in (most of a big stage) is never visited, and a panel prim has a local spec by definition.
    """
    found: set[Sdf.Path] = set()

    def visit(path: Sdf.Path) -> None:  # called from C++ for every spec path of the layer
        if path.IsPropertyPath() and path.name == MODE_ATTR:
            found.add(path.GetPrimPath())

    for layer in local_layers(stage):
        layer.Traverse(Sdf.Path.absoluteRootPath, visit)
    return sorted(p for p in found if not any(p.HasPrefix(q) and p != q for q in found))


def list_added(
    stage: Usd.Stage, paths: Iterable[str | Sdf.Path] | None = None
) -> list[LoadedScene]:
    """The panel's scenes on this stage: at `paths` (an index the caller keeps), or wherever
    `find_panel_paths` finds one."""
    candidates = find_panel_paths(stage) if paths is None else sorted(map(Sdf.Path, paths))
    return [e for e in (loaded_at(stage, p) for p in candidates) if e is not None]


def open_stage(file: ExportFile | str | os.PathLike[str]) -> Usd.Stage:
    """Open an export as a stage of its own, refusing a file that fails to open."""
    export = file if isinstance(file, ExportFile) else check_export(file)
    return Usd.Stage.Open(export.layer)
