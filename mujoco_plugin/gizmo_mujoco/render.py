"""Offscreen thumbnails: one frame through MuJoCo's renderer, written as PNG by Pillow."""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image

from .errors import RenderError

__all__ = ["overview_camera", "render_png", "render_rgb"]

_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")


def overview_camera(model: mujoco.MjModel, data: mujoco.MjData) -> mujoco.MjvCamera:
    """A free camera framing every solid geom (an infinite floor would push it far away) from a
    three-quarter view above."""
    camera = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, camera)
    camera.azimuth, camera.elevation = 45.0, -30.0
    solid = model.geom_type != mujoco.mjtGeom.mjGEOM_PLANE
    if not solid.any():
        return camera
    radius = model.geom_rbound[solid][:, None]
    low = (data.geom_xpos[solid] - radius).min(axis=0)
    high = (data.geom_xpos[solid] + radius).max(axis=0)
    camera.lookat[:] = (low + high) / 2
    half_fov = math.radians(float(model.vis.global_.fovy)) / 2
    # Bounding spheres overstate boxes and capsules; 0.7 of the fitting distance frames well.
    camera.distance = 0.7 * 0.5 * float(np.linalg.norm(high - low)) / math.sin(half_fov)
    return camera


def render_rgb(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    width: int = 320,
    height: int = 240,
    camera: str | int | mujoco.MjvCamera | None = None,
) -> np.ndarray:
    """One RGB frame (height x width x 3, uint8); shadows are off on software GL (5-8x faster)."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    _fit_offscreen_buffer(model, width, height)
    try:
        with mujoco.Renderer(model, height, width) as renderer:
            renderer.update_scene(
                data, camera=overview_camera(model, data) if camera is None else camera
            )
            if _software_gl():
                renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            pixels: np.ndarray = renderer.render()
            return pixels
    except (mujoco.FatalError, ImportError, RuntimeError) as exc:
        backend = os.environ.get("MUJOCO_GL", "glfw (default)")
        raise RenderError(f"Offscreen rendering failed with MUJOCO_GL={backend}: {exc}") from exc


def render_png(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    path: str | Path,
    width: int = 320,
    height: int = 240,
    camera: str | int | mujoco.MjvCamera | None = None,
) -> Path:
    """Render one frame to `path` (PNG), written atomically; returns the path."""
    path = Path(path)
    pixels = render_rgb(model, data, width, height, camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        Image.fromarray(pixels).save(partial, format="PNG")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _fit_offscreen_buffer(model: mujoco.MjModel, width: int, height: int) -> None:
    """Grow the offscreen buffer (640x480 unless the model says otherwise) to fit the picture."""
    visual = model.vis.global_
    visual.offwidth = max(int(visual.offwidth), width)
    visual.offheight = max(int(visual.offheight), height)


@functools.cache
def _software_gl() -> bool:
    """Whether the current GL context is a CPU rasteriser (asked once per process)."""
    from OpenGL import GL  # type: ignore[import-untyped]  # PyOpenGL ships no type hints

    name = GL.glGetString(GL.GL_RENDERER) or b""
    return any(word in name.decode(errors="replace").lower() for word in _SOFTWARE_RENDERERS)
