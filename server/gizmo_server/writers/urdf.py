"""URDF writer for single-asset exports (``isaac_sim_urdf``): the asset at the origin, no prefix.

What URDF cannot say, and what this writer does instead:
- Fixed vs floating base: a fixed-base asset gets the ROS convention of a ``world`` link and a
  fixed ``root_joint`` (the same name as in the USD export), which Isaac Sim's URDF importer and
  MuJoCo both treat as welded to the world. A free-floating asset (crate, mobile base) has no world
  link: its root link is the floating base. URDF has no free joint; import it with the importer's
  "fix base link" option off.
- Capsules: URDF has none, so a capsule is written as a cylinder plus two end spheres (visual and
  collision alike); mass properties are the capsule's, from the description.
- Drives: URDF has no actuators or gains; each joint's ``<limit effort velocity>`` carries the
  drive's effort and speed limits, and the importer chooses its own drive gains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from gizmo_server.description import (
    AXIS_VECTOR,
    AssetDescription,
    Axis,
    Body,
    Box,
    Capsule,
    Cylinder,
    Geom,
    JointType,
    Sphere,
)

# URDF cylinders run along Z; these roll-pitch-yaw angles turn Z onto the named axis.
_ALIGN_Z_TO: dict[Axis, tuple[float, float, float]] = {
    "X": (0.0, math.pi / 2, 0.0),
    "Y": (-math.pi / 2, 0.0, 0.0),
    "Z": (0.0, 0.0, 0.0),
}
_NO_ROTATION = (0.0, 0.0, 0.0)


def write_urdf(robot_name: str, asset: AssetDescription) -> bytes:
    """The asset as URDF XML bytes (UTF-8)."""
    parts = ['<?xml version="1.0"?>\n', f"<robot name={quoteattr(robot_name)}>\n"]
    if asset.fixed_base:
        parts.append('  <link name="world"/>\n')
        parts.append(_joint("root_joint", "fixed", "world", asset.root.name, asset.root.origin))
    parts += [_link(body) for body in asset.bodies]
    for joint in asset.joints:
        parent, child = asset.body(joint.parent), asset.body(joint.child)
        actuator = next((a for a in asset.actuators if a.joint == joint.name), None)
        effort = actuator.max_effort if actuator is not None else 0.0
        if joint.type is JointType.PRISMATIC:
            kind = "prismatic"
        else:
            kind = "continuous" if joint.limits is None else "revolute"
        limit = f'effort="{_num(effort)}" velocity="{_num(joint.max_velocity)}"'
        if joint.limits is not None:
            limit = f'lower="{_num(joint.limits[0])}" upper="{_num(joint.limits[1])}" ' + limit
        offset = tuple(c - p for c, p in zip(child.origin, parent.origin, strict=True))
        parts.append(
            _joint(
                joint.name,
                kind,
                parent.name,
                child.name,
                offset,
                f'    <axis xyz="{_vec(AXIS_VECTOR[joint.axis])}"/>\n    <limit {limit}/>\n',
            )
        )
    parts.append("</robot>\n")
    return "".join(parts).encode("utf-8")


def _num(value: float) -> str:
    return repr(float(value))


def _vec(values: Sequence[float]) -> str:
    return " ".join(_num(v) for v in values)


def _origin(xyz: Sequence[float], rpy: Sequence[float] = _NO_ROTATION) -> str:
    return f'<origin xyz="{_vec(xyz)}" rpy="{_vec(rpy)}"/>'


def _joint(
    name: str, kind: str, parent: str, child: str, xyz: Sequence[float], extra: str = ""
) -> str:
    return (
        f'  <joint name="{name}" type="{kind}">\n'
        f'    <parent link="{parent}"/>\n    <child link="{child}"/>\n'
        f"    {_origin(xyz)}\n{extra}  </joint>\n"
    )


def _link(body: Body) -> str:
    i = body.inertial
    ixx, iyy, izz = i.diagonal_inertia
    lines = [
        f'  <link name="{body.name}">\n',
        f'    <inertial>\n      {_origin(i.com)}\n      <mass value="{_num(i.mass)}"/>\n'
        f'      <inertia ixx="{_num(ixx)}" ixy="0" ixz="0" iyy="{_num(iyy)}" iyz="0" '
        f'izz="{_num(izz)}"/>\n    </inertial>\n',
    ]
    for geom in body.geoms:
        for index, (xyz, rpy, shape) in enumerate(_primitives(geom)):
            name = geom.name if index == 0 else f"{geom.name}_{index}"
            lines.append(
                f'    <visual name="{name}">\n      {_origin(xyz, rpy)}\n'
                f"      <geometry>{shape}</geometry>\n"
                f'      <material name="{name}"><color rgba="{_vec(geom.rgba)}"/>'
                "</material>\n    </visual>\n"
            )
            lines.append(
                f'    <collision name="{name}">\n      {_origin(xyz, rpy)}\n'
                f"      <geometry>{shape}</geometry>\n    </collision>\n"
            )
    lines.append("  </link>\n")
    return "".join(lines)


def _primitives(geom: Geom) -> list[tuple[Sequence[float], Sequence[float], str]]:
    """URDF primitives (origin xyz, rpy, geometry element) that make up ``geom``."""
    match geom.shape:
        case Box(size=size):
            return [(geom.pos, _NO_ROTATION, f'<box size="{_vec(size)}"/>')]
        case Sphere(radius=r):
            return [(geom.pos, _NO_ROTATION, f'<sphere radius="{_num(r)}"/>')]
        case Cylinder(radius=r, length=h, axis=axis):
            return [
                (geom.pos, _ALIGN_Z_TO[axis], f'<cylinder radius="{_num(r)}" length="{_num(h)}"/>')
            ]
        case Capsule(radius=r, length=h, axis=axis):
            cylinder = (
                geom.pos,
                _ALIGN_Z_TO[axis],
                f'<cylinder radius="{_num(r)}" length="{_num(h)}"/>',
            )
            ends = [
                tuple(p + s * h / 2 * a for p, a in zip(geom.pos, AXIS_VECTOR[axis], strict=True))
                for s in (1.0, -1.0)
            ]
            return [
                cylinder,
                *((end, _NO_ROTATION, f'<sphere radius="{_num(r)}"/>') for end in ends),
            ]
    raise TypeError(f"unknown shape {geom.shape!r}")
