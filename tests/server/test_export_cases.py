"""The export entry points' contract, plus the scenes the writer tests share.

The helpers at the top (prompts for every kind, placements with skew rotations, cached renders)
are imported by the other ``test_writers_*`` modules; the tests below check what
``gizmo_server.exports`` promises the HTTP app: formats, file names, asset exports at the origin,
and clear errors for bad input.
"""

from __future__ import annotations

import functools
import math
import random
import re
from pathlib import Path

import mujoco
import pytest
from pxr import Usd, UsdPhysics

from gizmo_client.models import Quaternion
from gizmo_server.exports import (
    PlacementInput,
    RenderedFile,
    asset_export_formats,
    render_asset,
    render_scene,
)
from gizmo_server.writers.names import placement_names

PROMPTS = {
    "arm": "a 6-DOF industrial arm for palletising",
    "arm7": "seven-axis collaborative robot arm",
    "gripper": "parallel-jaw gripper with aluminium fingers",
    "conveyor": "roller conveyor, 2 m long",
    "table": "steel-legged packing table",
    "shelf": "warehouse shelf with four levels",
    "bin": "blue plastic picking bin",
    "crate": "wooden shipping crate",
    "box": "small cardboard box",
    "mobile": "wheeled mobile base (AMR)",
}
SCENE_ID = "scn_writers"
SCENE_NAME = "Writers test <scene> & co"


def random_rotation(rng: random.Random) -> Quaternion:
    """A uniformly random orientation (never identity or a right angle in practice)."""
    while True:
        comps = [rng.gauss(0.0, 1.0) for _ in range(4)]
        q = Quaternion(x=comps[0], y=comps[1], z=comps[2], w=comps[3])
        if 0.2 < q.angle_to(Quaternion.identity()) < math.pi - 0.2:
            return q


@functools.cache
def scene_placements() -> tuple[PlacementInput, ...]:
    """Every kind placed twice on a 4 m grid, up to 20 m out, at random heights and rotations."""
    rng = random.Random(20241112)
    placements = []
    for i, (key, prompt) in enumerate(sorted(PROMPTS.items()) * 2):
        position = (
            4.0 * (i % 5) - 8.0 + rng.uniform(-0.5, 0.5),
            4.0 * (i // 5) - 8.0 + rng.uniform(-0.5, 0.5),
            rng.uniform(0.5, 2.5),
        )
        placements.append(
            PlacementInput(
                f"pla_{key}_{i}",
                f"ast_{key}",
                f"{key} «{i}»",
                prompt,
                position,
                random_rotation(rng),
            )
        )
    return tuple(placements)


@functools.cache
def rendered_scene(fmt: str) -> RenderedFile:
    return render_scene(SCENE_ID, SCENE_NAME, scene_placements(), fmt)


@functools.cache
def export_name(placement_id: str) -> str:
    """The readable name the scene exports give placement ``placement_id``."""
    placements = scene_placements()
    names = placement_names(p.asset_name for p in placements)
    return names[[p.placement_id for p in placements].index(placement_id)]


def usd_path(placement_id: str) -> str:
    """Where the USD scene export puts the placement: its readable name under /World."""
    return f"/World/{export_name(placement_id)}"


def mjcf_prefix(placement_id: str) -> str:
    """What every MJCF name of the placement starts with: its readable name and ``__``."""
    return f"{export_name(placement_id)}__"


def open_usd(data: bytes, directory: Path) -> Usd.Stage:
    path = directory / "scene.usd"
    path.write_bytes(data)
    return Usd.Stage.Open(str(path))


def test_every_asset_offers_every_format() -> None:
    for prompt in PROMPTS.values():
        assert asset_export_formats(prompt) == ["isaac_sim_usd", "isaac_sim_urdf", "mujoco_mjcf"]


def test_scene_file_names_and_kinds_of_content() -> None:
    usd, mjcf = rendered_scene("isaac_sim_usd"), rendered_scene("mujoco_mjcf")
    assert usd.filename == "scene.usd" and usd.data.startswith(b"PXR-USDC")
    assert mjcf.filename == "scene.xml" and mjcf.data.startswith(b"<mujoco model=")


@pytest.mark.parametrize("fmt", ["isaac_sim_usd", "isaac_sim_urdf", "mujoco_mjcf"])
def test_asset_export_is_the_asset_alone_at_the_origin(fmt: str, tmp_path: Path) -> None:
    rendered = render_asset("ast_arm1", "Arm One", PROMPTS["arm"], fmt)
    assert (
        rendered.filename
        == "asset." + {"isaac_sim_usd": "usd", "isaac_sim_urdf": "urdf", "mujoco_mjcf": "xml"}[fmt]
    )
    if fmt == "isaac_sim_usd":
        stage = open_usd(rendered.data, tmp_path)
        root = stage.GetPrimAtPath("/World/Arm_One_1")
        assert root.GetAttribute("gizmo:placementId").Get() == "ast_arm1"
        assert root.GetAttribute("gizmo:assetName").Get() == "Arm One"
        assert root.GetAttribute("xformOp:translate").Get() == (0.0, 0.0, 0.0)
        assert [p.GetName() for p in stage.GetPrimAtPath("/World").GetChildren()] == [
            "PhysicsMaterials",
            "Looks",
            "Arm_One_1",
        ]
    else:
        model = mujoco.MjModel.from_xml_string(rendered.data.decode())
        prefix = "Arm_One_1__" if fmt == "mujoco_mjcf" else ""
        assert model.body(f"{prefix}link1").id > 0
        assert model.njnt == 6


def test_empty_scene_is_still_a_valid_file(tmp_path: Path) -> None:
    stage = open_usd(render_scene("scn_e", "Empty", [], "isaac_sim_usd").data, tmp_path)
    assert [p.GetName() for p in stage.GetPrimAtPath("/World").GetChildren()] == [
        "PhysicsMaterials",
        "Looks",
    ]
    assert stage.GetPrimAtPath("/PhysicsScene").IsA(UsdPhysics.Scene)
    model = mujoco.MjModel.from_xml_string(
        render_scene("scn_e", "Empty", [], "mujoco_mjcf").data.decode()
    )
    assert model.nbody == 1


def _one(
    placement_id: str = "pla_1",
    position: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> PlacementInput:
    return PlacementInput(
        placement_id, "ast_1", "Crate", "crate", position, Quaternion(x=0.1, y=0.2, z=0.3, w=0.9)
    )


@pytest.mark.parametrize(
    ("placements", "fmt", "message"),
    [
        (
            [_one()],
            "isaac_sim_urdf",
            "unsupported export format 'isaac_sim_urdf'; use one of isaac_sim_usd, mujoco_mjcf",
        ),
        ([_one()], "usd", "unsupported export format 'usd'"),
        ([_one("pla 1")], "mujoco_mjcf", "placement id 'pla 1' cannot name a USD prim"),
        ([_one("1pla")], "isaac_sim_usd", "not starting with a digit"),
        ([_one(), _one()], "mujoco_mjcf", "placement id 'pla_1' appears twice"),
        ([_one(position=(0.0, math.nan, 0.0))], "isaac_sim_usd", "send three finite numbers"),
    ],
)
def test_bad_scene_input_is_refused_with_a_clear_message(
    placements: list[PlacementInput], fmt: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        render_scene("scn_bad", "Bad", placements, fmt)


def test_bad_asset_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="unsupported export format 'sdf'"):
        render_asset("ast_1", "Crate", "crate", "sdf")
    with pytest.raises(ValueError, match="asset id 'ast-1' cannot name"):
        render_asset("ast-1", "Crate", "crate", "mujoco_mjcf")
