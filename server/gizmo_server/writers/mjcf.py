"""MJCF writer: one self-contained MuJoCo XML for a whole scene.

Conventions (shared/gizmo-api.md Part B, shared/notes/mujoco.md §2, usd.md §5.3):
- ``<compiler angle="radian">``: every angle in the file is in radians, gains are per radian.
- Every name of a placement is prefixed with its readable name and ``__`` (``writers.names``:
  ``Parallel_Gripper_2__finger_left``; no ``/``, which dm_control's PyMJCF refuses); the
  placement's single top-level body ``<name>__<root body>`` sits at the placement pose (``quat``
  is scalar-first), so at qpos0 its world pose is the placement pose. A free-floating asset puts
  a ``<freejoint>`` named ``<name>__root`` on that body; a fixed-base asset has none (welded to
  the world). The placement id is kept as ``<custom><text name="<name>__placement_id"
  data="<placement id>"/>`` (and in a comment before the placement's bodies).
- A welded base is excluded from contact with the bodies jointed to it: MuJoCo's parent-child
  filter does not apply to bodies welded to the world.
- Sizes: box half extents, cylinder/capsule (radius, half-length); explicit ``<inertial>`` from
  the description so MuJoCo and PhysX use the same mass properties.
- A ground plane ``floor`` at z = 0 and a light; ``implicitfast`` integration.
- Physics from the description, as the USD export has it: the time step, gravity and solver
  iterations of ``SIMULATION``, each geom's material friction (sliding; MuJoCo's default
  torsional and rolling terms), joint armature.

Speed: generated text, not MjSpec. Each distinct asset is rendered once with a prefix marker and
each placement is a string substitution (measured in docs/bench/export.md: at 1000 placements
building an MjSpec and calling ``to_xml`` is several times slower, because ``to_xml`` compiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from gizmo_server.description import (
    AXIS_VECTOR,
    SIMULATION,
    AssetDescription,
    Body,
    Box,
    Capsule,
    Control,
    Cylinder,
    Geom,
    JointType,
    Placement,
    Simulation,
    Sphere,
)
from gizmo_server.writers.names import SEPARATOR, placement_names

_PREFIX = "\x00"  # stands for "<readable name>__" in a rendered asset template
_POSE = "\x01"  # stands for the root body's pos/quat attributes
PLACEMENT_ID = "placement_id"  # <custom><text name="<name>__placement_id" data="<id>"/>

_HEADER = """<mujoco model={model}>
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{timestep}" gravity="0 0 {gravity}" iterations="{iterations}"
          integrator="implicitfast"/>
  <visual><global offwidth="1280" offheight="960"/></visual>
  <worldbody>
    <light name="sun" pos="0 0 10" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="0 0 0.05" rgba="0.8 0.8 0.8 1" {friction}/>
"""
# MuJoCo's default torsional and rolling friction; the description gives the sliding term.
_SPIN_ROLL = (0.005, 0.0001)


def write_mjcf(scene_name: str, placements: Sequence[Placement]) -> bytes:
    """The scene as MJCF XML bytes (UTF-8)."""
    templates: dict[int, tuple[str, str, str]] = {}
    bodies, excludes, actuators, ids = [], [], [], []
    names = placement_names(p.asset_name for p in placements)
    for placement, name in zip(placements, names, strict=True):
        key = id(placement.asset)
        if key not in templates:
            templates[key] = _render_asset(placement.asset)
        body, exclude, actuator = templates[key]
        prefix = name + SEPARATOR
        ids.append(
            f'    <text name="{prefix}{PLACEMENT_ID}" data={quoteattr(placement.placement_id)}/>\n'
        )
        w, x, y, z = placement.rotation.to_wxyz()
        pose = f'pos="{_vec(placement.position)}" quat="{_vec((w, x, y, z))}"'
        # The id in a comment too: a reader of a cut-off file can tell whose body it was in.
        bodies.append(f"    <!-- placement {placement.placement_id} -->\n")
        bodies.append(body.replace(_PREFIX, prefix).replace(_POSE, pose))
        excludes.append(exclude.replace(_PREFIX, prefix))
        actuators.append(actuator.replace(_PREFIX, prefix))
    model = quoteattr("".join(ch for ch in scene_name if ch.isprintable()))
    parts = [_header(model, SIMULATION), *bodies, "  </worldbody>\n"]
    parts += ["  <contact>\n", *excludes, "  </contact>\n"] if any(excludes) else []
    parts += ["  <actuator>\n", *actuators, "  </actuator>\n"] if any(actuators) else []
    parts += ["  <custom>\n", *ids, "  </custom>\n"] if ids else []
    parts.append("</mujoco>\n")
    return "".join(parts).encode("utf-8")


def _header(model: str, sim: Simulation) -> str:
    return _HEADER.format(
        model=model,
        timestep=_num(sim.timestep),
        gravity=_num(-sim.gravity),
        iterations=sim.solver_iterations,
        friction=_friction(sim.ground.friction),
    )


def _friction(sliding: float) -> str:
    return f'friction="{_vec((sliding, *_SPIN_ROLL))}"'


def _num(value: float) -> str:
    """Shortest text that parses back to the same double (keeps poses exact)."""
    return repr(float(value))


def _vec(values: Sequence[float]) -> str:
    return " ".join(_num(v) for v in values)


def _render_asset(asset: AssetDescription) -> tuple[str, str, str]:
    """Body tree, contact excludes and actuators of one asset, with prefix and pose markers."""
    body = _render_body(asset, asset.root, 2, root=True)
    exclude = ""
    if asset.fixed_base:
        exclude = "".join(
            f'    <exclude body1="{_PREFIX}{asset.root.name}" body2="{_PREFIX}{child.name}"/>\n'
            for child in asset.children(asset.root.name)
        )
    actuators = []
    for act in asset.actuators:
        joint = next(j for j in asset.joints if j.name == act.joint)
        common = (
            f'name="{_PREFIX}{act.name}" joint="{_PREFIX}{act.joint}" kv="{_num(act.kv)}" '
            f'forcerange="{_num(-act.max_effort)} {_num(act.max_effort)}"'
        )
        if act.control is Control.POSITION:
            ctrl = "" if joint.limits is None else f' ctrlrange="{_vec(joint.limits)}"'
            actuators.append(f'    <position {common} kp="{_num(act.kp)}"{ctrl}/>\n')
        else:
            v = joint.max_velocity
            actuators.append(f'    <velocity {common} ctrlrange="{_num(-v)} {_num(v)}"/>\n')
    return body, exclude, "".join(actuators)


def _render_body(asset: AssetDescription, body: Body, depth: int, *, root: bool) -> str:
    pad = "  " * depth
    inner = pad + "  "
    if root:
        lines = [f'{pad}<body name="{_PREFIX}{body.name}" {_POSE}>\n']
        if not asset.fixed_base:
            lines.append(f'{inner}<freejoint name="{_PREFIX}root"/>\n')
    else:
        joint = asset.joint_to(body.name)
        parent = asset.body(joint.parent)
        offset = [c - p for c, p in zip(body.origin, parent.origin, strict=True)]
        lines = [f'{pad}<body name="{_PREFIX}{body.name}" pos="{_vec(offset)}">\n']
        kind = "hinge" if joint.type is JointType.REVOLUTE else "slide"
        limits = "" if joint.limits is None else f' range="{_vec(joint.limits)}"'
        armature = f' armature="{_num(joint.armature)}"' if joint.armature else ""
        lines.append(
            f'{inner}<joint name="{_PREFIX}{joint.name}" type="{kind}" '
            f'axis="{_vec(AXIS_VECTOR[joint.axis])}"{limits}{armature}/>\n'
        )
    i = body.inertial
    lines.append(
        f'{inner}<inertial pos="{_vec(i.com)}" mass="{_num(i.mass)}" '
        f'diaginertia="{_vec(i.diagonal_inertia)}"/>\n'
    )
    lines += [f"{inner}{_geom(g)}\n" for g in body.geoms]
    lines += [
        _render_body(asset, child, depth + 1, root=False) for child in asset.children(body.name)
    ]
    lines.append(f"{pad}</body>\n")
    return "".join(lines)


def _geom(geom: Geom) -> str:
    head = (
        f'<geom name="{_PREFIX}{geom.name}" pos="{_vec(geom.pos)}" rgba="{_vec(geom.rgba)}" '
        + _friction(geom.material.friction)
    )
    match geom.shape:
        case Box(size=size):
            return f'{head} type="box" size="{_vec([s / 2 for s in size])}"/>'
        case Sphere(radius=r):
            return f'{head} type="sphere" size="{_num(r)}"/>'
        case Cylinder(radius=r, length=h, axis=axis) | Capsule(radius=r, length=h, axis=axis):
            kind = "cylinder" if isinstance(geom.shape, Cylinder) else "capsule"
            return (
                f'{head} type="{kind}" size="{_num(r)} {_num(h / 2)}" '
                f'zaxis="{_vec(AXIS_VECTOR[axis])}"/>'
            )
    raise TypeError(f"unknown shape {geom.shape!r}")
