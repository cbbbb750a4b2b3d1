"""The demo workcell's healthy exports, and deliberately broken copies of them.

Each damaging function copies a healthy file and injects one bug of the kind exporters really
ship (see `../shared/notes/usd.md` §3): nothing here is written by hand from scratch. USD edits
go through pxr on the flattened stage; MJCF edits through the XML tree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

from gizmo_client.models import PlacedAsset, Scene


@dataclass(frozen=True)
class Workcell:
    """The demo workcell as the API describes it, and its two exports as the server renders them."""

    scene: Scene
    usd: Path
    mjcf: Path

    def placement(self, name: str, nth: int = 0) -> PlacedAsset:
        """The nth placement of the asset called `name` (the workcell holds two grippers)."""
        return [p for p in self.scene.assets if p.name == name][nth]


def _open(src: Path) -> Usd.Stage:
    return Usd.Stage.Open(str(src))


def _save_usd(stage: Usd.Stage, dst: Path) -> Path:
    stage.GetRootLayer().Export(str(dst))
    return dst


def _placement_prim(stage: Usd.Stage, placement: PlacedAsset) -> Usd.Prim:
    prims = [
        p
        for p in stage.GetPrimAtPath("/World").GetChildren()
        if p.GetAttribute("gizmo:placementId").Get() == placement.id
    ]
    assert len(prims) == 1, f"the healthy export has no one prim tagged {placement.id}"
    return prims[0]


def usd_wire_order_quaternion(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """The classic bug: the wire's {x, y, z, w} handed straight to Gf.Quatd(w, (x, y, z))."""
    stage = _open(src)
    xformable = UsdGeom.Xformable(_placement_prim(stage, placement))
    orient = next(
        op for op in xformable.GetOrderedXformOps() if op.GetOpType() == UsdGeom.XformOp.TypeOrient
    )
    x, y, z, w = placement.rotation.to_xyzw()
    orient.Set(Gf.Quatd(x, Gf.Vec3d(y, z, w)))  # the bug, on purpose
    return _save_usd(stage, dst)


def usd_anchor_not_moved(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """A fixed-base asset whose root joint is anchored to the world with the asset-local anchor.

    The healthy export anchors the root joint to the placement prim (body0). An exporter that
    leaves body0 empty makes localPos0/localRot0 world coordinates, so the asset-local anchor
    pins the asset at the origin.
    """
    stage = _open(src)
    root = _placement_prim(stage, placement)
    joint = next(
        UsdPhysics.Joint(p)
        for p in Usd.PrimRange(root)
        if p.IsA(UsdPhysics.Joint)
        and UsdPhysics.Joint(p).GetBody0Rel().GetTargets() == [root.GetPath()]
    )
    joint.GetBody0Rel().ClearTargets(True)
    return _save_usd(stage, dst)


def usd_without_physics_scene(src: Path, dst: Path) -> Path:
    stage = _open(src)
    for prim in [p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]:
        stage.RemovePrim(prim.GetPath())
    return _save_usd(stage, dst)


def usd_y_up(src: Path, dst: Path) -> Path:
    stage = _open(src)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    return _save_usd(stage, dst)


def usd_without_placement(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    stage = _open(src)
    stage.RemovePrim(_placement_prim(stage, placement).GetPath())
    return _save_usd(stage, dst)


def usd_moved(
    src: Path, dst: Path, placement: PlacedAsset, offset: tuple[float, float, float]
) -> Path:
    """The placement's translate op shifted by `offset` metres."""
    stage = _open(src)
    xformable = UsdGeom.Xformable(_placement_prim(stage, placement))
    translate = next(
        op
        for op in xformable.GetOrderedXformOps()
        if op.GetOpType() == UsdGeom.XformOp.TypeTranslate
    )
    translate.Set(translate.Get() + Gf.Vec3d(*offset))
    return _save_usd(stage, dst)


def usd_without_articulation_root(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    stage = _open(src)
    for prim in Usd.PrimRange(_placement_prim(stage, placement)):
        if prim.HasAPI(UsdPhysics.ArticulationRootAPI):
            prim.RemoveAPI(UsdPhysics.ArticulationRootAPI)
    return _save_usd(stage, dst)


def usd_half_mass_properties(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """diagonalInertia without principalAxes: invalid for OpenUSD's RigidBodyChecker."""
    stage = _open(src)
    for prim in Usd.PrimRange(_placement_prim(stage, placement)):
        if prim.HasAPI(UsdPhysics.MassAPI):
            prim.RemoveProperty("physics:principalAxes")
            break
    return _save_usd(stage, dst)


def usd_reference_to_missing_file(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    stage = _open(src)
    _placement_prim(stage, placement).GetReferences().AddReference("./assets/gone.usd")
    return _save_usd(stage, dst)


def strip_usd_placement_ids(src: Path, dst: Path) -> Path:
    """An export from a service that names prims freely and tags nothing: order is all left."""
    stage = _open(src)
    for prim in list(stage.Traverse()):
        if prim.HasAttribute("gizmo:placementId"):
            prim.RemoveProperty("gizmo:placementId")
    return _save_usd(stage, dst)


def usd_placement_twice(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """The placement's prim copied to a second path, ids and all (an exporter looping twice)."""
    stage = _open(src)
    layer = stage.GetRootLayer()
    source = _placement_prim(stage, placement).GetPath()
    assert Sdf.CopySpec(layer, source, layer, source.ReplaceName(f"{placement.id}_again"))
    return _save_usd(stage, dst)


def truncate(src: Path, dst: Path, keep: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


# ------------------------------------------------------------------ MJCF


def _parse(src: Path) -> ET.ElementTree[ET.Element]:
    return ET.parse(src)


def _id_text(tree: ET.ElementTree[ET.Element], placement: PlacedAsset) -> ET.Element:
    """The `<custom><text name="<name>__placement_id" data="<id>"/>` of the placement."""
    return next(t for t in tree.iter("text") if t.get("data") == placement.id)


def _prefix(tree: ET.ElementTree[ET.Element], placement: PlacedAsset) -> str:
    """What the placement's names start with: `<readable name>__`."""
    return _id_text(tree, placement).get("name", "").removesuffix("placement_id")


def _root_body(tree: ET.ElementTree[ET.Element], placement: PlacedAsset) -> ET.Element:
    worldbody = tree.getroot().find("worldbody")
    assert worldbody is not None
    prefix = _prefix(tree, placement)
    return next(b for b in worldbody.findall("body") if b.get("name", "").startswith(prefix))


def mjcf_moved(
    src: Path, dst: Path, placement: PlacedAsset, offset: tuple[float, float, float]
) -> Path:
    tree = _parse(src)
    body = _root_body(tree, placement)
    pos = [float(v) for v in body.get("pos", "0 0 0").split()]
    body.set("pos", " ".join(repr(p + d) for p, d in zip(pos, offset, strict=True)))
    tree.write(dst)
    return dst


def mjcf_wire_order_quaternion(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """MJCF wants quat="w x y z"; the bug writes the wire's x y z w."""
    tree = _parse(src)
    x, y, z, w = placement.rotation.to_xyzw()
    _root_body(tree, placement).set("quat", f"{x!r} {y!r} {z!r} {w!r}")  # the bug, on purpose
    tree.write(dst)
    return dst


def mjcf_without_placement(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """Drop the placement's bodies and everything that refers to them, so it still compiles."""
    tree = _parse(src)
    prefix = _prefix(tree, placement)
    parents = {child: parent for parent in tree.iter() for child in parent}
    doomed = {e for e in tree.iter() if any(v.startswith(prefix) for v in e.attrib.values())}
    for element in doomed:
        if parents[element] not in doomed:
            parents[element].remove(element)
    for keyframe in tree.getroot().findall("keyframe"):
        tree.getroot().remove(keyframe)  # its qpos holds the dropped bodies' coordinates too
    tree.write(dst)
    return dst


def mjcf_unstable(src: Path, dst: Path, placement: PlacedAsset) -> Path:
    """One hinge of the placement given an absurd spring, unlimited: explicit integration of a
    1e12 N*m/rad spring at 2 ms diverges within a few steps."""
    tree = _parse(src)
    hinge = next(
        j for j in _root_body(tree, placement).iter("joint") if j.get("type", "hinge") == "hinge"
    )
    hinge.attrib.pop("range", None)
    hinge.set("limited", "false")
    hinge.set("stiffness", "1e12")
    hinge.set("springref", "1")
    tree.write(dst)
    return dst


def mjcf_renamed_placement(src: Path, dst: Path, placement: PlacedAsset, new_id: str) -> Path:
    """The placement filed under another id: the API's id is missing, a stranger appears."""
    tree = _parse(src)
    _id_text(tree, placement).set("data", new_id)
    tree.write(dst)
    return dst


def strip_mjcf_placement_ids(src: Path, dst: Path) -> Path:
    """The `<custom>` placement ids removed: names alone do not say which placement is which."""
    tree = _parse(src)
    custom = tree.getroot().find("custom")
    assert custom is not None
    tree.getroot().remove(custom)
    tree.write(dst)
    return dst
