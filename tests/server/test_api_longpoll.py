"""Long polling: a conditional `GET /scenes/{id}` with `Prefer: wait=N` is held until the scene
changes (200) or N seconds pass (304), and says so with `Preference-Applied` (both generations).

Timings are bounds with wide margins (a held answer that came back within half its wait was
woken by the change), never tight measurements.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from gizmo_server.changes import MAX_WAIT, preferred_wait
from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error
from .gen2_helpers import Gen2, nested_error

LONG = 20  # seconds asked for where a change must end the wait long before


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, generation_delay=0.02, job_seconds=0) as running:
        yield running


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


def _held(
    pool: ThreadPoolExecutor, get: Callable[..., requests.Response], path: str, tag: str, wait: int
) -> Future[tuple[requests.Response, float]]:
    """The GET held in the background, with the seconds it took."""

    def call() -> tuple[requests.Response, float]:
        started = time.monotonic()
        headers = {"If-None-Match": tag, "Prefer": f"wait={wait}"}
        return get(path, headers=headers), time.monotonic() - started

    return pool.submit(call)


def _soon() -> None:
    """Give a just-submitted held GET time to reach the server and start waiting."""
    time.sleep(0.3)


def test_alpha_held_get_answers_200_as_soon_as_a_placement_is_added(
    server: LocalServer, pool: ThreadPoolExecutor
) -> None:
    api, editor = Api(server.base_url, server.api_key), Api(server.base_url, server.api_key)
    scene = api.scene("Long-polled")
    path = f"/scenes/{scene['id']}"
    tag = api.get(path).headers["ETag"]
    asset = api.ready_asset("steel work table")
    held = _held(pool, api.get, path, tag, LONG)
    _soon()
    assert not held.done()
    assert editor.post(f"{path}/assets", {"asset_id": asset["id"]}).status_code == 200
    answer, seconds = held.result(timeout=LONG + 10)
    assert answer.status_code == 200 and len(answer.json()["assets"]) == 1
    assert answer.headers["ETag"] != tag and answer.headers["Preference-Applied"] == f"wait={LONG}"
    assert seconds < LONG / 2, seconds
    api.close()
    editor.close()


def test_alpha_held_get_answers_304_when_nothing_changes(server: LocalServer) -> None:
    api = Api(server.base_url, server.api_key)
    path = f"/scenes/{api.scene('Quiet')['id']}"
    tag = api.get(path).headers["ETag"]
    started = time.monotonic()
    answer = api.get(path, headers={"If-None-Match": tag, "Prefer": "wait=1"})
    assert time.monotonic() - started >= 0.9  # held, not answered at once
    assert answer.status_code == 304 and answer.content == b"" and answer.headers["ETag"] == tag
    assert answer.headers["Preference-Applied"] == "wait=1"
    api.close()


def test_no_wait_is_applied_without_a_tag_to_wait_on(server: LocalServer) -> None:
    api = Api(server.base_url, server.api_key)
    path = f"/scenes/{api.scene('Unconditional')['id']}"
    plain = api.get(path, headers={"Prefer": f"wait={LONG}"})
    assert plain.status_code == 200 and "Preference-Applied" not in plain.headers
    started = time.monotonic()
    star = api.get(path, headers={"If-None-Match": '"x", *', "Prefer": f"wait={LONG}"})
    assert star.status_code == 304 and "Preference-Applied" not in star.headers
    assert time.monotonic() - started < LONG / 2  # `*` matches every version: never held
    stale = api.get(path, headers={"If-None-Match": '"old"', "Prefer": f"wait={LONG}"})
    assert stale.status_code == 200  # changed already: answered at once
    assert_error(
        api.get("/scenes/scn_missing", headers={"If-None-Match": '"x"', "Prefer": "wait=5"}),
        404,
        "scene_not_found",
    )
    api.close()


def test_beyond_the_waiter_cap_a_wait_is_answered_at_once(server: LocalServer) -> None:
    api = Api(server.base_url, server.api_key)
    path = f"/scenes/{api.scene('Crowded')['id']}"
    tag = api.get(path).headers["ETag"]
    changes = server.service.store.changes
    cap, changes.max_waiters = changes.max_waiters, 0
    try:
        started = time.monotonic()
        answer = api.get(path, headers={"If-None-Match": tag, "Prefer": f"wait={LONG}"})
        assert time.monotonic() - started < LONG / 2
    finally:
        changes.max_waiters = cap
    assert answer.status_code == 304 and "Preference-Applied" not in answer.headers
    api.close()


def test_jobs_held_get_wakes_on_a_rename_and_on_a_delete(
    server: LocalServer, pool: ThreadPoolExecutor
) -> None:
    api, editor = (Gen2(server.base_url, server.gen2_api_key) for _ in range(2))
    accepted = api.generate("a small warehouse with two crates")
    scene_id = accepted["scene_id"]
    api.wait(accepted["job_id"])
    path = f"/scenes/{scene_id}"
    tag = api.get(path).headers["ETag"]
    held = _held(pool, api.get, path, tag, LONG)
    _soon()
    assert not held.done()
    editor.ok(editor.request("PATCH", path, json={"name": "Renamed while held"}))
    answer, seconds = held.result(timeout=LONG + 10)
    assert answer.status_code == 200 and answer.json()["scene"]["name"] == "Renamed while held"
    assert answer.headers["Preference-Applied"] == f"wait={LONG}" and seconds < LONG / 2

    held = _held(pool, api.get, path, answer.headers["ETag"], LONG)
    _soon()
    editor.ok(editor.request("DELETE", path))
    gone, seconds = held.result(timeout=LONG + 10)
    nested_error(gone, 404, "scene_not_found")
    assert seconds < LONG / 2, seconds
    api.session.close()
    editor.session.close()


def test_jobs_held_get_answers_304_with_the_preference_applied(server: LocalServer) -> None:
    api = Gen2(server.base_url, server.gen2_api_key)
    path = f"/scenes/{api.ok(api.get('/scenes'))['scenes'][0]['id']}"
    tag = api.get(path).headers["ETag"]
    answer = api.get(path, headers={"If-None-Match": tag, "Prefer": "wait=1"})
    assert answer.status_code == 304 and answer.headers["Preference-Applied"] == "wait=1"
    api.session.close()


def test_closing_the_store_answers_held_requests_at_once(pool: ThreadPoolExecutor) -> None:
    with LocalServer(generation_delay=0.02) as running:
        api = Api(running.base_url, running.api_key)
        path = f"/scenes/{api.scene('Closing')['id']}"
        tag = api.get(path).headers["ETag"]
        held = _held(pool, api.get, path, tag, LONG)
        _soon()
        running.service.store.changes.close()
        answer, seconds = held.result(timeout=LONG + 10)
        assert answer.status_code == 304 and seconds < LONG / 2, seconds
        late = api.get(path, headers={"If-None-Match": tag, "Prefer": f"wait={LONG}"})
        assert late.status_code == 304 and "Preference-Applied" not in late.headers
        api.close()


def test_stopping_the_server_answers_held_requests_of_both_generations(
    pool: ThreadPoolExecutor,
) -> None:
    """Stopping begins by releasing held GETs: they are answered, not cut off by uvicorn's
    graceful-shutdown timeout (which reset them and logged a traceback)."""
    running = LocalServer(demo=True, generation_delay=0.02).start()
    api, jobs = Api(running.base_url, running.api_key), Gen2(running.base_url, running.gen2_api_key)
    paths = [(api.get, f"/scenes/{api.scene('Stopping')['id']}")]
    paths.append((jobs.get, f"/scenes/{jobs.get('/scenes').json()['scenes'][0]['id']}"))
    held = [_held(pool, get, path, get(path).headers["ETag"], LONG) for get, path in paths]
    _soon()
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < LONG / 2
    for future in held:
        answer, seconds = future.result(timeout=LONG + 10)
        assert answer.status_code == 304 and seconds < LONG / 2, seconds
    api.close()
    jobs.close()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=5", 5),
        ("respond-async, WAIT = 2.5 ", 3),
        ('return=minimal, wait="7"; x=1', 7),
        ("wait=100000", MAX_WAIT),
        ("wait=0", None),
        ("wait=-3", None),
        ("wait=nan", None),
        ("wait=soon", None),
        ("waiting=5", None),
        ("", None),
        (None, None),
    ],
)
def test_the_wait_preference_is_read_as_rfc_7240_writes_it(
    header: str | None, seconds: int | None
) -> None:
    assert preferred_wait(header) == seconds
