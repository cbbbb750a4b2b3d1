"""The checks catch real defects: each broken export (a healthy server export, damaged) fails
with a finding that names the problem and, where there is one, the placement; healthy ones pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import loadtest_exports as damage
import numpy as np
import pytest
from loadtest_exports import Workcell
from PIL import Image
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade

import gizmo_mujoco
from gizmo_loadtest.findings import CROSS, MJCF, USD, Finding, FormatResult
from gizmo_loadtest.options import CheckOptions, Tolerances
from gizmo_loadtest.placements import ORDER_NOTE, expected_placements
from gizmo_loadtest.runner import check_export, check_files
from gizmo_mujoco.render import render_rgb

FAST = CheckOptions(thumbnails=False, steps=200)


@dataclass(frozen=True)
class Broken:
    """One damaged export and the finding it must produce."""

    fmt: str
    make: Callable[[Workcell, Path], Path]
    check: str
    words: tuple[str, ...]
    placement: tuple[str, int] | None = None
    """(asset name, nth placement of it) the finding must name; None for stage-wide defects."""


BROKEN: dict[str, Broken] = {
    "usd-wire-order-quaternion": Broken(
        USD,
        lambda w, tmp: damage.usd_wire_order_quaternion(
            w.usd, tmp / "q.usd", w.placement("Shipping Crate")
        ),
        "usd.pose",
        ("world transform differs", "rotation off by"),
        ("Shipping Crate", 0),
    ),
    "mjcf-wire-order-quaternion": Broken(
        MJCF,
        lambda w, tmp: damage.mjcf_wire_order_quaternion(
            w.mjcf, tmp / "q.xml", w.placement("Shipping Crate")
        ),
        "mjcf.pose",
        ("root body pose", "rotation off by"),
        ("Shipping Crate", 0),
    ),
    "usd-fixed-base-anchor-not-moved": Broken(
        USD,
        lambda w, tmp: damage.usd_anchor_not_moved(
            w.usd, tmp / "a.usd", w.placement("Steel Work Table")
        ),
        "usd.joint_frames",
        ("joint frames disagree", "world anchor"),
        ("Steel Work Table", 0),
    ),
    "usd-no-physics-scene": Broken(
        USD,
        lambda w, tmp: damage.usd_without_physics_scene(w.usd, tmp / "s.usd"),
        "usd.physics_scene",
        ("0 PhysicsScene prims",),
    ),
    "usd-y-up": Broken(
        USD,
        lambda w, tmp: damage.usd_y_up(w.usd, tmp / "y.usd"),
        "usd.up_axis",
        ("upAxis is 'Y'", "Z-up"),
    ),
    "usd-missing-placement": Broken(
        USD,
        lambda w, tmp: damage.usd_without_placement(
            w.usd, tmp / "m.usd", w.placement("Parallel Gripper", 1)
        ),
        "usd.missing_placement",
        ("missing from the export",),
        ("Parallel Gripper", 1),
    ),
    "mjcf-missing-placement": Broken(
        MJCF,
        lambda w, tmp: damage.mjcf_without_placement(
            w.mjcf, tmp / "m.xml", w.placement("Parallel Gripper", 1)
        ),
        "mjcf.missing_placement",
        ("missing from the export",),
        ("Parallel Gripper", 1),
    ),
    "usd-truncated": Broken(
        USD,
        lambda w, tmp: damage.truncate(w.usd, tmp / "t.usd"),
        "usd.open",
        ("cannot be opened", "truncated"),
    ),
    "mjcf-truncated": Broken(
        MJCF,
        lambda w, tmp: damage.truncate(w.mjcf, tmp / "t.xml"),
        "mjcf.load",
        ("cannot load", "malformed XML"),
    ),
    "mjcf-body-off-by-1mm": Broken(
        MJCF,
        lambda w, tmp: damage.mjcf_moved(
            w.mjcf, tmp / "o.xml", w.placement("Belt Conveyor"), (0.001, 0.0, 0.0)
        ),
        "mjcf.pose",
        ("position off by 0.001 m", "(0.001, 0.0, 0.0)"),
        ("Belt Conveyor", 0),
    ),
    "usd-prim-off-by-1mm": Broken(
        USD,
        lambda w, tmp: damage.usd_moved(
            w.usd, tmp / "o.usd", w.placement("Parts Bin", 1), (0.0, 0.0, -0.001)
        ),
        "usd.pose",
        ("position off by 0.001 m",),
        ("Parts Bin", 1),
    ),
    "usd-articulation-root-missing": Broken(
        USD,
        lambda w, tmp: damage.usd_without_articulation_root(
            w.usd, tmp / "r.usd", w.placement("Industrial Arm v1")
        ),
        "usd.articulation",
        ("movable joint", "0 articulation root"),
        ("Industrial Arm v1", 0),
    ),
    "usd-validator-mass-properties": Broken(
        USD,
        lambda w, tmp: damage.usd_half_mass_properties(
            w.usd, tmp / "i.usd", w.placement("Steel Work Table")
        ),
        "usd.validation",
        ("RigidBodyChecker",),
        ("Steel Work Table", 0),
    ),
    "usd-unresolved-reference": Broken(
        USD,
        lambda w, tmp: damage.usd_reference_to_missing_file(
            w.usd, tmp / "d.usda", w.placement("Parts Bin")
        ),
        "usd.composition",
        ("gone.usd",),
        ("Parts Bin", 0),
    ),
    "mjcf-unstable": Broken(
        MJCF,
        lambda w, tmp: damage.mjcf_unstable(
            w.mjcf, tmp / "u.xml", w.placement("Industrial Arm v1")
        ),
        "mjcf.unstable",
        ("NaN, Inf or huge", "reset the simulation", "at step 1 of 200"),
        ("Industrial Arm v1", 0),
    ),
    "usd-placement-exported-twice": Broken(
        USD,
        lambda w, tmp: damage.usd_placement_twice(w.usd, tmp / "2.usd", w.placement("Parts Bin")),
        "usd.duplicate_placement",
        ("appears more than once", "_again"),
        ("Parts Bin", 0),
    ),
    "mjcf-placement-under-a-foreign-id": Broken(
        MJCF,
        lambda w, tmp: damage.mjcf_renamed_placement(
            w.mjcf, tmp / "f.xml", w.placement("Belt Conveyor"), "pla_stranger"
        ),
        "mjcf.unexpected_placement",
        ("'pla_stranger'", "does not list"),
    ),
}


def _label(workcell: Workcell, asset_name: str, nth: int) -> str:
    placement = workcell.placement(asset_name, nth)
    return next(e.label for e in expected_placements(workcell.scene) if e.key == placement.id)


def _findings(result: FormatResult, check: str) -> list[Finding]:
    return [f for f in result.findings if f.check == check]


def test_healthy_demo_workcell_passes_in_both_formats_and_renders_a_thumbnail(
    workcell: Workcell, tmp_path: Path
) -> None:
    outcome = check_files(
        [workcell.usd, workcell.mjcf], workcell.scene, CheckOptions(), tmp_path, tmp_path
    )
    assert set(outcome.results) == {MJCF, USD, CROSS}
    for result in outcome.results.values():
        assert result.findings == [], [str(f) for f in result.findings]
    assert outcome.results[CROSS].stats["compared"] == len(workcell.scene.assets) == 8
    assert outcome.results[USD].stats["articulations"] >= 3  # arm, two grippers, conveyor
    assert outcome.results[MJCF].stats["steps"] == CheckOptions().steps
    assert MJCF in outcome.thumbnails
    assert Path(outcome.thumbnails[MJCF]).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # The scene as the viewer shows it at t=0 (lights placed too, not collapsed to the origin).
    model, data = gizmo_mujoco.load_file(workcell.mjcf)
    expected = render_rgb(model, data)
    drawn = Image.open(outcome.thumbnails[MJCF]).convert("RGB")
    assert np.array_equal(np.asarray(drawn), expected)


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_export_fails_naming_problem_and_placement(
    case: str, workcell: Workcell, tmp_path: Path
) -> None:
    broken = BROKEN[case]
    path = broken.make(workcell, tmp_path)
    result = check_export(broken.fmt, path, workcell.scene, FAST)
    matching = _findings(result, broken.check)
    assert matching, f"no {broken.check} finding; got {[str(f) for f in result.findings]}"
    finding = matching[0]
    for word in broken.words:
        assert word in str(finding), str(finding)
    if broken.placement is not None:
        assert finding.placement == _label(workcell, *broken.placement)
    assert not result.passed


def test_truncated_mjcf_names_the_placement_where_the_file_breaks_off(
    workcell: Workcell, tmp_path: Path
) -> None:
    # inside <worldbody>: since issue 10.1 the inline meshes fill the first ~93 % of the file
    path = damage.truncate(workcell.mjcf, tmp_path / "t.xml", keep=0.96)
    cut_text = path.read_text(errors="replace")
    last_id = max(
        (p.id for p in workcell.scene.assets if p.id),
        key=lambda pid: cut_text.rfind(pid),
    )
    finding = check_export(MJCF, path, workcell.scene, FAST).findings[0]
    assert finding.placement is not None and finding.placement.startswith(last_id)


def test_wrong_order_fixture_uses_a_skew_rotation(
    workcell: Workcell,
) -> None:
    """The wrong-order fixture is a real bug only because the crate's rotation is skew."""
    crate = workcell.placement("Shipping Crate").rotation
    roll, pitch, yaw = crate.to_euler_degrees()
    assert min(abs(roll), abs(pitch), abs(yaw)) > 5 and abs(yaw) != 90


def test_tolerances_are_configurable(workcell: Workcell, tmp_path: Path) -> None:
    path = damage.mjcf_moved(
        workcell.mjcf, tmp_path / "o.xml", workcell.placement("Belt Conveyor"), (0.001, 0, 0)
    )
    loose = CheckOptions(thumbnails=False, steps=10, tolerances=Tolerances(position=2e-3))
    assert check_export(MJCF, path, workcell.scene, loose).passed
    tight = CheckOptions(thumbnails=False, steps=10, tolerances=Tolerances(position=5e-4))
    assert not check_export(MJCF, path, workcell.scene, tight).passed


def test_cross_format_check_catches_exports_that_drift_apart(
    workcell: Workcell, tmp_path: Path
) -> None:
    """Each export 0.6 mm from the API (inside 1 mm) but 1.2 mm from the other.

    The crate floats freely: moving a fixed-base asset would also break its world anchor.
    """
    crate = workcell.placement("Shipping Crate")
    usd = damage.usd_moved(workcell.usd, tmp_path / "c.usd", crate, (0.0006, 0.0, 0.0))
    mjcf = damage.mjcf_moved(workcell.mjcf, tmp_path / "c.xml", crate, (-0.0006, 0.0, 0.0))
    options = CheckOptions(thumbnails=False, steps=10, tolerances=Tolerances(position=1e-3))
    outcome = check_files([usd, mjcf], workcell.scene, options, None, tmp_path)
    assert outcome.results[USD].passed and outcome.results[MJCF].passed
    (finding,) = outcome.results[CROSS].findings
    assert finding.check == "cross.pose"
    assert finding.placement == _label(workcell, "Shipping Crate", 0)
    assert "position off by 0.0012 m" in finding.message


def test_cross_format_is_skipped_when_an_export_does_not_load(
    workcell: Workcell, tmp_path: Path
) -> None:
    broken = damage.truncate(workcell.usd, tmp_path / "t.usd")
    outcome = check_files([broken, workcell.mjcf], workcell.scene, FAST, None, tmp_path)
    assert outcome.results[CROSS].skipped == "not compared: the isaac_sim_usd export did not load"
    assert not outcome.passed


def test_mjcf_without_placement_ids_is_matched_by_order(workcell: Workcell, tmp_path: Path) -> None:
    plain = damage.strip_mjcf_placement_ids(workcell.mjcf, tmp_path / "plain.xml")
    healthy = check_export(MJCF, plain, workcell.scene, FAST)
    assert healthy.passed, [str(f) for f in healthy.findings]
    assert ORDER_NOTE in healthy.notes
    crate = workcell.placement("Shipping Crate")
    # the wrong-order bug on an id-less export is still caught, and still named
    damage.mjcf_wire_order_quaternion(workcell.mjcf, tmp_path / "q.xml", crate)
    broken = damage.strip_mjcf_placement_ids(tmp_path / "q.xml", tmp_path / "q-plain.xml")
    (finding,) = check_export(MJCF, broken, workcell.scene, FAST).findings
    assert finding.check == "mjcf.pose"
    assert finding.placement == _label(workcell, "Shipping Crate", 0)


def test_usd_without_placement_id_attributes_is_matched_by_order(
    workcell: Workcell, tmp_path: Path
) -> None:
    """Prims are named for people (``Parallel_Gripper_2``), not by id: untagged, order is left."""
    plain = damage.strip_usd_placement_ids(workcell.usd, tmp_path / "plain.usd")
    result = check_export(USD, plain, workcell.scene, FAST)
    assert result.passed, [str(f) for f in result.findings]
    assert ORDER_NOTE in result.notes
    assert len(result.root_poses) == len(workcell.scene.assets)


# Defects of a file used the way Isaac Sim users use it (referenced and moved), and physics that
# drifts between the formats. The damage is done here, through pxr, on the healthy export.


def _edited_usd(src: Path, dst: Path, edit: Callable[[Usd.Stage], None]) -> Path:
    stage = Usd.Stage.Open(str(src))
    edit(stage)
    stage.GetRootLayer().Export(str(dst))
    return dst


def _placement_prim(stage: Usd.Stage, placement_id: str | None) -> Usd.Prim:
    return next(
        p for p in stage.Traverse() if p.GetAttribute("gizmo:placementId").Get() == placement_id
    )


def _world_anchor(placement_id: str | None) -> Callable[[Usd.Stage], None]:
    """The old layout: the root joint anchored to the world, at the pose the file was written."""

    def edit(stage: Usd.Stage) -> None:
        root = _placement_prim(stage, placement_id)
        joint = UsdPhysics.FixedJoint(root.GetPrimAtPath("joints/root_joint"))
        to_world = UsdGeom.XformCache().GetLocalToWorldTransform(root)
        joint.GetBody0Rel().ClearTargets(True)
        anchor = to_world.Transform(Gf.Vec3d(joint.GetLocalPos0Attr().Get()))
        joint.GetLocalPos0Attr().Set(Gf.Vec3f(anchor))
        joint.GetLocalRot0Attr().Set(Gf.Quatf(to_world.ExtractRotationQuat()))

    return edit


def _outside_default_prim(placement_id: str | None) -> Callable[[Usd.Stage], None]:
    def edit(stage: Usd.Stage) -> None:
        layer = stage.GetRootLayer()
        path = _placement_prim(stage, placement_id).GetPath()
        assert Sdf.CopySpec(layer, path, layer, Sdf.Path("/Stray"))
        stage.RemovePrim(path)

    return edit


def test_a_world_anchor_in_file_coordinates_fails_only_once_referenced_and_moved(
    workcell: Workcell, tmp_path: Path
) -> None:
    table = workcell.placement("Steel Work Table")
    path = _edited_usd(workcell.usd, tmp_path / "anchor.usd", _world_anchor(table.id))
    result = check_export(USD, path, workcell.scene, FAST)
    assert _findings(result, "usd.joint_frames") == [], "where it was written, it holds"
    welds = _findings(result, "usd.referenced_weld")
    assert [f.placement for f in welds] == [_label(workcell, "Steel Work Table", 0)]
    assert "root_joint" in str(welds[0].where) and "in file coordinates" in welds[0].message
    assert "rotation 1.57 rad" in welds[0].message, welds[0].message


def test_a_body_outside_the_default_prim_is_named(workcell: Workcell, tmp_path: Path) -> None:
    crate = workcell.placement("Shipping Crate")
    path = _edited_usd(workcell.usd, tmp_path / "stray.usd", _outside_default_prim(crate.id))
    found = _findings(check_export(USD, path, workcell.scene, FAST), "usd.outside_default_prim")
    assert found and all(f.placement == _label(workcell, "Shipping Crate", 0) for f in found)
    assert "rigid body outside the default prim /World" in found[0].message
    assert str(found[0].where).startswith("/Stray/")


def _cross(workcell: Workcell, usd: Path, tmp_path: Path, check: str) -> list[Finding]:
    outcome = check_files([usd, workcell.mjcf], workcell.scene, FAST, None, tmp_path)
    assert outcome.results[CROSS].stats["colliders_compared"] > 0
    return _findings(outcome.results[CROSS], check)


def test_cross_check_names_a_collider_whose_friction_differs_from_the_mjcf(
    workcell: Workcell, tmp_path: Path
) -> None:
    crate = workcell.placement("Shipping Crate")

    def slippery(stage: Usd.Stage) -> None:
        collider = next(
            p
            for p in Usd.PrimRange(_placement_prim(stage, crate.id))
            if p.HasAPI(UsdPhysics.CollisionAPI)
        )
        binding = UsdShade.MaterialBindingAPI(collider)
        material = UsdShade.Material.Define(stage, "/World/PhysicsMaterials/ice")
        UsdPhysics.MaterialAPI.Apply(material.GetPrim()).CreateStaticFrictionAttr(0.05)
        UsdPhysics.MaterialAPI(material.GetPrim()).CreateDynamicFrictionAttr(0.05)
        binding.Bind(material, UsdShade.Tokens.weakerThanDescendants, "physics")

    usd = _edited_usd(workcell.usd, tmp_path / "ice.usd", slippery)
    found = _findings_by_placement(_cross(workcell, usd, tmp_path, "cross.friction"))
    assert set(found) == {_label(workcell, "Shipping Crate", 0)}
    message = found[_label(workcell, "Shipping Crate", 0)][0].message
    assert "static friction 0.05" in message and "/World/PhysicsMaterials/ice" in message


def test_cross_check_notices_a_different_time_step(workcell: Workcell, tmp_path: Path) -> None:
    def sixty_hertz(stage: Usd.Stage) -> None:
        scene = next(p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene))
        scene.GetAttribute("physxScene:timeStepsPerSecond").Set(60)

    usd = _edited_usd(workcell.usd, tmp_path / "60hz.usd", sixty_hertz)
    (finding,) = _cross(workcell, usd, tmp_path, "cross.time_step")
    assert "60 times a second" in finding.message and "0.002 s" in finding.message


def test_cross_check_names_a_joint_whose_velocity_limit_differs(
    workcell: Workcell, tmp_path: Path
) -> None:
    conveyor = workcell.placement("Belt Conveyor")

    def faster(stage: Usd.Stage) -> None:
        joint = next(
            p
            for p in Usd.PrimRange(_placement_prim(stage, conveyor.id))
            if p.IsA(UsdPhysics.RevoluteJoint)
        )
        attr = joint.GetAttribute("physxJoint:maxJointVelocity")
        attr.Set(attr.Get() * 2)

    usd = _edited_usd(workcell.usd, tmp_path / "fast.usd", faster)
    (finding,) = _cross(workcell, usd, tmp_path, "cross.velocity_limit")
    assert finding.placement == _label(workcell, "Belt Conveyor", 0)
    assert "maxJointVelocity is" in finding.message and "deg/s" in finding.message


def _findings_by_placement(findings: list[Finding]) -> dict[str | None, list[Finding]]:
    out: dict[str | None, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.placement, []).append(finding)
    return out
