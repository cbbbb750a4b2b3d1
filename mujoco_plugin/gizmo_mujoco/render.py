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
_MARGIN = 1.05  # of the fitting distance: the outermost object does not touch the edge
_GRID_LINES = 20  # per direction, on an untextured floor


def overview_camera(
    model: mujoco.MjModel, data: mujoco.MjData, aspect: float = 4 / 3
) -> mujoco.MjvCamera:
    """A free camera from a three-quarter view above that frames every solid geom whole (an
    infinite floor would push it far away): the sphere holding all their bounding spheres fits
    the narrower of the two fields of view of a `aspect` (width / height) picture."""
    camera = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, camera)
    camera.azimuth, camera.elevation = 45.0, -30.0
    solid = model.geom_type != mujoco.mjtGeom.mjGEOM_PLANE
    if not solid.any():
        return camera
    centres, radii = data.geom_xpos[solid], model.geom_rbound[solid]
    low = (centres - radii[:, None]).min(axis=0)
    high = (centres + radii[:, None]).max(axis=0)
    middle = (low + high) / 2
    radius = max(float((np.linalg.norm(centres - middle, axis=1) + radii).max()), 1e-3)
    half_height = math.radians(float(model.vis.global_.fovy)) / 2
    half_width = math.atan(math.tan(half_height) * aspect)
    camera.lookat[:] = middle
    camera.distance = _MARGIN * radius / math.sin(min(half_height, half_width))
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
    view = _camera(model, data, camera, width / height)
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
        _add_floor_grid(model, data, scene, view)
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


def _add_floor_grid(
    model: mujoco.MjModel, data: mujoco.MjData, scene: mujoco.MjvScene, view: mujoco.MjvCamera
) -> None:
    """Grid lines on every untextured plane, so a picture shows where the floor is and how big
    things are (a flat grey floor reads as empty space). Drawn into this picture's scene only."""
    for plane in np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE).tolist():
        material = int(model.geom_matid[plane])
        if material >= 0 and (model.mat_texid[material] >= 0).any():
            continue  # its own texture shows the floor already
        half = model.geom_size[plane][:2].copy()
        half[half <= 0] = max(float(view.distance), 1.0)  # an infinite plane: around the view
        step = _nice_step(2 * float(half.max()) / _GRID_LINES)
        axes = data.geom_xmat[plane].reshape(3, 3).T  # columns of xmat: the plane's axes
        origin = data.geom_xpos[plane] + 1e-3 * axes[2]  # just above, so it is not hidden
        rgba = model.geom_rgba[plane].astype(np.float32) * np.float32(0.6)
        rgba[3] = 1.0
        for along, across in ((0, 1), (1, 0)):
            for k in np.arange(-(half[across] // step), half[across] // step + 1):
                if scene.ngeom >= scene.maxgeom:
                    return
                offset = k * step * axes[across]
                start = origin + offset - half[along] * axes[along]
                end = origin + offset + half[along] * axes[along]
                geom = scene.geoms[scene.ngeom]
                mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_LINE, np.zeros(3), np.zeros(3),
                                    np.eye(3).ravel(), rgba)  # fmt: skip
                mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_LINE, 1.0, start, end)
                scene.ngeom += 1


def _nice_step(raw: float) -> float:
    """The grid spacing: 1, 2 or 5 times a power of ten, at least `raw`."""
    power = 10.0 ** math.floor(math.log10(max(raw, 1e-6)))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)


def _camera(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    camera: str | mujoco.MjvCamera | None,
    aspect: float,
) -> mujoco.MjvCamera:
    if camera is None:
        return overview_camera(model, data, aspect)
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
