"""Cross-format checks: the MJCF and the USD export describe the same physical scene.

Each export is also compared with the API on its own; this catches the exports drifting apart
even when a loose tolerance lets both pass alone:
- every placement root at the same pose;
- the same physics where both formats can say it: the time step (MJCF ``timestep`` vs PhysX
  ``timeStepsPerSecond``), each collider's friction (MJCF geom vs the USD physics material bound
  to the prim), and joint velocity limits (PhysX ``maxJointVelocity``, degrees/s for revolute
  joints, vs the MJCF velocity actuator's control range, rad/s).
Elements are paired through the placement id each file keeps (USD ``gizmo:placementId``, MJCF
``<custom><text name="<name>__placement_id">``) and the element's own name under it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import mujoco
from pxr import Usd, UsdPhysics, UsdShade

from .findings import CROSS, Finding, FormatResult
from .options import Tolerances
from .placements import compare_pose

__all__ = ["check_cross"]

_ID_TEXT = "__placement_id"
_MAX_FINDINGS = 20  # per check: a systematic defect is clear long before the 1000th copy
_RELATIVE = 1e-6  # float32 in USD


def check_cross(
    mjcf: FormatResult, usd: FormatResult, labels: dict[str, str], tol: Tolerances
) -> FormatResult:
    """Compare the placement roots both exports hold; `labels` maps placement keys to labels."""
    result = FormatResult(CROSS)
    unloaded = [r.format for r in (mjcf, usd) if r.load_seconds is None]
    if unloaded:
        exports = "export" if len(unloaded) == 1 else "exports"
        result.skipped = f"not compared: the {' and '.join(unloaded)} {exports} did not load"
        return result
    common = [key for key in mjcf.root_poses if key in usd.root_poses]
    result.stats["compared"] = len(common)
    for key in common:
        finding = compare_pose(
            "cross.pose",
            "MJCF root body and USD root prim disagree",
            usd.root_poses[key],
            mjcf.root_poses[key],
            tol.position,
            tol.rotation,
            placement=labels.get(key, key),
            where=None,
        )
        if finding:
            result.findings.append(finding)
    if mjcf.file is not None and usd.file is not None:
        _check_physics(Path(mjcf.file), Path(usd.file), labels, result)
    return result


def _check_physics(
    mjcf_path: Path, usd_path: Path, labels: dict[str, str], result: FormatResult
) -> None:
    model = mujoco.MjModel.from_xml_path(str(mjcf_path))
    stage = Usd.Stage.Open(str(usd_path))
    result.findings += _time_step(stage, model)
    prefixes = _mjcf_prefixes(model)
    speed_limits = _mjcf_velocity_limits(model)
    friction: list[Finding] = []
    velocity: list[Finding] = []
    colliders = joints = 0
    for placement_id, root in _usd_placements(stage):
        prefix = prefixes.get(placement_id)
        if prefix is None:
            continue
        label = labels.get(placement_id, placement_id)
        for prim in Usd.PrimRange(root):
            if prim.HasAPI(UsdPhysics.CollisionAPI):
                geom = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, prefix + prim.GetName())
                if geom >= 0:
                    colliders += 1
                    friction += _friction(prim, float(model.geom_friction[geom][0]), label)
            elif prim.IsA(UsdPhysics.Joint) and not prim.IsA(UsdPhysics.FixedJoint):
                joint = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, prefix + prim.GetName())
                limit = speed_limits.get(joint)
                if limit is not None:
                    joints += 1
                    velocity += _velocity(prim, limit, label)
    result.stats.update(colliders_compared=colliders, velocity_limits_compared=joints)
    result.findings += friction[:_MAX_FINDINGS] + velocity[:_MAX_FINDINGS]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_RELATIVE, abs_tol=1e-12)


def _time_step(stage: Usd.Stage, model: mujoco.MjModel) -> list[Finding]:
    mjcf_step = float(model.opt.timestep)
    scenes = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]
    if len(scenes) != 1:
        return []  # the USD check reports the count
    attr = scenes[0].GetAttribute("physxScene:timeStepsPerSecond")
    where = str(scenes[0].GetPath())
    if not attr or not attr.HasAuthoredValue():
        return [
            Finding(
                "cross.time_step",
                f"the USD PhysicsScene sets no physxScene:timeStepsPerSecond (PhysX then steps "
                f"at 60 Hz) but the MJCF steps every {mjcf_step:g} s ({1 / mjcf_step:g} Hz)",
                where=where,
            )
        ]
    steps = float(attr.Get())
    if steps > 0 and _close(1.0 / steps, mjcf_step):
        return []
    return [
        Finding(
            "cross.time_step",
            f"USD steps {steps:g} times a second, the MJCF every {mjcf_step:g} s "
            f"({1 / mjcf_step:g} Hz)",
            where=where,
        )
    ]


def _mjcf_prefixes(model: mujoco.MjModel) -> dict[str, str]:
    """Placement id -> the `<name>__` its MJCF names start with."""
    out = {}
    for i in range(model.ntext):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_TEXT, i) or ""
        if name.endswith(_ID_TEXT):
            start, size = model.text_adr[i], model.text_size[i]
            placement_id = bytes(model.text_data[start : start + size - 1]).decode()
            out[placement_id] = name.removesuffix("placement_id")
    return out


def _usd_placements(stage: Usd.Stage) -> Iterator[tuple[str, Usd.Prim]]:
    for prim in stage.Traverse():
        attr = prim.GetAttribute("gizmo:placementId")
        if attr and attr.HasAuthoredValue():
            yield str(attr.Get()), prim


def _friction(prim: Usd.Prim, mjcf: float, label: str) -> list[Finding]:
    bound, _rel = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
    where = str(prim.GetPath())
    if not bound or not bound.GetPrim().HasAPI(UsdPhysics.MaterialAPI):
        return [
            Finding(
                "cross.friction",
                f"no physics material bound (PhysX takes its default friction 0.5); the MJCF "
                f"geom's friction is {mjcf:g}",
                placement=label,
                where=where,
            )
        ]
    material = UsdPhysics.MaterialAPI(bound.GetPrim())
    found = []
    for kind, attr in (
        ("static", material.GetStaticFrictionAttr()),
        ("dynamic", material.GetDynamicFrictionAttr()),
    ):
        value = attr.Get()
        if value is None or not _close(float(value), mjcf):
            found.append(
                Finding(
                    "cross.friction",
                    f"{kind} friction {value} (material {bound.GetPath()}) but the MJCF geom's "
                    f"friction is {mjcf:g}",
                    placement=label,
                    where=where,
                )
            )
    return found


def _mjcf_velocity_limits(model: mujoco.MjModel) -> dict[int, float]:
    """Joint id -> its speed limit in the MJCF: its velocity actuator's control range."""
    limits = {}
    for act in range(model.nu):
        on_joint = model.actuator_trntype[act] == mujoco.mjtTrn.mjTRN_JOINT
        velocity_servo = model.actuator_biasprm[act, 1] == 0 and model.actuator_biasprm[act, 2] < 0
        if on_joint and velocity_servo and model.actuator_ctrllimited[act]:
            limits[int(model.actuator_trnid[act, 0])] = float(model.actuator_ctrlrange[act, 1])
    return limits


def _velocity(prim: Usd.Prim, mjcf: float, label: str) -> list[Finding]:
    attr = prim.GetAttribute("physxJoint:maxJointVelocity")
    revolute = prim.IsA(UsdPhysics.RevoluteJoint)
    unit = "deg/s" if revolute else "m/s"
    expected = math.degrees(mjcf) if revolute else mjcf
    if attr and attr.HasAuthoredValue():
        value = float(attr.Get())
        if _close(value, expected):
            return []
        what = f"physxJoint:maxJointVelocity is {value:g} {unit}"
    else:
        what = "no physxJoint:maxJointVelocity (PhysX: unlimited)"
    return [
        Finding(
            "cross.velocity_limit",
            f"{what} but the MJCF velocity actuator is limited to {mjcf:g} "
            f"{'rad/s' if revolute else 'm/s'} (= {expected:g} {unit})",
            placement=label,
            where=str(prim.GetPath()),
        )
    ]
