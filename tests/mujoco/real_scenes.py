"""Test fixtures shaped like the newer generation's real MJCF exports (see docs/mujoco.md):
a comment header, compiler/option/size/default blocks, a skybox, materials `mat_<n>` (one with a
PNG texture next to the XML, applied directly and as a PBR `<layer>`), inline meshes
`bake_<object>_<n>`, world bodies `<slug>_<n>` with and without `<freejoint/>` (unnamed, as real
exports write them), a hinged object, keyframes `simstudio_home`/`simstudio_reset`, and frame
sensors per movable body. Written by test code; no one's published file is copied."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["FREE_BODIES", "HOME_LIFT", "RealScene", "write_real_scene"]

FREE_BODIES = ("cardboard_box_0", "tin_can_1", "textured_crate_2")
HOME_LIFT = 0.25  # simstudio_home lifts every free body this far above its rest pose
_STATIC = (("floor_slab_main", (0.0, 0.0, -0.05), (4.0, 4.0, 0.05)),
           ("north_wall_box", (0.0, 4.0, 1.0), (4.0, 0.1, 1.0)))  # fmt: skip


@dataclass(frozen=True)
class RealScene:
    path: Path
    texture: Path
    free_bodies: tuple[str, ...]


def _mesh_box(half: tuple[float, float, float]) -> tuple[str, str]:
    """Vertex and face attributes of a closed box mesh (8 vertices, 12 triangles)."""
    hx, hy, hz = half
    vertices = [(sx * hx, sy * hy, sz * hz) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    faces = [(0, 2, 1), (1, 2, 3), (4, 5, 6), (5, 7, 6), (0, 1, 4), (1, 5, 4),
             (2, 6, 3), (3, 6, 7), (0, 4, 2), (2, 4, 6), (1, 3, 5), (3, 7, 5)]  # fmt: skip
    return (" ".join(f"{v:.4f}" for vertex in vertices for v in vertex),
            " ".join(str(i) for face in faces for i in face))  # fmt: skip


def _mesh_cylinder(radius: float, half_height: float, sides: int = 16) -> tuple[str, str]:
    ring = [(radius * math.cos(2 * math.pi * k / sides), radius * math.sin(2 * math.pi * k / sides))
            for k in range(sides)]  # fmt: skip
    vertices = [(x, y, z) for z in (-half_height, half_height) for x, y in ring]
    faces = []
    for k in range(sides):
        a, b = k, (k + 1) % sides
        faces += [(a, b, sides + a), (b, sides + b, sides + a)]
    return (" ".join(f"{v:.4f}" for vertex in vertices for v in vertex),
            " ".join(str(i) for face in faces for i in face))  # fmt: skip


def _write_texture(path: Path) -> None:
    """A 64x64 two-colour pattern: any sampler shows it, and it is not one flat colour."""
    cells = (np.indices((64, 64)).sum(axis=0) // 8) % 2
    pixels = np.where(cells[..., None] == 1, [200, 120, 40], [90, 50, 20]).astype(np.uint8)
    Image.fromarray(pixels).save(path, format="PNG")


def write_real_scene(
    folder: Path, *, texture_name: str = "crate_baseColor_1a2b3c.png"
) -> RealScene:
    """Write `scene.xml` and its PNG texture into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    texture = folder / texture_name
    _write_texture(texture)
    box_vertex, box_face = _mesh_box((0.15, 0.12, 0.1))
    can_vertex, can_face = _mesh_cylinder(0.05, 0.07)
    crate_vertex, crate_face = _mesh_box((0.2, 0.2, 0.2))
    free = (("cardboard_box_0", "mat_1", (0.6, -0.4, 0.1), 0.3),
            ("tin_can_1", "mat_2", (-0.5, 0.3, 0.07), 1.1),
            ("textured_crate_2", "mat_3", (0.0, 0.9, 0.2), -0.6))  # fmt: skip
    bodies, sensors = [], []
    for name, material, (x, y, z), yaw in free:
        quat = f"{math.cos(yaw / 2):.6f} 0 0 {math.sin(yaw / 2):.6f}"
        bodies.append(f"""
    <!-- semantics: class=object interactable=true physics_type=dynamic -->
    <body name="{name}" pos="{x} {y} {z}" quat="{quat}">
      <freejoint/>
      <geom type="mesh" mesh="bake_{name}" material="{material}" mass="0.5"/>
    </body>""")
        sensors += [
            f'<{kind} name="{prefix}_{name}" objtype="body" objname="{name}"/>'
            for kind, prefix in (("framepos", "pos"), ("framequat", "quat"),
                                 ("framelinvel", "linvel"), ("frameangvel", "angvel"))
        ]  # fmt: skip
    statics = "".join(f"""
    <!-- semantics: class=architecture interactable=false physics_type=static -->
    <body name="{name}_{i}" pos="{' '.join(map(str, pos))}" quat="1 0 0 0">
      <geom type="box" size="{' '.join(map(str, size))}" material="mat_0"/>
    </body>""" for i, (name, pos, size) in enumerate(_STATIC))  # fmt: skip
    rest = [(x, y, z, math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
            for _, _, (x, y, z), yaw in free]  # fmt: skip
    home = [(x, y, z + HOME_LIFT, *q) for x, y, z, *q in rest]
    door = 0.0

    def key(poses: list[tuple[float, ...]], hinge: float) -> str:
        return " ".join(f"{v:.6f}" for pose in poses for v in pose) + f" {hinge}"

    xml = f"""<?xml version="1.0" ?>
<!--
  World id        : wld_7f3a9c1e
  Scene type      : indoor_room
  Exported        : 2026-11-30T14:02:11Z
  Units : meters | Up-axis (source) : Y -> Z-up (MuJoCo)
  Gravity         : 0 0 -9.81
  Default friction: 0.8   restitution: 0.1
  Export target   : both
  Compile profile : preview
-->
<mujoco model="simstudio_scene">
  <compiler angle="radian" autolimits="true" balanceinertia="true" boundmass="0.001"
            boundinertia="1e-6"/>
  <option timestep="0.002" integrator="implicitfast" cone="elliptic" impratio="10"
          solver="Newton" iterations="50" tolerance="1e-8" ccd_iterations="50"
          ccd_tolerance="1e-6" sdf_iterations="10" sdf_initpoints="40">
    <flag energy="enable" nativeccd="enable" island="enable"/>
  </option>
  <size nconmax="500" njmax="2000"/>
  <default>
    <geom condim="6" friction="0.8 0.02 0.001" solref="0.02 1" solimp="0.9 0.95 0.001"/>
    <joint armature="0.01" damping="0.1"/>
  </default>
  <visual>
    <headlight ambient="0.3 0.3 0.3" diffuse="0.5 0.5 0.5" specular="0.1 0.1 0.1"/>
    <!-- Lighting: a soft headlight plus a key and a rim light, so that objects read well
         in preview renders without baked lighting. -->
  </visual>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="0.6 0.7 0.9" rgb2="0.1 0.1 0.2"
             width="256" height="256"/>
    <texture name="crate_base" type="2d" file="{texture.name}"/>
    <!-- simstudio: surfaceType=concrete -->
    <material name="mat_0" rgba="0.55 0.55 0.52 1" specular="0.2" shininess="0.1"
              metallic="0" roughness="0.9"/>
    <!-- simstudio: surfaceType=cardboard -->
    <material name="mat_1" rgba="0.7 0.55 0.35 1" specular="0.1" shininess="0.2"
              metallic="0" roughness="0.8"/>
    <!-- simstudio: surfaceType=metal -->
    <material name="mat_2" rgba="0.75 0.75 0.8 1" specular="0.8" shininess="0.9"
              metallic="1" roughness="0.3"/>
    <!-- simstudio: surfaceType=wood -->
    <material name="mat_3" texture="crate_base" texrepeat="2 2" texuniform="true"
              specular="0.3" shininess="0.3" metallic="0" roughness="0.7"/>
    <material name="mat_4" texrepeat="1 1" specular="0.2" metallic="0" roughness="0.6">
      <layer texture="crate_base" role="rgb"/>
    </material>
    <mesh name="bake_cardboard_box_0" vertex="{box_vertex}" face="{box_face}"/>
    <mesh name="bake_tin_can_1" vertex="{can_vertex}" face="{can_face}"/>
    <mesh name="bake_textured_crate_2" vertex="{crate_vertex}" face="{crate_face}"/>
  </asset>
  <worldbody>
    <light name="key_light" pos="2 -2 3" dir="-0.5 0.5 -1" diffuse="0.7 0.7 0.7"/>
    <light name="rim_light" pos="-2 2 3" dir="0.5 -0.5 -1" diffuse="0.3 0.3 0.35"/>
    {statics.strip()}
    {"".join(bodies).strip()}
    <!-- semantics: class=object interactable=true physics_type=articulation -->
    <body name="cabinet_door_3_articulation_interactable" pos="-1.2 -1.0 0.5" quat="1 0 0 0">
      <joint name="cabinet_door_3_hinge" type="hinge" axis="0 0 1" range="0 1.6"/>
      <geom type="box" size="0.02 0.3 0.45" pos="0 0.3 0" material="mat_4"/>
    </body>
  </worldbody>
  <contact>
    <exclude body1="floor_slab_main_0" body2="north_wall_box_1"/>
  </contact>
  <keyframe>
    <key name="simstudio_home" qpos="{key(home, 0.8)}"/>
    <key name="simstudio_reset" qpos="{key(rest, door)}"/>
  </keyframe>
  <sensor>
    {chr(10).join("    " + s for s in sensors).strip()}
  </sensor>
</mujoco>
"""
    path = folder / "scene.xml"
    path.write_text(xml)
    return RealScene(path, texture, FREE_BODIES)
