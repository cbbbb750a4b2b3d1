"""Carry simulation state from one model to a *different* one, matching elements by name.

A reload compiles a fresh model from a fresh download, so indices mean nothing across the swap;
names do (placement ids never change, and every exported name is prefixed with one). MuJoCo has no
helper for this (`mj_setState` needs equal sizes, `MjSpec.recompile` needs the same spec).

Policy: an element present in both models keeps its state, unless its default changed (the server
moved the object: a free joint's `qpos0`, a mocap body's pose), in which case the new default
wins and the element is reported as reset (likewise an equality whose default activity changed).
New elements start at their defaults.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import mujoco
import numpy as np

__all__ = ["Change", "TransferReport", "transfer_state"]

_TOLERANCE = 1e-9
# Index by int(jnt_type): the arrays hold numpy ints, which do not hash like the enum.
_QPOS_WIDTH = {
    int(mujoco.mjtJoint.mjJNT_FREE): 7,
    int(mujoco.mjtJoint.mjJNT_BALL): 4,
    int(mujoco.mjtJoint.mjJNT_SLIDE): 1,
    int(mujoco.mjtJoint.mjJNT_HINGE): 1,
}
_DOF_WIDTH = {
    int(mujoco.mjtJoint.mjJNT_FREE): 6,
    int(mujoco.mjtJoint.mjJNT_BALL): 3,
    int(mujoco.mjtJoint.mjJNT_SLIDE): 1,
    int(mujoco.mjtJoint.mjJNT_HINGE): 1,
}


@dataclass(frozen=True)
class Change:
    """One element of the report: its kind (a key of `_WORDS`), name, and why it was reset."""

    kind: str
    name: str
    reason: str = ""


@dataclass
class TransferReport:
    """What a reload did to the state: kept, new (at defaults), dropped, and reset elements."""

    time: float = 0.0
    kept: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    dropped: list[Change] = field(default_factory=list)
    reset: list[Change] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report in short parts: time, kept, then new, dropped and reset when any."""
        parts = [f"t={self.time:.2f}s", f"kept {_count(self.kept)}"]
        for label, changes in (("new", self.new), ("dropped", self.dropped)):
            if changes:
                parts.append(f"{label} {_count(changes)} ({_owners(c.name for c in changes)})")
        if self.reset:
            reasons = sorted({f"{c.name}: {c.reason}" for c in self.reset})
            more = ", ..." if len(reasons) > 3 else ""
            parts.append(f"reset {_count(self.reset)} ({'; '.join(reasons[:3])}{more})")
        return parts

    def summary(self) -> str:
        """One line for a terminal."""
        return "; ".join(self.lines())


def transfer_state(
    old_model: mujoco.MjModel,
    old_data: mujoco.MjData,
    new_model: mujoco.MjModel,
    new_data: mujoco.MjData,
) -> TransferReport:
    """Copy `old_data`'s state into `new_data` (fresh, at defaults) by name; then `mj_forward`."""
    report = TransferReport(time=float(old_data.time))
    new_data.time = old_data.time
    _transfer_joints(old_model, old_data, new_model, new_data, report)
    _transfer_mocap(old_model, old_data, new_model, new_data, report)
    _transfer_actuators(old_model, old_data, new_model, new_data, report)
    _transfer_equalities(old_model, old_data, new_model, new_data, report)
    _transfer_placements(old_model, new_model, report)
    mujoco.mj_forward(new_model, new_data)
    return report


def _names(
    model: mujoco.MjModel, obj: mujoco.mjtObj, ids: Iterable[int]
) -> tuple[dict[str, int], int]:
    """Name -> id for the named elements, and how many have no name (those cannot be matched)."""
    named: dict[str, int] = {}
    unnamed = 0
    for index in ids:
        name = mujoco.mj_id2name(model, obj, index)
        if name:
            named[name] = index
        else:
            unnamed += 1
    return named, unnamed


def _match(
    kind: str,
    old: tuple[dict[str, int], int],
    new: tuple[dict[str, int], int],
    report: TransferReport,
    copy: Callable[[int, int], str | None],
) -> None:
    """Pair elements by name; `copy(old_id, new_id)` moves the state or returns why it reset."""
    old_names, new_names = old[0], new[0]
    for name, new_id in new_names.items():
        old_id = old_names.get(name)
        if old_id is None:
            report.new.append(Change(kind, name))
        elif (reason := copy(old_id, new_id)) is not None:
            report.reset.append(Change(kind, name, reason))
        else:
            report.kept.append(Change(kind, name))
    report.dropped.extend(Change(kind, name) for name in old_names if name not in new_names)
    if new[1]:
        report.reset.append(Change(kind, f"{new[1]} unnamed", "no name to match by"))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=_TOLERANCE))


def _same_rotation(a: np.ndarray, b: np.ndarray) -> bool:
    """Quaternions q and -q are one orientation: a file that flips the sign moved nothing."""
    return _same(a, b) or _same(a, -b)


def _same_qpos(kind: int, a: np.ndarray, b: np.ndarray) -> bool:
    if kind == mujoco.mjtJoint.mjJNT_FREE:
        return _same(a[:3], b[:3]) and _same_rotation(a[3:], b[3:])
    if kind == mujoco.mjtJoint.mjJNT_BALL:
        return _same_rotation(a, b)
    return _same(a, b)


def _transfer_joints(
    om: mujoco.MjModel, od: mujoco.MjData, nm: mujoco.MjModel, nd: mujoco.MjData, r: TransferReport
) -> None:
    def copy(old: int, new: int) -> str | None:
        kind = int(nm.jnt_type[new])
        if int(om.jnt_type[old]) != kind:
            return "joint type changed"
        oq = slice(om.jnt_qposadr[old], om.jnt_qposadr[old] + _QPOS_WIDTH[kind])
        nq = slice(nm.jnt_qposadr[new], nm.jnt_qposadr[new] + _QPOS_WIDTH[kind])
        if not _same_qpos(kind, om.qpos0[oq], nm.qpos0[nq]):
            return "moved by the server"
        ov = slice(om.jnt_dofadr[old], om.jnt_dofadr[old] + _DOF_WIDTH[kind])
        nv = slice(nm.jnt_dofadr[new], nm.jnt_dofadr[new] + _DOF_WIDTH[kind])
        nd.qpos[nq] = od.qpos[oq]
        nd.qvel[nv] = od.qvel[ov]
        nd.qacc_warmstart[nv] = od.qacc_warmstart[ov]
        return None

    obj = mujoco.mjtObj.mjOBJ_JOINT
    _match("joint", _names(om, obj, range(om.njnt)), _names(nm, obj, range(nm.njnt)), r, copy)


def _transfer_mocap(
    om: mujoco.MjModel, od: mujoco.MjData, nm: mujoco.MjModel, nd: mujoco.MjData, r: TransferReport
) -> None:
    def copy(old: int, new: int) -> str | None:
        if not (
            _same(om.body_pos[old], nm.body_pos[new])
            and _same_rotation(om.body_quat[old], nm.body_quat[new])
        ):
            return "moved by the server"
        nd.mocap_pos[nm.body_mocapid[new]] = od.mocap_pos[om.body_mocapid[old]]
        nd.mocap_quat[nm.body_mocapid[new]] = od.mocap_quat[om.body_mocapid[old]]
        return None

    def mocap(model: mujoco.MjModel) -> tuple[dict[str, int], int]:
        ids = (b for b in range(model.nbody) if model.body_mocapid[b] >= 0)
        return _names(model, mujoco.mjtObj.mjOBJ_BODY, ids)

    _match("mocap", mocap(om), mocap(nm), r, copy)


def _transfer_actuators(
    om: mujoco.MjModel, od: mujoco.MjData, nm: mujoco.MjModel, nd: mujoco.MjData, r: TransferReport
) -> None:
    def copy(old: int, new: int) -> str | None:
        if om.actuator_actnum[old] != nm.actuator_actnum[new]:
            return "activation size changed"
        nd.ctrl[new] = od.ctrl[old]
        width = int(nm.actuator_actnum[new])
        if width:
            oa, na = om.actuator_actadr[old], nm.actuator_actadr[new]
            nd.act[na : na + width] = od.act[oa : oa + width]
        return None

    obj = mujoco.mjtObj.mjOBJ_ACTUATOR
    _match("actuator", _names(om, obj, range(om.nu)), _names(nm, obj, range(nm.nu)), r, copy)


def _transfer_equalities(
    om: mujoco.MjModel, od: mujoco.MjData, nm: mujoco.MjModel, nd: mujoco.MjData, r: TransferReport
) -> None:
    def copy(old: int, new: int) -> str | None:
        if om.eq_active0[old] != nm.eq_active0[new]:
            return "switched by the server"
        nd.eq_active[new] = od.eq_active[old]
        return None

    obj = mujoco.mjtObj.mjOBJ_EQUALITY
    _match("equality", _names(om, obj, range(om.neq)), _names(nm, obj, range(nm.neq)), r, copy)


def _transfer_placements(om: mujoco.MjModel, nm: mujoco.MjModel, r: TransferReport) -> None:
    """Top-level bodies (one per placement): a changed pose means the server moved it (a free
    joint's default pose is its body's pose, so floating objects count too)."""

    def compare(old: int, new: int) -> str | None:
        if _same(om.body_pos[old], nm.body_pos[new]) and _same_rotation(
            om.body_quat[old], nm.body_quat[new]
        ):
            return None
        return "moved by the server"

    def roots(model: mujoco.MjModel) -> tuple[dict[str, int], int]:
        ids = (b for b in range(1, model.nbody) if model.body_parentid[b] == 0)
        return _names(model, mujoco.mjtObj.mjOBJ_BODY, ids)

    _match("placement", roots(om), roots(nm), r, compare)


_WORDS = {  # kind: (one, many), in the order a summary lists them
    "placement": ("placement", "placements"),
    "joint": ("joint", "joints"),
    "actuator": ("actuator", "actuators"),
    "mocap": ("mocap body", "mocap bodies"),
    "equality": ("equality", "equalities"),
}


def _count(changes: list[Change]) -> str:
    counts = Counter(c.kind for c in changes)
    if not counts:
        return "nothing"
    return ", ".join(
        f"{counts[kind]} {one if counts[kind] == 1 else many}"
        for kind, (one, many) in _WORDS.items()
        if counts[kind]
    )


def _owners(names: Iterable[str]) -> str:
    """The placements (name prefixes before '__', or '/' in older exports) the names belong to."""
    owners = sorted({name.split("/", 1)[0].split("__", 1)[0] for name in names})
    return ", ".join(owners[:4]) + (f" and {len(owners) - 4} more" if len(owners) > 4 else "")
