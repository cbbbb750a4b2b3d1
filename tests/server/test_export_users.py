"""MJCF exports as users want them (issue 13): a camera showing the whole scene, a ``home`` key,
numbers written as short as they round-trip, and demo scenes whose objects do not interpenetrate.

The demo scenes are fetched from the real local server over HTTP and compiled in real MuJoCo.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import mujoco
import numpy as np

from gizmo_client import GizmoClient
from gizmo_client.models import ExportFormat, Scene
from gizmo_mujoco.demo import ARM_POSE, DEMO_SCENE, demo_additions
from gizmo_server.exports import PlacementInput, render_scene
from gizmo_server.rotation import Quaternion
from gizmo_server.writers.mjcf import COLLISION_GROUP, HOME_KEY, OVERVIEW_CAMERA

from .test_export_cases import PROMPTS, rendered_scene

DEMO_SCENES = ("Warehouse Workcell Alpha", "Pick Station Beta", "Mobile Inspection Cell")
PENETRATION = 1e-3  # metres: touching is fine, overlapping is not
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def demo_exports(client: GizmoClient) -> Iterator[tuple[str, Path]]:
    """Every demo scene's MJCF export, downloaded from the server."""
    by_name = {s.name: s.id for s in client.scenes.iter_all()}
    for name in DEMO_SCENES:
        yield name, client.fetch_scene(by_name[name], ExportFormat.MUJOCO_MJCF).path


def at_home(path_or_xml: Path | str) -> tuple[mujoco.MjModel, mujoco.MjData]:
    if isinstance(path_or_xml, Path):
        model = mujoco.MjModel.from_xml_path(str(path_or_xml))
    else:
        model = mujoco.MjModel.from_xml_string(path_or_xml)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key(HOME_KEY).id)
    mujoco.mj_forward(model, data)
    return model, data


def colliders(model: mujoco.MjModel) -> list[int]:
    return [g for g in range(model.ngeom) if model.geom_group[g] == COLLISION_GROUP]


def outside_view(model: mujoco.MjModel, data: mujoco.MjData) -> list[str]:
    """Colliders with an AABB corner outside the overview camera's view (a square image: the
    narrowest a landscape image is; the horizontal field of view is never smaller)."""
    cam = model.camera(OVERVIEW_CAMERA).id
    half = math.tan(math.radians(model.cam_fovy[cam]) / 2)
    position, axes = data.cam_xpos[cam], data.cam_xmat[cam].reshape(3, 3)
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
    missing = []
    for g in colliders(model):
        centre, halves = model.geom_aabb[g, :3], model.geom_aabb[g, 3:]
        corners = data.geom_xpos[g] + (centre + signs * halves) @ data.geom_xmat[g].reshape(3, 3).T
        local = (corners - position) @ axes  # camera frame: it looks along -z
        depth = -local[:, 2]
        if (depth <= 0).any() or (np.abs(local[:, :2]) > half * depth[:, None]).any():
            missing.append(model.geom(g).name)
    return missing


def overlaps(model: mujoco.MjModel, data: mujoco.MjData) -> list[tuple[str, str, float]]:
    """Collider pairs of different placements that penetrate by more than `PENETRATION`.

    Signed distances (`mj_geomDistance`), not `data.contact`: MuJoCo never collides two bodies
    welded to the world, so two fixed-base assets overlapping would go unnoticed in contacts."""
    found = []
    fromto = np.zeros(6)
    geoms = colliders(model)
    for i, a in enumerate(geoms):
        for b in geoms[i + 1 :]:
            root_a, root_b = model.body_rootid[model.geom_bodyid[[a, b]]]
            if root_a == root_b:
                continue
            distance = mujoco.mj_geomDistance(model, data, a, b, PENETRATION, fromto)
            if distance < -PENETRATION:
                found.append((model.geom(a).name, model.geom(b).name, round(distance, 4)))
    return found


def number_tokens(xml: str) -> Iterator[str]:
    """Every number in the file's attribute values."""
    for element in ET.fromstring(xml).iter():
        for value in element.attrib.values():
            yield from (t for t in value.split() if _NUMBER.fullmatch(t))


def scene_xmls(client: GizmoClient) -> Iterator[tuple[str, str]]:
    yield "writers scene", rendered_scene("mujoco_mjcf").data.decode()
    for name, path in demo_exports(client):
        yield name, path.read_text(encoding="utf-8")


def test_overview_camera_sees_every_object_at_home(client: GizmoClient) -> None:
    for name, xml in scene_xmls(client):
        model, data = at_home(xml)
        assert model.key(HOME_KEY).id == 0, name
        assert (
            model.cam_mode[model.camera(OVERVIEW_CAMERA).id] == mujoco.mjtCamLight.mjCAMLIGHT_FIXED
        )
        assert outside_view(model, data) == [], name


def test_overview_camera_frames_a_far_flung_scene_tightly() -> None:
    """Two crates 40 m apart: both in view, and neither is a speck (the view is not far wider)."""
    placements = [
        PlacementInput(
            f"pla_{i}", "ast_crate", "Crate", PROMPTS["crate"], pos, Quaternion.identity()
        )
        for i, pos in enumerate([(-20.0, 3.0, 0.0), (20.0, 3.0, 0.0)])
    ]
    model, data = at_home(render_scene("scn_far", "Far", placements, "mujoco_mjcf").data.decode())
    assert outside_view(model, data) == []
    cam = model.camera(OVERVIEW_CAMERA).id
    distance = float(np.linalg.norm(data.cam_xpos[cam] - (0.0, 3.0, 0.3)))
    assert 20.0 < distance < 20.0 * 1.2 / math.sin(math.radians(model.cam_fovy[cam]) / 2)


def test_a_scene_of_fixed_assets_still_has_its_home_key() -> None:
    table = PlacementInput(
        "pla_t", "ast_t", "Table", PROMPTS["table"], (1.0, 2.0, 0.0), Quaternion.identity()
    )
    model, _ = at_home(render_scene("scn_t", "T", [table], "mujoco_mjcf").data.decode())
    assert model.nq == 0 and model.nkey == 1


def test_numbers_are_written_as_short_as_they_round_trip(client: GizmoClient) -> None:
    for name, xml in scene_xmls(client):
        tokens = list(number_tokens(xml))
        assert len(tokens) > 1000, name
        for token in tokens:
            value = float(token)
            # Either repr's own text or an integer (repr's minus ".0"): never longer than repr.
            assert token in (repr(value), repr(value).removesuffix(".0")), (name, token)
            assert not (value == 0 and token.startswith("-")), (name, token)


def test_body_offsets_carry_no_subtraction_noise(client: GizmoClient) -> None:
    """A child body's offset is its origin minus its parent's: 0.5 - 0.207 must read 0.293."""
    for name, xml in scene_xmls(client):
        for body in ET.fromstring(xml).iter("body"):
            if "quat" in body.attrib:  # a placement's root: its pose is the API's, exactly
                continue
            for token in body.attrib["pos"].split():
                assert float(f"{float(token):.12g}") == float(token), (name, body.attrib["name"])


def test_demo_scenes_do_not_interpenetrate_at_home(client: GizmoClient) -> None:
    for name, path in demo_exports(client):
        model, data = at_home(path)
        assert overlaps(model, data) == [], name
        for contact in data.contact[: data.ncon]:
            roots = model.body_rootid[model.geom_bodyid[[contact.geom1, contact.geom2]]]
            if 0 not in roots and roots[0] != roots[1]:
                assert contact.dist > -PENETRATION, (name, contact.geom1, contact.geom2)


def test_live_demo_additions_land_clear_of_the_scene(client: GizmoClient) -> None:
    """What the live MuJoCo demo adds (in a copy of its scene) overlaps nothing either."""
    demo = client.scenes.get(next(s.id for s in client.scenes.iter_all() if s.name == DEMO_SCENE))
    copy = client.scenes.create("export users: demo additions")
    for placed in demo.assets:
        client.scenes.add_asset(copy.id, placed.asset_id, placed.position, placed.rotation)
    scene: Scene = client.scenes.get(copy.id)
    for addition in demo_additions(scene, 12):
        client.scenes.add_asset(copy.id, addition.asset_id, addition.position, addition.rotation)
    model, data = at_home(client.fetch_scene(copy.id, ExportFormat.MUJOCO_MJCF).path)
    assert model.nbody > 50
    assert overlaps(model, data) == []


def test_the_demo_arm_pose_is_plainly_visible(client: GizmoClient) -> None:
    """Driven to `ARM_POSE` as the live demo drives it, the arm's hand moves by decimetres."""
    model, data = at_home(dict(demo_exports(client))[DEMO_SCENE])
    drives = [
        i for i in range(model.nu) if model.actuator(i).name.startswith("Industrial_Arm_v1_1__")
    ]
    hand = model.body("Industrial_Arm_v1_1__link6").id
    start = data.xpos[hand].copy()
    data.ctrl[drives] = ARM_POSE
    while data.time < 1.5:
        mujoco.mj_step(model, data)
    joints = model.jnt_qposadr[model.actuator_trnid[drives, 0]]
    np.testing.assert_allclose(data.qpos[joints], ARM_POSE, atol=0.05)
    assert np.linalg.norm(data.xpos[hand] - start) > 0.4
