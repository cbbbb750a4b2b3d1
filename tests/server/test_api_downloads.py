"""Pre-signed download links: no auth, HMAC signature, expiry, headers, content-addressed files."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from gizmo_server.embedded import LocalServer

from .conftest import Api, assert_error


def _export(api: Api, fmt: str = "mujoco_mjcf") -> dict[str, str]:
    scene = api.scene("Downloads")
    asset = api.ready_asset("2 m belt conveyor")
    api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]})
    link: dict[str, str] = api.post(f"/scenes/{scene['id']}/export", {"format": fmt}).json()
    return link


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    query = {k: v for k, v in query.items() if v != ""}
    return parts._replace(query=urlencode(query)).geturl()


def test_link_shape_and_download_without_any_authorization(api: Api) -> None:
    link = _export(api)
    parts = urlsplit(link["download_url"])
    assert parts.path.startswith("/v1/downloads/")
    query = parse_qs(parts.query)
    assert set(query) == {"expires", "signature"}
    expires = int(query["expires"][0])
    assert 890 <= expires - time.time() <= 901  # the default lifetime is 15 minutes
    assert link["expires_at"].endswith("Z")

    response = requests.get(link["download_url"], timeout=10)  # note: no Authorization
    assert response.status_code == 200
    assert response.content.startswith(b"<mujoco")
    assert int(response.headers["Content-Length"]) == len(response.content) == link["size_bytes"]
    assert response.headers["Content-Type"] == "application/xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="scene.xml"'
    assert hashlib.sha256(response.content).hexdigest() == link["sha256"]


def test_usd_download_headers(api: Api) -> None:
    link = _export(api, "isaac_sim_usd")
    response = requests.get(link["download_url"], timeout=10)
    assert response.status_code == 200
    assert response.content.startswith(b"PXR-USDC")  # a binary crate
    assert response.headers["Content-Disposition"] == 'attachment; filename="scene.usd"'


def test_a_tampered_link_is_403_invalid_signature(api: Api) -> None:
    link = _export(api)
    url = link["download_url"]
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    other_token = url.replace("/downloads/", "/downloads/x")
    for bad in (
        _with_query(url, signature=flipped),
        _with_query(url, signature=""),
        _with_query(url, expires=str(int(expires) + 3600)),  # extending the link
        _with_query(url, expires=""),
        _with_query(url, expires="soon"),
        _with_query(url, signature="é"),
        other_token,
    ):
        body = assert_error(requests.get(bad, timeout=10), 403, "invalid_signature")
        assert body["error"] == "permission_error"


def test_an_expired_link_is_403_url_expired_and_a_fresh_export_works() -> None:
    with LocalServer(link_ttl=0.3) as server:
        api = Api(server.base_url, server.api_key)
        link = _export(api)
        assert requests.get(link["download_url"], timeout=10).status_code == 200
        expires = int(parse_qs(urlsplit(link["download_url"]).query)["expires"][0])
        while time.time() <= expires:
            time.sleep(0.05)
        assert_error(requests.get(link["download_url"], timeout=10), 403, "url_expired")
        fresh = _export(api)
        assert requests.get(fresh["download_url"], timeout=10).status_code == 200
        api.close()


def test_exports_are_stored_once_by_content_hash(fresh: tuple[LocalServer, Api]) -> None:
    server, api = fresh
    scene = api.scene("Hash")
    asset = api.ready_asset("blue plastic bin")
    api.post(f"/scenes/{scene['id']}/assets", {"asset_id": asset["id"]})
    first = api.post(f"/scenes/{scene['id']}/export", {"format": "isaac_sim_usd"}).json()
    again = api.post(f"/scenes/{scene['id']}/export", {"format": "isaac_sim_usd"}).json()
    assert first["sha256"] == again["sha256"]
    assert first["download_url"] != again["download_url"]  # each export gets its own link
    stored = [p for p in (server.data_dir / "files").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [first["sha256"]]
    assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == first["sha256"]

    moved = {"asset_id": asset["id"], "position": {"x": 1.0, "y": 2.0, "z": 0.0}}
    api.post(f"/scenes/{scene['id']}/assets", moved)
    changed = api.post(f"/scenes/{scene['id']}/export", {"format": "isaac_sim_usd"}).json()
    assert changed["sha256"] != first["sha256"]
    assert len([p for p in (server.data_dir / "files").rglob("*") if p.is_file()]) == 2
