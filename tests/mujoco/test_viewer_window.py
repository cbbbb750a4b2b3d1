"""Our viewer window (`gizmo_mujoco.window`) on a private Xvfb display: swaps keep the camera and
the state and free the old model's resources; the mouse orbits and pushes as in MuJoCo's viewer;
Esc and Ctrl-C end the live loop cleanly."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mujoco
import numpy as np
import pytest
from live import interrupt_view
from mujoco_scenes import ARM, CRATE, NEW_ARM, scene_xml
from PIL import Image

from gizmo_mujoco.sources import FileSource
from gizmo_mujoco.viewer import PassiveViewer, run_passive
from gizmo_mujoco.watcher import SceneWatcher

pytestmark = pytest.mark.viewer

XK_ESCAPE, XK_CONTROL_L = 0xFF1B, 0xFFE3
_BIG_TEXTURE = 1536  # px per side: 6.75 MB of RGB in the compiled model


class _Mouse:
    """Mouse gestures on the private display through XTEST, as the `keyboard` fixture's keys."""

    def __init__(self, x_display: str) -> None:
        self.x11, self.xtst = (
            ctypes.CDLL(ctypes.util.find_library(n) or n) for n in ("X11", "Xtst")
        )
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XFlush.argtypes = self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.xtst.XTestFakeMotionEvent.argtypes = (
            [ctypes.c_void_p] + [ctypes.c_int] * 3 + [ctypes.c_ulong]
        )
        self.xtst.XTestFakeButtonEvent.argtypes = self.xtst.XTestFakeKeyEvent.argtypes = [
            ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong
        ]  # fmt: skip
        self.display = self.x11.XOpenDisplay(x_display.encode())
        assert self.display, f"cannot open {x_display}"

    def _button(self, button: int, down: bool) -> None:
        self.xtst.XTestFakeButtonEvent(self.display, button, int(down), 0)
        self.x11.XFlush(self.display)

    def _move(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.display, -1, x, y, 0)
        self.x11.XFlush(self.display)

    def double_click(self, at: tuple[int, int]) -> None:
        self._move(*at)
        for down in (True, False, True, False):
            self._button(1, down)

    def drag(self, start: tuple[int, int], end: tuple[int, int], *, button: int = 1,
             control: bool = False, hold: float = 0.0) -> None:  # fmt: skip
        """Press at `start`, move to `end` in ten steps, wait `hold` s, release (1: left,
        3: right; with Ctrl held throughout if `control`)."""
        ctrl = self.x11.XKeysymToKeycode(self.display, XK_CONTROL_L)
        self._move(*start)
        if control:
            self.xtst.XTestFakeKeyEvent(self.display, ctrl, 1, 0)
        self._button(button, True)
        for step in range(1, 11):
            self._move(start[0] + (end[0] - start[0]) * step // 10,
                       start[1] + (end[1] - start[1]) * step // 10)  # fmt: skip
            time.sleep(0.02)
        time.sleep(hold)
        self._button(button, False)
        if control:
            self.xtst.XTestFakeKeyEvent(self.display, ctrl, 0, 0)
        self.x11.XFlush(self.display)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.display)


@pytest.fixture
def mouse(x_display: str) -> Iterator[_Mouse]:
    device = _Mouse(x_display)
    yield device
    device.close()


@contextmanager
def _live(watcher: SceneWatcher) -> Iterator[PassiveViewer]:
    """`run_passive` on a thread, its window once the simulation runs; the loop must end
    cleanly (without an error) when the window is closed."""
    opened: list[PassiveViewer] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            run_passive(watcher, on_open=opened.append)
        except BaseException as exc:  # surfaced to the test below
            failures.append(exc)

    runner = threading.Thread(target=run, name="viewer-loop")
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while not (opened and watcher.data.time > 0.1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened, "the viewer did not open"
        yield opened[0]
        runner.join(timeout=15)  # the test closes the window
    finally:
        if runner.is_alive() and opened:
            opened[0].window.close()  # only after a failed close: unblock the loop
            runner.join(timeout=15)
    assert not runner.is_alive() and not failures, failures
    assert not opened[0].is_running()


def _frames(viewer: PassiveViewer, seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        viewer.sync()
        time.sleep(0.01)


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS:")).split()[1]) / 1024


def test_swaps_keep_the_camera_and_the_state_and_free_every_old_model(on_display: str) -> None:
    old = mujoco.MjModel.from_xml_string(scene_xml([ARM, CRATE]))
    data = mujoco.MjData(old)
    viewer = PassiveViewer(old, data)
    try:
        window = viewer.window
        window.cam.azimuth, window.cam.elevation, window.cam.distance = 63.0, -27.0, 3.1
        window.cam.lookat[:] = (0.2, -0.3, 0.1)
        viewer.show_text("Reloaded", "kept 4 joints")
        contexts, models = [window.context], [weakref.ref(old)]
        for _ in range(8):
            new = mujoco.MjModel.from_xml_string(scene_xml([ARM, CRATE, NEW_ARM]))
            new_data = mujoco.MjData(new)
            new_data.qpos[:] = 0.3
            mujoco.mj_forward(new, new_data)
            viewer.swap(new, new_data)
            viewer.sync()
            contexts.append(window.context)
            models.append(weakref.ref(new))
        del old, data, new
        gc.collect()
        assert viewer.window is window and viewer.is_running()  # one window throughout
        assert (window.cam.azimuth, window.cam.elevation, window.cam.distance) == (63.0, -27.0, 3.1)
        assert np.allclose(window.cam.lookat, (0.2, -0.3, 0.1))
        assert window.data is new_data and np.allclose(new_data.qpos, 0.3)  # shown as given
        assert window.overlays[0][2:] == ("Reloaded", "kept 4 joints")  # the Gizmo box kept
        live = [c for c in contexts if c is not None and c.offFBO != 0]
        assert live == [window.context], "every old model's GL context must have been freed"
        assert [ref() is not None for ref in models] == [False] * 8 + [True]  # only the shown one
    finally:
        viewer.close()
    assert not viewer.is_running() and window.context is None


def test_swapping_a_big_texture_model_does_not_grow_by_its_size(
    on_display: str, tmp_path: Path
) -> None:
    """MuJoCo's passive viewer kept a copy of each model it was given (textures included) until
    the window closed: 12 swaps of this model grew it by about 12 x 6.75 MB."""
    side = _BIG_TEXTURE
    pattern = (np.indices((side, side)).sum(axis=0) // 16 % 2 * 150 + 50).astype(np.uint8)
    Image.fromarray(np.stack([pattern] * 3, axis=-1)).save(tmp_path / "big.png")
    xml = scene_xml([ARM, CRATE]).replace(
        "<worldbody>",
        '<asset><texture name="big" type="2d" file="big.png"/>'
        '<material name="big" texture="big"/></asset><worldbody>'
        '<geom type="box" size="0.5 0.5 0.5" pos="0 3 0.5" material="big"/>',
    )
    (tmp_path / "scene.xml").write_text(xml)

    def fresh() -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = mujoco.MjModel.from_xml_path(str(tmp_path / "scene.xml"))
        return model, mujoco.MjData(model)

    first = fresh()
    texture_mb = first[0].ntexdata / 2**20
    assert texture_mb > 6.5
    viewer = PassiveViewer(*first)
    try:
        for _ in range(2):  # the allocator's pools are sized by the first swaps
            viewer.swap(*fresh())
            _frames(viewer, 0.2)
        gc.collect()
        before = _rss_mb()
        swaps = 12
        for _ in range(swaps):
            viewer.swap(*fresh())
            viewer.sync()
        gc.collect()
        _frames(viewer, 0.3)
        grown = _rss_mb() - before
    finally:
        viewer.close()
    assert grown < 2 * texture_mb, f"grew {grown:.1f} MB over {swaps} swaps of {texture_mb:.1f} MB"


def test_escape_closes_the_live_viewer_after_a_drag_orbits_it(
    on_display: str, keyboard: Callable[..., None], mouse: _Mouse, tmp_path: Path
) -> None:
    (tmp_path / "scene.xml").write_text(scene_xml([ARM, CRATE]))
    watcher = SceneWatcher(FileSource(tmp_path / "scene.xml"), poll_interval=0.2)
    watcher.load()
    with _live(watcher) as viewer:
        azimuth = viewer.window.cam.azimuth
        mouse.drag((400, 300), (600, 300))
        time.sleep(0.5)
        assert abs(viewer.window.cam.azimuth - azimuth) > 5.0
        keyboard(XK_ESCAPE)


def test_a_double_clicked_body_is_pushed_by_ctrl_drag(
    on_display: str, keyboard: Callable[..., None], mouse: _Mouse, tmp_path: Path
) -> None:
    """MuJoCo's viewer's gesture: double-click the crate, Ctrl+right-drag upwards lifts it while
    held; released, no force is left on it."""
    (tmp_path / "scene.xml").write_text(scene_xml([ARM, CRATE]))
    watcher = SceneWatcher(FileSource(tmp_path / "scene.xml"), poll_interval=3600.0)
    watcher.load()
    crate = watcher.model.body("pla_crate/crate").id
    with _live(watcher) as viewer:
        _wait_for(lambda: watcher.data.time > 1.5)  # the crate has fallen and rests
        resting = float(watcher.data.xpos[crate][2])
        camera = viewer.window.cam
        camera.lookat[:], camera.distance = watcher.data.xpos[crate], 1.2  # the crate mid-window
        width, height = 1200, 800
        time.sleep(0.3)
        mouse.double_click((width // 2, height // 2))
        _wait_for(lambda: viewer.window.perturb.select == crate)
        time.sleep(0.5)  # not a third click of the double-click
        mouse.drag((width // 2, height - 150), (width // 2, 150), button=3, control=True,
                   hold=1.5)  # fmt: skip
        lifted = float(watcher.data.xpos[crate][2])  # the release has just been sent
        time.sleep(0.3)
        assert lifted > resting + 0.05, (resting, lifted)
        assert not watcher.data.xfrc_applied[crate].any()
        keyboard(XK_ESCAPE)


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ctrl_c_closes_the_live_viewer_at_once(on_display: str, tmp_path: Path) -> None:
    """`gizmo-mujoco view scene.xml` (the live window): Ctrl-C ends it with the interrupted exit
    code and one line, no traceback and no GLFW error."""
    (tmp_path / "scene.xml").write_text(scene_xml([ARM, CRATE]))
    interrupt_view(["scene.xml"], tmp_path, on_display, "it reloads when it changes")
