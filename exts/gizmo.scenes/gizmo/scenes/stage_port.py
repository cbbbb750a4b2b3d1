"""The controller's stage port over a plain `Usd.Stage` (usd-core, or any pxr).

It keeps an index of the panel's own prims, so the frequent questions (every auto-sync poll,
every window show, every add) cost one prim look-up per loaded scene instead of a walk over the
stage; only `rescan` (a new stage was opened) reads the local layers. Each edit runs as one
`usd_undo.StageEdit` through `apply`, which Kit's port (`kit_stage.KitStagePort`) routes through
Kit's undo stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pxr import Sdf, Usd

from . import usd_ops, usd_undo
from .data import LoadedScene, LoadMode
from .usd_undo import StageEdit

__all__ = ["ADD_COMMAND", "REMOVE_COMMAND", "SYNC_COMMAND", "UsdStagePort"]

T = TypeVar("T")

#: The names the edits carry on Kit's undo stack (Edit → Undo shows them).
ADD_COMMAND = "AddGizmoScene"
SYNC_COMMAND = "SyncGizmoScene"
REMOVE_COMMAND = "RemoveGizmoScene"


def _stage_key(stage: Usd.Stage) -> tuple[str, str]:
    return (stage.GetRootLayer().identifier, stage.GetSessionLayer().identifier)


class UsdStagePort:
    def __init__(self, stage: Usd.Stage | None) -> None:
        self._stage = stage
        self._index: set[str] = set()
        self._indexed: tuple[str, str] | None = None

    @property
    def stage(self) -> Usd.Stage:
        return self._stage

    # ----------------------------------------------------------------- hooks for Kit

    def apply(self, name: str, edit: StageEdit[T]) -> T:
        """Run one undoable edit; Kit's port puts it on Kit's undo stack instead."""
        return edit.do()

    @property
    def metrics_assembled(self) -> bool:
        """Whether something scales references to the stage's units (Kit: metrics assembler)."""
        return False

    def has_pending_edits(self) -> bool:
        """Whether opening another stage would throw away unsaved work: here, a local layer
        backed by a file has unsaved changes (Kit's port asks Kit's `has_pending_edit`)."""
        return any(
            layer.dirty and not layer.anonymous for layer in usd_undo.local_layers(self.stage)
        )

    async def open_stage(self, file: Path) -> None:
        self._stage = usd_ops.open_stage(file)
        self.rescan()

    # ----------------------------------------------------------------- the index

    def rescan(self) -> list[LoadedScene]:
        """Find the panel's prims on the current stage from scratch (after a stage change)."""
        stage = self.stage
        found = usd_ops.list_added(stage)
        self._index = {str(e.prim_path) for e in found}
        self._indexed = _stage_key(stage)
        return found

    def list_added(self) -> list[LoadedScene]:
        """The panel's scenes on the stage, from the index (a rescan if the stage changed).

        Paths stay in the index when their prim goes (undo, removal), so a redo that brings one
        back is seen again; `usd_ops.list_added` drops the ones that are not there."""
        stage = self.stage
        if self._indexed != _stage_key(stage):
            return self.rescan()
        return usd_ops.list_added(stage, self._index)

    # ----------------------------------------------------------------- edits

    def check_file(self, file: Path) -> usd_ops.ExportFile:
        """Open and inspect an export; touches no stage, so call it on a worker thread."""
        return usd_ops.check_export(file)

    def root_file(self) -> str | None:
        path = self.stage.GetRootLayer().realPath
        return str(Path(path).resolve()) if path else None

    def add_scene(
        self,
        file: usd_ops.ExportFile | Path,
        *,
        mode: LoadMode,
        parent: str,
        name: str,
        scene_id: str,
        fingerprint: str,
    ) -> tuple[LoadedScene, list[str]]:
        stage = self.stage
        self.list_added()  # make sure the index describes this stage before adding to it
        path = usd_ops.unique_child_path(stage, parent, name)
        export = file if isinstance(file, usd_ops.ExportFile) else usd_ops.check_export(file)

        def add() -> tuple[LoadedScene, list[str]]:
            return usd_ops.add_scene(
                stage,
                export,
                mode=mode,
                parent=parent,
                name=name,
                scene_id=scene_id,
                fingerprint=fingerprint,
                path=path,
                metrics_assembled=self.metrics_assembled,
            )

        loaded, warnings = self.apply(
            ADD_COMMAND, StageEdit(stage, usd_ops.edit_root(stage, path), add)
        )
        self._index.add(str(path))
        return loaded, warnings

    def replace_file(
        self, prim_path: str, file: usd_ops.ExportFile | Path, fingerprint: str
    ) -> LoadedScene:
        stage = self.stage
        export = file if isinstance(file, usd_ops.ExportFile) else usd_ops.check_export(file)
        edit = StageEdit(
            stage,
            Sdf.Path(prim_path),
            lambda: usd_ops.replace_file(stage, prim_path, export, fingerprint),
        )
        return self.apply(SYNC_COMMAND, edit)

    def remove(self, prim_path: str) -> None:
        stage = self.stage
        root = usd_ops.edit_root(stage, Sdf.Path(prim_path))
        self.apply(
            REMOVE_COMMAND, StageEdit(stage, root, lambda: usd_ops.remove_scene(stage, prim_path))
        )
