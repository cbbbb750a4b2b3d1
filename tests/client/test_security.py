"""The key goes to the API base URL only: never to a download host, a log or an error."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoError
from gizmo_client.models import ExportLink
from gizmo_server.embedded import LocalServer

from .conftest import SentRequest

SECRET = "gz_super_secret_key_do_not_leak"


class _StorageHandler(BaseHTTPRequestHandler):
    """A stand-in object store on another loopback host that records what it receives."""

    seen_headers: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen_headers.append(dict(self.headers))
        body = b"<mujoco/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def storage_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.2", 0), _StorageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _StorageHandler.seen_headers = []
    yield f"http://127.0.0.2:{server.server_address[1]}"
    server.shutdown()


def test_download_on_another_host_never_receives_the_key(
    storage_host: str, tmp_path: Path, sent: list[SentRequest]
) -> None:
    link = ExportLink(
        download_url=f"{storage_host}/bucket/scene.xml?signature=abc",
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
        size_bytes=9,
    )
    with GizmoClient(api_key=SECRET, base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path) as c:
        c.download(link, tmp_path / "scene.xml")
    assert (tmp_path / "scene.xml").read_bytes() == b"<mujoco/>"
    assert _StorageHandler.seen_headers and all(
        "authorization" not in {k.lower() for k in h} for h in _StorageHandler.seen_headers
    )
    assert all(SECRET not in str(r.headers) for r in sent)


def test_local_download_links_are_fetched_without_the_key(
    local_server: LocalServer, tmp_path: Path, sent: list[SentRequest]
) -> None:
    with local_server.client(cache_dir=tmp_path) as client:
        scene_id = client.scenes.list().items[0].id
        client.fetch_scene(scene_id, "isaac_sim_usd")
    downloads = [r for r in sent if "/downloads/" in r.url]
    api_calls = [r for r in sent if "/downloads/" not in r.url]
    assert downloads and all("Authorization" not in r.headers for r in downloads)
    assert all(r.headers.get("Authorization", "").startswith("Bearer ") for r in api_calls)


def test_the_key_is_absent_from_logs_errors_and_reprs(
    local_server: LocalServer, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with GizmoClient(
        api_key=SECRET, base_url=local_server.base_url, cache_dir=tmp_path, max_retries=0
    ) as client:
        texts.append(repr(client))
        for call in (lambda: client.scenes.list(), lambda: client.scenes.get("scn_nope")):
            with pytest.raises(GizmoError) as info:
                call()
            texts += [str(info.value), repr(info.value), repr(info.value.__dict__)]
    with GizmoClient(
        api_key=SECRET,
        base_url="http://127.0.0.1:9/v1",
        max_retries=1,
        backoff_base=0.001,
        timeout=(0.5, 0.5),
    ) as offline:
        with pytest.raises(GizmoError) as down:
            offline.scenes.list()
        texts.append(str(down.value))
    texts.append(caplog.text)
    assert caplog.text, "debug logging was on, so something was logged"
    for text in texts:
        assert SECRET not in text
