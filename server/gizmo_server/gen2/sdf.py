"""SDFormat 1.9 worlds (Gazebo): a ground plane, the room's walls and one model per object.

Each object's model is built from the same neutral description the MJCF and USD writers read:
links at their rest origins, inertials from the description's mass properties, box, cylinder,
capsule and sphere shapes, revolute/prismatic joints anchored at the child link. A fixed-base
asset gets a fixed joint to `world`; the others float. Poses use SDFormat 1.9's
`rotation_format="quat_xyzw"`, which is the wire order, so no conversion is needed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from gizmo_server.description import (
    AssetDescription,
    Box,
    Capsule,
    Cylinder,
    Geom,
    JointType,
    Sphere,
)
from gizmo_server.generator import generate

__all__ = ["SDF_VERSION", "write_world"]

SDF_VERSION = "1.9"
# A cylinder's or capsule's length runs along its frame's Z: these turn Z onto the named axis.
_AXIS_TURN = {"X": (0.0, 0.7071068, 0.0, 0.7071068), "Y": (-0.7071068, 0.0, 0.0, 0.7071068)}
_IDENTITY = (0.0, 0.0, 0.0, 1.0)


def _num(value: float) -> str:
    return f"{value:.6g}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _pose(parent: ET.Element, position: Sequence[float], xyzw: Sequence[float] = _IDENTITY) -> None:
    pose = _text(parent, "pose", " ".join(_num(v) for v in (*position, *xyzw)))
    pose.set("rotation_format", "quat_xyzw")


def _shape(parent: ET.Element, geom: Geom) -> None:
    geometry = ET.SubElement(parent, "geometry")
    match geom.shape:
        case Box(size=size):
            _text(ET.SubElement(geometry, "box"), "size", " ".join(_num(v) for v in size))
        case Sphere(radius=r):
            _text(ET.SubElement(geometry, "sphere"), "radius", _num(r))
        case Cylinder(radius=r, length=h) | Capsule(radius=r, length=h):
            tag = "capsule" if isinstance(geom.shape, Capsule) else "cylinder"
            shape = ET.SubElement(geometry, tag)
            _text(shape, "radius", _num(r))
            _text(shape, "length", _num(h))


def _geom_pose(geom: Geom) -> tuple[float, float, float, float]:
    axis = getattr(geom.shape, "axis", "Z")
    return _AXIS_TURN.get(axis, _IDENTITY)


def _model(
    name: str, asset: AssetDescription, position: Sequence[float], xyzw: Sequence[float]
) -> ET.Element:
    model = ET.Element("model", name=name)
    _pose(model, position, xyzw)
    for body in asset.bodies:
        link = ET.SubElement(model, "link", name=body.name)
        _pose(link, body.origin)
        inertial = ET.SubElement(link, "inertial")
        _pose(inertial, body.inertial.com)
        _text(inertial, "mass", _num(body.inertial.mass))
        inertia = ET.SubElement(inertial, "inertia")
        for tag, value in zip(("ixx", "iyy", "izz"), body.inertial.diagonal_inertia, strict=True):
            _text(inertia, tag, _num(value))
        for tag in ("ixy", "ixz", "iyz"):
            _text(inertia, tag, "0")
        for geom in body.geoms:
            for kind in ("collision", "visual"):
                element = ET.SubElement(link, kind, name=f"{geom.name}_{kind}")
                _pose(element, geom.pos, _geom_pose(geom))
                _shape(element, geom)
                if kind == "visual":
                    material = ET.SubElement(element, "material")
                    rgba = " ".join(_num(c) for c in geom.rgba)
                    _text(material, "ambient", rgba)
                    _text(material, "diffuse", rgba)
    if asset.fixed_base:
        weld = ET.SubElement(model, "joint", name="fixed_to_world", type="fixed")
        _text(weld, "parent", "world")
        _text(weld, "child", asset.root.name)
    for joint in asset.joints:
        continuous = joint.type is JointType.REVOLUTE and joint.limits is None
        kind = "continuous" if continuous else joint.type.value
        element = ET.SubElement(model, "joint", name=joint.name, type=kind)
        _text(element, "parent", joint.parent)
        _text(element, "child", joint.child)
        axis = ET.SubElement(element, "axis")
        _text(axis, "xyz", {"X": "1 0 0", "Y": "0 1 0", "Z": "0 0 1"}[joint.axis])
        limit = ET.SubElement(axis, "limit")
        if joint.limits is not None:
            _text(limit, "lower", _num(joint.limits[0]))
            _text(limit, "upper", _num(joint.limits[1]))
        _text(limit, "velocity", _num(joint.max_velocity))
    return model


def _static_box(name: str, centre: Mapping[str, float], size: Mapping[str, float]) -> ET.Element:
    model = ET.Element("model", name=name)
    _text(model, "static", "true")
    _pose(model, (centre["x"], centre["y"], centre["z"]))
    link = ET.SubElement(model, "link", name="link")
    for kind in ("collision", "visual"):
        element = ET.SubElement(link, kind, name=kind)
        geometry = ET.SubElement(element, "geometry")
        _text(
            ET.SubElement(geometry, "box"),
            "size",
            f"{_num(size['x'])} {_num(size['y'])} {_num(size['z'])}",
        )
    return model


def write_world(name: str, record: Mapping[str, Any]) -> bytes:
    """The scene as an SDFormat world (UTF-8 XML); `record` is the scene's record."""
    root = ET.Element("sdf", version=SDF_VERSION)
    world = ET.SubElement(
        root, "world", name="".join(c if c.isalnum() else "_" for c in name) or "scene"
    )
    _text(world, "gravity", "0 0 -9.81")
    physics = ET.SubElement(world, "physics", name="default", type="ode")
    _text(physics, "max_step_size", "0.002")
    _text(physics, "real_time_factor", "1")
    light = ET.SubElement(world, "light", name="sun", type="directional")
    _pose(light, (0.0, 0.0, 10.0))
    _text(light, "direction", "0 0 -1")
    ground = ET.SubElement(world, "model", name="ground_plane")
    _text(ground, "static", "true")
    link = ET.SubElement(ground, "link", name="link")
    for kind in ("collision", "visual"):
        plane = ET.SubElement(
            ET.SubElement(ET.SubElement(link, kind, name=kind), "geometry"), "plane"
        )
        _text(plane, "normal", "0 0 1")
        _text(plane, "size", "100 100")
    room = record.get("room")
    for wall in room["walls"] if room else []:
        world.append(_static_box(wall["name"], wall["position"], wall["size"]))
    for obj in record["objects"]:
        p, q = obj["position"], obj["rotation"]
        world.append(
            _model(
                obj["name"],
                generate(obj["prompt"]),
                (p["x"], p["y"], p["z"]),
                (q["x"], q["y"], q["z"], q["w"]),
            )
        )
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
