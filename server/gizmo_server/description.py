"""The neutral description of an articulated asset that every export writer reads.

One description, several writers: the USD, MJCF and URDF files of an asset are all rendered from
the same bodies, geoms, joints and actuators, so they cannot drift apart.

Conventions (SI throughout):
- Frames: every body frame is axis-aligned with the asset root frame at rest, so a body is placed
  by its ``origin`` alone (asset frame, metres) and no description holds a rotation; the only
  rotation in an export is the placement's. Cylinders and capsules pick their long axis by name.
- A joint's anchor is its child body's origin; its axis is a body axis name.
- Angles and angular gains are per radian; writers convert (USD wants degrees).
- Mass properties are computed from geometry and each geom's material density
  (``mass_properties``), never typed in. Geoms are laid out so that every body's inertia tensor
  is diagonal in the body frame (principal axes = body axes), which keeps the USD
  ``principalAxes`` at identity and MJCF at ``diaginertia``.
- Physics parity: every simulator-facing number (surface friction, restitution, time step, solver
  iterations, joint velocity limits, armature) lives here once, so the USD, MJCF and URDF of one
  scene carry the same values, each in its own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gizmo_server.rotation import Quaternion

Vec3 = tuple[float, float, float]
Rgba = tuple[float, float, float, float]
Axis = Literal["X", "Y", "Z"]

AXIS_INDEX: dict[Axis, int] = {"X": 0, "Y": 1, "Z": 2}
AXIS_VECTOR: dict[Axis, Vec3] = {"X": (1.0, 0.0, 0.0), "Y": (0.0, 1.0, 0.0), "Z": (0.0, 0.0, 1.0)}


class Kind(StrEnum):
    """The parametric asset families the stand-in generator knows."""

    ARM = "arm"
    GRIPPER = "gripper"
    CONVEYOR = "conveyor"
    TABLE = "table"
    SHELF = "shelf"
    BIN = "bin"
    CRATE = "crate"
    MOBILE_BASE = "mobile_base"


@dataclass(frozen=True)
class Box:
    """A cuboid; ``size`` holds the full edge lengths along the body axes."""

    size: Vec3


@dataclass(frozen=True)
class Cylinder:
    """A solid cylinder; ``length`` is the full length along ``axis``."""

    radius: float
    length: float
    axis: Axis = "Z"


@dataclass(frozen=True)
class Capsule:
    """A cylinder of full ``length`` along ``axis`` capped by two hemispheres of ``radius``."""

    radius: float
    length: float
    axis: Axis = "Z"


@dataclass(frozen=True)
class Sphere:
    """A solid sphere."""

    radius: float


Shape = Box | Cylinder | Capsule | Sphere


@dataclass(frozen=True)
class Material:
    """What a geom is made of: its density and its contact surface.

    One Coulomb ``friction`` serves as both static and dynamic friction because MuJoCo has a
    single sliding coefficient; contacts combine by the larger of the two coefficients (MuJoCo's
    rule, which the USD writer asks of PhysX too). There is no restitution: MuJoCo contacts are
    inelastic, so both exports say 0 (``RESTITUTION``).
    """

    name: str  # an identifier: USD prim and MJCF names are built from it
    density: float  # kg/m^3
    friction: float


RESTITUTION = 0.0


@dataclass(frozen=True)
class Geom:
    """A collision (and visual) shape centred at ``pos`` in its body's frame."""

    name: str
    shape: Shape
    pos: Vec3
    material: Material
    rgba: Rgba


@dataclass(frozen=True)
class MassProperties:
    """Mass, centre of mass (body frame) and principal moments along the body axes."""

    mass: float
    com: Vec3
    diagonal_inertia: Vec3


@dataclass(frozen=True)
class Body:
    """A rigid body; ``origin`` is its frame's position in the asset root frame at rest."""

    name: str
    origin: Vec3
    geoms: tuple[Geom, ...]
    inertial: MassProperties = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inertial", mass_properties(self.geoms))


class JointType(StrEnum):
    REVOLUTE = "revolute"
    PRISMATIC = "prismatic"


@dataclass(frozen=True)
class Joint:
    """A one-DOF joint anchored at ``child``'s origin; ``limits`` is None for a continuous joint."""

    name: str
    type: JointType
    parent: str
    child: str
    axis: Axis
    limits: tuple[float, float] | None  # rad or m
    max_velocity: float  # rad/s or m/s
    armature: float = 0.0  # reflected rotor inertia, kg*m^2 (revolute) or kg (prismatic)


class Control(StrEnum):
    POSITION = "position"
    VELOCITY = "velocity"


@dataclass(frozen=True)
class Actuator:
    """A drive on ``joint``: force = kp * (target - q) - kv * qdot, clipped to ``max_effort``."""

    name: str
    joint: str
    control: Control
    kp: float  # per rad or per m; 0 for velocity control
    kv: float
    max_effort: float  # N*m or N


@dataclass(frozen=True)
class Simulation:
    """Scene-wide settings that both simulators get.

    ``solver_iterations`` is MuJoCo's constraint-solver iteration cap and PhysX's position
    iteration count; ``velocity_iterations`` is PhysX's alone (MuJoCo has no such pass).
    """

    timestep: float = 0.002  # s
    gravity: float = 9.81  # m/s^2, along -Z
    solver_iterations: int = 32
    velocity_iterations: int = 1
    ground: Material = Material("floor", 0.0, 1.0)  # MuJoCo's default friction


SIMULATION = Simulation()


@dataclass(frozen=True)
class AssetDescription:
    """A whole asset: bodies (root first, parents before children), joints, actuators.

    ``fixed_base`` assets are welded to the world at their root; the others float freely.
    """

    kind: Kind
    fixed_base: bool
    bodies: tuple[Body, ...]
    joints: tuple[Joint, ...]
    actuators: tuple[Actuator, ...]

    def __post_init__(self) -> None:
        seen = {self.bodies[0].name}
        by_child = {j.child: j for j in self.joints}
        for body in self.bodies[1:]:
            joint = by_child.get(body.name)
            if joint is None or joint.parent not in seen:
                raise ValueError(f"body {body.name!r} needs one joint from an earlier body")
            seen.add(body.name)
        if len(by_child) != len(self.joints) or set(by_child) != seen - {self.bodies[0].name}:
            raise ValueError("every joint must connect two listed bodies, one joint per child")
        joint_names = {j.name for j in self.joints}
        if any(a.joint not in joint_names for a in self.actuators):
            raise ValueError("every actuator must drive a listed joint")

    @property
    def root(self) -> Body:
        return self.bodies[0]

    @property
    def articulated(self) -> bool:
        """True when the asset has movable joints (and so is an articulation in USD)."""
        return bool(self.joints)

    @property
    def materials(self) -> tuple[Material, ...]:
        """The distinct materials of the asset's geoms, in order of first use."""
        return tuple(dict.fromkeys(g.material for b in self.bodies for g in b.geoms))

    def body(self, name: str) -> Body:
        return next(b for b in self.bodies if b.name == name)

    def joint_to(self, child: str) -> Joint:
        return next(j for j in self.joints if j.child == child)

    def children(self, parent: str) -> list[Body]:
        return [self.body(j.child) for j in self.joints if j.parent == parent]

    def subtree(self, name: str) -> list[Body]:
        """``name`` and every body below it."""
        out = [self.body(name)]
        for child in self.children(name):
            out.extend(self.subtree(child.name))
        return out


@dataclass(frozen=True)
class Placement:
    """An asset placed in a scene: ``position`` and ``rotation`` are its root frame's pose."""

    placement_id: str
    asset_id: str
    asset_name: str
    asset: AssetDescription
    position: Vec3
    rotation: Quaternion

    def to_scene(self, local: Vec3) -> Vec3:
        """A point given in the asset frame, expressed in the scene frame."""
        m = self.rotation.to_matrix()
        return (
            self.position[0] + m[0][0] * local[0] + m[0][1] * local[1] + m[0][2] * local[2],
            self.position[1] + m[1][0] * local[0] + m[1][1] * local[1] + m[1][2] * local[2],
            self.position[2] + m[2][0] * local[0] + m[2][1] * local[1] + m[2][2] * local[2],
        )


def _shape_mass_and_inertia(shape: Shape, density: float) -> tuple[float, Vec3]:
    """Mass and principal moments about the shape's own centre, along the body axes."""
    match shape:
        case Box(size=(a, b, c)):
            m = density * a * b * c
            return m, (m * (b * b + c * c) / 12, m * (a * a + c * c) / 12, m * (a * a + b * b) / 12)
        case Sphere(radius=r):
            m = density * 4.0 / 3.0 * math.pi * r**3
            moment = 0.4 * m * r * r
            return m, (moment, moment, moment)
        case Cylinder(radius=r, length=h, axis=axis):
            m = density * math.pi * r * r * h
            return m, _axial(axis, m * r * r / 2, m * (3 * r * r + h * h) / 12)
        case Capsule(radius=r, length=h, axis=axis):
            m_cyl = density * math.pi * r * r * h
            m_caps = density * 4.0 / 3.0 * math.pi * r**3  # both hemispheres
            along = m_cyl * r * r / 2 + m_caps * 0.4 * r * r
            across = m_cyl * (h * h / 12 + r * r / 4) + m_caps * (
                0.4 * r * r + h * h / 4 + 3 * h * r / 8
            )
            return m_cyl + m_caps, _axial(axis, along, across)
    raise TypeError(f"unknown shape {shape!r}")


def _axial(axis: Axis, along: float, across: float) -> Vec3:
    moments = [across, across, across]
    moments[AXIS_INDEX[axis]] = along
    return moments[0], moments[1], moments[2]


def mass_properties(geoms: tuple[Geom, ...]) -> MassProperties:
    """Combine the geoms' solid-body mass properties (parallel-axis theorem) about the COM.

    Raises ValueError if the result is not diagonal in the body frame: the description promises
    principal axes = body axes, so a generator that breaks the symmetry must be fixed.
    """
    parts = [(g.pos, *_shape_mass_and_inertia(g.shape, g.material.density)) for g in geoms]
    mass = sum(m for _, m, _ in parts)
    if not geoms or mass <= 0.0:
        raise ValueError("a body needs at least one geom with positive volume and density")
    com = tuple(sum(m * p[i] for p, m, _ in parts) / mass for i in range(3))
    tensor = [[0.0] * 3 for _ in range(3)]
    for pos, m, moments in parts:
        d = [pos[i] - com[i] for i in range(3)]
        dd = d[0] ** 2 + d[1] ** 2 + d[2] ** 2
        for i in range(3):
            tensor[i][i] += moments[i] + m * dd
            for j in range(3):
                tensor[i][j] -= m * d[i] * d[j]
    scale = max(tensor[i][i] for i in range(3))
    if any(abs(tensor[i][j]) > 1e-9 * scale for i in range(3) for j in range(3) if i != j):
        raise ValueError(f"geoms {[g.name for g in geoms]} give a non-diagonal inertia tensor")
    return MassProperties(
        mass, (com[0], com[1], com[2]), (tensor[0][0], tensor[1][1], tensor[2][2])
    )
