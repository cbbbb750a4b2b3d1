"""MuJoCo-plugin fixtures: scenes on the real local server, and a private X display."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import glfw
import pytest
from mujoco_scenes import copy_scene

from gizmo_client import GizmoClient
from gizmo_client.models import Scene
from gizmo_mujoco.demo import DEMO_SCENE
from gizmo_mujoco.display import display_problem
from gizmo_server.embedded import LocalServer


@pytest.fixture
def demo_scene(client: GizmoClient) -> Scene:
    summary = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE)
    return client.scenes.get(summary.id)


@pytest.fixture
def api(local_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    """A second client for the test's own API calls, apart from the one a watcher polls with."""
    with local_server.client(cache_dir=tmp_path / "api-cache") as second:
        yield second


@pytest.fixture
def workcell(client: GizmoClient, demo_scene: Scene, request: pytest.FixtureRequest) -> Scene:
    return copy_scene(client, demo_scene, f"mujoco test {request.node.name}")


WAREHOUSE_PROMPT = "a warehouse aisle with shelves, a conveyor and three crates"


@pytest.fixture
def jobs_client(local_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    """A client of the jobs generation (the demo's `gzm_k1_` key), for a watcher to poll with."""
    with local_server.client(api_key=local_server.gen2_api_key, cache_dir=tmp_path / "c1") as c:
        yield c


@pytest.fixture
def jobs_api(local_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    """A second jobs-generation client for the test's own edits."""
    with local_server.client(api_key=local_server.gen2_api_key, cache_dir=tmp_path / "c2") as c:
        yield c


@pytest.fixture
def warehouse(jobs_api: GizmoClient) -> str:
    """A freshly generated jobs-generation scene of the test's own (shelves, conveyor, crates)."""
    job = jobs_api.scenes.generate(WAREHOUSE_PROMPT)
    finished = jobs_api.jobs.wait(job.id, timeout=60)
    scene_id = finished.result_scene_id or job.scene_id
    assert scene_id is not None
    return scene_id


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("GIZMO_ARTIFACTS_DIR", "artifacts")) / "mujoco"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A private Xvfb display (a free number chosen by Xvfb itself), or a skip saying why not."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        _skip_unless_required("Xvfb is not installed (Debian: apt-get install -y xvfb)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    if not number:
        process.kill()
        pytest.fail(f"Xvfb exited (status {process.wait()}) without announcing a display")
    try:
        yield f":{number}"
    finally:
        # GLFW keeps its X connection until exit; losing the server under it makes Xlib end the
        # process with status 1 ("XIO: fatal IO error"), so let go of it first.
        glfw.terminate()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def on_display(x_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The private display as this test's DISPLAY, checked usable."""
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert display_problem() is None
    return x_display


@pytest.fixture
def keyboard(x_display: str) -> Iterator[Callable[..., None]]:
    """Press key chords on the private display through the XTEST extension (libXtst)."""
    x11_name, xtst_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xtst")
    if x11_name is None or xtst_name is None:
        _skip_unless_required("libX11/libXtst not installed (Debian: apt-get install -y libxtst6)")
    x11, xtst = ctypes.CDLL(x11_name), ctypes.CDLL(xtst_name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * 3 + [ctypes.c_ulong]
    display = x11.XOpenDisplay(x_display.encode())
    assert display, f"cannot open {x_display}"

    def press(*keysyms: int) -> None:
        """Hold the keys in order, release in reverse, with the pointer over the window (no
        window manager: keyboard focus follows the pointer)."""
        xtst.XTestFakeMotionEvent(display, -1, 300, 200, 0)
        codes = [x11.XKeysymToKeycode(display, keysym) for keysym in keysyms]
        for code in codes:
            xtst.XTestFakeKeyEvent(display, code, 1, 0)
        for code in reversed(codes):
            xtst.XTestFakeKeyEvent(display, code, 0, 0)
        x11.XFlush(display)

    yield press
    x11.XCloseDisplay(display)


def _skip_unless_required(reason: str) -> NoReturn:
    """Skip a viewer test, unless CI asked for the real viewer (`GIZMO_REQUIRE_DISPLAY=1`)."""
    if os.environ.get("GIZMO_REQUIRE_DISPLAY") == "1":
        pytest.fail(f"GIZMO_REQUIRE_DISPLAY=1 but {reason}")
    pytest.skip(reason)
