"""Names in exports (shared contract, "Names in exports"): readable, legal everywhere, stable.

Checked on real files: the USD prim names and every MJCF element name, read back with usd-core and
mujoco, plus the placement id each file keeps for tools that match by id.
"""

from __future__ import annotations

import re
from pathlib import Path

import mujoco
import pytest

from gizmo_server.exports import PlacementInput, render_scene
from gizmo_server.rotation import Quaternion
from gizmo_server.writers.names import placement_names

from .test_export_cases import open_usd

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSET_NAMES = [
    "Parallel Gripper",
    "Industrial Arm v1",
    "Parallel Gripper",
    "9 lives / Ω",
    "Café Crème",
    "Arm",
    "Arm 1",
    "Arm_1",
    "  ",
    "Arm",
]


def test_names_are_readable_identifiers_with_an_ordinal() -> None:
    assert placement_names(ASSET_NAMES) == [
        "Parallel_Gripper_1",
        "Industrial_Arm_v1_1",
        "Parallel_Gripper_2",
        "_9_lives_1",
        "Cafe_Creme_1",
        "Arm_1",
        "Arm_1_1",
        "Arm_1_2",
        "Asset_1",
        "Arm_2",
    ]


def test_names_never_clash_and_never_contain_the_separator() -> None:
    tricky = ["A", "A 1", "A_1", "A__1", "A-1", "a", "A", "A 1 1", "1", "_1", "__"] * 3
    names = placement_names(tricky)
    assert len(set(names)) == len(names)
    assert all(IDENTIFIER.fullmatch(n) and "__" not in n for n in names), names


def test_adding_placements_never_renames_earlier_ones() -> None:
    for count in range(1, len(ASSET_NAMES)):
        assert placement_names(ASSET_NAMES[:count]) == placement_names(ASSET_NAMES)[:count]


def _placements() -> list[PlacementInput]:
    prompts = ["parallel-jaw gripper", "a 6-DOF industrial arm", "parallel-jaw gripper"]
    return [
        PlacementInput(
            f"pla_{i}",
            f"ast_{i % 2}",
            ASSET_NAMES[i],
            prompts[i],
            (float(i), 0.0, 0.0),
            Quaternion(0.0, 0.0, 0.0, 1.0),
        )
        for i in range(3)
    ]


def test_usd_prims_are_named_readably_and_keep_the_placement_id(tmp_path: Path) -> None:
    stage = open_usd(render_scene("scn_n", "Names", _placements(), "isaac_sim_usd").data, tmp_path)
    tagged = {
        p.GetName(): p.GetAttribute("gizmo:placementId").Get()
        for p in stage.GetPrimAtPath("/World").GetChildren()
        if p.HasAttribute("gizmo:placementId")
    }
    assert tagged == {
        "Parallel_Gripper_1": "pla_0",
        "Industrial_Arm_v1_1": "pla_1",
        "Parallel_Gripper_2": "pla_2",
    }
    assert stage.GetPrimAtPath("/World/Parallel_Gripper_2").GetDisplayName() == "Parallel_Gripper_2"
    assert all(IDENTIFIER.fullmatch(p.GetName()) for p in stage.Traverse())


def mjcf_names(model: mujoco.MjModel) -> list[str]:
    counts = {
        mujoco.mjtObj.mjOBJ_BODY: model.nbody,
        mujoco.mjtObj.mjOBJ_JOINT: model.njnt,
        mujoco.mjtObj.mjOBJ_GEOM: model.ngeom,
        mujoco.mjtObj.mjOBJ_ACTUATOR: model.nu,
        mujoco.mjtObj.mjOBJ_LIGHT: model.nlight,
        mujoco.mjtObj.mjOBJ_TEXT: model.ntext,
    }
    return [mujoco.mj_id2name(model, obj, i) or "" for obj, n in counts.items() for i in range(n)]


def placement_ids(model: mujoco.MjModel) -> dict[str, str]:
    """Readable name -> placement id, from the ``<name>__placement_id`` custom texts."""
    out = {}
    for i in range(model.ntext):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_TEXT, i)
        start, size = model.text_adr[i], model.text_size[i]
        data = bytes(model.text_data[start : start + size - 1]).decode()
        out[name.removesuffix("__placement_id")] = data
    return out


def test_mjcf_names_are_prefixed_readably_without_slashes_and_keep_the_id() -> None:
    xml = render_scene("scn_n", "Names", _placements(), "mujoco_mjcf").data.decode()
    model = mujoco.MjModel.from_xml_string(xml)
    names = [n for n in mjcf_names(model) if n not in ("world", "floor", "sun")]
    assert names and all(IDENTIFIER.fullmatch(n) for n in names), names
    prefixes = {"Parallel_Gripper_1__", "Industrial_Arm_v1_1__", "Parallel_Gripper_2__"}
    assert all(n[: n.index("__") + 2] in prefixes for n in names), names
    assert model.body("Parallel_Gripper_2__finger_left").id > 0
    assert model.joint("Industrial_Arm_v1_1__joint1").id >= 0
    assert placement_ids(model) == {
        "Parallel_Gripper_1": "pla_0",
        "Industrial_Arm_v1_1": "pla_1",
        "Parallel_Gripper_2": "pla_2",
    }


@pytest.mark.parametrize("fmt", ["isaac_sim_usd", "mujoco_mjcf"])
def test_names_stay_stable_from_one_export_to_the_next(fmt: str) -> None:
    placements = _placements()
    first = render_scene("scn_n", "Names", placements[:2], fmt).data
    again = render_scene("scn_n", "Names", placements[:2], fmt).data
    assert first == again, "the same scene exports to the same bytes"
