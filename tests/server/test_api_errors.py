"""The error envelope everywhere: unknown routes, wrong methods, bad bodies, huge bodies, 500s."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error


@pytest.mark.parametrize(
    "path", ["/v1/nothing", "/", "/v2/scenes", "/v1/scenes/", "/v1/scenes/x/y/z", "/favicon.ico"]
)
def test_unknown_routes_are_404_route_not_found(server: LocalServer, path: str) -> None:
    root = server.base_url.removesuffix("/v1")
    body = assert_error(requests.get(root + path, timeout=10), 404, "route_not_found")
    assert body["error"] == "not_found"


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/scenes", "GET, POST"),
        ("PUT", "/scenes/scn_x", "GET"),
        ("PATCH", "/assets/ast_x", "GET"),
        ("GET", "/scenes/scn_x/export", "POST"),
        ("DELETE", "/scenes/scn_x/assets", "POST"),
    ],
)
def test_wrong_method_is_404_route_not_found_with_allow(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)
    assert_error(response, 404, "route_not_found")
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b'{"name": "x"',
        b'{"name": NaN}',
        b'{"name": "x", "n": Infinity}',
        b'{"name": "x", "n": 1e999}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_bodies_that_are_not_strict_json_are_400_invalid_body(
    fresh: tuple[LocalServer, Api], raw: bytes
) -> None:
    _, api = fresh
    response = api.post("/scenes", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_body")
    assert api.get("/scenes").json()["total"] == 0


def test_non_json_content_type_is_400_and_missing_content_type_is_accepted(
    fresh: tuple[LocalServer, Api],
) -> None:
    _, api = fresh
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = api.post(
            "/scenes", data=b'{"name": "x"}', headers={"Content-Type": content_type}
        )
        body = assert_error(response, 400, "invalid_body")
        assert "application/json" in body["message"]
    assert api.get("/scenes").json()["total"] == 0
    # no Content-Type at all is read as JSON; a +json type is JSON too
    assert api.post("/scenes", data=b'{"name": "bare"}').status_code == 201
    vendor = {"Content-Type": "application/vnd.gizmo+json; charset=utf-8"}
    assert api.post("/scenes", data=b'{"name": "vendor"}', headers=vendor).status_code == 201


def test_huge_bodies_are_a_clean_400_and_store_nothing(
    fresh: tuple[LocalServer, Api],
) -> None:
    _, api = fresh
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.post("/scenes", data=huge, headers={"Content-Type": "application/json"})
    body = assert_error(response, 400, "invalid_body")
    assert "bytes" in body["message"]

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    chunked = api.post("/scenes", data=chunks(), headers={"Content-Type": "application/json"})
    assert_error(chunked, 400, "invalid_body")
    assert api.get("/scenes").json()["total"] == 0


def test_a_body_far_beyond_the_cap_is_refused_before_reading(
    fresh: tuple[LocalServer, Api],
) -> None:
    """A declared length of 1 GB is answered at once; the client need not send it."""
    server, api = fresh
    url = urlsplit(server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/scenes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + server.api_key.encode() + b"\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400")
    assert b'"code":"invalid_body"' in reply
    assert api.get("/scenes").json()["total"] == 0


def test_unexpected_failures_are_500_internal_error_envelopes(
    fresh: tuple[LocalServer, Api],
) -> None:
    """Delete an export's stored file behind the server's back: serving it fails unexpectedly."""
    server, api = fresh
    scene = api.scene()
    link = api.post(f"/scenes/{scene['id']}/export", {"format": "mujoco_mjcf"}).json()
    stored = server.data_dir / "files" / link["sha256"][:2] / link["sha256"]
    stored.unlink()
    response = requests.get(link["download_url"], timeout=10)
    body = assert_error(response, 500, "internal_error")
    assert body["error"] == "api_error"
    assert "Traceback" not in response.text
