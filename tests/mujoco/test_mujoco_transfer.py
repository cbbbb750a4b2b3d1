"""State transfer between two *different* real models, matched by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mujoco
import numpy as np
from mujoco_scenes import ARM, CRATE, NEW_ARM, TARGET, YAWED, Placement, scene_xml
from real_scenes import write_real_scene

from gizmo_client.models import Quaternion
from gizmo_mujoco.transfer import Change, transfer_state


def _model(placements: list[Placement], **kwargs: bool) -> tuple[mujoco.MjModel, mujoco.MjData]:
    model = mujoco.MjModel.from_xml_string(scene_xml(placements, **kwargs))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def _run(model: mujoco.MjModel, data: mujoco.MjData, seconds: float = 0.4) -> None:
    """Drive every actuator and push the floating crate, so no state is at its default."""
    data.ctrl[:] = 0.7
    data.qvel[:] += 0.3
    data.mocap_pos[:] += (0.05, -0.02, 0.01)
    data.eq_active[:] = 1
    while data.time < seconds:
        mujoco.mj_step(model, data)


def _joint(
    model: mujoco.MjModel, data: mujoco.MjData, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A joint's qpos, qvel and default qpos."""
    joint = model.joint(name)
    return data.joint(name).qpos.copy(), data.joint(name).qvel.copy(), joint.qpos0.copy()


def test_kept_joints_carry_exactly_and_a_new_placement_starts_at_defaults() -> None:
    old_m, old_d = _model([ARM, CRATE, TARGET])
    _run(old_m, old_d)
    new_m, new_d = _model([ARM, CRATE, TARGET, NEW_ARM])

    report = transfer_state(old_m, old_d, new_m, new_d)

    for name in ("pla_arm/shoulder", "pla_arm/wrist", "pla_arm/slider", "pla_crate/float"):
        old_qpos, old_qvel, _ = _joint(old_m, old_d, name)
        new_qpos, new_qvel, _ = _joint(new_m, new_d, name)
        assert np.array_equal(new_qpos, old_qpos), name
        assert np.array_equal(new_qvel, old_qvel), name
        assert np.any(old_qvel != 0.0), f"{name} should have moved during the run"
    for name in ("pla_new/shoulder", "pla_new/wrist", "pla_new/slider"):
        qpos, qvel, qpos0 = _joint(new_m, new_d, name)
        assert np.array_equal(qpos, qpos0) and not np.any(qvel), name
    assert new_d.time == old_d.time > 0.0
    assert new_d.actuator("pla_arm/shoulder_drive").ctrl[0] == 0.7
    old_act = old_d.act[old_m.actuator("pla_arm/slider_drive").actadr[0]]
    assert new_d.act[new_m.actuator("pla_arm/slider_drive").actadr[0]] == old_act != 0.0
    assert new_d.actuator("pla_new/shoulder_drive").ctrl[0] == 0.0
    assert np.array_equal(new_d.mocap_pos, old_d.mocap_pos)
    assert np.array_equal(new_d.mocap_quat, old_d.mocap_quat)
    assert new_d.eq_active[new_m.equality("pla_arm/tether").id] == 1
    assert new_d.eq_active[new_m.equality("pla_new/tether").id] == 0
    assert Change("joint", "pla_new/wrist") in report.new
    assert Change("actuator", "pla_new/slider_drive") in report.new
    assert Change("joint", "pla_crate/float") in report.kept
    assert Change("mocap", "pla_target/target") in report.kept
    assert Change("equality", "pla_arm/tether") in report.kept
    assert Change("placement", "pla_new/base") in report.new
    assert Change("placement", "pla_crate/crate") in report.kept
    assert not report.dropped and not report.reset
    summary = report.summary()
    assert "kept 3 placements, 4 joints, 2 actuators, 1 mocap body, 1 equality" in summary
    assert "new 1 placement, 3 joints, 2 actuators, 1 equality (pla_new)" in summary


def test_positions_follow_the_transferred_state() -> None:
    """mj_forward ran: the crate body is where its carried free joint puts it."""
    old_m, old_d = _model([CRATE, ARM])
    _run(old_m, old_d)
    new_m, new_d = _model([ARM, NEW_ARM, CRATE])  # different order: indices differ
    transfer_state(old_m, old_d, new_m, new_d)
    mujoco.mj_forward(old_m, old_d)  # mj_step leaves xpos one integration behind qpos
    assert np.allclose(new_d.body("pla_crate/crate").xpos, old_d.body("pla_crate/crate").xpos)
    assert np.allclose(new_d.body("pla_arm/finger").xpos, old_d.body("pla_arm/finger").xpos)


def test_an_object_the_server_moved_takes_its_new_pose() -> None:
    old_m, old_d = _model([ARM, CRATE, TARGET])
    _run(old_m, old_d)
    moved_crate = dataclasses.replace(
        CRATE, position=(1.1, -0.7, 0.9), rotation=Quaternion.from_euler_degrees(20, -35, 140)
    )
    moved_arm = dataclasses.replace(ARM, position=(0.9, 0.8, 0.05), rotation=YAWED)
    moved_target = dataclasses.replace(TARGET, position=(-0.2, -0.4, 0.7))
    new_m, new_d = _model([moved_arm, moved_crate, moved_target])

    report = transfer_state(old_m, old_d, new_m, new_d)

    crate_qpos, crate_qvel, crate_qpos0 = _joint(new_m, new_d, "pla_crate/float")
    assert np.array_equal(crate_qpos, crate_qpos0) and not np.any(crate_qvel)
    assert np.allclose(crate_qpos[:3], moved_crate.position)
    assert np.allclose(crate_qpos[3:], moved_crate.rotation.to_wxyz())
    assert np.allclose(new_d.body("pla_crate/crate").xpos, moved_crate.position)
    # The fixed-base arm stands at its new base pose and keeps its joint angles.
    assert np.allclose(new_d.body("pla_arm/base").xpos, moved_arm.position)
    assert np.allclose(new_d.body("pla_arm/base").xquat, moved_arm.rotation.to_wxyz())
    assert np.array_equal(
        new_d.joint("pla_arm/shoulder").qpos, old_d.joint("pla_arm/shoulder").qpos
    )
    assert np.allclose(new_d.mocap_pos[0], moved_target.position)
    assert Change("joint", "pla_crate/float", "moved by the server") in report.reset
    assert Change("mocap", "pla_target/target", "moved by the server") in report.reset
    moved = {c.name for c in report.reset if c.kind == "placement"}
    assert moved == {"pla_arm/base", "pla_crate/crate", "pla_target/target"}
    assert Change("joint", "pla_arm/shoulder") in report.kept


def test_a_quaternion_written_with_the_other_sign_moves_nothing() -> None:
    def flipped(p: Placement) -> Placement:
        q = p.rotation
        return dataclasses.replace(p, rotation=Quaternion(x=-q.x, y=-q.y, z=-q.z, w=-q.w))

    old_m, old_d = _model([ARM, CRATE, TARGET])
    _run(old_m, old_d)
    new_m, new_d = _model([flipped(ARM), flipped(CRATE), flipped(TARGET)])
    assert not np.allclose(old_m.body("pla_arm/base").quat, new_m.body("pla_arm/base").quat)

    report = transfer_state(old_m, old_d, new_m, new_d)

    assert [c for c in report.reset if c.reason == "moved by the server"] == []
    assert np.array_equal(new_d.joint("pla_crate/float").qpos, old_d.joint("pla_crate/float").qpos)
    assert np.array_equal(new_d.joint("pla_arm/wrist").qpos, old_d.joint("pla_arm/wrist").qpos)


def test_removed_renamed_retyped_and_unnamed_elements_are_reported() -> None:
    old_m, old_d = _model([ARM, CRATE])
    _run(old_m, old_d)
    retyped = (
        scene_xml([ARM])
        .replace('name="pla_arm/slider" type="slide"', 'name="pla_arm/slider" type="hinge"')
        .replace("<freejoint/>", "")
    )
    unnamed = retyped.replace('<joint name="pla_arm/wrist" type="ball"', '<joint type="ball"')
    new_m = mujoco.MjModel.from_xml_string(unnamed)
    new_d = mujoco.MjData(new_m)

    report = transfer_state(old_m, old_d, new_m, new_d)

    assert Change("joint", "pla_crate/float") in report.dropped
    assert Change("joint", "pla_arm/slider", "joint type changed") in report.reset
    assert Change("joint", "1 unnamed", "no name to match by") in report.reset
    assert Change("joint", "pla_arm/wrist") in report.dropped
    assert Change("joint", "pla_arm/shoulder") in report.kept
    assert new_d.joint("pla_arm/slider").qpos[0] == 0.0
    summary = report.summary()
    assert "dropped 1 placement, 2 joints (pla_arm, pla_crate)" in summary
    assert "joint type changed" in summary


def test_an_equality_the_server_switched_takes_its_new_default() -> None:
    """The user left the tether off; the new export turns it on by default: it must be on."""
    old_m, old_d = _model([ARM, NEW_ARM])
    enabled = scene_xml([ARM, NEW_ARM]).replace(
        '"pla_arm/tether" body1="pla_arm/finger" body2="world" anchor="0 0 0" active="false"',
        '"pla_arm/tether" body1="pla_arm/finger" body2="world" anchor="0 0 0" active="true"',
    )
    new_m = mujoco.MjModel.from_xml_string(enabled)
    new_d = mujoco.MjData(new_m)
    old_d.eq_active[old_m.equality("pla_new/tether").id] = 1  # switched on by the user

    report = transfer_state(old_m, old_d, new_m, new_d)

    assert new_d.eq_active[new_m.equality("pla_arm/tether").id] == 1
    assert Change("equality", "pla_arm/tether", "switched by the server") in report.reset
    assert new_d.eq_active[new_m.equality("pla_new/tether").id] == 1
    assert Change("equality", "pla_new/tether") in report.kept


def _free_state(model: mujoco.MjModel, data: mujoco.MjData, body: str) -> np.ndarray:
    """qpos and qvel of a body's (unnamed) free joint, found through the body."""
    joint = int(model.body(body).jntadr[0])
    qpos, dof = model.jnt_qposadr[joint], model.jnt_dofadr[joint]
    return np.concatenate([data.qpos[qpos : qpos + 7], data.qvel[dof : dof + 6]])


def test_unnamed_free_joints_of_a_real_export_carry_over_by_body_name(tmp_path: Path) -> None:
    scene = write_real_scene(tmp_path)
    old_m = mujoco.MjModel.from_xml_path(str(scene.path))
    old_d = mujoco.MjData(old_m)
    old_d.qvel[:] = 0.4  # thrown: every free body moves and spins
    while old_d.time < 0.3:
        mujoco.mj_step(old_m, old_d)
    # The next revision adds a free body first, so every index after it shifts.
    text = scene.path.read_text()
    added = text.replace(
        "<worldbody>",
        '<worldbody>\n    <body name="new_box_4" pos="1 1 0.2"><freejoint/>'
        '<geom type="box" size="0.1 0.1 0.1"/></body>',
    )
    added = added.replace('qpos="', 'qpos="1 1 0.2 1 0 0 0 ')  # its keyframe entries
    new_m = mujoco.MjModel.from_xml_string(added, {scene.texture.name: scene.texture.read_bytes()})
    new_d = mujoco.MjData(new_m)
    assert new_m.body("tin_can_1").jntadr[0] != old_m.body("tin_can_1").jntadr[0]

    report = transfer_state(old_m, old_d, new_m, new_d)

    for body in scene.free_bodies:
        old_state = _free_state(old_m, old_d, body)
        assert np.any(old_state[7:] != 0.0), body
        assert np.array_equal(_free_state(new_m, new_d, body), old_state), body
        assert Change("joint", body) in report.kept
    assert Change("joint", "new_box_4") in report.new
    assert not any(c.reason == "no name to match by" for c in report.reset)
    assert np.array_equal(_free_state(new_m, new_d, "new_box_4")[:7], [1, 1, 0.2, 1, 0, 0, 0])
    again = mujoco.MjData(new_m)  # the same pair again: the remembered pairing gives the same
    assert transfer_state(old_m, old_d, new_m, again) == report
    assert np.array_equal(again.qpos, new_d.qpos) and np.array_equal(again.qvel, new_d.qvel)
