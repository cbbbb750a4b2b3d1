"""The stage port inside Kit: the USD context's stage, Kit's undo stack, Kit's unsaved-edits flag.

Everything else (checks, unique names, tags, sync, removal, the index) is `stage_port` and
`usd_ops`, the same code the tests run on usd-core.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import omni.kit.app
import omni.kit.commands
import omni.usd
from pxr import Usd

from . import usd_ops
from .data import LoadedScene, UsdFileError
from .stage_port import UsdStagePort
from .usd_undo import StageEdit

__all__ = ["METRICS_ASSEMBLER", "KitStagePort"]

T = TypeVar("T")

#: Isaac Sim's extension that rescales references whose metersPerUnit differs from the stage's.
METRICS_ASSEMBLER = "omni.usd.metrics.assembler"


class KitStagePort(UsdStagePort):
    """Looks the USD context up on every use, so it always works on the stage Kit shows."""

    def __init__(self, context_name: str = "") -> None:
        super().__init__(None)  # Kit's USD context holds the stage: see `stage`
        self._context_name = context_name

    @property
    def _context(self) -> omni.usd.UsdContext:
        return omni.usd.get_context(self._context_name)

    @property
    def stage(self) -> Usd.Stage:
        """The open stage; a new one when none is open (only adding needs this)."""
        context = self._context
        if context.get_stage() is None:
            context.new_stage()
        return context.get_stage()

    @property
    def metrics_assembled(self) -> bool:
        manager = omni.kit.app.get_app().get_extension_manager()
        return bool(manager.is_extension_enabled(METRICS_ASSEMBLER))

    def has_pending_edits(self) -> bool:
        return self._context.get_stage() is not None and bool(self._context.has_pending_edit())

    def root_file(self) -> str | None:
        return super().root_file() if self._context.get_stage() is not None else None

    def list_added(self) -> list[LoadedScene]:
        return super().list_added() if self._context.get_stage() is not None else []

    def rescan(self) -> list[LoadedScene]:
        return super().rescan() if self._context.get_stage() is not None else []

    def apply(self, name: str, edit: StageEdit[T]) -> T:
        """Through Kit's command system, so Edit → Undo (Ctrl+Z) undoes the whole action."""
        ok, result = omni.kit.commands.execute(name, edit=edit)
        if edit.error is not None:
            raise edit.error
        if not ok:
            raise UsdFileError(f"Kit's {name} command failed; the console log says why.")
        return result  # type: ignore[no-any-return]

    async def open_stage(self, file: Path) -> None:
        usd_ops.open_checked(file)  # refuse a broken file before Kit closes the current stage
        ok, error = await self._context.open_stage_async(str(file))
        if not ok:
            raise UsdFileError(f"Kit could not open {file}: {error}")
        self.rescan()
