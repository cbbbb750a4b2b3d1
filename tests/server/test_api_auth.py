"""401 for missing, malformed or unknown keys; 403 for another account's resources; request ids."""

from __future__ import annotations

import pytest
import requests

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer two words",
        "Bearer key-with-ünïcode",
        "Bearer " + "k" * 300,
        "Bearer gzk_not_a_key_this_server_knows",
    ],
)
@pytest.mark.parametrize("method, path", [("GET", "/scenes"), ("POST", "/scenes")])
def test_missing_malformed_or_unknown_key_is_401(
    server: LocalServer, authorization: str | None, method: str, path: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.request(
        method, server.base_url + path, headers=headers, json={"name": "x"}, timeout=10
    )
    body = assert_error(response, 401, "invalid_api_key")
    assert body["error"] == "authentication_error"
    assert "Bearer" in body["message"] or "key" in body["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_401_writes_nothing(server: LocalServer, api: Api) -> None:
    before = api.get("/scenes").json()["total"]
    response = requests.post(
        server.base_url + "/scenes",
        json={"name": "intruder"},
        headers={"Authorization": "Bearer gzk_unknown_key_000"},
        timeout=10,
    )
    assert_error(response, 401, "invalid_api_key")
    assert api.get("/scenes").json()["total"] == before


def test_scheme_is_case_insensitive(server: LocalServer) -> None:
    response = requests.get(
        server.base_url + "/scenes",
        headers={"Authorization": f"bearer {server.api_key}"},
        timeout=10,
    )
    assert response.status_code == 200


def test_other_accounts_resources_are_403(api: Api, other: Api) -> None:
    mine = api.scene("Mine")
    asset = api.ready_asset("steel work table")
    theirs = other.scene("Theirs")
    their_asset = other.ready_asset("wooden crate")

    for response in (
        other.get(f"/scenes/{mine['id']}"),
        other.get(f"/assets/{asset['id']}"),
        other.post(f"/scenes/{mine['id']}/assets", {"asset_id": their_asset["id"]}),
        other.post(f"/scenes/{mine['id']}/export", {"format": "mujoco_mjcf"}),
        other.post(f"/assets/{asset['id']}/export", {"format": "mujoco_mjcf"}),
        # my asset placed into their own scene
        other.post(f"/scenes/{theirs['id']}/assets", {"asset_id": asset["id"]}),
    ):
        body = assert_error(response, 403, "forbidden")
        assert body["error"] == "permission_error"

    # nothing of the refused writes landed
    assert api.get(f"/scenes/{mine['id']}").json()["assets"] == []
    assert other.get(f"/scenes/{theirs['id']}").json()["assets"] == []


def test_lists_show_only_the_callers_account(api: Api, other: Api) -> None:
    mine = api.scene("Only mine")
    their_ids = {s["id"] for s in other.get("/scenes", params={"limit": 100}).json()["scenes"]}
    assert mine["id"] not in their_ids
    my_ids = {s["id"] for s in api.get("/scenes", params={"limit": 100}).json()["scenes"]}
    assert mine["id"] in my_ids


def test_every_response_carries_a_distinct_request_id(server: LocalServer, api: Api) -> None:
    responses = [
        api.get("/scenes"),
        api.get("/scenes/scn_missing"),
        api.get("/no/such/route"),
        requests.get(server.base_url + "/scenes", timeout=10),
        requests.get(server.base_url + "/openapi.json", timeout=10),
        requests.get(server.base_url.removesuffix("/v1") + "/", timeout=10),
    ]
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert all(i.startswith("req_") for i in ids)
    assert len(set(ids)) == len(ids)
