"""Our own viewer window: one GLFW window that draws one MuJoCo model at a time, and lets go of
it entirely when the next one is shown.

Why not MuJoCo's passive viewer: its only way to change the model, the private `Simulate.load`,
keeps a full copy of every model it is given (`m_passive_ = mj_copyModel(...)` in
`Simulate::LoadOnRenderThread`, freed only when the window closes), textures included: 18 MB per
swap of a real 1024 px textured export, for as long as the window is open. Nothing outside
MuJoCo can free that copy. Reopening MuJoCo's window once the copies pass a budget would free
them, but a textured export spends any sensible budget in one swap, so the window would close
and open on every reload. Here the window holds exactly one `MjvScene` and one `MjrContext` (the
model's meshes and textures on the GPU), frees both before making the next model's, and keeps
no reference to the old model: a swap leaves nothing behind (`bench/bench_mujoco.py`).

It draws on the thread that calls `render` (the live loop's, once per frame): no second thread
or lock, and a Ctrl-C in the terminal reaches Python between two frames. Its GL context is
current only while it draws: the same thread may render an offscreen thumbnail through EGL in
between (the demo does), and EGL refuses a thread that holds a GLX context. Mouse and keys follow
MuJoCo's viewer: left drag orbits, right drag pans, scroll or middle drag zooms (Shift: the
horizontal variants); double-click selects a body, Ctrl+drag pushes it (left turns, right
moves); a right double-click centres the view; Esc or the close button ends it.
"""

from __future__ import annotations

import atexit
import functools
import time
from typing import Any

import glfw
import mujoco
import numpy as np

from .display import software_display
from .errors import ViewerUnavailableError

__all__ = ["HELP", "ModelWindow", "Overlay"]

Overlay = tuple[int, int, str, str]  # font, grid position, left and right text, as mjr_overlay
HELP = ("drag: orbit   right drag: pan   scroll: zoom   double-click: select   Ctrl+drag: push"
        "   Esc: close")  # fmt: skip
_SIZE = (1200, 800)  # window pixels at open; the user may resize it
_MIN_GEOM = 10_000  # scene capacity beyond the model's own geoms: contacts, frames, decor
_TOKEN_SHADOW_SIZE = 32  # texels: the map must exist, but software GL draws no shadow from it
_DOUBLE_CLICK = 0.3  # seconds between two presses of one button
_SOFTWARE_OFF = (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION)


class ModelWindow:
    """A window showing `model`/`data` as they stand at each `render`; `show` swaps the model."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, title: str = "Gizmo"):
        _init_glfw()
        self._software = software_display()
        glfw.default_window_hints()
        glfw.window_hint(glfw.SAMPLES, 0 if self._software else 4)  # MSAA, as MuJoCo's viewer
        self._window: Any = glfw.create_window(*_SIZE, title, None, None)  # None once closed
        if not self._window:
            raise ViewerUnavailableError("GLFW could not open a window with an OpenGL context.")
        glfw.make_context_current(self._window)
        glfw.swap_interval(0)  # the live loop paces the frames, not the display's refresh
        self.cam, self.option = mujoco.MjvCamera(), mujoco.MjvOption()
        self.perturb = mujoco.MjvPerturb()
        self.overlays: list[Overlay] = []
        self._scene: mujoco.MjvScene | None = None
        self._context: mujoco.MjrContext | None = None
        self._button: int | None = None  # the one held down, if any
        self._cursor = (0.0, 0.0)
        self._last_press = (-1, 0.0)  # button, time: for double-clicks
        self.show(model, data)
        glfw.set_mouse_button_callback(self._window, self._on_button)
        glfw.set_cursor_pos_callback(self._window, self._on_move)
        glfw.set_scroll_callback(self._window, self._on_scroll)
        glfw.set_key_callback(self._window, self._on_key)

    @property
    def context(self) -> mujoco.MjrContext | None:
        """The GL resources of the model shown (None once closed)."""
        return self._context

    def show(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Draw `model`/`data` from the next frame on; the previous model's scene and GL context
        are freed first, so at most one of each exists at any time."""
        glfw.make_context_current(self._window)
        self._release()
        if self._software:
            quality = model.vis.quality
            quality.shadowsize = min(int(quality.shadowsize), _TOKEN_SHADOW_SIZE)
        self.model, self.data = model, data
        self._scene = mujoco.MjvScene(model, maxgeom=_MIN_GEOM + model.ngeom)
        for flag in _SOFTWARE_OFF if self._software else ():
            self._scene.flags[flag] = 0
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        _let_go_of_context()
        self.perturb.active, self.perturb.select = 0, 0
        self._button = None

    def is_open(self) -> bool:
        return self._window is not None and not glfw.window_should_close(self._window)

    def render(self) -> bool:
        """Handle input and draw one frame; False once the window has been closed."""
        glfw.poll_events()
        if not self.is_open() or self._scene is None or self._context is None:
            return False
        if self.perturb.active:
            self._push()
        glfw.make_context_current(self._window)
        width, height = glfw.get_framebuffer_size(self._window)
        viewport = mujoco.MjrRect(0, 0, width, height)
        mujoco.mjv_updateScene(self.model, self.data, self.option, self.perturb, self.cam,
                               mujoco.mjtCatBit.mjCAT_ALL, self._scene)  # fmt: skip
        mujoco.mjr_render(viewport, self._scene, self._context)
        for font, corner, left, right in self.overlays:
            mujoco.mjr_overlay(font, corner, viewport, left, right, self._context)
        glfw.swap_buffers(self._window)
        _let_go_of_context()
        return True

    def close(self) -> None:
        """Free the GL resources and the window (GLFW itself stays up until exit)."""
        if self._window is None:
            return
        glfw.make_context_current(self._window)
        self._release()
        _let_go_of_context()
        glfw.destroy_window(self._window)
        self._window = None

    def _release(self) -> None:
        if self._context is not None:
            self._context.free()
        self._context = self._scene = None

    def _push(self) -> None:
        """Apply the Ctrl+drag perturbation to the selected body, as MuJoCo's viewer does."""
        body = self.perturb.select
        self.data.xfrc_applied[body] = 0.0
        mujoco.mjv_applyPerturbPose(self.model, self.data, self.perturb, 0)  # mocap bodies only
        mujoco.mjv_applyPerturbForce(self.model, self.data, self.perturb)

    def _on_button(self, window: object, button: int, action: int, mods: int) -> None:
        self._cursor = glfw.get_cursor_pos(self._window)
        if action == glfw.RELEASE:
            self._button = None
            if self.perturb.active:
                self.data.xfrc_applied[self.perturb.select] = 0.0
                self.perturb.active = 0
            return
        self._button = button
        now, (last_button, last_time) = time.monotonic(), self._last_press
        self._last_press = (button, now)
        if button == last_button and now - last_time < _DOUBLE_CLICK:
            self._select(right=button == glfw.MOUSE_BUTTON_RIGHT)
        elif mods & glfw.MOD_CONTROL and self.perturb.select > 0 and self._scene is not None:
            mujoco.mjv_initPerturb(self.model, self.data, self._scene, self.perturb)
            rotate = button == glfw.MOUSE_BUTTON_LEFT
            self.perturb.active = int(
                mujoco.mjtPertBit.mjPERT_ROTATE if rotate else mujoco.mjtPertBit.mjPERT_TRANSLATE
            )

    def _select(self, right: bool) -> None:
        """Double-click: the body under the cursor becomes the selection (left) or the centre of
        the view (right)."""
        if self._scene is None:
            return
        width, height = glfw.get_window_size(self._window)
        x, y = self._cursor
        point, geom = np.zeros(3), np.zeros((1, 1), dtype=np.int32)
        flex, skin = np.zeros((1, 1), dtype=np.int32), np.zeros((1, 1), dtype=np.int32)
        body = mujoco.mjv_select(self.model, self.data, self.option, width / max(height, 1),
                                 x / max(width, 1), 1 - y / max(height, 1), self._scene,
                                 point, geom, flex, skin)  # fmt: skip
        if right:
            if body >= 0:
                self.cam.lookat[:] = point
            return
        self.perturb.select = max(body, 0)
        if body > 0:
            offset = point - self.data.xpos[body]
            self.perturb.localpos[:] = self.data.xmat[body].reshape(3, 3).T @ offset

    def _on_move(self, window: object, x: float, y: float) -> None:
        last_x, last_y = self._cursor
        self._cursor = (x, y)
        if self._button is None or self._scene is None:
            return
        height = max(glfw.get_window_size(self._window)[1], 1)
        shift = glfw.get_key(self._window, glfw.KEY_LEFT_SHIFT) == glfw.PRESS or (
            glfw.get_key(self._window, glfw.KEY_RIGHT_SHIFT) == glfw.PRESS
        )
        action = _mouse_action(self._button, shift)
        dx, dy = (x - last_x) / height, (y - last_y) / height
        if self.perturb.active:
            mujoco.mjv_movePerturb(self.model, self.data, action, dx, dy, self._scene, self.perturb)
        else:
            mujoco.mjv_moveCamera(self.model, action, dx, dy, self.cam)

    def _on_scroll(self, window: object, x_offset: float, y_offset: float) -> None:
        mujoco.mjv_moveCamera(self.model, mujoco.mjtMouse.mjMOUSE_ZOOM, 0.0, -0.05 * y_offset,
                              self.cam)  # fmt: skip

    def _on_key(self, window: object, key: int, scancode: int, action: int, mods: int) -> None:
        if key == glfw.KEY_ESCAPE and action == glfw.PRESS:
            glfw.set_window_should_close(self._window, True)


def _mouse_action(button: int, shift: bool) -> int:
    """MuJoCo's viewer's mapping: right moves, left rotates, middle zooms."""
    if button == glfw.MOUSE_BUTTON_RIGHT:
        return int(mujoco.mjtMouse.mjMOUSE_MOVE_H if shift else mujoco.mjtMouse.mjMOUSE_MOVE_V)
    if button == glfw.MOUSE_BUTTON_LEFT:
        return int(mujoco.mjtMouse.mjMOUSE_ROTATE_H if shift else mujoco.mjtMouse.mjMOUSE_ROTATE_V)
    return int(mujoco.mjtMouse.mjMOUSE_ZOOM)


def _let_go_of_context() -> None:
    """No GL context current on this thread (see the module docstring on EGL)."""
    glfw.make_context_current(None)  # type: ignore[arg-type]  # the stubs omit GLFW's NULL


def _init_glfw() -> None:
    """`glfw.init` is a no-op while GLFW is up; whoever ended it (MuJoCo's viewer, at its exit)
    may have, so it is asked before every window."""
    if not glfw.init():
        raise ViewerUnavailableError("GLFW could not initialise (is there a display?).")
    _terminate_at_exit()


@functools.cache
def _terminate_at_exit() -> None:
    """GLFW's X connection must close before the display does, and before the interpreter."""
    atexit.register(glfw.terminate)
