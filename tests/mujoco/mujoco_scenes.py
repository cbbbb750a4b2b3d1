"""Test helpers: real MJCF scenes written the way the server exports them (names prefixed
`<placement id>/`) for tests that need no server, and a scene copier for those that do."""

from __future__ import annotations

from dataclasses import dataclass

from gizmo_client import GizmoClient
from gizmo_client.models import Quaternion, Scene

# 30 degrees about an oblique axis, and 100 degrees of yaw: never identity, never 90 degrees.
TILTED = Quaternion(x=0.1830127, y=0.1830127, z=0.1830127, w=0.9486833)
YAWED = Quaternion.from_euler_degrees(0.0, 0.0, 100.0)


@dataclass(frozen=True)
class Placement:
    pid: str
    kind: str  # "arm" (fixed base: hinge, ball, slide, actuators), "crate" (free), "target" (mocap)
    position: tuple[float, float, float]
    rotation: Quaternion = TILTED


def _pose(p: Placement) -> str:
    pos = " ".join(f"{v:.9g}" for v in p.position)
    quat = " ".join(f"{v:.9g}" for v in p.rotation.to_wxyz())
    return f'pos="{pos}" quat="{quat}"'


def _arm(p: Placement) -> str:
    n = p.pid
    return f"""
    <body name="{n}/base" {_pose(p)}>
      <geom name="{n}/base_geom" type="cylinder" size="0.08 0.05" rgba="0.8 0.3 0.2 1"/>
      <body name="{n}/link1" pos="0 0 0.1">
        <joint name="{n}/shoulder" type="hinge" axis="0 0 1" damping="0.5"/>
        <geom name="{n}/link1_geom" type="capsule" fromto="0 0 0 0.3 0 0" size="0.03"/>
        <body name="{n}/link2" pos="0.3 0 0">
          <joint name="{n}/wrist" type="ball" damping="0.2"/>
          <geom name="{n}/link2_geom" type="capsule" fromto="0 0 0 0.2 0 0" size="0.025"/>
          <body name="{n}/finger" pos="0.2 0 0">
            <joint name="{n}/slider" type="slide" axis="1 0 0" range="-0.05 0.05" damping="1"/>
            <geom name="{n}/finger_geom" type="box" size="0.02 0.01 0.01" mass="0.05"/>
          </body>
        </body>
      </body>
    </body>"""


def _arm_actuators(p: Placement) -> str:
    n = p.pid
    return f"""
    <position name="{n}/shoulder_drive" joint="{n}/shoulder" kp="20"/>
    <intvelocity name="{n}/slider_drive" joint="{n}/slider" kp="50" actrange="-0.05 0.05"/>"""


def _crate(p: Placement) -> str:
    n = p.pid
    return f"""
    <body name="{n}/crate" {_pose(p)}>
      <freejoint name="{n}/float"/>
      <geom name="{n}/crate_geom" type="box" size="0.1 0.08 0.06" rgba="0.6 0.45 0.2 1"/>
    </body>"""


def _target(p: Placement) -> str:
    n = p.pid
    return f"""
    <body name="{n}/target" mocap="true" {_pose(p)}>
      <geom name="{n}/target_geom" type="sphere" size="0.03" contype="0" conaffinity="0"/>
    </body>"""


_BODY = {"arm": _arm, "crate": _crate, "target": _target}


def scene_xml(placements: list[Placement], *, equality: bool = True) -> str:
    """A complete scene: floor, light, the placements, actuators and (for arms) an equality."""
    bodies = "".join(_BODY[p.kind](p) for p in placements)
    actuators = "".join(_arm_actuators(p) for p in placements if p.kind == "arm")
    equalities = "".join(
        f'\n    <connect name="{p.pid}/tether" body1="{p.pid}/finger" body2="world" '
        f'anchor="0 0 0" active="false"/>'
        for p in placements
        if p.kind == "arm" and equality
    )
    return f"""<mujoco model="test scene">
  <option timestep="0.002"/>
  <worldbody>
    <light pos="0 0 3" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="3 3 0.1"/>{bodies}
  </worldbody>
  <actuator>{actuators}
  </actuator>
  <equality>{equalities}
  </equality>
</mujoco>
"""


ARM = Placement("pla_arm", "arm", (0.4, -0.2, 0.05))
CRATE = Placement("pla_crate", "crate", (-0.5, 0.3, 0.4), YAWED)
TARGET = Placement("pla_target", "target", (0.2, 0.5, 0.6))
NEW_ARM = Placement("pla_new", "arm", (-0.3, -0.6, 0.05), YAWED)


def copy_scene(client: GizmoClient, source: Scene, name: str) -> Scene:
    """A new scene holding the same placements (tests mutate it, never the shared demo)."""
    scene = client.scenes.create(name)
    for placement in source.assets:
        scene = client.scenes.add_asset(
            scene.id, placement.asset_id, placement.position, placement.rotation
        )
    return scene
