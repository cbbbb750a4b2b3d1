"""USD checks: what Isaac Sim needs from a stage, and every placement where the API puts it.

Generic validators (`UsdValidation`, run here too) catch broken files but not the bugs that hurt
most: a quaternion in the wrong order, a world-anchored joint left at the asset origin, a missing
PhysicsScene. Those are found by comparing the stage with the API's own poses.

The file is also used the way Isaac Sim users use it: referenced under a moved, turned parent.
Every weld must hold there too (a joint anchored to the world in file coordinates stays behind),
and everything that moves must live under the default prim, the part a reference brings along.
"""

from __future__ import annotations

import functools
import math
import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path

from pxr import Gf, Sdf, Tf, Usd, UsdGeom, UsdPhysics, UsdUtils, UsdValidation

from gizmo_client.models import Quaternion, Scene

from .checks_assets import KIT_CORE_MDLS, names_core_mdl, usd_asset_findings
from .findings import USD, Finding, FormatResult, Matrix3, Pose
from .options import CheckOptions, Tolerances
from .placements import (
    ORDER_NOTE,
    api_pose,
    compare_pose,
    distance,
    expected_placements,
    match,
    matching_findings,
    placement_mentioned,
    rotation_angle,
)

__all__ = ["check_usd"]

PLACEMENT_ID_ATTR = "gizmo:placementId"
VALIDATION_KEYWORDS = (
    "UsdCoreValidators",
    "UsdGeomValidators",
    "UsdPhysicsValidators",
    "UsdUtilsValidators",
)
_CRATE_MAGIC = b"PXR-USDC"
_HOST_PARENT = Sdf.Path("/Moved")
_MOVED = "translated by (5, 0, 0) m and turned 90 degrees about Z"
_REFERENCED_WORLD_HINT = (
    "body0 is the world, so the anchor is in file coordinates and stays where the file put it: "
    "anchor the joint to a prim inside the file (e.g. the placement prim), in that prim's frame"
)
_MAX_FINDINGS = 20  # per check: a systematic defect is clear long before the 1000th copy
_TF_MESSAGE = re.compile(r"Error in '[^']*' at line \d+ in file [^:]* : '(.*)'")


class _Placements:
    """Prim path of each matched placement root -> placement label, for naming any prim's owner."""

    def __init__(self) -> None:
        self._labels: dict[Sdf.Path, str] = {}

    def add(self, path: Sdf.Path, label: str) -> None:
        self._labels[path] = label

    def owner(self, path: Sdf.Path | None) -> str | None:
        while path is not None and not path.isEmpty and path != Sdf.Path.absoluteRootPath:
            if path in self._labels:
                return self._labels[path]
            path = path.GetParentPath()
        return None

    def roots(self) -> Iterator[tuple[Sdf.Path, str]]:
        yield from self._labels.items()


def check_usd(path: Path, scene: Scene, options: CheckOptions) -> FormatResult:
    """Run every USD check on the stage at `path`."""
    result = FormatResult(USD, file=str(path))
    diagnostics = UsdUtils.CoalescingDiagnosticDelegate()  # keeps USD's warnings off stderr
    started = time.perf_counter()
    try:
        stage = Usd.Stage.Open(str(path))
    except Tf.ErrorException as exc:
        reason = _open_failure(path, exc)
        result.findings.append(
            Finding(
                "usd.open",
                f"the stage cannot be opened, so none of the {len(scene.assets)} placements could "
                f"be checked: {reason}",
                placement=placement_mentioned(reason, scene),
            )
        )
        return result
    result.load_seconds = time.perf_counter() - started
    result.stats["prims"] = sum(1 for _ in stage.Traverse())

    _check_metadata(stage, result)
    placements = _check_placements(stage, scene, options.tolerances, result)
    _check_composition(stage, path, placements, result)
    result.findings += usd_asset_findings(stage)
    _check_physics(stage, placements, options.tolerances, result)
    _check_outside_default_prim(stage, placements, result)
    _check_referenced(path, stage, placements, options.tolerances, result)
    _check_validators(stage, placements, result)
    result.notes += sorted({d.commentary for d in diagnostics.TakeUncoalescedDiagnostics()})[:20]
    return result


def _open_failure(path: Path, exc: Tf.ErrorException) -> str:
    """USD's own reasons, plus what a truncated crate file looks like (USD says only 'failed')."""
    reasons = _TF_MESSAGE.findall(str(exc)) or [str(exc).strip()]
    specific = [r for r in reasons if not r.startswith("Failed to open layer")]
    truncation = _crate_truncation(path)
    return "; ".join(([truncation] if truncation else []) + (specific or reasons))


def _crate_truncation(path: Path) -> str | None:
    """A crate file's header names the offset of its table of contents: past the end = cut."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(24)
    except OSError as exc:
        return f"cannot read the file: {exc}"
    if size == 0:
        return "the file is empty"
    if not header.startswith(_CRATE_MAGIC):
        return None
    if len(header) < 24:
        return f"the crate file is truncated: {size} bytes, shorter than its header"
    (toc_offset,) = struct.unpack_from("<Q", header, 16)
    if toc_offset >= size:
        return (
            f"the crate file is truncated: its table of contents starts at byte {toc_offset} "
            f"but the file has only {size} bytes"
        )
    return None


def _check_metadata(stage: Usd.Stage, result: FormatResult) -> None:
    up_axis = UsdGeom.GetStageUpAxis(stage)
    if up_axis != UsdGeom.Tokens.z:
        authored = stage.HasAuthoredMetadata("upAxis")
        result.findings.append(
            Finding(
                "usd.up_axis",
                f"upAxis is {up_axis!r}"
                + ("" if authored else " (not authored: USD's fallback)")
                + "; Isaac Sim and the API are Z-up",
            )
        )
    for check, name, value in (
        ("usd.meters_per_unit", "metersPerUnit", UsdGeom.GetStageMetersPerUnit(stage)),
        ("usd.kilograms_per_unit", "kilogramsPerUnit", UsdPhysics.GetStageKilogramsPerUnit(stage)),
    ):
        if abs(value - 1.0) > 1e-9:
            authored = stage.HasAuthoredMetadata(name)
            result.findings.append(
                Finding(
                    check,
                    f"{name} is {value:g}"
                    + ("" if authored else " (not authored: USD's fallback)")
                    + "; the API's units are metres and kilograms (1)",
                )
            )
    if not stage.GetDefaultPrim():
        result.findings.append(Finding("usd.default_prim", "the stage has no valid defaultPrim"))


def _world_pose(cache: UsdGeom.XformCache, prim: Usd.Prim) -> Pose:
    return _pose_of(cache.GetLocalToWorldTransform(prim))


def _pose_of(m: Gf.Matrix4d) -> Pose:
    """USD matrices act on row vectors (translation in row 3): transpose the rotation block."""
    t = m.ExtractTranslation()
    rotation: Matrix3 = (
        (m[0][0], m[1][0], m[2][0]),
        (m[0][1], m[1][1], m[2][1]),
        (m[0][2], m[1][2], m[2][2]),
    )
    return Pose((t[0], t[1], t[2]), rotation)


def _candidates(stage: Usd.Stage, scene: Scene) -> list[tuple[str | None, Usd.Prim]]:
    """Placement root prims in stage order, each with the placement id it carries if any."""
    tagged: list[tuple[str | None, Usd.Prim]] = []
    for prim in stage.Traverse():
        attr = prim.GetAttribute(PLACEMENT_ID_ATTR)
        if attr and attr.HasAuthoredValue():
            tagged.append((str(attr.Get()), prim))
    if tagged:
        return tagged
    parent = stage.GetDefaultPrim() or stage.GetPseudoRoot()
    known = [p.id for p in scene.assets if p.id]
    children = [c for c in parent.GetChildren() if c.IsA(UsdGeom.Xform)]
    return [(_id_from_name(c.GetName(), known), c) for c in children]


def _id_from_name(name: str, known: list[str]) -> str | None:
    """The placement id a prim name starts with (`<id>` or `<id>_...`), if any."""
    for pid in known:
        if name == pid or name.startswith(pid + "_"):
            return pid
    return None


def _check_placements(
    stage: Usd.Stage, scene: Scene, tol: Tolerances, result: FormatResult
) -> _Placements:
    matching = match(expected_placements(scene), _candidates(stage, scene))
    if matching.by_order and scene.assets:
        result.notes.append(ORDER_NOTE)
    result.findings += matching_findings("usd", matching, lambda prim: str(prim.GetPath()))
    cache = UsdGeom.XformCache()
    placements = _Placements()
    for expected, prim in matching.pairs:
        placements.add(prim.GetPath(), expected.label)
        actual = _world_pose(cache, prim)
        result.root_poses[expected.key] = actual
        finding = compare_pose(
            "usd.pose",
            "world transform differs from the API pose",
            api_pose(expected.placement),
            actual,
            tol.position,
            tol.rotation,
            placement=expected.label,
            where=str(prim.GetPath()),
        )
        if finding:
            result.findings.append(finding)
    return placements


def _check_composition(
    stage: Usd.Stage, path: Path, placements: _Placements, result: FormatResult
) -> None:
    for error in stage.GetCompositionErrors():
        site = error.rootSite.path
        result.findings.append(
            Finding(
                "usd.composition", str(error), placement=placements.owner(site), where=str(site)
            )
        )
    _layers, _assets, unresolved = UsdUtils.ComputeAllDependencies(str(path))
    for dependency in (d for d in unresolved if d not in KIT_CORE_MDLS):
        result.findings.append(
            Finding("usd.dependencies", f"unresolved dependency @{dependency}@ (file missing)")
        )


def _check_physics(
    stage: Usd.Stage, placements: _Placements, tol: Tolerances, result: FormatResult
) -> None:
    scenes = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]
    if len(scenes) != 1:
        result.findings.append(
            Finding(
                "usd.physics_scene",
                f"{len(scenes)} PhysicsScene prims (want exactly 1)",
                where=", ".join(str(p.GetPath()) for p in scenes) or None,
            )
        )
    parsed = UsdPhysics.UsdPhysicsLoadStageFromPrimRange(stage, [Sdf.Path.absoluteRootPath])
    articulations = list(parsed.get(UsdPhysics.ObjectType.Articulation, ([], []))[0])
    joints = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)]
    result.stats.update(articulations=len(articulations), joints=len(joints))
    for root, label in placements.roots():
        owned = [a for a in articulations if a.HasPrefix(root)]
        movable = [j for j in joints if j.GetPath().HasPrefix(root) and _movable(j)]
        if movable and len(owned) != 1:
            result.findings.append(
                Finding(
                    "usd.articulation",
                    f"has {len(movable)} movable joint(s) but {len(owned)} articulation root(s) "
                    "(want exactly 1)",
                    placement=label,
                    where=", ".join(str(a) for a in owned) or str(root),
                )
            )
        elif not movable and len(owned) > 1:
            result.findings.append(
                Finding(
                    "usd.articulation",
                    f"{len(owned)} articulation roots in one asset (want at most 1)",
                    placement=label,
                    where=", ".join(str(a) for a in owned),
                )
            )
    cache = UsdGeom.XformCache()
    for joint in joints:
        finding = _joint_frames(stage, cache, joint, tol)
        if finding is not None:
            placement = placements.owner(joint.GetPath())
            result.findings.append(
                Finding(
                    "usd.joint_frames", finding, placement=placement, where=str(joint.GetPath())
                )
            )


def _physical(prim: Usd.Prim) -> str | None:
    """What makes ``prim`` part of a simulated asset, if anything (static colliders are not:
    a ground plane beside the default prim is the stage's, not the scene's)."""
    if prim.HasAPI(UsdPhysics.RigidBodyAPI):
        return "rigid body"
    if prim.HasAPI(UsdPhysics.ArticulationRootAPI):
        return "articulation root"
    if prim.IsA(UsdPhysics.Joint):
        return "joint"
    return None


def _check_outside_default_prim(
    stage: Usd.Stage, placements: _Placements, result: FormatResult
) -> None:
    """Referencing a file brings its default prim only: anything that moves, and any joint
    target, outside it is left behind."""
    default = stage.GetDefaultPrim()
    if not default:
        return  # reported by the metadata check
    root = default.GetPath()
    found: list[Finding] = []
    for prim in stage.Traverse():
        path = prim.GetPath()
        kind = _physical(prim)
        if kind is not None and not path.HasPrefix(root):
            found.append(
                Finding(
                    "usd.outside_default_prim",
                    f"{kind} outside the default prim {root}: a reference to the file leaves it "
                    "behind; author it under the default prim",
                    placement=placements.owner(path),
                    where=str(path),
                )
            )
        elif kind == "joint":
            joint = UsdPhysics.Joint(prim)
            for side, rel in ((0, joint.GetBody0Rel()), (1, joint.GetBody1Rel())):
                outside = [t for t in rel.GetTargets() if not t.HasPrefix(root)]
                if outside:
                    found.append(
                        Finding(
                            "usd.outside_default_prim",
                            f"body{side} targets {outside[0]}, outside the default prim {root}: "
                            "a reference does not remap it",
                            placement=placements.owner(path),
                            where=str(path),
                        )
                    )
    result.findings += found[:_MAX_FINDINGS]


def _check_referenced(
    path: Path, stage: Usd.Stage, placements: _Placements, tol: Tolerances, result: FormatResult
) -> None:
    """The file referenced under a moved, turned parent: every joint's two frames still agree."""
    default = stage.GetDefaultPrim()
    if not default:
        return
    host = Usd.Stage.CreateInMemory()
    parent = UsdGeom.Xform.Define(host, _HOST_PARENT)
    parent.AddTranslateOp().Set(Gf.Vec3d(5.0, 0.0, 0.0))
    parent.AddRotateZOp().Set(90.0)
    scene = _HOST_PARENT.AppendChild("Scene")
    host.DefinePrim(scene).GetReferences().AddReference(str(path.resolve()))
    cache = UsdGeom.XformCache()
    found: list[Finding] = []
    for prim in host.Traverse():
        if not prim.IsA(UsdPhysics.Joint):
            continue
        why = _joint_frames(host, cache, prim, tol, _REFERENCED_WORLD_HINT)
        if why is None:
            continue
        in_file = prim.GetPath().ReplacePrefix(scene, default.GetPath())
        found.append(
            Finding(
                "usd.referenced_weld",
                f"referenced under a parent {_MOVED}, {why}",
                placement=placements.owner(in_file),
                where=str(in_file),
            )
        )
    result.findings += found[:_MAX_FINDINGS]


def _movable(prim: Usd.Prim) -> bool:
    return not prim.IsA(UsdPhysics.FixedJoint)


_AXES = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}


_WORLD_ANCHOR_HINT = "body0 is the world, so localPos0/localRot0 must be the placed world anchor"


def _joint_frames(
    stage: Usd.Stage,
    cache: UsdGeom.XformCache,
    prim: Usd.Prim,
    tol: Tolerances,
    world_hint: str = _WORLD_ANCHOR_HINT,
) -> str | None:
    """Why the joint's frame seen from body0 differs from the frame seen from body1, or None.

    A body left empty is the world, so its local frame is in world coordinates: an exporter that
    places a fixed-base asset but forgets to move that anchor is caught here. What must agree
    depends on the joint: revolute joints may turn about their axis, prismatic ones slide along it.
    """
    joint = UsdPhysics.Joint(prim)
    frames = []
    for side, rel, pos_attr, rot_attr in (
        (0, joint.GetBody0Rel(), joint.GetLocalPos0Attr(), joint.GetLocalRot0Attr()),
        (1, joint.GetBody1Rel(), joint.GetLocalPos1Attr(), joint.GetLocalRot1Attr()),
    ):
        targets = rel.GetTargets()
        body = Gf.Matrix4d(1.0)
        if targets:
            target = stage.GetPrimAtPath(targets[0])
            if not target:
                return f"body{side} targets {targets[0]}, which does not exist"
            body = cache.GetLocalToWorldTransform(target)
        frames.append(_frame(body, pos_attr.Get(), rot_attr.Get()))
    (p0, r0), (p1, r1) = frames
    offset = tuple(b - a for a, b in zip(p0, p1, strict=True))
    axis_name = None
    if prim.IsA(UsdPhysics.RevoluteJoint):
        axis_name = UsdPhysics.RevoluteJoint(prim).GetAxisAttr().Get()
    elif prim.IsA(UsdPhysics.PrismaticJoint):
        axis_name = UsdPhysics.PrismaticJoint(prim).GetAxisAttr().Get()
    axis0 = _apply(r0, _AXES.get(str(axis_name), _AXES["X"]))
    if prim.IsA(UsdPhysics.PrismaticJoint):
        along = sum(o * a for o, a in zip(offset, axis0, strict=True))
        offset = tuple(o - along * a for o, a in zip(offset, axis0, strict=True))
    dpos = math.hypot(*offset)
    if prim.IsA(UsdPhysics.RevoluteJoint):
        axis1 = _apply(r1, _AXES.get(str(axis_name), _AXES["X"]))
        dang = _angle_between(axis0, axis1)
    elif prim.IsA(UsdPhysics.FixedJoint) or prim.IsA(UsdPhysics.PrismaticJoint):
        dang = rotation_angle(r0, r1)
    else:
        dang = 0.0  # spherical and D6 joints may turn freely
    if dpos <= tol.joint_position and dang <= tol.joint_rotation:
        return None
    return (
        f"joint frames disagree between body0 and body1: position {dpos:.3g} m "
        f"(tolerance {tol.joint_position:g}), rotation {dang:.3g} rad "
        f"(tolerance {tol.joint_rotation:g})"
        + (f"; {world_hint}" if not joint.GetBody0Rel().GetTargets() else "")
    )


def _frame(
    body: Gf.Matrix4d, local_pos: Gf.Vec3f | None, local_rot: Gf.Quatf | None
) -> tuple[tuple[float, float, float], Matrix3]:
    """A joint frame in world coordinates: the body's world transform applied to the local one."""
    pos = Gf.Vec3d(local_pos) if local_pos is not None else Gf.Vec3d(0.0)
    world = body.Transform(pos)
    rot = Quaternion.identity()
    if local_rot is not None:
        imaginary = local_rot.GetImaginary()
        rot = Quaternion.from_wxyz(local_rot.GetReal(), imaginary[0], imaginary[1], imaginary[2])
    body_rot = _pose_of(body.RemoveScaleShear()).rotation
    local = rot.to_matrix()
    combined = tuple(
        tuple(sum(body_rot[i][k] * local[k][j] for k in range(3)) for j in range(3))
        for i in range(3)
    )
    return (world[0], world[1], world[2]), combined  # type: ignore[return-value]


def _apply(m: Matrix3, v: tuple[float, float, float]) -> tuple[float, float, float]:
    return (
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    )


def _angle_between(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Angle between two unit vectors, accurate for tiny angles (chord length, not acos)."""
    chord = distance(a, b)
    return 2.0 * math.asin(min(1.0, chord / 2.0))


@functools.cache
def _validation_context() -> UsdValidation.ValidationContext:
    registry = UsdValidation.ValidationRegistry()
    names = [m.name for m in registry.GetValidatorMetadataForKeywords(list(VALIDATION_KEYWORDS))]
    return UsdValidation.ValidationContext(registry.GetOrLoadValidatorsByName(names))


def _check_validators(stage: Usd.Stage, placements: _Placements, result: FormatResult) -> None:
    """OpenUSD's validators (what `usdchecker` runs) for the Core/Geom/Physics/Utils keywords."""
    for error in _validation_context().Validate(stage):
        if error.GetType() not in (
            UsdValidation.ValidationErrorType.Error,
            UsdValidation.ValidationErrorType.Warn,
        ) or names_core_mdl(error.GetMessage()):
            continue
        site = next((s.GetPrim().GetPath() for s in error.GetSites() if s.IsPrim()), None)
        result.findings.append(
            Finding(
                "usd.validation",
                f"{error.GetIdentifier()}: {error.GetMessage()}",
                placement=placements.owner(site),
                where=str(site) if site is not None else None,
            )
        )
