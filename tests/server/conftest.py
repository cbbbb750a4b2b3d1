"""Fixtures for the local server tests: real servers on loopback, reached with plain requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gizmo_server.embedded import LocalServer

OTHER_KEY = "gzk_test_second_account_key"
WAIT_SECONDS = 10.0


class Api:
    """Plain HTTP against one server as one account; paths are relative to the base URL."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if key is not None:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base_url + path, json=json, timeout=30, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def created(self, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def scene(self, name: str = "Test Scene") -> dict[str, Any]:
        return self.created("/scenes", {"name": name}, 201)

    def asset(self, prompt: str, **fields: Any) -> dict[str, Any]:
        return self.created("/assets", {"prompt": prompt, **fields}, 202)

    def wait_for(self, asset_id: str, *statuses: str) -> dict[str, Any]:
        """Poll an asset until its status is one of `statuses` (ready by default)."""
        wanted = statuses or ("ready",)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            asset: dict[str, Any] = self.get(f"/assets/{asset_id}").json()
            if asset["status"] in wanted:
                return asset
            assert time.monotonic() < deadline, f"asset stuck in {asset['status']}: {asset}"
            time.sleep(0.01)

    def ready_asset(self, prompt: str) -> dict[str, Any]:
        return self.wait_for(self.asset(prompt)["id"])

    def close(self) -> None:
        self.session.close()


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's envelope: status, JSON `{error, code, message}`, and an X-Request-Id."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("X-Request-Id", "").startswith("req_")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and len(body["message"]) > 10
    return body


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """One demo server for the read-mostly tests, with a second account."""
    with LocalServer(demo=True, api_keys=(OTHER_KEY,), generation_delay=0.02) as running:
        yield running


@pytest.fixture
def api(server: LocalServer) -> Iterator[Api]:
    client = Api(server.base_url, server.api_key)
    yield client
    client.close()


@pytest.fixture
def other(server: LocalServer) -> Iterator[Api]:
    client = Api(server.base_url, OTHER_KEY)
    yield client
    client.close()


@pytest.fixture
def fresh() -> Iterator[tuple[LocalServer, Api]]:
    """A server of its own (no demo data), for tests that count or reconfigure."""
    with LocalServer(generation_delay=0.02) as running:
        client = Api(running.base_url, running.api_key)
        yield running, client
        client.close()
