"""`gizmo-mujoco view --demo`: hot reload with state kept, end to end, on a local server.

Starts the embedded local server with its demo data, loads "Warehouse Workcell Alpha", drives
the arm to a pose, then adds placements through the API while the scene runs, so every reload
is visible. With a display it opens the viewer; without one it runs a short bounded version that
writes a thumbnail after each reload and prints each state-transfer report.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from gizmo_client import GizmoClient
from gizmo_client.errors import ConfigurationError
from gizmo_client.models import Quaternion, Scene, Vector3

from .pacing import RealTime
from .render import render_png
from .sources import SceneSource
from .viewer import run_passive
from .watcher import ReloadEvent, SceneWatcher

if TYPE_CHECKING:
    from gizmo_server.embedded import LocalServer

__all__ = ["DEMO_SCENE", "run_demo_headless", "run_demo_viewer"]

DEMO_SCENE = "Warehouse Workcell Alpha"
_ARM = "Industrial Arm v1"
# Radians for the arm's drives, in order: turned, shoulder and elbow bent the same way, so the
# hand ends some 0.65 m from where it started (bends that cancel out move it by centimetres).
ARM_POSE = (1.6, 0.7, 0.8, 0.0, 0.9, 0.0)
# What the demo adds, in turn: asset name, extra drop height, roll/pitch/yaw in degrees.
_ADDITIONS = (
    ("Shipping Crate", 0.4, (8.0, -5.0, 37.0)),
    (_ARM, 0.0, (0.0, 0.0, 145.0)),
    ("Parts Bin", 0.0, (0.0, 0.0, -28.0)),
)
_RELOAD_TIMEOUT = 30.0
_CLEARANCE, _SPACING, _PER_ROW = 1.8, 1.5, 5  # metres; the additions' rows


Say = Callable[[str], None]


@dataclass(frozen=True)
class _Addition:
    asset_id: str
    name: str
    position: Vector3
    rotation: Quaternion


@contextmanager
def _demo_scene(say: Say, poll: float) -> Iterator[tuple[LocalServer, Scene, SceneWatcher]]:
    """A running local server, the demo scene, and a loaded watcher on it (private cache)."""
    try:
        from gizmo_server.embedded import LocalServer
    except ImportError as exc:
        raise ConfigurationError(
            f"The demo needs the local server, which is not installed ({exc.name} is missing).",
            hint="pip install 'gizmo-sim[server,mujoco]'",
        ) from exc
    say("Starting a local Gizmo server with demo data...")
    started = time.perf_counter()
    with (
        LocalServer(demo=True) as server,
        tempfile.TemporaryDirectory(prefix="gizmo-demo-cache-") as cache,
        server.client(cache_dir=cache) as client,
    ):
        say(f"  ready at {server.base_url} ({time.perf_counter() - started:.2f} s)")
        summary = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE)
        watcher = SceneWatcher(SceneSource(client, summary.id), poll_interval=poll)
        model, _ = watcher.load()
        say(
            f"Loaded {watcher.source.label}: {model.nbody - 1} bodies, {model.njnt} joints, "
            f"{model.nu} actuators"
        )
        yield server, client.scenes.get(summary.id), watcher


def _prefix(model: mujoco.MjModel, placement_id: str) -> str | None:
    """The placement's name prefix `<readable name>__`, from the export's
    `<custom><text name="<name>__placement_id" data="<id>"/>` entries."""
    for i in range(model.ntext):
        start, size = model.text_adr[i], model.text_size[i]
        if bytes(model.text_data[start : start + size - 1]).decode() == placement_id:
            name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_TEXT, i) or ""
            return name.removesuffix("placement_id")
    return None


def _drive_arm(watcher: SceneWatcher, scene: Scene) -> str | None:
    """Send the scene's first arm to `ARM_POSE`; returns the name of one joint it moves."""
    arm = next((p for p in scene.assets if p.name == _ARM), None)
    model, data = watcher.model, watcher.data
    prefix = _prefix(model, arm.id) if arm and arm.id else None
    drives = [i for i in range(model.nu) if prefix and model.actuator(i).name.startswith(prefix)]
    for actuator, target in zip(drives, ARM_POSE, strict=False):
        low, high = model.actuator_ctrlrange[actuator]
        data.ctrl[actuator] = float(np.clip(target, low, high))
    if len(drives) < 2:
        return None
    return str(model.joint(int(model.actuator_trnid[drives[1], 0])).name)


def demo_additions(scene: Scene, count: int) -> list[_Addition]:
    """`count` placements of assets already in the scene, in rows in front of it: clear of
    what stands there (the nearest row keeps `_CLEARANCE` from the frontmost placement's
    origin, more than any demo asset's half width plus another's) and of each other."""
    by_name = {p.name: p for p in scene.assets if p.name}
    xs = [p.position.x for p in scene.assets]
    centre_x = (min(xs) + max(xs)) / 2
    front_y = min(p.position.y for p in scene.assets) - _CLEARANCE
    out = []
    for index in range(count):
        name, lift, (roll, pitch, yaw) = _ADDITIONS[index % len(_ADDITIONS)]
        template = by_name.get(name) or scene.assets[index % len(scene.assets)]
        row, seat = divmod(index, _PER_ROW)
        position = Vector3(
            x=centre_x + _SPACING * (seat - (_PER_ROW - 1) / 2),
            y=front_y - _SPACING * row,
            z=template.position.z + lift,
        )
        rotation = Quaternion.from_euler_degrees(roll, pitch, yaw + 11 * index)
        out.append(_Addition(template.asset_id, template.name or name, position, rotation))
    return out


def _add(client: GizmoClient, scene_id: str, addition: _Addition) -> None:
    client.scenes.add_asset(scene_id, addition.asset_id, addition.position, addition.rotation)


def run_demo_headless(
    out_dir: Path, *, reloads: int = 3, poll: float = 0.5, say: Say = print
) -> int:
    """The bounded demo for machines without a display; returns the exit status."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with _demo_scene(say, poll) as (server, scene, watcher), server.client() as api:
        joint = _drive_arm(watcher, scene)
        clock = RealTime(watcher)
        say("Driving the arm to a pose: the state every reload must keep.")
        _run_for(clock, 1.5)
        pictures = [_picture(watcher, out_dir / "00-start.png", say)]
        with watcher:
            for number, addition in enumerate(demo_additions(scene, reloads), start=1):
                at = ", ".join(f"{v:.2f}" for v in addition.position.as_tuple())
                say(f"\nReload {number}/{reloads}: the API adds '{addition.name}' at ({at})")
                added_at = time.monotonic()
                _add(api, scene.id, addition)  # its own client: the watcher's polls in a thread
                event, before = _wait_for_reload(watcher, clock, joint)
                if event.report is None:
                    say(f"  {event.message()}")
                    return 1
                source = watcher.source
                held = isinstance(source, SceneSource) and source.holds_waits
                how = (
                    "the server holds each check until a change"
                    if held
                    else f"polling every {poll:g} s"
                )
                say(
                    f"  seen and live {event.applied_at - added_at:.2f} s after the API call "
                    f"({how}; fetch + compile {event.build_seconds:.2f} s)"
                )
                say(f"  state: {event.report.summary()}")
                if joint is not None:
                    after = float(watcher.data.joint(joint).qpos[0])
                    short = joint.split("__", 1)[-1]
                    say(f"  arm {short}: {before:.6f} rad just before the swap, {after:.6f} after")
                _run_for(clock, 1.0)
                slug = addition.name.lower().replace(" ", "-")
                pictures.append(_picture(watcher, out_dir / f"{number:02d}-{slug}.png", say))
    say(
        f"\nDone: {reloads} reloads, each kept the running state. "
        f"{len(pictures)} pictures in {out_dir.resolve()}/"
    )
    say("With a display, `gizmo-mujoco view --demo` shows the same live in the viewer.")
    return 0


def _run_for(clock: RealTime, seconds: float) -> None:
    until = time.perf_counter() + seconds
    while (frame_start := time.perf_counter()) < until:
        clock.advance()
        clock.sleep_rest_of_frame(frame_start)


def _wait_for_reload(
    watcher: SceneWatcher, clock: RealTime, joint: str | None
) -> tuple[ReloadEvent, float]:
    """Step in real time until the watcher has a reload; also the joint's value just before."""
    deadline = time.monotonic() + _RELOAD_TIMEOUT
    while time.monotonic() < deadline:
        frame_start = time.perf_counter()
        clock.advance()
        before = float(watcher.data.joint(joint).qpos[0]) if joint is not None else 0.0
        event = watcher.apply()
        if event is not None:
            clock.restart()
            return event, before
        clock.sleep_rest_of_frame(frame_start)
    raise TimeoutError(f"the scene did not reload within {_RELOAD_TIMEOUT:.0f} s")


def _picture(watcher: SceneWatcher, path: Path, say: Say) -> Path:
    render_png(watcher.model, watcher.data, path, width=640, height=480)
    say(f"  picture: {path}")
    return path


def run_demo_viewer(
    *,
    out_dir: Path | None = None,
    poll: float = 1.0,
    interval: float = 4.0,
    count: int = 6,
    say: Say = print,
    stop: threading.Event | None = None,
) -> int:
    """The interactive demo: the viewer, with a placement added every `interval` seconds, until
    the window is closed (or `stop` is set); a picture of each reload goes to `out_dir`."""
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with _demo_scene(say, poll) as (server, scene, watcher):
        _drive_arm(watcher, scene)
        finished = threading.Event()

        def add_on_a_timer() -> None:
            with server.client() as adder:
                for addition in demo_additions(scene, count):
                    if finished.wait(interval):
                        return
                    say(f"Adding '{addition.name}' through the API...")
                    _add(adder, scene.id, addition)
            say("The demo has added all its placements; close the window to finish.")

        reloads = 0

        def on_event(event: ReloadEvent) -> None:
            nonlocal reloads
            say(event.message())
            if event.ok and out_dir is not None:
                reloads += 1
                _picture(watcher, out_dir / f"{reloads:02d}-reload.png", say)

        adder = threading.Thread(target=add_on_a_timer, name="gizmo-demo-adder", daemon=True)
        say(f"Opening the viewer; a placement is added every {interval:g} s. Close it to finish.")
        say("In the window: drag to orbit, right-drag to pan, scroll to zoom, Esc to close.")
        adder.start()
        try:
            run_passive(watcher, stop=stop, on_event=on_event)
        finally:
            finished.set()
            adder.join(timeout=10)
    return 0
