"""The stage port inside Kit: the USD context's stage, and Kit's undoable commands for new arcs.

Everything else (checks, unique names, tags, sync, removal) is `usd_ops`, the same code the tests
run on usd-core.
"""

from __future__ import annotations

from pathlib import Path

import omni.kit.commands
import omni.usd
from pxr import Sdf, Usd

from . import usd_ops
from .data import LoadedScene, LoadMode, UsdFileError

__all__ = ["KitStagePort"]


class KitStagePort(usd_ops.UsdStagePort):
    """Looks the USD context up on every use, so it always works on the stage Kit shows."""

    def __init__(self, context_name: str = "") -> None:
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

    def root_file(self) -> str | None:
        return super().root_file() if self._context.get_stage() is not None else None

    def list_added(self) -> list[LoadedScene]:
        return super().list_added() if self._context.get_stage() is not None else []

    def author(self, stage: Usd.Stage, path: Sdf.Path, asset: str, mode: LoadMode) -> None:
        """CreateReference/CreatePayload, so Ctrl+Z undoes it; never instanceable, so the
        placed assets stay editable (Kit's default follows a setting that makes them read-only)."""
        command = "CreatePayload" if mode is LoadMode.PAYLOAD else "CreateReference"
        omni.kit.commands.execute(
            command,
            usd_context=self._context,
            path_to=path,
            asset_path=asset,
            instanceable=False,
            select_prim=False,
        )
        if not stage.GetPrimAtPath(path):
            raise UsdFileError(f"Kit's {command} did not create {path}.")

    async def open_stage(self, file: Path) -> None:
        usd_ops.open_checked(file)  # refuse a broken file before Kit closes the current stage
        ok, error = await self._context.open_stage_async(str(file))
        if not ok:
            raise UsdFileError(f"Kit could not open {file}: {error}")
