"""A parametric Franka Emika Panda (MJCF) for exports with `robot_profile="franka_panda"`.

The kinematic chain, joint ranges, masses and drive gains follow Franka's published parameters
(as MuJoCo Menagerie models them), with the same names tools look for: bodies `link0`..`link7`,
`hand`, `left_finger`, `right_finger`; joints `joint1`..`joint7`, `finger_joint1`/`2`;
actuators `actuator1`..`actuator7` (arm position drives) and `actuator8` (both fingers through a
tendon, control 0..255 as in Menagerie). Geometry is capsules, not Franka's meshes.
"""

from __future__ import annotations

__all__ = ["ARM_JOINTS", "write_mjcf"]

# name, parent frame offset, quat (w x y z, MJCF order), joint range (rad), mass (kg), capsule
# half-length along the link's z (m)
_LINKS: tuple[tuple[str, str, str, tuple[float, float] | None, float, float], ...] = (
    ("link1", "0 0 0.333", "1 0 0 0", (-2.8973, 2.8973), 4.970684, 0.08),
    ("link2", "0 0 0", "1 -1 0 0", (-1.7628, 1.7628), 0.646926, 0.06),
    ("link3", "0 -0.316 0", "1 1 0 0", (-2.8973, 2.8973), 3.228604, 0.07),
    ("link4", "0.0825 0 0", "1 1 0 0", (-3.0718, -0.0698), 3.587895, 0.06),
    ("link5", "-0.0825 0.384 0", "1 -1 0 0", (-2.8973, 2.8973), 1.225946, 0.09),
    ("link6", "0 0 0", "1 1 0 0", (-0.0175, 3.7525), 1.666555, 0.04),
    ("link7", "0.088 0 0", "1 1 0 0", (-2.8973, 2.8973), 0.735522, 0.03),
)
ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
_KP = (4500, 4500, 3500, 3500, 2000, 2000, 2000)
_KV = (450, 450, 350, 350, 200, 200, 200)
_EFFORT = (87, 87, 87, 87, 12, 12, 12)


def write_mjcf() -> bytes:
    """The Panda as a standalone MJCF model (fixed base at the origin)."""
    lines = [
        '<mujoco model="franka_panda">',
        '  <compiler angle="radian" autolimits="true"/>',
        '  <option integrator="implicitfast"/>',
        "  <default>",
        '    <joint armature="0.1" damping="1"/>',
        '    <geom type="capsule" rgba="0.95 0.95 0.95 1" contype="0" conaffinity="0"/>',
        "  </default>",
        "  <worldbody>",
        '    <body name="link0">',
        '      <geom name="link0_geom" size="0.06 0.05" pos="0 0 0.05" mass="0.629769"/>',
    ]
    indent = "      "
    for (name, pos, quat, limits, mass, half), joint in zip(_LINKS, ARM_JOINTS, strict=True):
        assert limits is not None
        lines += [
            f'{indent}<body name="{name}" pos="{pos}" quat="{quat}">',
            f'{indent}  <joint name="{joint}" axis="0 0 1" range="{limits[0]} {limits[1]}"/>',
            f'{indent}  <geom name="{name}_geom" size="0.055 {half}" mass="{mass}"/>',
        ]
        indent += "  "
    lines += [
        f'{indent}<body name="hand" pos="0 0 0.107" quat="0.9238795 0 0 -0.3826834">',
        f'{indent}  <geom name="hand_geom" type="box" size="0.03 0.1 0.03" pos="0 0 0.03" '
        'mass="0.73"/>',
    ]
    for side, sign, number in (("left", "", 1), ("right", "-", 2)):
        lines += [
            f'{indent}  <body name="{side}_finger" pos="0 0 0.0584">',
            f'{indent}    <joint name="finger_joint{number}" type="slide" axis="0 {sign}1 0" '
            'range="0 0.04"/>',
            f'{indent}    <geom name="{side}_finger_geom" type="box" size="0.01 0.01 0.025" '
            f'pos="0 {sign}0.01 0.025" mass="0.015"/>',
            f"{indent}  </body>",
        ]
    lines.append(f"{indent}</body>")
    for _ in _LINKS:
        indent = indent[:-2]
        lines.append(f"{indent}</body>")
    lines += [
        "    </body>",
        "  </worldbody>",
        "  <tendon>",
        '    <fixed name="split">',
        '      <joint joint="finger_joint1" coef="0.5"/>',
        '      <joint joint="finger_joint2" coef="0.5"/>',
        "    </fixed>",
        "  </tendon>",
        "  <equality>",
        '    <joint joint1="finger_joint1" joint2="finger_joint2" polycoef="0 1 0 0 0"/>',
        "  </equality>",
        "  <actuator>",
    ]
    for i, ((_, _, _, limits, _, _), joint) in enumerate(zip(_LINKS, ARM_JOINTS, strict=True)):
        assert limits is not None
        lines.append(
            f'    <general name="actuator{i + 1}" joint="{joint}" gainprm="{_KP[i]}" '
            f'biasprm="0 -{_KP[i]} -{_KV[i]}" ctrlrange="{limits[0]} {limits[1]}" '
            f'forcerange="-{_EFFORT[i]} {_EFFORT[i]}"/>'
        )
    lines += [
        '    <general name="actuator8" tendon="split" ctrlrange="0 255" '
        'gainprm="0.01568627451" biasprm="0 -100 -10" forcerange="-100 100"/>',
        "  </actuator>",
        "</mujoco>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")
