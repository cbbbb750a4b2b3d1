"""Newcomer finding 3: base URL mistakes get one line that names the fix."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_AUTH, EXIT_NETWORK, EXIT_NOT_FOUND
from gizmo_server.embedded import LocalServer

from .cli_support import run, use_server


@pytest.fixture(autouse=True)
def env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, local_server, tmp_path)


def _host_port(server: LocalServer) -> str:
    return server.base_url.removeprefix("http://").removesuffix("/v1")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("{hp}/v1", "has no scheme: did you mean http://{hp}/v1?"),
        ("ftp://{hp}/v1", "uses ftp://, which the API does not speak"),
        ("http:///v1", "names no host"),
    ],
)
def test_an_unusable_url_fails_at_once_with_the_config_code(
    url: str,
    says: str,
    local_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    sent: list[object],
) -> None:
    hp = _host_port(local_server)
    _, err = run(capsys, "scenes", "list", "--base-url", url.format(hp=hp), code=EXIT_AUTH)
    assert says.format(hp=hp) in err and len(err.splitlines()) == 1
    assert sent == []  # not one request, so no retries


def test_a_url_without_v1_is_told_about_it(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    root = local_server.base_url.removesuffix("/v1")
    _, err = run(capsys, "--base-url", root, "scenes", "list", code=EXIT_NOT_FOUND)
    assert f"did you mean {root}/v1?" in err


def test_https_on_a_plain_http_server_says_to_use_http(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = local_server.base_url.replace("http://", "https://")
    _, err = run(capsys, "--base-url", url, "scenes", "list", code=EXIT_AUTH)
    assert err.splitlines()[-1] == (
        f"error: TLS handshake with {_host_port(local_server)} failed: it does not speak https. "
        f"If it is a plain-http server (such as gizmo-server), use {local_server.base_url}."
    )


def test_nothing_listening_on_loopback_asks_whether_the_server_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    _, err = run(capsys, "--base-url", url, "scenes", "list", code=EXIT_NETWORK)
    assert err.splitlines()[-1].startswith(
        f"error: connection refused: is `gizmo-server` running? (nothing answers at {url})"
    )


def test_with_json_stderr_is_the_json_error_alone(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    _, err = run(capsys, "--json", "--base-url", url, "scenes", "list", code=EXIT_NETWORK)
    error = json.loads(err)["error"]  # the retries were not logged in between
    assert error["exit_code"] == EXIT_NETWORK and "is `gizmo-server` running?" in error["message"]
