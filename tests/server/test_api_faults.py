"""Fault injection: every kind observable over HTTP, seeded, switchable, never corrupting data."""

from __future__ import annotations

import hashlib
import http.client
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from gizmo_server.embedded import LocalServer
from gizmo_server.faults import KINDS, parse_spec

from .conftest import Api, assert_error

SLOW = 0.3


@pytest.fixture(scope="module")
def faulty() -> Iterator[LocalServer]:
    with LocalServer(generation_delay=0.02, slow_seconds=SLOW) as server:
        yield server


@pytest.fixture
def api(faulty: LocalServer) -> Iterator[Api]:
    client = Api(faulty.base_url, faulty.api_key)
    yield client
    faulty.configure_faults(None)
    client.close()


def _scene_count(faulty: LocalServer, api: Api) -> int:
    faulty.configure_faults(None)
    total: int = api.get("/scenes").json()["total"]
    return total


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("500", 500, "internal_error"),
        ("503", 503, "service_unavailable"),
        ("429", 429, "rate_limited"),
    ],
)
def test_refusals_happen_before_the_handler(
    faulty: LocalServer, api: Api, kind: str, status: int, code: str
) -> None:
    before = _scene_count(faulty, api)
    faulty.configure_faults(f"{kind}:1.0")
    for response in (api.get("/scenes"), api.post("/scenes", {"name": "never stored"})):
        assert_error(response, status, code)
        assert response.headers["X-Gizmo-Fault"] == kind
        if status != 500:
            assert response.headers["Retry-After"] == "1"
    assert _scene_count(faulty, api) == before


def test_502_loses_the_answer_after_the_commit_and_idempotency_recovers_it(
    faulty: LocalServer, api: Api
) -> None:
    before = _scene_count(faulty, api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    faulty.configure_faults("502:1.0")
    lost = api.post("/scenes", {"name": "committed anyway"}, headers=key)
    assert_error(lost, 502, "bad_gateway")
    assert lost.headers["X-Gizmo-Fault"] == "502"
    assert _scene_count(faulty, api) == before + 1
    retried = api.post("/scenes", {"name": "committed anyway"}, headers=key)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert _scene_count(faulty, api) == before + 1


def test_reset_drops_the_connection_after_the_commit(faulty: LocalServer, api: Api) -> None:
    before = _scene_count(faulty, api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    faulty.configure_faults("reset:1.0")
    with pytest.raises(requests.ConnectionError):
        api.post("/scenes", {"name": "reset"}, headers=key)
    with pytest.raises(requests.ConnectionError):
        requests.get(faulty.base_url + "/scenes", timeout=10)
    assert _scene_count(faulty, api) == before + 1
    assert (
        api.post("/scenes", {"name": "reset"}, headers=key).headers["Idempotent-Replayed"] == "true"
    )
    assert _scene_count(faulty, api) == before + 1


def test_reset_after_commit_loses_only_committed_writes(faulty: LocalServer, api: Api) -> None:
    before = _scene_count(faulty, api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    faulty.configure_faults("reset_after_commit:1.0")
    with pytest.raises(requests.ConnectionError):
        api.post("/scenes", {"name": "lost answer"}, headers=key)
    assert api.get("/scenes").status_code == 200  # reads are answered
    assert_error(api.post("/scenes", {"name": ""}), 400, "invalid_field")  # failures too
    faulty.configure_faults(None)
    assert _scene_count(faulty, api) == before + 1
    replay = api.post("/scenes", {"name": "lost answer"}, headers=key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert _scene_count(faulty, api) == before + 1


def test_slow_delays_the_answer(faulty: LocalServer, api: Api) -> None:
    faulty.configure_faults("slow:1.0")
    started = time.monotonic()
    response = api.get("/scenes")
    assert time.monotonic() - started >= SLOW
    assert response.status_code == 200 and response.headers["X-Gizmo-Fault"] == "slow"


def _link(api: Api) -> dict[str, str]:
    scene = api.scene("Faulty downloads")
    asset = api.ready_asset("four-level storage shelf")
    api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]})
    link: dict[str, str] = api.post(
        f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"}
    ).json()
    return link


def test_truncated_download_stops_half_way(faulty: LocalServer, api: Api) -> None:
    link = _link(api)
    faulty.configure_faults("truncate_download:1.0")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # what a client sees
        requests.get(link["download_url"], timeout=10)
    url = urlsplit(link["download_url"])
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    conn.request("GET", f"{url.path}?{url.query}")
    response = conn.getresponse()
    assert response.status == 200 and response.headers["X-Gizmo-Fault"] == "truncate_download"
    assert int(response.headers["Content-Length"]) == link["size_bytes"]
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    conn.close()
    received = cut.value.partial
    assert len(received) == link["size_bytes"] // 2
    faulty.configure_faults(None)
    intact = requests.get(link["download_url"], timeout=10).content
    assert received == intact[: len(received)]
    assert hashlib.sha256(intact).hexdigest() == link["sha256"]


def test_corrupted_download_keeps_its_length_but_not_its_hash(
    faulty: LocalServer, api: Api
) -> None:
    link = _link(api)
    faulty.configure_faults("corrupt_download:1.0")
    response = requests.get(link["download_url"], timeout=10)
    assert response.status_code == 200 and response.headers["X-Gizmo-Fault"] == "corrupt_download"
    assert len(response.content) == int(response.headers["Content-Length"]) == link["size_bytes"]
    assert hashlib.sha256(response.content).hexdigest() != link["sha256"]
    faulty.configure_faults(None)
    intact = requests.get(link["download_url"], timeout=10).content
    assert hashlib.sha256(intact).hexdigest() == link["sha256"]
    assert sum(a != b for a, b in zip(intact, response.content, strict=True)) == 1


def test_generation_failed_ends_the_asset_failed(faulty: LocalServer, api: Api) -> None:
    faulty.configure_faults("generation_failed:1.0")
    asset = api.asset("wooden shipping crate", name="Doomed Crate")
    failed = api.wait_for(asset["id"], "failed", "ready")
    assert failed["status"] == "failed"
    assert "Generation failed" in failed["error"] and failed["export_formats"] == []
    faulty.configure_faults(None)
    scene = api.scene()
    body = assert_error(
        api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]}), 400, "asset_not_ready"
    )
    assert "Doomed Crate" in body["message"] and "failed" in body["message"]
    assert_error(
        api.post(f"/assets/{asset['id']}/export", {"format": "mujoco_mjcf"}), 400, "asset_not_ready"
    )


def test_export_not_ready_answers_400_naming_the_assets(faulty: LocalServer, api: Api) -> None:
    scene = api.scene("Not ready, says the fault")
    asset = api.ready_asset("steel work table")
    api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]})
    empty = api.scene("Empty")
    faulty.configure_faults("export_not_ready:1.0")
    response = api.post(f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"})
    body = assert_error(response, 400, "assets_not_ready")
    assert "steel work table" in body["message"]
    assert body["assets"] == [
        {"id": asset["id"], "name": "steel work table", "status": "processing"}
    ]
    assert response.headers["X-Gizmo-Fault"] == "export_not_ready"
    # an empty scene has nothing to wait for
    assert api.post(f"/scenes/{empty['id']}/export", {"format": "mujoco_mjcf"}).status_code == 200


def test_faults_are_seeded_and_reconfigurable(faulty: LocalServer, api: Api) -> None:
    def statuses(seed: int) -> list[int]:
        faulty.configure_faults("500:0.5", seed=seed)
        return [api.get("/scenes").status_code for _ in range(40)]

    first = statuses(7)
    assert set(first) == {200, 500}
    assert statuses(7) == first
    assert statuses(8) != first
    faulty.configure_faults(None)
    assert {api.get("/scenes").status_code for _ in range(20)} == {200}


def test_the_docs_are_never_faulted(faulty: LocalServer, api: Api) -> None:
    faulty.configure_faults("500:1.0")
    assert requests.get(faulty.base_url + "/openapi.json", timeout=10).status_code == 200
    assert requests.get(faulty.base_url + "/docs", timeout=10).status_code == 200


def test_faults_are_off_unless_asked_for(server: LocalServer) -> None:
    api = Api(server.base_url, server.api_key)
    responses = [api.get("/scenes") for _ in range(20)]
    assert all(r.status_code == 200 and "X-Gizmo-Fault" not in r.headers for r in responses)
    api.close()


def test_fault_specs_are_validated_with_clear_messages() -> None:
    assert parse_spec("500:0.1, reset:0.05,,slow:0.5") == {"500": 0.1, "reset": 0.05, "slow": 0.5}
    assert parse_spec(None) == {} and parse_spec("") == {}
    assert set(KINDS) == {
        "500", "502", "503", "429", "reset", "reset_after_commit", "slow",
        "truncate_download", "corrupt_download", "generation_failed", "export_not_ready",
        "unsafe_zip", "truncated_zip", "job_failed", "sse_drop",
    }  # fmt: skip
    for spec, fragment in (
        ("boom:0.1", "KIND one of"),
        ("500", "KIND one of"),
        ("500:1.5", "from 0 to 1"),
        ("500:-0.1", "from 0 to 1"),
        ("500:often", "from 0 to 1"),
        ("500:0.6,502:0.6", "add up to 1.2"),
    ):
        with pytest.raises(ValueError, match=fragment):
            parse_spec(spec)
    # kinds at different sites do not compete: each may have a share of 1
    assert len(parse_spec("500:1,corrupt_download:1,generation_failed:1,export_not_ready:1")) == 4
