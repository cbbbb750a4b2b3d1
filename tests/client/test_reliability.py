"""Retries: 300 operations through 20 % injected failures all succeed, with no duplicates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gizmo_client.errors import RateLimitError, ServerError
from gizmo_client.models import Quaternion, Vector3
from gizmo_client.transport import RetryPolicy, Transport, parse_retry_after
from gizmo_server.embedded import LocalServer

# Every injected way of failing, 20 % of requests in all. 429 and 503 come with a 1 s
# Retry-After that the client honours, so they get smaller shares to keep the test quick.
FAULTS = (
    "500:0.04,502:0.04,503:0.02,429:0.02,reset:0.04,slow:0.01,"
    "truncate_download:0.015,corrupt_download:0.015"
)


def test_300_operations_survive_injected_faults_without_duplicates(tmp_path: Path) -> None:
    with LocalServer(demo=True, generation_delay=0.01, slow_seconds=0.3) as server:
        with server.client(cache_dir=tmp_path, max_retries=10, backoff_base=0.01) as client:
            asset_id = next(a.id for a in client.assets.iter_all() if a.status.value == "ready")
            server.configure_faults(FAULTS, seed=1234)
            created: list[str] = []
            operations = 0
            for i in range(30):  # 30 rounds x 10 operations
                scene = client.scenes.create(f"faulty {i}")
                created.append(scene.id)
                for j in range(3):
                    rot = Quaternion.from_euler_degrees(7.0 * j, 11.0 * i, 13.0 + j)
                    client.scenes.add_asset(scene.id, asset_id, Vector3(x=0.1 * i, y=j), rot)
                got = client.scenes.get(scene.id)
                client.scenes.list(limit=5)
                client.assets.get(asset_id)
                fetched = client.fetch_scene(scene.id, "mujoco_mjcf")  # GET + export + download
                operations += 10
                assert len(got.assets) == 3, "a retried POST never places an asset twice"
                assert fetched.path.stat().st_size > 0
            server.configure_faults(None)
            names = [s.name for s in client.scenes.iter_all()]
    assert operations == 300
    for i in range(30):
        assert names.count(f"faulty {i}") == 1, "a retried POST never creates a scene twice"
    assert len(set(created)) == 30


def test_429_waits_as_long_as_retry_after_says() -> None:
    waits: list[float] = []
    with LocalServer(demo=False, api_keys=("gz_rl_key_000001",), faults="429:1.0") as server:
        transport = Transport(
            server.base_url,
            "gz_rl_key_000001",
            retry=RetryPolicy(max_retries=2, backoff_base=0.01),
            sleep=waits.append,
        )
        with pytest.raises(RateLimitError) as info:
            transport.request("GET", "/scenes")
    retry_after = info.value.retry_after
    assert retry_after is not None and retry_after > 0
    assert waits == [retry_after, retry_after]


def test_500_is_retried_for_reads_and_keyed_writes_only() -> None:
    waits: list[float] = []
    with LocalServer(demo=False, api_keys=("gz_err_key_00001",), faults="500:1.0") as server:
        transport = Transport(
            server.base_url,
            "gz_err_key_00001",
            retry=RetryPolicy(max_retries=3, backoff_base=0.01),
            sleep=waits.append,
        )
        with pytest.raises(ServerError):
            transport.request("POST", "/scenes", json_body={"name": "x"}, idempotent=False)
        assert waits == [], "a write without an Idempotency-Key may have run: never retried"
        for method in ("GET", "POST"):
            waits.clear()
            with pytest.raises(ServerError):
                transport.request(method, "/scenes", json_body={"name": "x"})
            assert len(waits) == 3 and all(0 <= w <= 0.08 for w in waits)


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0)
    for attempt in range(8):
        samples = [policy.delay(attempt) for _ in range(200)]
        bound = min(8.0, 0.5 * 2**attempt)
        assert all(0 <= s <= bound for s in samples)
        assert max(samples) > bound * 0.8  # jitter spans the whole range
    assert policy.delay(3, retry_after=2.5) == 2.5
    assert policy.delay(0, retry_after=1e6) == policy.max_retry_after


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    in_a_minute = parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
    assert in_a_minute is not None and in_a_minute > 1e6
    assert parse_retry_after("garbage") is None
    assert math.isclose(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") or 0.0, 0.0)
