"""Cheap polling (issue 15): `scenes.get` sends `If-None-Match` once the service gave an `ETag`,
and a 304 returns the scene parsed last time. The real local server does not send ETags for
scenes yet, so the 304 path runs against the LABELLED STAND-IN `scripted_server`; the real server
is checked for the plain path (no ETag, no `If-None-Match`, a fresh parse each time)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from gizmo_client import GizmoClient
from gizmo_server.embedded import LocalServer

from .scripted_server import Reply, Request, ScriptedServer, json_reply

ALPHA_SCENE = {"id": "scn_etag", "name": "Cell", "description": None, "assets": []}
JOBS_SCENE = {"id": "jh72k3m4n5p6q7r8", "name": "Lab", "created_at": 1733000000, "version": 3}


class ETagScene:
    """GET /scenes/{id} with an ETag per version; 304 when `If-None-Match` names the current one."""

    def __init__(self, scene: dict[str, object], wrap: bool, etag: bool = True) -> None:
        self.scene, self.wrap, self.etag, self.version = scene, wrap, etag, 1

    def __call__(self, request: Request) -> Reply:
        current = f'W/"v{self.version}"'
        if request.headers.get("if-none-match") == current:
            return Reply(304, b"", {"ETag": current})
        body = {"ok": True, "scene": self.scene} if self.wrap else self.scene
        headers = {"ETag": current} if self.etag else {}
        return json_reply(200, body, **headers)


@pytest.mark.parametrize("generation", ["alpha", "jobs"])
def test_an_unchanged_scene_is_a_304_returning_the_same_object(
    generation: str, tmp_path: Path
) -> None:
    scene = ALPHA_SCENE if generation == "alpha" else JOBS_SCENE
    route = ETagScene(scene, wrap=generation == "jobs")
    with ScriptedServer(route) as server:
        with GizmoClient(
            api_key="gz_scripted_key_0001",
            base_url=server.base_url,
            api_generation=generation,
            cache_dir=tmp_path,
        ) as client:
            first = client.scenes.get(str(scene["id"]))
            again = client.scenes.get(str(scene["id"]))
            route.version, route.scene = 2, {**scene, "name": "Renamed"}
            changed = client.scenes.get(str(scene["id"]))
            after = client.scenes.get(str(scene["id"]))
    sent = [r.headers.get("if-none-match") for r in server.requests]
    assert sent == [None, 'W/"v1"', 'W/"v1"', 'W/"v2"']
    assert again is first  # not parsed again
    assert changed.name == "Renamed" and after is changed


def test_without_an_etag_every_get_is_plain(tmp_path: Path) -> None:
    route = ETagScene(ALPHA_SCENE, wrap=False, etag=False)
    with ScriptedServer(route) as server:
        with GizmoClient(
            api_key="gz_scripted_key_0001", base_url=server.base_url, api_generation="alpha"
        ) as client:
            first, second = (client.scenes.get("scn_etag") for _ in range(2))
    assert [r.headers.get("if-none-match") for r in server.requests] == [None, None]
    assert second == first and second is not first


def test_the_real_server_is_polled_conditionally_exactly_when_it_sends_an_etag(
    local_server: LocalServer, client: GizmoClient
) -> None:
    scene_id = client.scenes.list(limit=1).items[0].id
    raw = requests.get(
        f"{local_server.base_url}/scenes/{scene_id}",
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        timeout=10,
    )
    first, second = client.scenes.get(scene_id), client.scenes.get(scene_id)
    assert second == first
    if raw.headers.get("ETag"):
        assert second is first  # answered 304 and not parsed again
    else:
        assert second is not first  # plain GETs, each parsed
