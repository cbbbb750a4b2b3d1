"""Carry simulation state from one model to a *different* one, matching elements by name.

A reload compiles a fresh model from a fresh download, so indices mean nothing across the swap;
names do (placement ids never change, and every exported name is prefixed with one). MuJoCo has no
helper for this (`mj_setState` needs equal sizes, `MjSpec.recompile` needs the same spec).

Policy: an element present in both models keeps its state, unless its default changed (the server
moved the object: a free joint's `qpos0`, a mocap body's pose), in which case the new default
wins and the element is reported as reset (likewise an equality whose default activity changed).
New elements start at their defaults. A `<freejoint/>` without a name (real exports write them
so) is matched by its body's name.

Speed: everything that depends only on the two models (which element maps to which, what is
reset and why, the report) is worked out once per (old, new) pair and kept while both models
live; each transfer is then a handful of numpy fancy-index copies plus `mj_forward`.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import mujoco
import numpy as np

__all__ = ["Change", "TransferReport", "transfer_state"]

_TOLERANCE = 1e-9
_FREE, _BALL = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_BALL)
# qpos and dof widths indexed by jnt_type (free, ball, slide, hinge)
_QPOS_WIDTH = np.array([7, 4, 1, 1])
_DOF_WIDTH = np.array([6, 3, 1, 1])


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
    """Copy `old_data`'s state into `new_data` (fresh, at defaults) by name; then `mj_forward`.

    The models must not change between transfers (their pairing is worked out once)."""
    plan = _plan(old_model, new_model)
    new_data.time = old_data.time
    new_data.qpos[plan.new_qpos] = old_data.qpos[plan.old_qpos]
    new_data.qvel[plan.new_dof] = old_data.qvel[plan.old_dof]
    new_data.qacc_warmstart[plan.new_dof] = old_data.qacc_warmstart[plan.old_dof]
    new_data.mocap_pos[plan.new_mocap] = old_data.mocap_pos[plan.old_mocap]
    new_data.mocap_quat[plan.new_mocap] = old_data.mocap_quat[plan.old_mocap]
    new_data.ctrl[plan.new_ctrl] = old_data.ctrl[plan.old_ctrl]
    new_data.act[plan.new_act] = old_data.act[plan.old_act]
    new_data.eq_active[plan.new_eq] = old_data.eq_active[plan.old_eq]
    mujoco.mj_forward(new_model, new_data)
    report = plan.report
    return TransferReport(
        float(old_data.time), list(report.kept), list(report.new), list(report.dropped),
        list(report.reset),
    )  # fmt: skip


_Index = np.ndarray  # 1-D int arrays of element or address indices


@dataclass(frozen=True)
class _Plan:
    """What maps to what between two models: paired state addresses, and the report."""

    old_qpos: _Index
    new_qpos: _Index
    old_dof: _Index
    new_dof: _Index
    old_mocap: _Index
    new_mocap: _Index
    old_ctrl: _Index
    new_ctrl: _Index
    old_act: _Index
    new_act: _Index
    old_eq: _Index
    new_eq: _Index
    report: TransferReport


# old model -> (new model, plan); entries go when the old model does, a stale new one is rebuilt
_PLANS: weakref.WeakKeyDictionary[mujoco.MjModel, tuple[weakref.ref[mujoco.MjModel], _Plan]] = (
    weakref.WeakKeyDictionary()
)


def _plan(old: mujoco.MjModel, new: mujoco.MjModel) -> _Plan:
    cached = _PLANS.get(old)
    if cached is not None and cached[0]() is new:
        return cached[1]
    plan = _make_plan(old, new)
    _PLANS[old] = (weakref.ref(new), plan)
    return plan


def _make_plan(om: mujoco.MjModel, nm: mujoco.MjModel) -> _Plan:
    report = TransferReport()
    oj, nj = _match("joint", _joint_names(om), _joint_names(nm), report)
    old_qpos, new_qpos, old_dof, new_dof = _pair_joints(om, nm, oj, nj, report)
    omc, nmc = _match("mocap", _mocap_names(om), _mocap_names(nm), report)
    keep = _same_pose(om, nm, omc, nmc)
    _reset(report, "mocap", nm, mujoco.mjtObj.mjOBJ_BODY, nmc[~keep], "moved by the server")
    oa, na = _match("actuator", _element_names(om, "actuator"), _element_names(nm, "actuator"),
                    report)  # fmt: skip
    same_act = om.actuator_actnum[oa] == nm.actuator_actnum[na]
    _reset(report, "actuator", nm, mujoco.mjtObj.mjOBJ_ACTUATOR, na[~same_act],
           "activation size changed")  # fmt: skip
    oa, na = oa[same_act], na[same_act]
    oe, ne = _match("equality", _element_names(om, "eq"), _element_names(nm, "eq"), report)
    same_eq = om.eq_active0[oe] == nm.eq_active0[ne]
    _reset(report, "equality", nm, mujoco.mjtObj.mjOBJ_EQUALITY, ne[~same_eq],
           "switched by the server")  # fmt: skip
    ob, nb = _match("placement", _root_names(om), _root_names(nm), report)
    moved = ~_same_pose(om, nm, ob, nb)
    _reset(report, "placement", nm, mujoco.mjtObj.mjOBJ_BODY, nb[moved], "moved by the server")
    report.kept = [c for c in report.kept if (c.kind, c.name) not in _reset_keys(report)]
    return _Plan(
        old_qpos, new_qpos, old_dof, new_dof,
        om.body_mocapid[omc[keep]], nm.body_mocapid[nmc[keep]],
        oa, na,
        _spans(om.actuator_actadr[oa], om.actuator_actnum[oa]),
        _spans(nm.actuator_actadr[na], nm.actuator_actnum[na]),
        oe[same_eq], ne[same_eq],
        report,
    )  # fmt: skip


def _reset_keys(report: TransferReport) -> set[tuple[str, str]]:
    return {(c.kind, c.name) for c in report.reset}


def _reset(
    report: TransferReport, kind: str, model: mujoco.MjModel, obj: mujoco.mjtObj,
    ids: np.ndarray, reason: str,
) -> None:  # fmt: skip
    report.reset.extend(Change(kind, _name(model, obj, int(i)), reason) for i in ids)


def _name(model: mujoco.MjModel, obj: mujoco.mjtObj, index: int) -> str:
    name = mujoco.mj_id2name(model, obj, index) or ""
    if not name and obj == mujoco.mjtObj.mjOBJ_JOINT:  # an unnamed free joint: its body's name
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(model.jnt_bodyid[index]))
    return name or ""


def _strings(model: mujoco.MjModel, addresses: np.ndarray) -> list[str]:
    """Names out of the model's packed, NUL-separated name buffer (no call per element)."""
    blob: bytes = model.names
    return [blob[a : blob.index(b"\0", a)].decode() for a in addresses.tolist()]


Names = tuple[dict[str, int], int]  # name -> id of the named elements; how many have no name


def _named(names: list[str], ids: Iterable[int]) -> Names:
    named: dict[str, int] = {}
    unnamed = 0
    for name, index in zip(names, ids, strict=True):
        if name:
            named[name] = index
        else:
            unnamed += 1
    return named, unnamed


def _element_names(model: mujoco.MjModel, kind: str) -> Names:
    addresses = getattr(model, f"name_{kind}adr")
    return _named(_strings(model, addresses), range(len(addresses)))


def _joint_names(model: mujoco.MjModel) -> Names:
    names = _strings(model, model.name_jntadr)
    bodies = _strings(model, model.name_bodyadr)
    for index, name in enumerate(names):
        if not name and model.jnt_type[index] == _FREE:
            names[index] = bodies[model.jnt_bodyid[index]]
    return _named(names, range(model.njnt))


def _mocap_names(model: mujoco.MjModel) -> Names:
    ids = np.flatnonzero(model.body_mocapid >= 0)
    return _named(_strings(model, model.name_bodyadr[ids]), ids.tolist())


def _root_names(model: mujoco.MjModel) -> Names:
    """Top-level bodies (one per placement): a changed pose means the server moved it (a free
    joint's default pose is its body's pose, so floating objects count too)."""
    ids = np.flatnonzero(model.body_parentid == 0)[1:]  # body 0, the world, is its own parent
    return _named(_strings(model, model.name_bodyadr[ids]), ids.tolist())


def _match(kind: str, old: Names, new: Names, report: TransferReport) -> tuple[_Index, _Index]:
    """Pair elements by name; records kept (for now), new, dropped and unnamed ones."""
    old_names, new_names = old[0], new[0]
    pairs = [(old_names[name], new_id) for name, new_id in new_names.items() if name in old_names]
    report.kept.extend(Change(kind, name) for name in new_names if name in old_names)
    report.new.extend(Change(kind, name) for name in new_names if name not in old_names)
    report.dropped.extend(Change(kind, name) for name in old_names if name not in new_names)
    if new[1]:
        report.reset.append(Change(kind, f"{new[1]} unnamed", "no name to match by"))
    ids = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return ids[:, 0], ids[:, 1]


def _pair_joints(
    om: mujoco.MjModel, nm: mujoco.MjModel, old: _Index, new: _Index, report: TransferReport
) -> tuple[_Index, _Index, _Index, _Index]:
    """qpos and dof addresses of the joints that keep their state."""
    kinds = nm.jnt_type[new]
    same_type = om.jnt_type[old] == kinds
    obj = mujoco.mjtObj.mjOBJ_JOINT
    _reset(report, "joint", nm, obj, new[~same_type], "joint type changed")
    old, new, kinds = old[same_type], new[same_type], kinds[same_type]
    keep = np.ones(len(new), dtype=bool)
    for kind in np.unique(kinds).tolist():
        rows = np.flatnonzero(kinds == kind)
        width = int(_QPOS_WIDTH[kind])
        a = om.qpos0[om.jnt_qposadr[old[rows]][:, None] + np.arange(width)]
        b = nm.qpos0[nm.jnt_qposadr[new[rows]][:, None] + np.arange(width)]
        if kind == _FREE:
            keep[rows] = _rows_same(a[:, :3], b[:, :3]) & _rows_same_rotation(a[:, 3:], b[:, 3:])
        elif kind == _BALL:
            keep[rows] = _rows_same_rotation(a, b)
        else:
            keep[rows] = _rows_same(a, b)
    _reset(report, "joint", nm, obj, new[~keep], "moved by the server")
    old, new, kinds = old[keep], new[keep], kinds[keep]
    return (
        _spans(om.jnt_qposadr[old], _QPOS_WIDTH[kinds]),
        _spans(nm.jnt_qposadr[new], _QPOS_WIDTH[kinds]),
        _spans(om.jnt_dofadr[old], _DOF_WIDTH[kinds]),
        _spans(nm.jnt_dofadr[new], _DOF_WIDTH[kinds]),
    )


def _same_pose(om: mujoco.MjModel, nm: mujoco.MjModel, old: _Index, new: _Index) -> np.ndarray:
    """Per body pair: whether the default pose is unchanged."""
    same: np.ndarray = np.logical_and(
        _rows_same(om.body_pos[old], nm.body_pos[new]),
        _rows_same_rotation(om.body_quat[old], nm.body_quat[new]),
    )
    return same


def _rows_same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same: np.ndarray = np.all(np.abs(a - b) <= _TOLERANCE, axis=1)
    return same


def _rows_same_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quaternions q and -q are one orientation: a file that flips the sign moved nothing."""
    same: np.ndarray = np.logical_or(_rows_same(a, b), _rows_same(a, -b))
    return same


def _spans(starts: np.ndarray, widths: np.ndarray) -> _Index:
    """The addresses start, start+1, ..., start+width-1 of every span, concatenated."""
    widths = np.asarray(widths, dtype=np.int64)
    if widths.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.arange(widths.sum()) - np.repeat(np.cumsum(widths) - widths, widths)
    spans: _Index = np.repeat(np.asarray(starts, dtype=np.int64), widths) + offsets
    return spans


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
