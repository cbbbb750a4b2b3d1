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
- Looks: each geom is drawn by a visual twin ``<name>__<geom>_visual``, a ``<mesh>`` asset
  (inline ``vertex``/``normal``/``texcoord``/``face`` as real exports have them, one per distinct
  shape, shared by every placement) with ``contype=0 conaffinity=0 group=2`` and the look's
  ``<material>``; the primitive geoms collide (group 3, hidden by default viewers). With textures
  the materials carry PBR ``<layer>``s (rgb, normal, roughness) naming ``textures/*.png``
  relative to the XML file.
- A fixed camera ``overview`` in the world body framing every placement at qpos0
  (``writers.camera``).
- A keyframe ``home`` (every free body at its placement, every joint at 0) and, per movable
  object, ``framepos``/``framequat`` sensors ``pos_<name>``/``quat_<name>`` on its root body.
- An opening comment (the root's first child) with the scene id and name, units, up axis,
  gravity and friction; no time, so one scene always gives the same bytes.
- A ground plane ``floor`` at z = 0 and a light; ``implicitfast`` integration.
- Physics from the description, as the USD export has it: the time step, gravity and solver
  iterations of ``SIMULATION``, each geom's material friction (sliding; MuJoCo's default
  torsional and rolling terms), joint armature.

Speed: generated text, not MjSpec. Each distinct asset is rendered once with a prefix marker and
each placement is a string substitution (measured in docs/bench/export.md: at 1000 placements
building an MjSpec and calling ``to_xml`` is several times slower, because ``to_xml`` compiles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import numpy as np

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
    Shape,
    Simulation,
    Sphere,
)
from gizmo_server.writers.camera import FOVY_DEGREES, Overview, overview
from gizmo_server.writers.materials import Look, look, scene_looks
from gizmo_server.writers.meshes import shape_mesh
from gizmo_server.writers.names import SEPARATOR, placement_names
from gizmo_server.writers.textures import TextureRole

_PREFIX = "\x00"  # stands for "<readable name>__" in a rendered asset template
_POSE = "\x01"  # stands for the root body's pos/quat attributes
PLACEMENT_ID = "placement_id"  # <custom><text name="<name>__placement_id" data="<id>"/>

HOME_KEY = "home"
OVERVIEW_CAMERA = "overview"
VISUAL_SUFFIX = "_visual"
VISUAL_GROUP, COLLISION_GROUP = 2, 3
_LAYER_ROLES = {
    TextureRole.BASE_COLOR: "rgb",
    TextureRole.NORMAL: "normal",
    TextureRole.ROUGHNESS: "roughness",
}

# Inside the root element, so the file still starts with "<mujoco" for format sniffers.
_COMMENT = """  <!--
    Exported by gizmo-server, a local stand-in for Gizmo (not the hosted service).
    Scene id : {scene_id} | Scene name : {name}
    Units : meters, kilograms, seconds, radians | Up-axis : Z
    Gravity : 0 0 {gravity} | Default friction : {friction} | Restitution : 0
    Objects : {objects} ({movable} movable, free joints) | Keyframe : {key}
    Textures : {textures}
  -->
"""
_HEADER = """<mujoco model={model}>
{comment}  <compiler angle="radian" autolimits="true"/>
  <option timestep="{timestep}" gravity="0 0 {gravity}" iterations="{iterations}"
          integrator="implicitfast"/>
  <visual><global offwidth="1280" offheight="960"/></visual>
{assets}  <worldbody>
    <light name="sun" pos="0 0 10" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="0 0 0.05" rgba="0.8 0.8 0.8 1" {friction}/>
    <camera name="{camera}" mode="fixed" pos="{camera_pos}" xyaxes="{camera_axes}"
            fovy="{fovy}"/>
"""
# MuJoCo's default torsional and rolling friction; the description gives the sliding term.
_SPIN_ROLL = (0.005, 0.0001)


def write_mjcf(
    scene_id: str,
    scene_name: str,
    placements: Sequence[Placement],
    *,
    texture_size: int | None = None,
) -> bytes:
    """The scene as MJCF XML bytes (UTF-8); textures, if sized, are named, not included."""
    templates: dict[int, tuple[str, str, str]] = {}
    bodies, excludes, actuators, ids, qpos, sensors = [], [], [], [], [], []
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
        asset = placement.asset
        if not asset.fixed_base:
            qpos += [*placement.position, w, x, y, z]
            root = f"{prefix}{asset.root.name}"
            sensors.append(
                f'    <framepos name="pos_{name}" objtype="xbody" objname="{root}"/>\n'
                f'    <framequat name="quat_{name}" objtype="xbody" objname="{root}"/>\n'
            )
        qpos += [0.0] * len(asset.joints)
    assets = list({id(p.asset): p.asset for p in placements}.values())
    model = quoteattr("".join(ch for ch in scene_name if ch.isprintable()))
    parts = [
        _header(
            model,
            SIMULATION,
            _comment(scene_id, scene_name, placements, texture_size),
            _asset_section(assets, texture_size),
            overview(placements),
        ),
        *bodies,
        "  </worldbody>\n",
    ]
    parts += ["  <contact>\n", *excludes, "  </contact>\n"] if any(excludes) else []
    parts += ["  <actuator>\n", *actuators, "  </actuator>\n"] if any(actuators) else []
    parts += ["  <sensor>\n", *sensors, "  </sensor>\n"] if sensors else []
    if placements:  # even without a degree of freedom: users reset to "home" by name
        values = f' qpos="{_vec(qpos)}"' if qpos else ""
        parts.append(f'  <keyframe>\n    <key name="{HOME_KEY}"{values}/>\n  </keyframe>\n')
    parts += ["  <custom>\n", *ids, "  </custom>\n"] if ids else []
    parts.append("</mujoco>\n")
    return "".join(parts).encode("utf-8")


def _comment(
    scene_id: str, scene_name: str, placements: Sequence[Placement], texture_size: int | None
) -> str:
    def safe(text: str) -> str:  # "--" may not appear inside an XML comment
        return "".join(ch for ch in text if ch.isprintable()).replace("--", "- -")

    movable = sum(not p.asset.fixed_base for p in placements)
    return _COMMENT.format(
        scene_id=safe(scene_id),
        name=safe(scene_name),
        gravity=_num(-SIMULATION.gravity),
        friction=_num(SIMULATION.ground.friction),
        objects=len(placements),
        movable=movable,
        key=HOME_KEY if placements else "none",
        textures=f"PBR {texture_size} px in textures/" if texture_size else "none (colours only)",
    )


def _asset_section(assets: Sequence[AssetDescription], texture_size: int | None) -> str:
    """Meshes of every distinct shape, the looks' materials and their textures."""
    looks = scene_looks(assets)
    lines = ["  <asset>\n"]
    if texture_size is not None:  # one <texture> per file: looks drawn alike share them
        files = dict.fromkeys(
            item.texture_path(role, texture_size) for item in looks for role in _LAYER_ROLES
        )
        lines += [f'    <texture name="{_texture(f)}" type="2d" file="{f}"/>\n' for f in files]
    for item in looks:
        lines += _material(item, texture_size)
    shapes = dict.fromkeys(g.shape for a in assets for b in a.bodies for g in b.geoms)
    lines += [_mesh(shape) for shape in shapes]
    lines.append("  </asset>\n")
    return "".join(lines)


def _material(item: Look, texture_size: int | None) -> list[str]:
    s = item.surface
    attrs = (
        f'name="{item.name}" rgba="{_vec(item.rgba)}" specular="0.5" shininess="0.5" '
        f'metallic="{_num(s.metallic)}" roughness="{_num(s.roughness)}"'
    )
    if texture_size is None:
        return [f"    <material {attrs}/>\n"]
    layers = [
        f'      <layer texture="{_texture(item.texture_path(role, texture_size))}" '
        f'role="{layer_role}"/>\n'
        for role, layer_role in _LAYER_ROLES.items()
    ]
    return [f"    <material {attrs}>\n", *layers, "    </material>\n"]


def _texture(path: str) -> str:
    """A texture's MJCF name: its file's stem (unique, since files are named by content)."""
    return path.rsplit("/", 1)[-1].removesuffix(".png")


def mesh_name(shape: Shape) -> str:
    """The one ``<mesh>`` asset of a shape, named by its kind and a digest of its dimensions."""
    digest = hashlib.sha256(repr(shape).encode()).hexdigest()[:10]
    return f"{type(shape).__name__.lower()}_{digest}"


@lru_cache(maxsize=512)
def _mesh(shape: Shape) -> str:
    """A shape's ``<mesh>`` line; memoised, since formatting its floats was 90 % of a
    10-placement export and every revision of a scene repeats the same shapes."""
    tri = shape_mesh(shape)
    return (
        f'    <mesh name="{mesh_name(shape)}" vertex="{_array(tri.points)}" '
        f'normal="{_array(tri.normals)}" texcoord="{_array(tri.uvs)}" '
        f'face="{" ".join(map(str, tri.faces.ravel().tolist()))}"/>\n'
    )


def _array(values: Iterable[float] | np.ndarray) -> str:
    """Mesh data at 7 significant digits: float32 precision, what MuJoCo stores (``+ 0.0``
    writes a normal's -0.0 as 0)."""
    return " ".join(f"{v:.7g}" for v in (np.asarray(values, dtype=float).ravel() + 0.0).tolist())


def _header(model: str, sim: Simulation, comment: str, assets: str, camera: Overview) -> str:
    return _HEADER.format(
        model=model,
        comment=comment,
        assets=assets,
        camera=OVERVIEW_CAMERA,
        camera_pos=_vec(camera.pos),
        camera_axes=_vec(camera.xyaxes),
        fovy=_num(FOVY_DEGREES),
        timestep=_num(sim.timestep),
        gravity=_num(-sim.gravity),
        iterations=sim.solver_iterations,
        friction=_friction(sim.ground.friction),
    )


def _friction(sliding: float) -> str:
    return f'friction="{_vec((sliding, *_SPIN_ROLL))}"'


def _num(value: float) -> str:
    """Shortest text that parses back to the same double (keeps poses exact); zero is ``0``."""
    value = float(value)
    return "0" if value == 0.0 else repr(value)


def _difference(a: float, b: float) -> float:
    """``a - b`` for derived lengths (body offsets): both taken to 12 significant digits (far
    below a nanometre) and subtracted as decimals, so 0.5 - 0.207 is 0.293, not
    0.29300000000000004. Poses are never rounded."""
    return float(Decimal(f"{a:.12g}") - Decimal(f"{b:.12g}"))


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
        offset = [_difference(c, p) for c, p in zip(body.origin, parent.origin, strict=True)]
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
    """The collision primitive and its visual mesh twin."""
    visual = (
        f'<geom name="{_PREFIX}{geom.name}{VISUAL_SUFFIX}" type="mesh" '
        f'mesh="{mesh_name(geom.shape)}" pos="{_vec(geom.pos)}" material="{look(geom).name}" '
        f'contype="0" conaffinity="0" group="{VISUAL_GROUP}"/>'
    )
    return f"{_collider(geom)} {visual}"


def _collider(geom: Geom) -> str:
    head = (
        f'<geom name="{_PREFIX}{geom.name}" pos="{_vec(geom.pos)}" rgba="{_vec(geom.rgba)}" '
        f'group="{COLLISION_GROUP}" ' + _friction(geom.material.friction)
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
