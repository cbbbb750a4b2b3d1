"""Long polling (issue 15): `scenes.get(scene_id, wait=N)` sends `Prefer: wait=N` on the
conditional GET, is answered by the real local server as soon as the scene changes, and tells
by `holds_waits` whether the service held it; one that ignores the preference (the hosted
service, played by the LABELLED STAND-IN `scripted_server`) answers at once and says False.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.models import Scene
from gizmo_server.embedded import LocalServer

from .conftest import SentRequest
from .scripted_server import ScriptedServer
from .test_conditional_get import ETagScene

LONG = 20.0  # seconds asked for where a change must end the wait long before
STAND_IN_SCENE: dict[str, object] = {"id": "scn_etag", "name": "Cell", "assets": []}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, generation_delay=0.02, job_seconds=0) as running:
        yield running


def _client(
    server: LocalServer, key: str, tmp_path: Path, timeout: tuple[float, float] = (5.0, 60.0)
) -> GizmoClient:
    return GizmoClient(key, server.base_url, cache_dir=tmp_path, timeout=timeout)


def test_alpha_wait_returns_the_changed_scene_at_once(
    server: LocalServer, tmp_path: Path, sent: list[SentRequest]
) -> None:
    with (
        _client(server, server.api_key, tmp_path) as client,
        _client(server, server.api_key, tmp_path) as editor,
    ):
        scene = editor.scenes.create("Long-polled by the client")
        asset = editor.assets.generate("steel work table")
        editor.assets.wait_until_ready(asset.id, initial_interval=0.05)
        assert client.scenes.get(scene.id, wait=LONG).assets == []  # no tag yet: plain
        assert client.scenes.holds_waits is None and "Prefer" not in sent[-1].headers
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            held = pool.submit(client.scenes.get, scene.id, wait=LONG)
            time.sleep(0.3)
            assert not held.done()
            editor.scenes.add_asset(scene.id, asset.id)
            changed = held.result(timeout=LONG + 10)
        assert len(changed.assets) == 1 and time.monotonic() - started < LONG / 2
        assert client.scenes.holds_waits is True
        prefers = [r.headers.get("Prefer") for r in sent if r.url.endswith(f"/scenes/{scene.id}")]
        assert f"wait={LONG:.0f}" in prefers


def test_jobs_wait_returns_the_renamed_scene_at_once(server: LocalServer, tmp_path: Path) -> None:
    with (
        _client(server, server.gen2_api_key, tmp_path) as client,
        _client(server, server.gen2_api_key, tmp_path) as editor,
    ):
        scene_id = client.scenes.list().items[0].id
        client.scenes.get(scene_id)
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            held = pool.submit(client.scenes.get, scene_id, wait=LONG)
            time.sleep(0.3)
            editor.scenes.update(scene_id, name="Renamed under a held GET")
            changed = held.result(timeout=LONG + 10)
        assert changed.name == "Renamed under a held GET"
        assert time.monotonic() - started < LONG / 2 and client.scenes.holds_waits is True


def test_a_held_read_outlasts_a_shorter_read_timeout(server: LocalServer, tmp_path: Path) -> None:
    with _client(server, server.api_key, tmp_path, timeout=(5.0, 0.5)) as client:
        scene = client.scenes.create("Quiet while held")
        first = client.scenes.get(scene.id)
        started = time.monotonic()
        assert client.scenes.get(scene.id, wait=2) is first  # a 304: the scene parsed before
        assert time.monotonic() - started >= 1.5 and client.scenes.holds_waits is True


def test_a_service_that_ignores_the_preference_is_told_apart(tmp_path: Path) -> None:
    with (
        ScriptedServer(ETagScene(STAND_IN_SCENE, wrap=False)) as stand_in,
        GizmoClient(
            api_key="gz_scripted_key_0001",
            base_url=stand_in.base_url,
            api_generation="alpha",
            cache_dir=tmp_path,
        ) as client,
    ):
        first: Scene = client.scenes.get("scn_etag")
        started = time.monotonic()
        assert client.scenes.get("scn_etag", wait=LONG) is first
        assert time.monotonic() - started < LONG / 2 and client.scenes.holds_waits is False
    asked = stand_in.requests[-1].headers
    assert asked.get("prefer") == f"wait={LONG:.0f}" and asked.get("if-none-match")
