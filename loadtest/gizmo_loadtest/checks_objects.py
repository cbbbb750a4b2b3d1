"""Cross-format check of a scene without API placements: the USD and the MJCF hold the same
objects at the same poses.

Objects are the MJCF's top-level bodies and the USD default prim's child Xforms that hold
geometry. They are paired by name first (real USD exports call the object `<slug>_<n>` of the
MJCF `a_<slug>_<n>`), then what is left by pose (an object both files place at the same spot
under different names is the same object); an object left over is in one format only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mujoco
from pxr import Usd, UsdGeom

import gizmo_mujoco

from .findings import Finding, Pose
from .options import Tolerances
from .placements import compare_pose, distance, rotation_angle

__all__ = ["check_objects"]

_USD_OBJECT_PREFIX = "a_"


@dataclass(frozen=True)
class _Object:
    name: str
    where: str
    pose: Pose


def _mjcf_objects(path: Path) -> list[_Object]:
    model, data = gizmo_mujoco.load_file(path)
    mujoco.mj_resetData(model, data)
    mujoco.mj_kinematics(model, data)
    found = []
    for body in range(1, model.nbody):
        if model.body_parentid[body] != 0:
            continue
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body) or f"body #{body}"
        m = data.xmat[body]
        rotation = tuple(tuple(float(v) for v in m[row * 3 : row * 3 + 3]) for row in range(3))
        pose = Pose(tuple(float(v) for v in data.xpos[body]), rotation)  # type: ignore[arg-type]
        found.append(_Object(name, name, pose))
    return found


def _usd_objects(path: Path) -> list[_Object]:
    stage = Usd.Stage.Open(str(path))
    parent = stage.GetDefaultPrim() or stage.GetPseudoRoot()
    cache = UsdGeom.XformCache()
    found = []
    for child in parent.GetChildren():
        if not child.IsA(UsdGeom.Xformable):
            continue
        if not any(p.IsA(UsdGeom.Gprim) for p in Usd.PrimRange(child)):
            continue  # looks, physics scene, lights, world info
        m = cache.GetLocalToWorldTransform(child)
        t = m.ExtractTranslation()
        rotation = tuple(tuple(m[col][row] for col in range(3)) for row in range(3))
        pose = Pose((t[0], t[1], t[2]), rotation)  # type: ignore[arg-type]
        name = child.GetName().removeprefix(_USD_OBJECT_PREFIX)
        found.append(_Object(name, str(child.GetPath()), pose))
    return found


def check_objects(mjcf: Path, usd: Path, tol: Tolerances) -> tuple[list[Finding], int]:
    """Findings for objects in one format only or at different poses; and how many were paired.
    Poses are compared within the joint tolerances: USD stores many transforms as float32."""
    mj_objects, usd_objects = _mjcf_objects(mjcf), _usd_objects(usd)
    by_name = {o.name: o for o in usd_objects}
    pairs: list[tuple[_Object, _Object]] = []
    left_mj: list[_Object] = []
    for obj in mj_objects:
        twin = by_name.pop(obj.name, None)
        if twin is None:
            left_mj.append(obj)
        else:
            pairs.append((obj, twin))
    left_usd = list(by_name.values())
    findings: list[Finding] = []
    for mj, twin in pairs:
        finding = compare_pose(
            "cross.object_pose",
            f"object {mj.name!r} is not where the USD places it",
            twin.pose,
            mj.pose,
            tol.joint_position,
            tol.joint_rotation,
            placement=None,
            where=f"{twin.where} / {mj.where}",
        )
        if finding:
            findings.append(finding)
    for mj in list(left_mj):
        twin = next((u for u in left_usd if _same_spot(mj.pose, u.pose, tol)), None)
        if twin is not None:
            left_mj.remove(mj)
            left_usd.remove(twin)
            pairs.append((mj, twin))
    findings += [
        Finding("cross.missing_object", f"object {o.name!r} is in the MJCF only", where=o.where)
        for o in left_mj
    ]
    findings += [
        Finding("cross.missing_object", f"object {o.name!r} is in the USD only", where=o.where)
        for o in left_usd
    ]
    return findings, len(pairs)


def _same_spot(a: Pose, b: Pose, tol: Tolerances) -> bool:
    return (
        distance(a.position, b.position) <= tol.joint_position
        and rotation_angle(a.rotation, b.rotation) <= tol.joint_rotation
    )
