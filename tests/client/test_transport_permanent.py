"""Failures that cannot pass on a retry (TLS against a plain-http server, a URL without a scheme)
fail at the first attempt, keeping the cause, instead of four backoff retries."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoConnectionError
from gizmo_server.embedded import LocalServer
from tests.client.conftest import SentRequest


@pytest.mark.parametrize(
    ("scheme", "cause"),
    [("https", requests.exceptions.SSLError), ("ftp", requests.exceptions.InvalidSchema)],
)
def test_permanent_failures_are_not_retried(
    local_server: LocalServer,
    tmp_path: Path,
    sent: list[SentRequest],
    scheme: str,
    cause: type[Exception],
) -> None:
    url = local_server.base_url.replace("http://", f"{scheme}://")
    client = GizmoClient(
        api_key=local_server.api_key, base_url=url, cache_dir=tmp_path, api_generation="alpha"
    )
    with client, pytest.raises(GizmoConnectionError) as raised:
        client.scenes.list()
    assert isinstance(raised.value.__cause__, cause)
    assert len(sent) <= 1, [r.url for r in sent]
