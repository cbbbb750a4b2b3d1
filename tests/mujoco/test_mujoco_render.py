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


SPARSE = """<mujoco>
  <worldbody>
    <light pos="0 0 6" dir="0 0 -1"/>
    <geom name="floor" type="plane" size="0 0 1" rgba="0.6 0.6 0.6 1"/>
    <body name="near" pos="6 5 0.1">
      <geom type="box" size="0.1 0.1 0.1" rgba="0.9 0.1 0.1 1"/>
    </body>
    <body name="far" pos="-6 -5 0.1">
      <geom type="box" size="0.1 0.1 0.1" rgba="0.1 0.1 0.9 1"/>
    </body>
  </worldbody>
</mujoco>"""


def test_a_sparse_scene_is_framed_whole_on_a_floor_with_a_grid(tmp_path: Path) -> None:
    """Two small boxes 15 m apart on an infinite, untextured floor: both in the picture, none
    touching its edge, and the floor shows grid lines rather than one flat grey."""
    path = tmp_path / "sparse.xml"
    path.write_text(SPARSE)
    model, data = gizmo_mujoco.load_file(path)
    pixels = _pixels(gizmo_mujoco.render_png(model, data, tmp_path / "sparse.png", 400, 300))
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    for name, mask in (("red", (red > green + 60) & (red > blue + 60)),
                       ("blue", (blue > red + 60) & (blue > green + 60))):  # fmt: skip
        rows, cols = np.nonzero(mask)
        assert mask.sum() > 4, f"the {name} box should be in the picture"
        assert rows.min() > 0 and cols.min() > 0, f"the {name} box touches the edge"
        assert rows.max() < 299 and cols.max() < 399, f"the {name} box touches the edge"
    grey = pixels.mean(axis=2)
    edges = np.abs(np.diff(grey, axis=1)) > 6  # a flat, smoothly lit floor has almost none
    assert edges.mean() > 0.01, f"no grid lines on the floor ({edges.mean():.4f} edge pixels)"
