"""Scenes without API placements (the newer generation's real exports, or a file checked without
its scene object) are checked on their own terms: a real-style USD + MJCF pair passes with zero
findings, each planted defect is caught by name; the local server's newer-generation scenes are
also checked against their `include_record` poses."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pxr import Sdf, Usd, UsdGeom
from real_usd import RealPair, write_real_pair

from gizmo_client.cli import main
from gizmo_client.models import Scene, Vector3
from gizmo_loadtest.findings import CROSS, MJCF, USD, SceneResult
from gizmo_loadtest.options import CheckOptions
from gizmo_loadtest.runner import check_files
from gizmo_server.embedded import LocalServer

OPTIONS = CheckOptions(steps=200, thumbnails=False)
NO_PLACEMENTS = Scene(id="real_scene", name="real scene")
TEXTURE = "crate_baseColor_1a2b3c.png"  # real_scenes' default texture name


@pytest.fixture
def pair(tmp_path: Path) -> RealPair:
    return write_real_pair(tmp_path / "scene")


def _check(pair: RealPair, tmp_path: Path) -> SceneResult:
    return check_files([pair.mjcf, pair.usd], NO_PLACEMENTS, OPTIONS, None, tmp_path / "work")


def test_a_real_style_pair_passes_with_zero_findings(pair: RealPair, tmp_path: Path) -> None:
    result = _check(pair, tmp_path)
    findings = [str(f) for r in result.results.values() for f in r.findings]
    assert findings == []
    assert set(result.results) == {MJCF, USD, CROSS}
    assert result.results[MJCF].stats["keyframes_stepped"] == 2  # simstudio_home and _reset
    assert result.results[CROSS].stats["objects_compared"] == len(pair.objects) == 6
    assert not any("matched by order" in n for r in result.results.values() for n in r.notes)


def test_the_cli_checks_files_without_a_scene_json(
    pair: RealPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    art = tmp_path / "art"
    code = main(
        ["loadtest", "--file", str(pair.mjcf), "--file", str(pair.usd), "--artifacts", str(art)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads((art / "report.json").read_text())
    assert report["passed"] and report["summary"]["cases"] == 3
    assert "placement" not in out.lower()
    # one thumbnail per format, the USD drawn by MuJoCo from its meshes: both show the scene
    pictures = report["scenes"][0]["thumbnails"]
    assert set(pictures) == {MJCF, USD}
    for png in pictures.values():
        pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
        assert pixels.std() > 10, f"{png} is one flat colour"
    html = (art / "report.html").read_text()
    assert 'title="the USD stage, drawn by MuJoCo"' in html
    assert "no API placements: checked on its own terms" in html


def _edit_usd(pair: RealPair, edit: Callable[[Usd.Stage], None]) -> None:
    stage = Usd.Stage.Open(str(pair.usd))
    edit(stage)
    stage.GetRootLayer().Save()


def _missing_texture(pair: RealPair) -> None:
    pair.texture.unlink()


def _undecodable_texture(pair: RealPair) -> None:
    pair.texture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)


def _nan_usd_vertex(pair: RealPair) -> None:
    def edit(stage: Usd.Stage) -> None:
        points = UsdGeom.Mesh(stage.GetPrimAtPath("/World/a_tin_can_1/mesh_0")).GetPointsAttr()
        values = points.Get()
        values[3] = (float("nan"), 0.0, 0.0)
        points.Set(values)

    _edit_usd(pair, edit)


def _usd_face_out_of_range(pair: RealPair) -> None:
    def edit(stage: Usd.Stage) -> None:
        mesh = UsdGeom.Mesh(stage.GetPrimAtPath("/World/a_cardboard_box_0/mesh_0"))
        faces = mesh.GetFaceVertexIndicesAttr().Get()
        faces[0] = 99
        mesh.GetFaceVertexIndicesAttr().Set(faces)

    _edit_usd(pair, edit)


def _usd_only_object(pair: RealPair) -> None:
    _edit_usd(pair, lambda stage: stage.RemovePrim("/World/a_tin_can_1"))


def _y_up(pair: RealPair) -> None:
    _edit_usd(pair, lambda stage: UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y))


def _unknown_mdl(pair: RealPair) -> None:
    def edit(stage: Usd.Stage) -> None:
        shader = stage.GetPrimAtPath("/World/Looks/mat_0/OmniPBR")
        shader.GetAttribute("info:mdl:sourceAsset").Set(Sdf.AssetPath("OmniPBRX.mdl"))

    _edit_usd(pair, edit)


def _nan_mjcf_vertex(pair: RealPair) -> None:
    xml = pair.mjcf.read_text()
    xml = re.sub(r'(<mesh name="bake_tin_can_1" vertex=")\S+', r"\1nan", xml)
    pair.mjcf.write_text(xml)


def _short_keyframe(pair: RealPair) -> None:
    xml = pair.mjcf.read_text()
    xml = re.sub(r'(<key name="simstudio_reset" qpos=")\S+ \S+ ', r"\1", xml)
    pair.mjcf.write_text(xml)


def _missing_mjcf_texture(pair: RealPair) -> None:
    (pair.mjcf.parent / pair.texture.name).unlink()


@pytest.mark.parametrize(
    ("plant", "check", "named"),
    [
        (_missing_texture, "usd.dependencies", TEXTURE),
        (_undecodable_texture, "usd.asset", TEXTURE),
        (_nan_usd_vertex, "usd.mesh", "/World/a_tin_can_1/mesh_0"),
        (_usd_face_out_of_range, "usd.mesh", "vertex 99"),
        (_usd_only_object, "cross.missing_object", "'tin_can_1' is in the MJCF only"),
        (_y_up, "usd.up_axis", "upAxis is 'Y'"),
        (_unknown_mdl, "usd.dependencies", "OmniPBRX.mdl"),
        (_nan_mjcf_vertex, "mjcf.mesh", "bake_tin_can_1"),
        (
            _short_keyframe,
            "mjcf.keyframe",
            "'simstudio_reset' has 20 qpos values, the model has 22",
        ),
        (_missing_mjcf_texture, "mjcf.texture", TEXTURE),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_each_planted_defect_is_caught_by_name(
    pair: RealPair, tmp_path: Path, plant: Callable[[RealPair], None], check: str, named: str
) -> None:
    plant(pair)
    result = _check(pair, tmp_path)
    findings = [f for r in result.results.values() for f in r.findings]
    assert any(f.check == check and named in str(f) for f in findings), [str(f) for f in findings]
    assert not any("placement" in f.check for f in findings)


def test_a_core_mdl_is_provided_but_a_lookalike_name_is_not(pair: RealPair, tmp_path: Path) -> None:
    """`OmniGlass.mdl` passes like `OmniPBR.mdl`; `materials/OmniPBR.mdl` must exist as a file."""

    def edit(stage: Usd.Stage) -> None:
        looks = stage.GetPrimAtPath("/World/Looks")
        for shader, asset in (
            ("mat_0/OmniPBR", "OmniGlass.mdl"),
            ("mat_3/OmniPBR", "materials/OmniPBR.mdl"),
        ):
            looks.GetPrimAtPath(shader).GetAttribute("info:mdl:sourceAsset").Set(
                Sdf.AssetPath(asset)
            )

    _edit_usd(pair, edit)
    findings = [str(f) for f in _check(pair, tmp_path).results[USD].findings]
    assert any("materials/OmniPBR.mdl" in f for f in findings), findings
    assert not any("OmniGlass" in f for f in findings), findings


def test_jobs_scenes_are_checked_against_their_record_poses(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """A newer-generation scene of the local server passes with every record object paired in
    both formats; the same files against a record with one object moved fail by that name."""
    with local_server.client(api_key=local_server.gen2_api_key, cache_dir=tmp_path) as client:
        summary = next(iter(client.scenes.iter_all()))
        mjcf = client.fetch_scene(summary.id, MJCF)
        usd = client.fetch_scene(summary.id, USD)
    scene = usd.scene
    assert scene.assets, "include_record gives the objects"
    files = [mjcf.path, usd.path]
    healthy = check_files(files, scene, OPTIONS, None, tmp_path / "a")
    assert healthy.passed, [str(f) for r in healthy.results.values() for f in r.findings]
    assert healthy.results[CROSS].stats["compared"] == len(scene.assets)

    target = scene.assets[-1]
    p = target.position
    shifted = target.model_copy(update={"position": Vector3(x=p.x + 0.5, y=p.y, z=p.z)})
    moved = scene.model_copy(update={"assets": [*scene.assets[:-1], shifted]})
    broken = check_files(files, moved, OPTIONS, None, tmp_path / "b")
    for fmt, check in ((MJCF, "mjcf.pose"), (USD, "usd.pose")):
        (finding,) = broken.results[fmt].findings
        assert finding.check == check and target.name in str(finding.placement)
        assert (
            "position off by 0.5 m: expected (" in finding.message and ", got (" in finding.message
        )


def test_an_unpacked_folder_copied_elsewhere_still_resolves(pair: RealPair, tmp_path: Path) -> None:
    """The USD names its textures relative to the layer: the folder moved whole still passes."""
    moved = tmp_path / "elsewhere"
    shutil.copytree(pair.usd.parent, moved)
    result = check_files([moved / "scene.usda"], NO_PLACEMENTS, OPTIONS, None, tmp_path / "w")
    assert result.passed, [str(f) for f in result.results[USD].findings]
