"""Offscreen thumbnails with no display, whatever imported `mujoco` first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mujoco_scenes import ARM, CRATE, scene_xml
from PIL import Image

import gizmo_mujoco


def _scene(tmp_path: Path) -> Path:
    xml = scene_xml([ARM, CRATE]).replace(
        "<worldbody>", '<worldbody>\n    <camera name="top" pos="0 0 4" quat="1 0 0 0"/>', 1
    )
    path = tmp_path / "scene.xml"
    path.write_text(xml)
    return path


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=float)


def test_thumbnail_frames_the_scene_and_named_cameras_work(tmp_path: Path) -> None:
    model, data = gizmo_mujoco.load_file(_scene(tmp_path))
    overview = _pixels(gizmo_mujoco.render_png(model, data, tmp_path / "overview.png"))
    top = _pixels(gizmo_mujoco.render_png(model, data, tmp_path / "top.png", 800, 600, "top"))
    assert overview.shape == (240, 320, 3) and top.shape == (600, 800, 3)
    assert overview.std() > 10 and top.std() > 5  # something drawn, not a flat colour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overview.png", "scene.xml", "top.png"]


def test_bad_camera_and_size_are_clear_errors(tmp_path: Path) -> None:
    model, data = gizmo_mujoco.load_file(_scene(tmp_path))
    with pytest.raises(ValueError, match="no camera named 'side'"):
        gizmo_mujoco.render_png(model, data, tmp_path / "x.png", camera="side")
    with pytest.raises(ValueError, match="image size must be positive, got 0x240"):
        gizmo_mujoco.render_png(model, data, tmp_path / "x.png", width=0)
    assert not (tmp_path / "x.png").exists()
