"""The stand-in generator: kinds recognised, deterministic, physically sensible mass properties."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys

import mujoco
import numpy as np
import pytest

from gizmo_server.description import (
    AssetDescription,
    Body,
    Box,
    Capsule,
    Cylinder,
    Geom,
    JointType,
    Kind,
    Material,
    Sphere,
    mass_properties,
)
from gizmo_server.exports import render_asset
from gizmo_server.generator import generate, recognise, requested_dof

KIND_PROMPTS = [
    ("a 6-DOF industrial arm", Kind.ARM),
    ("SCARA robot", Kind.ARM),
    ("a six-axis welder", Kind.ARM),
    ("industrial robot", Kind.ARM),
    ("robotic gripper", Kind.GRIPPER),
    ("two-joint gripper", Kind.GRIPPER),
    ("z axis rotary table", Kind.TABLE),  # a bare "robot" yields to any specific kind
    ("collaborative manipulator", Kind.ARM),
    ("parallel-jaw gripper", Kind.GRIPPER),
    ("two-finger end effector", Kind.GRIPPER),
    ("belt conveyor", Kind.CONVEYOR),
    ("a sturdy workbench", Kind.TABLE),
    ("dining table", Kind.TABLE),
    ("pallet rack", Kind.SHELF),
    ("metal shelves", Kind.SHELF),
    ("stackable tote", Kind.BIN),
    ("parts bin", Kind.BIN),
    ("wooden crate", Kind.CRATE),
    ("cardboard box", Kind.CRATE),
    ("wheeled mobile base", Kind.MOBILE_BASE),
    ("warehouse AMR", Kind.MOBILE_BASE),
    ("mobile manipulator arm", Kind.MOBILE_BASE),  # the first listed kind wins
    ("a quantum flux capacitor", Kind.CRATE),  # unrecognised -> crate
    ("", Kind.CRATE),
    ("armchair", Kind.CRATE),  # whole words only
]


@pytest.mark.parametrize(("prompt", "kind"), KIND_PROMPTS)
def test_every_kind_is_recognised(prompt: str, kind: Kind) -> None:
    assert recognise(prompt) is kind
    assert generate(prompt).kind is kind


@pytest.mark.parametrize(
    ("prompt", "dof"),
    [
        ("a 6-DOF industrial arm", 6),
        ("7 DOF arm", 7),
        ("4-axis SCARA arm", 4),
        ("a seven-axis robot arm", 7),
        ("three joint arm", 3),
        ("an arm", 6),
        ("a 40-DOF arm", 12),
        ("a 0-DOF arm", 1),
    ],
)
def test_arm_honours_the_requested_dof(prompt: str, dof: int) -> None:
    assert requested_dof(prompt) == dof
    arm = generate(prompt)
    assert len(arm.joints) == dof == len(arm.actuators)
    assert all(j.type is JointType.REVOLUTE and j.limits is not None for j in arm.joints)
    assert [j.name for j in arm.joints] == [f"joint{i + 1}" for i in range(dof)]


def _extent(asset: AssetDescription, axis: int) -> float:
    """Extent of the root body's boxes along ``axis``."""
    spans = [
        (g.pos[axis], g.shape.size[axis] / 2) for g in asset.root.geoms if isinstance(g.shape, Box)
    ]
    return float(max(c + h for c, h in spans) - min(c - h for c, h in spans))


def test_stated_sizes_are_honoured_and_clamped() -> None:
    arm = generate("6-DOF industrial robot arm with a 0.9 m reach")
    links = arm.bodies[1:]
    reach = links[-1].origin[2] + 2 * links[-1].geoms[0].pos[2] - links[0].origin[2]
    assert reach == pytest.approx(0.9, abs=0.05)  # short wrist links are padded to stay solid
    assert _extent(generate("2 m belt conveyor with powered rollers"), 0) == pytest.approx(2.0)
    table = generate("steel work table, 1.2 m by 0.8 m")
    assert (_extent(table, 0), _extent(table, 1)) == pytest.approx((1.2, 0.8))
    crate = generate("wooden shipping crate, 0.6 m cube")
    assert crate.root.geoms[0].shape == Box((0.6, 0.6, 0.6))
    assert generate("huge crate, 50 m cube").root.geoms[0].shape == Box((3.0, 3.0, 3.0))
    boards = [g for g in generate("four-level steel storage shelf").root.geoms if "board" in g.name]
    assert len(boards) == 4


def test_fixed_and_floating_bases() -> None:
    floating = {k for p, k in KIND_PROMPTS if not generate(p).fixed_base}
    assert floating == {Kind.CRATE, Kind.MOBILE_BASE}


def test_joints_have_limits_or_are_continuous_and_are_driven() -> None:
    for prompt, _ in KIND_PROMPTS:
        asset = generate(prompt)
        assert {a.joint for a in asset.actuators} == {j.name for j in asset.joints}
        for joint in asset.joints:
            if joint.limits is not None:
                low, high = joint.limits
                assert low < high and (
                    joint.type is JointType.PRISMATIC or (-math.pi <= low and high <= math.pi)
                )
        assert all(a.max_effort > 0 and a.kv > 0 and a.kp >= 0 for a in asset.actuators)


def test_same_prompt_same_asset_even_in_another_process() -> None:
    prompt = "a 6-DOF industrial arm for welding"
    assert generate(prompt) == generate(prompt)
    digest = hashlib.sha256(render_asset("ast_d", "D", prompt, "mujoco_mjcf").data).hexdigest()
    script = (
        "import hashlib, sys; from gizmo_server.exports import render_asset; "
        "print(hashlib.sha256(render_asset('ast_d', 'D', sys.argv[1], 'mujoco_mjcf')"
        ".data).hexdigest())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, prompt],
        check=True,
        text=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert other.stdout.strip() == digest


def test_prompts_of_one_kind_vary_in_size() -> None:
    masses = {round(generate(f"wooden crate number {i}").root.inertial.mass, 6) for i in range(8)}
    assert len(masses) == 8


def test_masses_positive_and_inertias_physical() -> None:
    for prompt, _ in KIND_PROMPTS:
        for body in generate(prompt).bodies:
            a, b, c = body.inertial.diagonal_inertia
            assert body.inertial.mass > 0 and min(a, b, c) > 0
            assert a + b >= c and b + c >= a and a + c >= b  # triangle inequality


def _mujoco_mass_properties(body: Body) -> tuple[float, np.ndarray, np.ndarray]:
    """MuJoCo's own mass, COM and inertia tensor for the body's geoms at their densities."""
    types = {Box: "box", Sphere: "sphere", Cylinder: "cylinder", Capsule: "capsule"}
    geoms = []
    for g in body.geoms:
        shape = g.shape
        if isinstance(shape, Box):
            size = [s / 2 for s in shape.size]
            axis = [0.0, 0.0, 1.0]
        elif isinstance(shape, Sphere):
            size, axis = [shape.radius], [0.0, 0.0, 1.0]
        else:
            size = [shape.radius, shape.length / 2]
            axis = [float(shape.axis == a) for a in "XYZ"]
        geoms.append(
            f'<geom type="{types[type(shape)]}" size="{" ".join(map(str, size))}" '
            f'pos="{" ".join(map(str, g.pos))}" zaxis="{" ".join(map(str, axis))}" '
            f'density="{g.material.density}"/>'
        )
    xml = (
        f'<mujoco><compiler inertiafromgeom="true"/><worldbody><body name="b">'
        f"<freejoint/>{''.join(geoms)}</body></worldbody></mujoco>"
    )
    model = mujoco.MjModel.from_xml_string(xml)
    rotation = np.zeros(9)
    mujoco.mju_quat2Mat(rotation, model.body_iquat[1])
    r = rotation.reshape(3, 3)
    return float(model.body_mass[1]), model.body_ipos[1], r @ np.diag(model.body_inertia[1]) @ r.T


def test_mass_properties_match_mujocos_own_computation() -> None:
    for prompt, _ in KIND_PROMPTS:
        for body in generate(prompt).bodies:
            mass, com, tensor = _mujoco_mass_properties(body)
            assert body.inertial.mass == pytest.approx(mass, rel=1e-9)
            np.testing.assert_allclose(body.inertial.com, com, atol=1e-9)
            np.testing.assert_allclose(
                np.diag(body.inertial.diagonal_inertia), tensor, atol=1e-9 * np.trace(tensor)
            )


def test_asymmetric_geoms_are_refused() -> None:
    lopsided = (
        Geom("a", Box((0.1, 0.1, 0.1)), (0.0, 0.0, 0.0), Material("m", 1000.0, 0.5), (1, 1, 1, 1)),
        Geom("b", Sphere(0.05), (0.3, 0.0, 0.2), Material("m", 1000.0, 0.5), (1, 1, 1, 1)),
    )
    with pytest.raises(ValueError, match="non-diagonal inertia tensor"):
        mass_properties(lopsided)
    with pytest.raises(ValueError, match="at least one geom"):
        mass_properties(())


def test_description_refuses_a_body_without_a_joint() -> None:
    arm = generate("a 6-DOF industrial arm")
    with pytest.raises(ValueError, match="needs one joint from an earlier body"):
        AssetDescription(Kind.ARM, True, arm.bodies, arm.joints[:-1], arm.actuators[:-1])
