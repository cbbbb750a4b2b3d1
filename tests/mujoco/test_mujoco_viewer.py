"""The real passive viewer on a private Xvfb display (skipped, saying why, without Xvfb)."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mujoco
import numpy as np
import pytest
from live import interrupt_view
from mujoco_scenes import ARM, CRATE, NEW_ARM, scene_xml
from PIL import Image, ImageGrab
from real_scenes import write_real_scene

from gizmo_client import GizmoClient
from gizmo_client.models import Quaternion, Scene, Vector3
from gizmo_mujoco.demo import run_demo_viewer
from gizmo_mujoco.display import software_display
from gizmo_mujoco.sources import FileSource, SceneSource
from gizmo_mujoco.viewer import PassiveViewer, run_managed, run_passive
from gizmo_mujoco.watcher import ReloadEvent, SceneWatcher

pytestmark = pytest.mark.viewer


def _screenshot(display: str, path: Path) -> Image.Image:
    image = ImageGrab.grab(xdisplay=display)
    image.save(path)
    return image


@contextmanager
def _passive_window(
    watcher: SceneWatcher,
) -> Iterator[tuple[PassiveViewer, queue.Queue[ReloadEvent]]]:
    """The passive viewer running `watcher` on a thread: its window and its reload events; on
    exit the loop is stopped and must have ended without an error."""
    opened: queue.Queue[PassiveViewer] = queue.Queue()
    events: queue.Queue[ReloadEvent] = queue.Queue()
    failures: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        try:
            run_passive(watcher, stop=stop, on_event=events.put, on_open=opened.put)
        except BaseException as exc:  # surfaced to the test below
            failures.append(exc)

    runner = threading.Thread(target=run, name="viewer-loop")
    runner.start()
    try:
        yield opened.get(timeout=30), events
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive() and not failures, failures


def test_viewer_shows_a_server_side_change_in_the_same_window(
    on_display: str, client: GizmoClient, api: GizmoClient, workcell: Scene, artifacts_dir: Path
) -> None:
    watcher = SceneWatcher(SceneSource(client, workcell.id), poll_interval=0.5)
    watcher.load()
    with _passive_window(watcher) as (viewer, events):
        first_window = viewer.window
        time.sleep(0.5)
        _screenshot(on_display, artifacts_dir / "viewer-before-reload.png")
        arm = next(p for p in workcell.assets if p.name == "Industrial Arm v1")
        rotation = Quaternion.from_euler_degrees(0.0, 0.0, 205.0)
        added = api.scenes.add_asset(workcell.id, arm.asset_id, Vector3(x=-1.2, y=-1.0), rotation)
        event = events.get(timeout=10)
        assert event.ok, event.message()
        shown = viewer.window.model
        new_bodies = [shown.body(b).name for b in range(shown.nbody)]
        ids = [
            bytes(shown.text_data[a : a + n - 1]).decode()
            for a, n in zip(shown.text_adr, shown.text_size, strict=True)
        ]
        text = ids.index(added.assets[-1].id or "")  # the export's <name>__placement_id entry
        prefix = (mujoco.mj_id2name(shown, mujoco.mjtObj.mjOBJ_TEXT, text) or "").removesuffix(
            "placement_id"
        )
        assert f"{prefix}base" in new_bodies  # the viewer's own model has it
        assert shown.nbody == watcher.model.nbody and viewer.window is first_window  # in place
        time.sleep(0.7)  # a few frames with the overlay
        shot = _screenshot(on_display, artifacts_dir / "viewer-after-reload.png")
        assert np.asarray(shot.convert("L"), dtype=float).std() > 10


def test_viewer_follows_an_edit_job_of_a_jobs_generation_scene(
    on_display: str, jobs_client: GizmoClient, jobs_api: GizmoClient, warehouse: str
) -> None:
    """A `gzm_k1_` scene: the poll is an hour away, so only following the job can reload it."""
    watcher = SceneWatcher(SceneSource(jobs_client, warehouse), poll_interval=3600.0)
    watcher.load()
    crate = mujoco.mj_name2id(watcher.model, mujoco.mjtObj.mjOBJ_JOINT, "Crate_2__root")
    address = watcher.model.jnt_qposadr[crate]
    watcher.data.qpos[address] += 0.4  # pushed: where the swap must leave it
    with _passive_window(watcher) as (viewer, events):
        first_window = viewer.window
        pushed = float(watcher.data.qpos[address])
        job = jobs_api.scenes.edit(warehouse, "add a conveyor belt along the north wall")
        watcher.follow_in_background(job.id)
        event = events.get(timeout=15)
        assert event.ok, event.message()
        shown = viewer.window.model
        assert mujoco.mj_name2id(shown, mujoco.mjtObj.mjOBJ_BODY, "Conveyor_2__frame") > 0
        assert viewer.window is first_window and shown.nbody == watcher.model.nbody
        crate = mujoco.mj_name2id(shown, mujoco.mjtObj.mjOBJ_JOINT, "Crate_2__root")
        assert abs(watcher.data.qpos[shown.jnt_qposadr[crate]] - pushed) < 0.05


def test_textured_scene_swaps_in_place_with_the_unused_shadow_map_shrunk(
    on_display: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    """Xvfb draws with llvmpipe, where MuJoCo draws no shadows: the 64 MB shadow map each swap
    would re-allocate is cut to a token size (the memory itself is measured in bench/)."""
    assert software_display()
    scene = write_real_scene(tmp_path)
    first, second = (mujoco.MjModel.from_xml_path(str(scene.path)) for _ in range(2))
    assert first.vis.quality.shadowsize == 4096  # MuJoCo's default, before the viewer sees it
    viewer = PassiveViewer(first, mujoco.MjData(first))
    try:
        viewer.swap(second, mujoco.MjData(second))
        assert viewer.window.model is second and second.vis.quality.shadowsize <= 32
        viewer.sync()
        time.sleep(0.5)
        shot = _screenshot(on_display, artifacts_dir / "viewer-textured.png")
        assert np.asarray(shot.convert("L"), dtype=float).std() > 10
    finally:
        viewer.close()


def test_interactive_demo_adds_placements_that_appear_in_the_window(
    on_display: str, tmp_path: Path
) -> None:
    lines: list[str] = []
    stop = threading.Event()
    outcome: list[int | BaseException] = []

    def run() -> None:
        try:
            out = tmp_path / "out"
            status = run_demo_viewer(
                out_dir=out, poll=0.3, interval=0.5, count=2, say=lines.append, stop=stop
            )
            outcome.append(status)
        except BaseException as exc:  # surfaced to the test below
            outcome.append(exc)

    def placements_live() -> int:
        """The scene size of the newest reload (one reload may bring both additions)."""
        sizes = [int(n) for line in lines for n in re.findall(r", (\d+) placements\) in ", line)]
        return max(sizes, default=8)

    runner = threading.Thread(target=run, name="demo-viewer")
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while placements_live() < 10 and runner.is_alive():
            assert time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(timeout=30)
    assert outcome == [0], outcome
    reloads = [line for line in lines if line.startswith("Reload")]
    assert reloads and all(line.startswith("Reloaded ") for line in reloads), reloads
    assert all(re.search(r"kept [89] placements, (19|20) joints", line) for line in reloads)
    assert "The demo has added all its placements" in " ".join(lines)
    pictures = sorted(p.name for p in (tmp_path / "out").iterdir())  # --out, with a display
    assert pictures == [f"{n:02d}-reload.png" for n in range(1, len(reloads) + 1)]


XK_CONTROL_L, XK_L, XK_Q = 0xFFE3, 0x006C, 0x0071


def test_managed_backend_reloads_on_ctrl_l_and_keeps_the_old_model_on_error(
    on_display: str, keyboard: Callable[..., None], tmp_path: Path, artifacts_dir: Path
) -> None:
    path = tmp_path / "scene.xml"
    path.write_text(scene_xml([ARM, CRATE]))
    watcher = SceneWatcher(FileSource(path))
    watcher.load()
    events: queue.Queue[ReloadEvent] = queue.Queue()
    runner = threading.Thread(target=run_managed, args=(watcher,), kwargs={"on_event": events.put})
    runner.start()
    try:
        _wait_until(lambda: watcher.data.time > 0.05, "the managed viewer's physics loop to run")
        path.write_text(scene_xml([ARM, CRATE, NEW_ARM]))
        keyboard(XK_CONTROL_L, XK_L)
        reloaded = events.get(timeout=15)
        assert reloaded.ok, reloaded.message()
        assert watcher.model.body("pla_new/base").id > 0 and watcher.data.time > 0.05
        assert reloaded.report is not None and reloaded.report.time == pytest.approx(
            watcher.data.time, abs=1.0
        )
        path.write_text(scene_xml([ARM]).replace("<worldbody>", "<worldbody><bodyy/>"))
        keyboard(XK_CONTROL_L, XK_L)
        failed = events.get(timeout=15)
        assert not failed.ok and "element <bodyy>" in failed.message()
        time.sleep(0.5)  # the window shows the error; the previous model keeps running
        assert watcher.model.body("pla_new/base").id > 0
        _screenshot(on_display, artifacts_dir / "managed-reload-error.png")
    finally:
        keyboard(XK_CONTROL_L, XK_Q)
        runner.join(timeout=15)
    assert not runner.is_alive(), "Ctrl+Q should close the managed viewer"


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait for a state instead of a fixed sleep: 2 busy cores can take long to open a window."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def test_ctrl_c_closes_the_managed_viewer_at_once(
    on_display: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    """`gizmo-mujoco view --backend managed` in a terminal: Ctrl-C (SIGINT) ends it within a
    few seconds, with the interrupted exit code and no GLFW error or traceback."""
    (tmp_path / "scene.xml").write_text(scene_xml([ARM, CRATE]))
    interrupt_view(
        ["scene.xml", "--backend", "managed"],
        tmp_path,
        on_display,
        "press Ctrl+L",
        lambda: _screenshot(on_display, artifacts_dir / "managed-start.png"),
    )
