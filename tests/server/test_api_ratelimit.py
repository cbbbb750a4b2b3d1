"""Write rate limits: a token bucket per key; 429 `rate_limited` with Retry-After, X-RateLimit-*."""

from __future__ import annotations

import time

from gizmo_server.embedded import LocalServer
from gizmo_server.ratelimit import TokenBuckets

from .conftest import OTHER_KEY, Api, assert_error


def test_writes_beyond_the_limit_are_429_with_headers() -> None:
    with LocalServer(rate_limit_writes=3, api_keys=("gzk_rate_limited_one", OTHER_KEY)) as server:
        api = Api(server.base_url, server.api_key)
        other = Api(server.base_url, OTHER_KEY)
        remaining = []
        for i in range(3):
            response = api.post("/scenes", {"name": f"S{i}"})
            assert response.status_code == 201
            assert response.headers["X-RateLimit-Limit"] == "3"
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]

        refused = api.post("/scenes", {"name": "one too many"})
        body = assert_error(refused, 429, "rate_limited")
        assert body["error"] == "rate_limit_error"
        assert 1 <= int(refused.headers["Retry-After"]) <= 20  # one token per 20 s at 3/min
        assert refused.headers["X-RateLimit-Limit"] == "3"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert int(refused.headers["X-RateLimit-Reset"]) > time.time()
        assert api.get("/scenes").json()["total"] == 3  # the refused write did not happen

        # reads are not limited, and every key has its own bucket
        assert all(api.get("/scenes").status_code == 200 for _ in range(10))
        assert other.post("/scenes", {"name": "other account"}).status_code == 201
        api.close()
        other.close()


def test_no_limit_by_default(fresh: tuple[LocalServer, Api]) -> None:
    _, api = fresh
    responses = [api.post("/scenes", {"name": f"S{i}"}) for i in range(30)]
    assert {r.status_code for r in responses} == {201}
    assert "X-RateLimit-Limit" not in responses[0].headers


def test_buckets_refill_at_the_configured_rate() -> None:
    now = [1000.0]
    buckets = TokenBuckets(6, clock=lambda: now[0])  # one token every 10 s, bursts of 6
    assert all(buckets.take("k").allowed for _ in range(6))
    refused = buckets.take("k")
    assert not refused.allowed and refused.retry_after == 10.0
    assert refused.headers()["Retry-After"] == "10"
    now[0] += 9.9
    assert not buckets.take("k").allowed
    now[0] += 0.2
    assert buckets.take("k").allowed
    now[0] += 3600  # a long pause refills to the burst size, no more
    assert sum(buckets.take("k").allowed for _ in range(10)) == 6
    assert buckets.take("other").allowed
