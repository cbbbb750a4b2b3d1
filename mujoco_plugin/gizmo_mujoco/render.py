"""Offscreen thumbnails: one frame through MuJoCo's own GL calls, written as PNG by Pillow."""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

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
    camera: str | mujoco.MjvCamera | None = None,
) -> np.ndarray:
    """One RGB frame (height x width x 3, uint8) of `data` as it stands.

    `camera` is a camera name of the model, a `MjvCamera`, or None for `overview_camera`.
    Shadows are off on software GL (5-8x faster there).
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    view = _camera(model, data, camera)
    _fit_offscreen_buffer(model, width, height)
    try:
        context = _context_class()(width, height)
    except Exception as exc:  # each GL backend fails in its own way (ImportError, GLError...)
        raise RenderError(f"Could not create an offscreen OpenGL context: {exc}") from exc
    try:
        context.make_current()
        scene = mujoco.MjvScene(model, maxgeom=10_000)
        mujoco.mjv_updateScene(
            model, data, mujoco.MjvOption(), mujoco.MjvPerturb(), view,
            mujoco.mjtCatBit.mjCAT_ALL, scene,
        )  # fmt: skip
        if _software_gl():
            scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        gpu = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        try:
            mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, gpu)
            rect = mujoco.MjrRect(0, 0, width, height)
            mujoco.mjr_render(rect, scene, gpu)
            pixels = np.empty((height, width, 3), dtype=np.uint8)
            mujoco.mjr_readPixels(pixels, None, rect, gpu)
        finally:
            gpu.free()
    finally:
        context.free()
    return np.flipud(pixels)  # OpenGL's rows run bottom-up


def render_png(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    path: str | Path,
    width: int = 320,
    height: int = 240,
    camera: str | mujoco.MjvCamera | None = None,
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


def _camera(
    model: mujoco.MjModel, data: mujoco.MjData, camera: str | mujoco.MjvCamera | None
) -> mujoco.MjvCamera:
    if camera is None:
        return overview_camera(model, data)
    if not isinstance(camera, str):
        return camera
    index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
    if index < 0:
        raise ValueError(f"the model has no camera named {camera!r}")
    fixed = mujoco.MjvCamera()
    fixed.type, fixed.fixedcamid = mujoco.mjtCamera.mjCAMERA_FIXED, index
    return fixed


def _context_class() -> Any:
    """The offscreen GL context: EGL unless MUJOCO_GL asks for another (EGL needs no display).

    Chosen here rather than through `mujoco.Renderer`, which fixes its backend when `mujoco` is
    first imported: whoever imports it first (without MUJOCO_GL) would leave thumbnails needing
    a display.
    """
    choice = os.environ.get("MUJOCO_GL", "egl").strip().lower()
    if choice == "osmesa":
        from mujoco.osmesa import GLContext
    elif choice in ("glfw", "glx"):
        from mujoco.glfw import GLContext
    else:
        from mujoco.egl import GLContext
    return GLContext


@functools.cache
def _software_gl() -> bool:
    """Whether the current GL context is a CPU rasteriser (asked once per process)."""
    from OpenGL import GL  # type: ignore[import-untyped]  # PyOpenGL ships no type hints

    name = GL.glGetString(GL.GL_RENDERER) or b""
    return any(word in name.decode(errors="replace").lower() for word in _SOFTWARE_RENDERERS)
