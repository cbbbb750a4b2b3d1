"""No log record made while the client runs carries a pre-signed link's signature or the key,
at any level: a real alpha export and download from the local server, all loggers at DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gizmo_client.redaction import REDACTED, redact
from gizmo_server.embedded import LocalServer


def test_urllib3_debug_lines_of_a_real_download_carry_no_signature(
    local_server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root: urllib3, requests, gizmo_client, everything
    with local_server.client(
        cache_dir=tmp_path / "cache",
        api_generation="alpha",
    ) as client:
        scene_id = client.scenes.list(limit=1).items[0].id
        link = client.scenes.export(scene_id, "mujoco_mjcf")
        client.download(link, tmp_path / "scene.xml")
        client.fetch_scene(scene_id)
    signature = parse_qs(urlsplit(link.download_url).query)["signature"][0]
    messages = [record.getMessage() for record in caplog.records]
    downloads = [m for m in messages if "/downloads/" in m]
    assert downloads, "urllib3 logged no request line: the capture did not see it"
    assert any(f"signature={REDACTED}" in m for m in downloads), downloads
    for message in messages:
        assert signature not in message
        assert local_server.api_key not in message
    assert (tmp_path / "scene.xml").stat().st_size > 0


def test_redact_covers_the_usual_signers_and_keeps_the_rest() -> None:
    url = (
        "https://b.s3.amazonaws.com/k/scene.usd?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc123"
        "&X-Amz-Credential=AKIA%2F1&expires=99&sig=sigvalue9&token=tokvalue7"
    )
    cleaned = redact(f'"GET {url} HTTP/1.1" 200 5')
    for secret in ("abc123", "AKIA", "sigvalue9", "tokvalue7"):
        assert secret not in cleaned
    assert "expires=99" in cleaned and "/k/scene.usd" in cleaned
    assert redact("Authorization: Bearer gz_live_1234") == f"Authorization: Bearer {REDACTED}"
    assert redact("GET /v1/scenes?limit=20 -> 200") == "GET /v1/scenes?limit=20 -> 200"
