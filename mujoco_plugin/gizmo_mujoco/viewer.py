"""The interactive viewer: MuJoCo's passive window with in-place model swaps, or the managed
window whose Ctrl+L reloads.

MuJoCo's passive viewer has no public reload. Its private `Simulate.load` swaps the model inside
the open window (camera and window kept, about 0.2-0.5 s); it is reached through the handle's
private `_sim` weak reference, guarded, and when it is missing or fails the window is closed and
opened again on the new model with the camera copied over.

Memory: every swap re-creates MuJoCo's GL context for the new model, and on a software
rasteriser that context's 4096x4096 shadow map (64 MB, never drawn: MuJoCo turns shadows off
there) and offscreen buffers are heap blocks of tens of MB. `Simulate` also keeps a copy of each
old model (`m_passive_`, freed only when the window closes). Between those pinned copies glibc
cannot give the freed big blocks back, so the process grew 15-22 MB per swap. Two measures keep
it flat (`bench/bench_mujoco.py`): on a software display the shadow map of a model handed to the
window is shrunk to a token size, and after each swap glibc is asked to return free heap pages
(`malloc_trim`). What `Simulate` itself keeps (about 1 MB per swap of a 100-placement scene)
stays until the window closes.
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

from .display import software_display
from .errors import ViewerUnavailableError
from .pacing import RealTime
from .render import overview_camera
from .watcher import ReloadEvent, SceneWatcher

__all__ = ["PassiveViewer", "run_managed", "run_passive"]

logger = logging.getLogger("gizmo_mujoco")

_CAMERA_FIELDS = ("type", "fixedcamid", "trackbodyid", "distance", "azimuth", "elevation",
                  "orthographic")  # fmt: skip
# The Gizmo box sits in the 3D view's top-right corner: MuJoCo draws its real-time label at the
# top left, "LOADING..."/"PAUSE" at the top centre and its panels beside the 3D view, so a box
# of at most _WRAP columns stays clear of all of them.
_WRAP = 40
_BOX = (int(mujoco.mjtFont.mjFONT_NORMAL), int(mujoco.mjtGridPos.mjGRID_TOPRIGHT))
_TOKEN_SHADOW_SIZE = 32  # texels; the map must exist, but no shadow is drawn from it


class PassiveViewer:
    """One passive viewer window; `swap` shows a new model in it."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, *, in_place: bool = True):
        self.in_place = in_place
        self._lean = software_display()
        self.handle, self._threads = _launch(self._fit(model), data)
        self._texts: tuple[str, str] | None = None
        overview = overview_camera(model, data)
        with self.handle.lock():
            _copy_camera(overview, self.handle.cam)

    def swap(self, model: mujoco.MjModel, data: mujoco.MjData) -> str:
        """Show `model`/`data` from now on; returns the route taken ("in place" or "reopened")."""
        self._fit(model)
        load = _private_load(self.handle) if self.in_place else None
        if load is not None:
            try:  # `load` takes the viewer's lock itself: never call it holding lock()
                load(model, data, "")
                _release_free_heap()
                return "in place"
            except Exception as exc:  # a private API: any failure means use the public route
                logger.warning("in-place viewer swap failed (%s); reopening the window", exc)
        camera = mujoco.MjvCamera()
        _copy_camera(self.handle.cam, camera)
        self.close()
        self.handle, self._threads = _launch(model, data)
        _release_free_heap()
        with self.handle.lock():
            _copy_camera(camera, self.handle.cam)
        if self._texts is not None:
            self.show_text(*self._texts)
        return "reopened"

    def _fit(self, model: mujoco.MjModel) -> mujoco.MjModel:
        """Shrink the shadow map where the window draws no shadows (software GL)."""
        if self._lean:
            quality = model.vis.quality
            quality.shadowsize = min(int(quality.shadowsize), _TOKEN_SHADOW_SIZE)
        return model

    def show_text(self, title: str, body: str) -> None:
        """The Gizmo box (see `_BOX`); long lines are wrapped."""
        self._texts = (title, body)
        self.handle.set_texts(_box(title, body))

    def sync(self) -> None:
        self.handle.sync()

    def is_running(self) -> bool:
        return bool(self.handle.is_running())

    def close(self) -> None:
        """Close the window and wait for its thread: exiting while it tears down crashes X."""
        self.handle.close()
        for thread in self._threads:
            thread.join(timeout=10)


def _launch(
    model: mujoco.MjModel, data: mujoco.MjData
) -> tuple[mujoco.viewer.Handle, list[threading.Thread]]:
    before = set(threading.enumerate())
    try:
        handle = mujoco.viewer.launch_passive(model, data, show_left_ui=False, show_right_ui=False)
    except RuntimeError as exc:  # macOS: the passive viewer needs the `mjpython` launcher
        raise ViewerUnavailableError(
            str(exc),
            hint="On macOS start it with `mjpython -m gizmo_mujoco.cli view ...`, "
            "or use `--backend managed`, which runs under plain python.",
        ) from exc
    return handle, [t for t in threading.enumerate() if t not in before]


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


def _copy_camera(source: mujoco.MjvCamera, target: mujoco.MjvCamera) -> None:
    for name in _CAMERA_FIELDS:
        setattr(target, name, getattr(source, name))
    target.lookat[:] = source.lookat


def _private_load(handle: mujoco.viewer.Handle) -> Callable[..., Any] | None:
    """`Simulate.load` of a passive handle, if this MuJoCo still has it."""
    reference = getattr(handle, "_sim", None)
    simulate = reference() if callable(reference) else None
    load = getattr(simulate, "load", None)
    return load if callable(load) else None


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
    in_place: bool = True,
    on_open: Callable[[PassiveViewer], None] | None = None,
) -> None:
    """Step in real time, show every frame, and swap in each reload until the window closes
    (or `stop` is set). The watcher polls in the background meanwhile."""
    viewer = PassiveViewer(watcher.model, watcher.data, in_place=in_place)
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
                    route = viewer.swap(watcher.model, watcher.data)
                    logger.debug("viewer swapped %s", route)
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
