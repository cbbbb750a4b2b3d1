"""Offscreen thumbnails: one frame through MuJoCo's renderer, written as PNG by Pillow."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image

from .errors import RenderError

__all__ = ["overview_camera", "render_png", "render_rgb"]

_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")


def overview_camera(model: mujoco.MjModel) -> mujoco.MjvCamera:
    """A free camera looking down at the whole model from a three-quarter angle."""
    camera = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, camera)
    camera.azimuth = 135.0
    camera.elevation = -30.0
    camera.distance = 1.4 * max(float(model.stat.extent), 0.1)
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
            renderer.update_scene(data, camera=overview_camera(model) if camera is None else camera)
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
