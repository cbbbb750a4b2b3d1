"""Cheap polling: `GET /scenes/{id}` carries an `ETag`; `If-None-Match` with it answers 304 with
no body until the scene changes (both generations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error
from .gen2_helpers import Gen2, nested_error

OTHER_KEY = "gzk_etag_test_other_account"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, api_keys=(OTHER_KEY,), generation_delay=0.02) as running:
        yield running


def test_alpha_scene_304_until_a_placement_is_added(server: LocalServer) -> None:
    api = Api(server.base_url, server.api_key)
    scene = api.scene("Polled")
    first = api.get(f"/scenes/{scene['id']}")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and tag.endswith('"')

    same = api.get(f"/scenes/{scene['id']}", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["ETag"] == tag
    for header in (f'W/{tag}, "other"', '"other", ' + tag, "*"):
        assert (
            api.get(f"/scenes/{scene['id']}", headers={"If-None-Match": header}).status_code == 304
        )
    assert api.get(f"/scenes/{scene['id']}", headers={"If-None-Match": '"x"'}).status_code == 200

    asset = api.ready_asset("steel work table")
    assert api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]}).status_code == 200
    changed = api.get(f"/scenes/{scene['id']}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert len(changed.json()["assets"]) == 1
    again = api.get(f"/scenes/{scene['id']}", headers={"If-None-Match": changed.headers["ETag"]})
    assert again.status_code == 304

    other = Api(server.base_url, OTHER_KEY)  # a tag is no way round ownership
    assert_error(
        other.get(f"/scenes/{scene['id']}", headers={"If-None-Match": "*"}), 403, "forbidden"
    )
    assert_error(
        api.get("/scenes/scn_missing", headers={"If-None-Match": "*"}), 404, "scene_not_found"
    )
    api.close()
    other.close()


def test_jobs_scene_304_until_it_is_renamed_and_per_representation(server: LocalServer) -> None:
    api = Gen2(server.base_url, server.gen2_api_key)
    scene = api.ok(api.get("/scenes"))["scenes"][0]
    path = f"/scenes/{scene['id']}"
    first = api.get(path)
    tag = first.headers["ETag"]
    assert api.get(path, headers={"If-None-Match": tag}).status_code == 304
    with_record = api.get(path, params={"include_record": "true"})
    assert with_record.headers["ETag"] != tag  # another representation, another tag
    assert (
        api.get(path, params={"include_record": "true"}, headers={"If-None-Match": tag}).status_code
        == 200
    )

    api.ok(api.request("PATCH", path, json={"name": "Renamed while polled"}))
    renamed = api.get(path, headers={"If-None-Match": tag})
    assert renamed.status_code == 200 and renamed.json()["scene"]["name"] == "Renamed while polled"
    assert api.get(path, headers={"If-None-Match": renamed.headers["ETag"]}).status_code == 304
    missing = api.get("/scenes/scn_missing", headers={"If-None-Match": "*"})
    nested_error(missing, 404, "scene_not_found")
    api.close()
