"""The panel's actions as Kit commands, one per action, so Edit → Undo takes back exactly one.

Each wraps a `usd_undo.StageEdit` that `stage_port` built; the do/undo/redo bookkeeping is
there (plain pxr, tested on usd-core), these classes only put it on Kit's undo stack. The class
names minus "Command" are what `stage_port.ADD_COMMAND` etc. name.
"""

from __future__ import annotations

from typing import Any

import omni.kit.commands

from .usd_undo import StageEdit

__all__ = ["AddGizmoSceneCommand", "RemoveGizmoSceneCommand", "SyncGizmoSceneCommand"]


class _StageEditCommand(omni.kit.commands.Command):  # type: ignore[misc]
    def __init__(self, edit: StageEdit[Any]) -> None:
        self._edit = edit

    def do(self) -> Any:
        return self._edit.do()

    def undo(self) -> None:
        self._edit.undo()


class AddGizmoSceneCommand(_StageEditCommand):
    """Add a Gizmo scene as a reference or payload, with its `gizmo:*` tags and containers."""


class SyncGizmoSceneCommand(_StageEditCommand):
    """Point a loaded Gizmo scene at its newer export and record the new fingerprint."""


class RemoveGizmoSceneCommand(_StageEditCommand):
    """Delete a loaded Gizmo scene from every local layer, with the containers left empty."""
