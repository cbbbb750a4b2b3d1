"""The interactive viewer: our own window with in-place model swaps (`window.py`), or MuJoCo's
managed window whose Ctrl+L reloads.

Hot reload swaps models in our `ModelWindow` rather than in MuJoCo's passive viewer: MuJoCo's
only swap there (the private `Simulate.load`) keeps a copy of every model it was shown until the
window closes, textures included, 18 MB per reload of a real textured export (see `window.py`).
Our window frees the old model's scene and GL context before drawing the next, keeps the
camera, the window and the Gizmo box, and the state is the watcher's (carried over by name).
On a software display the freed GL buffers are tens of MB of heap, so after each swap glibc is
asked to return free pages (`malloc_trim`). The managed backend is still MuJoCo's own window:
its reloads are the user's Ctrl+L, and it offers MuJoCo's panels.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import signal
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mujoco
import mujoco.viewer

from .pacing import RealTime
from .render import overview_camera
from .watcher import ReloadEvent, SceneWatcher
from .window import HELP, ModelWindow

__all__ = ["PassiveViewer", "run_managed", "run_passive"]

logger = logging.getLogger("gizmo_mujoco")

# The Gizmo box sits in the 3D view's top-right corner, clear of the help line (bottom left) and,
# in the managed window, of MuJoCo's labels (real time top left, LOADING/PAUSE top centre) and
# panels; it is at most _WRAP columns wide.
_WRAP = 40
_BOX = (int(mujoco.mjtFont.mjFONT_NORMAL), int(mujoco.mjtGridPos.mjGRID_TOPRIGHT))
_HELP = (int(mujoco.mjtFont.mjFONT_NORMAL), int(mujoco.mjtGridPos.mjGRID_BOTTOMLEFT), HELP, "")


class PassiveViewer:
    """One window; `swap` shows a new model in it, the camera and the Gizmo box kept."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, title: str = "Gizmo"):
        self.window = ModelWindow(model, data, title=title)
        overview = overview_camera(model, data)
        self.window.cam.lookat[:] = overview.lookat
        self.window.cam.distance = overview.distance
        self.window.cam.azimuth, self.window.cam.elevation = overview.azimuth, overview.elevation
        self.window.overlays = [_HELP]

    def swap(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        """Show `model`/`data` from the next frame on; the old model's resources are freed."""
        self.window.show(model, data)
        _release_free_heap()

    def show_text(self, title: str, body: str) -> None:
        """The Gizmo box (see `_BOX`); long lines are wrapped."""
        self.window.overlays = [_box(title, body), _HELP]

    def sync(self) -> None:
        """Draw one frame of the data as it stands (and handle the mouse and keys)."""
        self.window.render()

    def is_running(self) -> bool:
        return self.window.is_open()

    def close(self) -> None:
        self.window.close()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


def _release_free_heap() -> None:
    """Give the heap pages freed by a swap back to the system (see the module docstring)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _box(title: str, body: str) -> tuple[int, int, str, str]:
    """The overlay tuple MuJoCo's `set_texts` takes: the title beside the wrapped body."""
    lines = [part for line in body.splitlines() for part in textwrap.wrap(line, _WRAP) or [""]]
    titles = [title] + [""] * (len(lines) - 1)
    return (*_BOX, "\n".join(titles), "\n".join(lines))


def _event_text(event: ReloadEvent) -> tuple[str, str]:
    """The overlay for one reload: a title, and the report or error in short lines."""
    if event.report is not None:
        lines = [f"{event.label}, {event.build_seconds:.2f} s", *event.report.lines()]
        return "Reloaded", "\n".join(lines)
    return "Reload failed", f"{event.error}\nThe previous model keeps running."


def run_passive(
    watcher: SceneWatcher,
    *,
    stop: threading.Event | None = None,
    on_event: Callable[[ReloadEvent], None] | None = None,
    on_open: Callable[[PassiveViewer], None] | None = None,
) -> None:
    """Step in real time, show every frame, and swap in each reload until the window closes
    (or `stop` is set). The watcher polls in the background meanwhile."""
    viewer = PassiveViewer(watcher.model, watcher.data, title=f"Gizmo: {watcher.source.label}")
    viewer.show_text(
        "Gizmo", f"{watcher.source.label}: live, polled every {watcher.poll_interval:g} s"
    )
    if on_open is not None:
        on_open(viewer)
    watcher.start()
    clock = RealTime(watcher)
    try:
        while viewer.is_running() and not (stop is not None and stop.is_set()):
            frame_start = time.perf_counter()
            clock.advance()
            viewer.sync()
            event = watcher.apply()
            if event is not None:
                if event.ok:
                    viewer.swap(watcher.model, watcher.data)
                    clock.restart()
                viewer.show_text(*_event_text(event))
                if on_event is not None:
                    on_event(event)
            clock.sleep_rest_of_frame(frame_start)
    finally:
        watcher.stop()
        viewer.close()


def run_managed(
    watcher: SceneWatcher, on_event: Callable[[ReloadEvent], None] | None = None
) -> None:
    """MuJoCo's own window and physics loop; Ctrl+L (or Reload) fetches the scene again and keeps
    the state. A failed reload shows its error in the window and the old model runs on.

    The window opens with the panels hidden (Tab / Shift+Tab show them) and the camera framing
    the model; the Gizmo box says what the last reload did. Ctrl-C in the terminal closes the
    window at once (MuJoCo's render loop holds the main thread in C++, where Python's own
    handling of Ctrl-C would wait for the window to close).
    """
    first = True
    simulate: list[Any] = []  # MuJoCo's Simulate, once the first load shows it to us
    shown_as = watcher.source.label  # one name: MuJoCo re-frames the camera when it changes

    def loader() -> tuple[mujoco.MjModel, mujoco.MjData, str]:
        nonlocal first
        if not simulate:
            simulate.extend(_calling_simulate())
        if first:
            first = False
            _show(simulate, "Gizmo", f"{shown_as}\nCtrl+L: load the latest version")
            return watcher.model, watcher.data, shown_as
        event = watcher.reload()
        if on_event is not None:
            on_event(event)
        _show(simulate, *_event_text(event))
        if event.error is not None:
            raise event.error
        return watcher.model, watcher.data, shown_as

    with _interrupt_closes(simulate):
        mujoco.viewer.launch(loader=loader, show_left_ui=False, show_right_ui=False)


def _calling_simulate() -> list[Any]:
    """The `Simulate` that called our loader (MuJoCo's `_reload(simulate, loader, ...)` frame);
    private, so guarded: without it the window has no Gizmo box and Ctrl-C waits."""
    frame = sys._getframe(2)  # _calling_simulate <- loader <- MuJoCo's _reload
    candidate = frame.f_locals.get("simulate")
    return [candidate] if callable(getattr(candidate, "exit", None)) else []


def _show(simulate: list[Any], title: str, body: str) -> None:
    if simulate and callable(getattr(simulate[0], "set_texts", None)):
        simulate[0].set_texts([_box(title, body)])


@contextmanager
def _interrupt_closes(simulate: list[Any]) -> Iterator[None]:
    """While the managed window is open, Ctrl-C asks MuJoCo to close it, then raises
    KeyboardInterrupt once `launch` has returned.

    Python notes a signal through its wakeup fd even while the main thread runs C++; a helper
    thread reads that fd and calls `Simulate.exit()` (as soon as the first load has shown us the
    Simulate). Our own handler only records the interrupt: raised inside `launch`, it would skip
    MuJoCo's teardown and GLFW would complain at exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (and may set the wakeup fd)
        return
    interrupted, closed = threading.Event(), threading.Event()
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous_handler = signal.signal(signal.SIGINT, lambda number, frame: interrupted.set())

    def watch() -> None:
        while (received := reader.recv(16)) and signal.SIGINT not in received:
            continue
        while received and not closed.is_set():
            if simulate:
                simulate[0].exit()
                return
            time.sleep(0.05)  # interrupted before the first load: wait for the window

    helper = threading.Thread(target=watch, name="gizmo-ctrl-c", daemon=True)
    helper.start()
    try:
        yield
    finally:
        closed.set()
        signal.signal(signal.SIGINT, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        writer.close()  # ends the helper's recv
        helper.join(timeout=5)
        reader.close()
    if interrupted.is_set():
        raise KeyboardInterrupt
