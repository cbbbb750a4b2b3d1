"""`Idempotency-Key`: a repeated key replays the first answer (per account), writing once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_a_repeated_key_replays_the_first_answer(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    key = _key()
    first = api.post("/scenes", {"name": "Once"}, headers=key)
    again = api.post("/scenes", {"name": "Once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert api.get("/scenes").json()["total"] == 1

    other = api.post("/scenes", {"name": "Once"}, headers=_key())
    assert other.json()["id"] != first.json()["id"]
    assert api.get("/scenes").json()["total"] == 2


def test_replay_covers_assets_placements_and_exports(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    key = _key()
    asset = api.post("/assets", {"prompt": "steel work table"}, headers=key)
    assert api.post("/assets", {"prompt": "steel work table"}, headers=key).json() == asset.json()
    assert api.get("/assets").json()["total"] == 1

    api.wait_for(asset.json()["id"])
    scene = api.scene()
    place = {"asset_id": asset.json()["id"], "position": {"x": 0.5, "y": 0.25, "z": 0.0}}
    key = _key()
    added = [api.post(f"/scenes/{scene['id']}/assets", place, headers=key) for _ in range(3)]
    assert all(r.json() == added[0].json() for r in added)
    assert len(api.get(f"/scenes/{scene['id']}").json()["assets"]) == 1

    key = _key()
    links = [
        api.post(f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"}, headers=key)
        for _ in range(2)
    ]
    assert links[0].json() == links[1].json()


def test_the_same_key_for_a_different_request_is_400(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    key = _key()
    assert api.post("/scenes", {"name": "A"}, headers=key).status_code == 201
    body = assert_error(
        api.post("/scenes", {"name": "B"}, headers=key), 400, "idempotency_key_reused"
    )
    assert "fresh key" in body["message"]
    assert_error(
        api.post("/assets", {"prompt": "crate"}, headers=key), 400, "idempotency_key_reused"
    )
    assert api.get("/scenes").json()["total"] == 1
    assert api.get("/assets").json()["total"] == 0


def test_failed_requests_are_not_recorded(fresh: tuple[LocalServer, Api]) -> None:
    """A refused request changed nothing, so the same key may carry the corrected request."""
    _, api = fresh
    key = _key()
    assert_error(api.post("/scenes", {"name": ""}, headers=key), 400, "invalid_field")
    assert api.post("/scenes", {"name": "Fixed"}, headers=key).status_code == 201
    assert (
        api.post("/scenes", {"name": "Fixed"}, headers=key).headers["Idempotent-Replayed"] == "true"
    )


def test_keys_are_per_account(api: Api, other: Api) -> None:
    key = _key()
    mine = api.post("/scenes", {"name": "Shared key"}, headers=key).json()
    theirs = other.post("/scenes", {"name": "Shared key"}, headers=key).json()
    assert mine["id"] != theirs["id"]
    assert other.get(f"/scenes/{theirs['id']}").status_code == 200
    assert api.get(f"/scenes/{mine['id']}").status_code == 200


def test_concurrent_requests_with_one_key_create_once(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    key = _key()
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: api.post("/scenes", {"name": "Race"}, headers=key), range(8))
        )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert api.get("/scenes").json()["total"] == 1


def test_an_overlong_key_is_400(api: Api) -> None:
    response = api.post("/scenes", {"name": "x"}, headers={"Idempotency-Key": "k" * 256})
    assert_error(response, 400, "invalid_idempotency_key")
