"""Prompt -> articulated asset description: a deterministic stand-in for Gizmo's generator.

This is NOT an AI. It recognises a family of parametric kinds by keywords in the prompt and varies
their dimensions by a hash of the prompt, so the same prompt always yields the same asset:

| kind          | keywords (first match wins, in this order)       | base    | joints            |
|---------------|--------------------------------------------------|---------|-------------------|
| mobile base   | mobile, wheeled, agv, amr, rover                 | free    | 2 wheel hinges    |
| arm           | arm, manipulator, scara, "N-DOF", "N-axis"       | welded  | N revolute (def 6)|
| gripper       | gripper, jaw, pincer, end effector               | welded  | 2 prismatic       |
| conveyor      | conveyor, belt, roller                           | welded  | rollers (hinges)  |
| table         | table, desk, workbench, bench                    | welded  | none              |
| shelf         | shelf, shelving, rack, bookcase                  | welded  | none              |
| bin           | bin, tote, basket, container                     | welded  | none              |
| crate         | crate, box, carton, parcel, package              | free    | none              |
| arm           | robot, robotic (nothing more specific said)      | welded  | N revolute        |
| crate         | anything else                                    | free    | none              |

Fixed (welded) bases are what stays put in a workcell: arms, grippers (mounted), conveyors and
furniture. Crates and mobile bases move, so they float (a free joint in MuJoCo, no world joint in
USD). An arm's DOF count comes from "6-DOF", "6 axis", "six-axis" and the like, clamped to 1..12.
A few stated sizes are honoured too, clamped to sane ranges: an arm's "0.9 m reach", a conveyor's
length ("2 m belt conveyor"), a table's "1.2 m by 0.8 m", a crate's "0.6 m cube" and a shelf's
"four-level"; anything else about size comes from the hash.
Every asset's origin is the centre of its footprint on the floor, Z up, so a pose with z = 0
stands it on the ground. Masses come from geometry and material densities; drive gains come from
the inertia each joint moves (see ``_drive``).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from gizmo_server.description import (
    AXIS_INDEX,
    Actuator,
    AssetDescription,
    Axis,
    Body,
    Box,
    Capsule,
    Control,
    Cylinder,
    Geom,
    Joint,
    JointType,
    Kind,
    Material,
    Rgba,
    Sphere,
    Vec3,
)

GRAVITY = 9.81
# Materials: density (kg/m^3) and dry Coulomb friction against typical workcell surfaces.
ALUMINIUM = Material("aluminium", 2700.0, friction=0.6)
STEEL = Material("steel", 7850.0, friction=0.6)
WOOD = Material("wood", 700.0, friction=0.5)  # oak / particle board
HDPE = Material("hdpe", 950.0, friction=0.3)
RUBBER = Material("rubber", 1100.0, friction=1.0)
# Whole packed containers: bulk density of shell plus contents, friction of the shell.
PACKED_CRATE = Material("packed_crate", 300.0, friction=0.5)
PACKED_PARCEL = Material("packed_parcel", 150.0, friction=0.5)
# Reflected rotor inertia of an arm joint's gearmotor, kg*m^2 per N*m of rated effort.
ARMATURE_PER_EFFORT = 2e-4

# Closed-loop bandwidth of position drives, rad/s: kp = I * w^2, kv = 2 * I * w (critical).
DRIVE_BANDWIDTH = 40.0

GREY: Rgba = (0.55, 0.57, 0.6, 1.0)
ORANGE: Rgba = (0.95, 0.45, 0.1, 1.0)
DARK: Rgba = (0.15, 0.15, 0.17, 1.0)
TAN: Rgba = (0.76, 0.6, 0.42, 1.0)
BLUE: Rgba = (0.2, 0.35, 0.7, 1.0)

MAX_DOF = 12
DEFAULT_DOF = 6

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
_COUNT = r"(\d+|" + "|".join(_NUMBER_WORDS) + ")"
_DOF_RE = re.compile(rf"\b{_COUNT}[\s-]*(?:dof|d\.o\.f\.?|axis|axes|joints?)\b", re.IGNORECASE)

_METRES = r"(\d+(?:\.\d+)?)\s*(?:m|metres?|meters?)\b"
_REACH_RE = re.compile(_METRES + r"\s+reach|reach\s+(?:of\s+)?" + _METRES, re.IGNORECASE)
_LENGTH_RE = re.compile(_METRES, re.IGNORECASE)
_BY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:m\b)?\s*(?:by|x|×)\s*" + _METRES, re.IGNORECASE)
_CUBE_RE = re.compile(_METRES + r"\s+cube", re.IGNORECASE)
_LEVELS_RE = re.compile(rf"\b{_COUNT}[\s-]*(?:levels?|tiers?|shelves)\b", re.IGNORECASE)

_KEYWORDS: tuple[tuple[Kind, str], ...] = (
    (Kind.MOBILE_BASE, r"mobile|wheeled|agv|amr|rover"),
    (Kind.ARM, rf"arms?|manipulators?|scara|dof|{_COUNT}[\s-]*(?:dof|axis|axes)"),
    (Kind.GRIPPER, r"grippers?|jaws?|pincers?|end[\s-]*effectors?"),
    (Kind.CONVEYOR, r"conveyors?|belts?|rollers?"),
    (Kind.TABLE, r"tables?|desks?|workbench(?:es)?|bench(?:es)?"),
    (Kind.SHELF, r"shel(?:f|ves)|shelving|racks?|bookcases?"),
    (Kind.BIN, r"bins?|totes?|baskets?|containers?"),
    (Kind.CRATE, r"crates?|box(?:es)?|cartons?|parcels?|packages?"),
    (Kind.ARM, r"robots?|robotic"),  # a bare "robot" is an arm, after every specific kind
)


def recognise(prompt: str) -> Kind:
    """The kind a prompt asks for; an unrecognised prompt gets a crate."""
    for kind, pattern in _KEYWORDS:
        if re.search(rf"\b(?:{pattern})\b", prompt, re.IGNORECASE):
            return kind
    return Kind.CRATE


def requested_dof(prompt: str) -> int:
    """The DOF count a prompt asks for ("6-DOF", "seven axis"), clamped to 1..MAX_DOF."""
    return _count(_DOF_RE, prompt, DEFAULT_DOF, 1, MAX_DOF)


def _count(pattern: re.Pattern[str], prompt: str, default: int, lo: int, hi: int) -> int:
    match = pattern.search(prompt)
    if match is None:
        return default
    token = match.group(1).lower()
    return max(lo, min(hi, _NUMBER_WORDS[token] if token in _NUMBER_WORDS else int(token)))


def _stated(
    pattern: re.Pattern[str], prompt: str, lo: float, hi: float
) -> tuple[float, ...] | None:
    """The sizes a prompt states through ``pattern``'s groups, clamped to [lo, hi]."""
    match = pattern.search(prompt)
    if match is None:
        return None
    return tuple(max(lo, min(hi, float(g))) for g in match.groups() if g is not None)


@lru_cache(maxsize=256)
def generate(prompt: str) -> AssetDescription:
    """The asset for ``prompt``; the same prompt always gives the same (cached, frozen) asset."""
    seed = int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")
    return _BUILDERS[recognise(prompt)](prompt, random.Random(seed))


def _dim(rng: random.Random, lo: float, hi: float) -> float:
    """A dimension in [lo, hi] rounded to the millimetre, so files read cleanly."""
    return round(rng.uniform(lo, hi), 3)


def _body(
    name: str,
    origin: Vec3,
    *geoms: tuple[str, Box | Cylinder | Capsule | Sphere, Vec3, Material, Rgba],
) -> Body:
    return Body(name, origin, tuple(Geom(f"{name}_{g[0]}", *g[1:]) for g in geoms))


def _moment_about_axis(bodies: Sequence[Body], anchor: Vec3, axis: Axis) -> float:
    """Moment of inertia of ``bodies`` (rest pose) about the line through ``anchor`` along axis."""
    total = 0.0
    k = AXIS_INDEX[axis]
    for body in bodies:
        inertial = body.inertial
        d = [body.origin[i] + inertial.com[i] - anchor[i] for i in range(3)]
        off_axis_sq = sum(d[i] * d[i] for i in range(3) if i != k)
        total += inertial.diagonal_inertia[k] + inertial.mass * off_axis_sq
    return total


def _gravity_load(bodies: Sequence[Body], anchor: Vec3) -> float:
    """Upper bound of the static gravity torque the bodies exert about ``anchor`` (any pose)."""
    return GRAVITY * sum(
        b.inertial.mass * math.dist(anchor, [b.origin[i] + b.inertial.com[i] for i in range(3)])
        for b in bodies
    )


def _drive(joint: Joint, moved: Sequence[Body], effort: float) -> Actuator:
    """A position drive tuned to the inertia it moves: critically damped at DRIVE_BANDWIDTH.

    Sizing from the moved inertia (rest pose, about the joint axis) keeps every joint equally
    responsive and numerically stable at MuJoCo's default 2 ms step, whatever the link sizes.
    """
    anchor = moved[0].origin
    inertia = (
        _moment_about_axis(moved, anchor, joint.axis)
        if joint.type is JointType.REVOLUTE
        else sum(b.inertial.mass for b in moved)
    ) + joint.armature
    w = DRIVE_BANDWIDTH
    return Actuator(
        f"{joint.name}_drive",
        joint.name,
        Control.POSITION,
        inertia * w * w,
        2.0 * inertia * w,
        effort,
    )


def _velocity_drive(joint: Joint, effort: float) -> Actuator:
    """A velocity drive that reaches full effort at a 10 % speed error (stiff speed tracking)."""
    return Actuator(
        f"{joint.name}_drive",
        joint.name,
        Control.VELOCITY,
        0.0,
        effort / (0.1 * joint.max_velocity),
        effort,
    )


def _arm_axis(index: int) -> Axis:
    """Joint axes of an upright arm: base yaw, shoulder and elbow pitch, then roll/pitch wrist."""
    if index == 0:
        return "Z"
    if index < 3:
        return "Y"
    return "Z" if (index - 3) % 2 == 0 else "Y"


def _arm(prompt: str, rng: random.Random) -> AssetDescription:
    dof = requested_dof(prompt)
    base_r, base_h = _dim(rng, 0.09, 0.14), _dim(rng, 0.12, 0.2)
    reach = (_stated(_REACH_RE, prompt, 0.3, 3.0) or (_dim(rng, 0.8, 1.5),))[0]
    radius0 = _dim(rng, 0.05, 0.07)
    weights = [0.72**i for i in range(dof)]
    gap = 0.005  # clearance between consecutive links' capsules
    bodies = [
        _body(
            "base",
            (0.0, 0.0, 0.0),
            ("pedestal", Cylinder(base_r, base_h), (0.0, 0.0, base_h / 2), ALUMINIUM, DARK),
        )
    ]
    z = base_h
    for i in range(dof):
        r = max(0.025, round(radius0 * 0.85**i, 3))
        length = max(round(reach * weights[i] / sum(weights), 3), 2 * r + 2 * gap + 0.03)
        capsule = Capsule(r, length - 2 * r - 2 * gap)
        bodies.append(
            _body(
                f"link{i + 1}",
                (0.0, 0.0, z),
                (
                    "shell",
                    capsule,
                    (0.0, 0.0, length / 2),
                    ALUMINIUM,
                    ORANGE if i % 2 == 0 else GREY,
                ),
            )
        )
        z = round(z + length, 6)
    joints, actuators = [], []
    for i in range(dof):
        axis = _arm_axis(i)
        span = math.radians(_dim(rng, 160, 180) if axis == "Z" else _dim(rng, 115, 135))
        moved = bodies[i + 1 :]
        effort = 2.0 * _gravity_load(moved, moved[0].origin)
        joint = Joint(
            f"joint{i + 1}",
            JointType.REVOLUTE,
            bodies[i].name,
            bodies[i + 1].name,
            axis,
            (-span, span),
            max_velocity=3.0 if i < 3 else 6.0,
            armature=round(ARMATURE_PER_EFFORT * effort, 6),
        )
        drive = _drive(joint, moved, effort)
        joints.append(joint)
        actuators.append(drive)
    return AssetDescription(Kind.ARM, True, tuple(bodies), tuple(joints), tuple(actuators))


def _gripper(prompt: str, rng: random.Random) -> AssetDescription:
    width, depth, height = _dim(rng, 0.12, 0.2), _dim(rng, 0.05, 0.08), _dim(rng, 0.04, 0.07)
    thick, length = _dim(rng, 0.012, 0.02), _dim(rng, 0.06, 0.1)
    grip_force = _dim(rng, 40.0, 150.0)
    y_open = round(width / 2 - thick / 2, 6)
    travel = round(y_open - thick / 2 - 0.002, 6)
    palm = _body(
        "palm",
        (0.0, 0.0, 0.0),
        ("housing", Box((depth, width, height)), (0.0, 0.0, height / 2), ALUMINIUM, DARK),
    )
    bodies, joints, actuators = [palm], [], []
    for side, sign in (("left", 1.0), ("right", -1.0)):
        finger = _body(
            f"finger_{side}",
            (0.0, sign * y_open, height),
            ("pad", Box((depth * 0.8, thick, length)), (0.0, 0.0, length / 2), ALUMINIUM, GREY),
        )
        limits = (-travel, 0.0) if sign > 0 else (0.0, travel)
        joint = Joint(
            f"finger_{side}_joint",
            JointType.PRISMATIC,
            "palm",
            finger.name,
            "Y",
            limits,
            max_velocity=0.2,
        )
        drive = _drive(joint, [finger], grip_force)
        bodies.append(finger)
        joints.append(joint)
        actuators.append(drive)
    return AssetDescription(Kind.GRIPPER, True, tuple(bodies), tuple(joints), tuple(actuators))


def _conveyor(prompt: str, rng: random.Random) -> AssetDescription:
    length = (_stated(_LENGTH_RE, prompt, 0.5, 10.0) or (_dim(rng, 1.2, 3.0),))[0]
    width, height = _dim(rng, 0.4, 0.8), _dim(rng, 0.6, 0.9)
    roller_r = _dim(rng, 0.03, 0.045)
    rail = (0.04, 0.1)  # thickness, height
    rail_y = width / 2 + rail[0] / 2
    rail_z = height - rail[1] / 2 - 0.01
    leg_h = rail_z - rail[1] / 2
    leg_x = length / 2 - 0.05
    geoms = [
        (f"rail_{s}", Box((length, rail[0], rail[1])), (0.0, sy * rail_y, rail_z), ALUMINIUM, GREY)
        for s, sy in (("left", 1.0), ("right", -1.0))
    ]
    geoms += [
        (
            f"leg_{i}",
            Box((0.05, 0.05, leg_h)),
            (sx * leg_x, sy * rail_y, leg_h / 2),
            ALUMINIUM,
            DARK,
        )
        for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1)))
    ]
    bodies = [_body("frame", (0.0, 0.0, 0.0), *geoms)]
    count = max(4, min(12, round(length / 0.25)))
    pitch = length / count
    joints, actuators = [], []
    for k in range(count):
        roller = _body(
            f"roller{k + 1}",
            (round(-length / 2 + pitch * (k + 0.5), 6), 0.0, height - roller_r),
            ("drum", Cylinder(roller_r, width - 0.01, "Y"), (0.0, 0.0, 0.0), ALUMINIUM, GREY),
        )
        joint = Joint(
            f"roller{k + 1}_joint",
            JointType.REVOLUTE,
            "frame",
            roller.name,
            "Y",
            None,
            max_velocity=2.0 / roller_r,
        )
        # Rated to push a 20 kg load per roller up a 30 % incline.
        drive = _velocity_drive(joint, 20.0 * GRAVITY * 0.3 * roller_r)
        bodies.append(roller)
        joints.append(joint)
        actuators.append(drive)
    return AssetDescription(Kind.CONVEYOR, True, tuple(bodies), tuple(joints), tuple(actuators))


def _static(kind: Kind, body: Body) -> AssetDescription:
    return AssetDescription(kind, True, (body,), (), ())


def _table(prompt: str, rng: random.Random) -> AssetDescription:
    length, width = _stated(_BY_RE, prompt, 0.3, 4.0) or (_dim(rng, 0.8, 1.8), _dim(rng, 0.6, 1.0))
    height = _dim(rng, 0.7, 0.8)
    top = _dim(rng, 0.03, 0.04)
    leg_h = height - top
    legs = [
        (
            f"leg_{i}",
            Box((0.05, 0.05, leg_h)),
            (sx * (length / 2 - 0.06), sy * (width / 2 - 0.06), leg_h / 2),
            ALUMINIUM,
            DARK,
        )
        for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1)))
    ]
    return _static(
        Kind.TABLE,
        _body(
            "table",
            (0.0, 0.0, 0.0),
            ("top", Box((length, width, top)), (0.0, 0.0, height - top / 2), WOOD, TAN),
            *legs,
        ),
    )


def _shelf(prompt: str, rng: random.Random) -> AssetDescription:
    width, depth, height = _dim(rng, 0.8, 1.5), _dim(rng, 0.3, 0.5), _dim(rng, 1.2, 2.0)
    levels = _count(_LEVELS_RE, prompt, rng.randint(3, 5), 2, 8)
    t = 0.018
    sides = [
        (
            f"side_{s}",
            Box((depth, t, height)),
            (0.0, sy * (width / 2 - t / 2), height / 2),
            WOOD,
            TAN,
        )
        for s, sy in (("left", 1.0), ("right", -1.0))
    ]
    # Boards evenly spaced from floor to top keep the centre of mass at mid-height.
    boards = [
        (
            f"board{k + 1}",
            Box((depth, width - 2 * t, t)),
            (0.0, 0.0, t / 2 + k * (height - t) / (levels - 1)),
            WOOD,
            TAN,
        )
        for k in range(levels)
    ]
    return _static(Kind.SHELF, _body("shelf", (0.0, 0.0, 0.0), *sides, *boards))


def _bin(prompt: str, rng: random.Random) -> AssetDescription:
    length, width, height = _dim(rng, 0.4, 0.8), _dim(rng, 0.3, 0.6), _dim(rng, 0.2, 0.4)
    t = 0.006
    wall_h = height - t
    wall_z = t + wall_h / 2
    geoms = [("floor", Box((length, width, t)), (0.0, 0.0, t / 2), HDPE, BLUE)]
    geoms += [
        (f"wall_{s}", Box((length, t, wall_h)), (0.0, sy * (width / 2 - t / 2), wall_z), HDPE, BLUE)
        for s, sy in (("left", 1.0), ("right", -1.0))
    ]
    geoms += [
        (
            f"wall_{s}",
            Box((t, width - 2 * t, wall_h)),
            (sx * (length / 2 - t / 2), 0.0, wall_z),
            HDPE,
            BLUE,
        )
        for s, sx in (("front", 1.0), ("back", -1.0))
    ]
    return _static(Kind.BIN, _body("bin", (0.0, 0.0, 0.0), *geoms))


def _crate(prompt: str, rng: random.Random) -> AssetDescription:
    parcel = re.search(r"\b(?:box(?:es)?|cartons?|parcels?|packages?)\b", prompt, re.IGNORECASE)
    lo, hi = (0.15, 0.5) if parcel else (0.3, 0.8)
    cube = _stated(_CUBE_RE, prompt, 0.05, 3.0)
    size = (
        (cube[0], cube[0], cube[0])
        if cube
        else (_dim(rng, lo, hi), _dim(rng, lo, hi), _dim(rng, lo, hi))
    )
    name = "box" if parcel else "crate"
    body = _body(
        name,
        (0.0, 0.0, 0.0),
        (
            "shell",
            Box(size),
            (0.0, 0.0, size[2] / 2),
            PACKED_PARCEL if parcel else PACKED_CRATE,
            TAN,
        ),
    )
    return AssetDescription(Kind.CRATE, False, (body,), (), ())


def _mobile_base(prompt: str, rng: random.Random) -> AssetDescription:
    length, width, height = _dim(rng, 0.5, 0.9), _dim(rng, 0.4, 0.6), _dim(rng, 0.12, 0.2)
    wheel_r, wheel_w = _dim(rng, 0.07, 0.1), _dim(rng, 0.04, 0.06)
    caster_r = wheel_r / 2
    caster_x = length / 2 - caster_r - 0.02
    chassis = _body(
        "chassis",
        (0.0, 0.0, 0.0),
        ("body", Box((length, width, height)), (0.0, 0.0, wheel_r + height / 2), ALUMINIUM, GREY),
        ("caster_front", Sphere(caster_r), (caster_x, 0.0, caster_r), STEEL, DARK),
        ("caster_back", Sphere(caster_r), (-caster_x, 0.0, caster_r), STEEL, DARK),
    )
    wheel_y = width / 2 + wheel_w / 2 + 0.005
    wheels = [
        _body(
            f"wheel_{s}",
            (0.0, sy * wheel_y, wheel_r),
            ("tyre", Cylinder(wheel_r, wheel_w, "Y"), (0.0, 0.0, 0.0), RUBBER, DARK),
        )
        for s, sy in (("left", 1.0), ("right", -1.0))
    ]
    total_mass = chassis.inertial.mass + sum(w.inertial.mass for w in wheels)
    joints, actuators = [], []
    for wheel in wheels:
        joint = Joint(
            f"{wheel.name}_joint",
            JointType.REVOLUTE,
            "chassis",
            wheel.name,
            "Y",
            None,
            max_velocity=1.5 / wheel_r,
        )
        # Each wheel can accelerate half the robot at 0.25 g.
        drive = _velocity_drive(joint, 0.5 * total_mass * 0.25 * GRAVITY * wheel_r)
        joints.append(joint)
        actuators.append(drive)
    return AssetDescription(
        Kind.MOBILE_BASE, False, (chassis, *wheels), tuple(joints), tuple(actuators)
    )


_BUILDERS: dict[Kind, Callable[[str, random.Random], AssetDescription]] = {
    Kind.ARM: _arm,
    Kind.GRIPPER: _gripper,
    Kind.CONVEYOR: _conveyor,
    Kind.TABLE: _table,
    Kind.SHELF: _shelf,
    Kind.BIN: _bin,
    Kind.CRATE: _crate,
    Kind.MOBILE_BASE: _mobile_base,
}
