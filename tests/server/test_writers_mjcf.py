"""The mujoco_mjcf scene export, compiled and stepped in real MuJoCo."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from gizmo_server.generator import generate

from .test_export_cases import mjcf_prefix, rendered_scene, scene_placements

NAMED_TYPES = [
    mujoco.mjtObj.mjOBJ_BODY,
    mujoco.mjtObj.mjOBJ_JOINT,
    mujoco.mjtObj.mjOBJ_GEOM,
    mujoco.mjtObj.mjOBJ_ACTUATOR,
]
SCENE_NAMES = {"world", "floor", "sun"}


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(rendered_scene("mujoco_mjcf").data.decode())


def same_rotation(quat_a: np.ndarray, quat_b: tuple[float, ...]) -> float:
    """Largest component difference between two wxyz quaternions, q and -q being the same."""
    b = np.asarray(quat_b)
    return float(min(np.abs(quat_a - b).max(), np.abs(quat_a + b).max()))


def test_every_name_is_prefixed_by_its_placement(model: mujoco.MjModel) -> None:
    prefixes = {mjcf_prefix(p.placement_id) for p in scene_placements()}
    for obj in NAMED_TYPES:
        count = {
            mujoco.mjtObj.mjOBJ_BODY: model.nbody,
            mujoco.mjtObj.mjOBJ_JOINT: model.njnt,
            mujoco.mjtObj.mjOBJ_GEOM: model.ngeom,
            mujoco.mjtObj.mjOBJ_ACTUATOR: model.nu,
        }[obj]
        for i in range(count):
            name = mujoco.mj_id2name(model, obj, i)
            assert "/" not in name, f"dm_control's PyMJCF refuses {name!r}"
            assert name in SCENE_NAMES or name[: name.index("__") + 2] in prefixes, (obj, name)


def test_one_top_level_body_per_placement_at_its_api_pose(model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    top = {model.body(i).name for i in range(1, model.nbody) if model.body_parentid[i] == 0}
    placements = scene_placements()
    assert top == {mjcf_prefix(p.placement_id) + generate(p.prompt).root.name for p in placements}
    for placement in placements:
        body = data.body(mjcf_prefix(placement.placement_id) + generate(placement.prompt).root.name)
        np.testing.assert_allclose(body.xpos, placement.position, atol=1e-6)
        assert same_rotation(body.xquat, placement.rotation.to_wxyz()) < 1e-6


def test_free_assets_float_and_fixed_ones_are_welded(model: mujoco.MjModel) -> None:
    for placement in scene_placements():
        asset = generate(placement.prompt)
        root = model.body(mjcf_prefix(placement.placement_id) + asset.root.name)
        joints = [model.jnt_type[root.jntadr[0] + k] for k in range(root.jntnum[0])]
        if asset.fixed_base:
            assert joints == [] and model.body_weldid[root.id] == 0
        else:
            assert joints == [mujoco.mjtJoint.mjJNT_FREE]
            assert model.joint(mjcf_prefix(placement.placement_id) + "root").id >= 0


def test_no_self_contact_at_rest(model: mujoco.MjModel) -> None:
    """Welded bases are excluded from contact with their jointed children, and links clear."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    for contact in data.contact[: data.ncon]:
        b1, b2 = (model.body(model.geom_bodyid[g]).name for g in (contact.geom1, contact.geom2))
        assert b1.split("/")[0] != b2.split("/")[0] or "/" not in b1, (b1, b2)
    excluded = set(model.exclude_signature.tolist())
    welded_pairs = 0
    for placement in scene_placements():
        asset = generate(placement.prompt)
        if not asset.fixed_base:
            continue
        base = model.body(mjcf_prefix(placement.placement_id) + asset.root.name).id
        for child in asset.children(asset.root.name):
            link = model.body(mjcf_prefix(placement.placement_id) + child.name).id
            assert (base << 16) + link in excluded, (placement.placement_id, child.name)
            welded_pairs += 1
    assert welded_pairs > 0 and len(excluded) == welded_pairs


def test_actuators_are_named_and_drive_the_right_joints(model: mujoco.MjModel) -> None:
    placement = next(p for p in scene_placements() if p.prompt.startswith("parallel-jaw"))
    for actuator in generate(placement.prompt).actuators:
        act = model.actuator(mjcf_prefix(placement.placement_id) + actuator.name)
        joint = model.joint(mjcf_prefix(placement.placement_id) + actuator.joint)
        assert act.trnid[0] == joint.id
        assert act.gainprm[0] == pytest.approx(actuator.kp)
        assert act.biasprm[2] == pytest.approx(-actuator.kv)
        assert act.forcerange.tolist() == pytest.approx([-actuator.max_effort, actuator.max_effort])


def test_thousand_steps_stay_finite_and_drives_hold(model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    welded = {i: data.xpos[i].copy() for i in range(1, model.nbody) if model.body_weldid[i] == 0}
    for _ in range(1000):
        mujoco.mj_step(model, data)
    assert np.isfinite(data.qpos).all() and np.isfinite(data.qvel).all()
    for body, position in welded.items():
        np.testing.assert_allclose(data.xpos[body], position, atol=1e-9)
    for placement in scene_placements():
        if "arm" in placement.prompt:
            for joint in generate(placement.prompt).joints:
                angle = data.joint(mjcf_prefix(placement.placement_id) + joint.name).qpos[0]
                assert abs(angle) < 0.1, (placement.placement_id, joint.name, angle)
    crates = [p for p in scene_placements() if not generate(p.prompt).fixed_base]
    for placement in crates:  # everything free has fallen onto the floor, not through it
        root = data.body(mjcf_prefix(placement.placement_id) + generate(placement.prompt).root.name)
        assert -0.05 < root.xipos[2] < placement.position[2]
