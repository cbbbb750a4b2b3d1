"""Undo and redo for the panel's stage edits, in plain `pxr` (usd-core runs it as Kit does).

Kit's undo stack holds `omni.kit.commands.Command` objects and calls their `do`/`undo`
(`commands.py` wraps a `StageEdit` in one). The bookkeeping lives here so tests run it without
Kit: before an edit, every local layer's specs under one root path are copied aside; undo puts
them back, redo puts back the copy taken after the first `do`. Each action (add, sync, remove)
therefore undoes as one step, with every `gizmo:*` attribute and every layer it touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pxr import Sdf, Usd

__all__ = ["LayerSnapshot", "StageEdit", "local_layers", "remove_spec"]

T = TypeVar("T")


def local_layers(stage: Usd.Stage) -> list[Sdf.Layer]:
    """The stage's own layers, strongest first: session layer(s), root, sublayers."""
    return list(stage.GetLayerStack(includeSessionLayers=True))


def remove_spec(layer: Sdf.Layer, path: Sdf.Path) -> bool:
    """Delete the prim spec at `path` (and everything under it) from `layer`, if there is one."""
    if not layer.GetPrimAtPath(path):
        return False
    parent = layer.GetPrimAtPath(path.GetParentPath()) or layer.pseudoRoot
    del parent.nameChildren[path.name]
    return True


def _inert_over(spec: Sdf.PrimSpec) -> bool:
    """An `over` that says nothing: what `Sdf.CreatePrimInLayer` leaves above a new spec."""
    return bool(
        spec.specifier == Sdf.SpecifierOver
        and set(spec.ListInfoKeys()) <= {"specifier"}
        and not spec.properties
        and not spec.nameChildren
    )


@dataclass(frozen=True)
class _LayerState:
    layer: Sdf.Layer
    existing: frozenset[Sdf.Path]  # which prefixes of the root had a spec in this layer
    copy: Sdf.Layer | None  # the root's subtree, when the layer had one


class LayerSnapshot:
    """The specs under `root` in every local layer of `stage`, as they are now."""

    def __init__(self, stage: Usd.Stage, root: Sdf.Path) -> None:
        self.root = root
        self._states = [self._capture(layer) for layer in local_layers(stage)]

    def _capture(self, layer: Sdf.Layer) -> _LayerState:
        existing = frozenset(p for p in self.root.GetPrefixes() if layer.GetPrimAtPath(p))
        copy = None
        if self.root in existing:
            copy = Sdf.Layer.CreateAnonymous()
            Sdf.CreatePrimInLayer(copy, self.root)
            Sdf.CopySpec(layer, self.root, copy, self.root)
        return _LayerState(layer, existing, copy)

    def restore(self) -> None:
        """Make every layer hold exactly what it held under `root` when this was taken."""
        with Sdf.ChangeBlock():
            for state in self._states:
                layer = state.layer
                if not layer.permissionToEdit:
                    continue  # locked: nothing can have changed it
                remove_spec(layer, self.root)
                if state.copy is not None:
                    Sdf.CreatePrimInLayer(layer, self.root)
                    Sdf.CopySpec(state.copy, self.root, layer, self.root)
                # `over` ancestors the edit had to create in this layer go again once empty.
                for path in reversed(self.root.GetPrefixes()[:-1]):
                    spec = layer.GetPrimAtPath(path)
                    if path in state.existing or not spec or spec.nameChildren:
                        break
                    if _inert_over(spec):
                        remove_spec(layer, path)


class StageEdit(Generic[T]):
    """One undoable action: `apply` edits the stage under `root` and returns a result.

    The first `do` runs `apply`; later ones (redo) restore the state that run left, so a redo
    brings back exactly what the action authored rather than running it again on a stage that
    may have changed around it.
    """

    def __init__(self, stage: Usd.Stage, root: Sdf.Path, apply: Callable[[], T]) -> None:
        self._stage = stage
        self._root = root
        self._apply = apply
        self._before: LayerSnapshot | None = None
        self._after: LayerSnapshot | None = None
        self._result: T | None = None
        #: Why the last `do` failed, kept for callers whose runner swallows exceptions
        #: (Kit's `omni.kit.commands.execute` logs them and returns `(False, None)`).
        self.error: BaseException | None = None

    def do(self) -> T:
        if self._after is not None and self._result is not None:
            self._after.restore()
            return self._result
        self._before = LayerSnapshot(self._stage, self._root)
        try:
            self._result = self._apply()
        except BaseException as exc:
            self._before.restore()
            self._before = None
            self.error = exc
            raise
        self._after = LayerSnapshot(self._stage, self._root)
        return self._result

    def undo(self) -> None:
        if self._before is not None:
            self._before.restore()
