"""The watcher's long wait (issue 15): where the service holds the scene's conditional GET until
it changes (`Prefer: wait`, the local server), a change reloads at once even with a poll an
hour away, and `stop()` does not wait for a GET the service is holding.

Bounds are generous (a reload within 10 s of an edit when the next poll is an hour away; a stop
within 1 s while a 4 s wait is held), never tight timings.
"""

from __future__ import annotations

import time

from live import next_event

from gizmo_client import GizmoClient
from gizmo_client.models import Scene, Vector3
from gizmo_mujoco import SceneWatcher
from gizmo_mujoco.sources import SceneSource
from gizmo_mujoco.watcher import LONG_WAIT
from gizmo_server.changes import Changes
from gizmo_server.embedded import LocalServer

HOUR = 3600.0  # a poll interval no test waits for: only a held GET can see a change


def _held_watcher(
    changes: Changes, client: GizmoClient, scene_id: str, long_wait: float = LONG_WAIT
) -> SceneWatcher:
    """A started watcher whose GET the server (`changes`: its generation's) holds now; from
    then on only a held GET can see a change (the poll is an hour away)."""
    watcher = SceneWatcher(SceneSource(client, scene_id), poll_interval=0.05, long_wait=long_wait)
    watcher.load()
    watcher.start()
    deadline = time.monotonic() + 10
    while not changes.holding(scene_id):
        assert time.monotonic() < deadline, "the local server never held the watcher's GET"
        time.sleep(0.02)
    watcher.poll_interval = HOUR
    return watcher


def test_an_alpha_placement_reloads_at_once_with_the_poll_an_hour_away(
    local_server: LocalServer, client: GizmoClient, api: GizmoClient, workcell: Scene
) -> None:
    watcher = _held_watcher(local_server.service.store.changes, client, workcell.id)
    try:
        crate = workcell.assets[0]
        api.scenes.add_asset(workcell.id, crate.asset_id, Vector3(x=1.5, y=-1.0, z=0.5))
        event = next_event(watcher, timeout=10.0)
        assert event is not None and event.ok, event and event.message()
        assert f"{len(workcell.assets) + 1} placements" in event.label
    finally:
        watcher.stop()


def test_a_jobs_edit_reloads_at_once_without_following_it(
    local_server: LocalServer, jobs_client: GizmoClient, jobs_api: GizmoClient, warehouse: str
) -> None:
    watcher = _held_watcher(local_server.service.gen2.store.changes, jobs_client, warehouse)
    try:
        job = jobs_api.scenes.edit(warehouse, "add a conveyor belt along the north wall")
        event = next_event(watcher, timeout=20.0)
        assert event is not None and event.ok and "Conveyor_2" in event.message(), event
        assert jobs_api.jobs.wait(job.id).status == "succeeded"
    finally:
        watcher.stop()


def test_stop_does_not_wait_for_a_held_get_and_nothing_is_applied_after(
    local_server: LocalServer, client: GizmoClient, api: GizmoClient, workcell: Scene
) -> None:
    watcher = _held_watcher(local_server.service.store.changes, client, workcell.id, long_wait=4)
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 1.0  # not the 4 s the service may hold the GET
    api.scenes.add_asset(workcell.id, workcell.assets[0].asset_id, Vector3(x=-1.5))
    assert next_event(watcher, timeout=1.5) is None  # the stopped thread staged nothing


def test_plain_polling_when_the_long_wait_is_off(
    client: GizmoClient, api: GizmoClient, workcell: Scene
) -> None:
    source = SceneSource(client, workcell.id)
    watcher = SceneWatcher(source, poll_interval=0.1, long_wait=0)
    watcher.load()
    with watcher:
        api.scenes.add_asset(workcell.id, workcell.assets[0].asset_id, Vector3(y=1.5))
        event = next_event(watcher, timeout=10.0)
    assert event is not None and event.ok
    assert client.scenes.holds_waits is None  # no GET asked to be held


def test_a_service_that_does_not_hold_the_get_is_polled_on_the_interval(
    local_server: LocalServer, client: GizmoClient, api: GizmoClient, workcell: Scene
) -> None:
    changes = local_server.service.store.changes
    cap, changes.max_waiters = changes.max_waiters, 0  # every wait answered at once, unheld
    try:
        watcher = SceneWatcher(SceneSource(client, workcell.id), poll_interval=0.2, long_wait=30)
        watcher.load()
        with watcher:
            time.sleep(0.5)  # rounds answered at once, each followed by the interval
            api.scenes.add_asset(workcell.id, workcell.assets[0].asset_id, Vector3(x=2.5))
            event = next_event(watcher, timeout=10.0)
    finally:
        changes.max_waiters = cap
    assert event is not None and event.ok
    assert client.scenes.holds_waits is False
