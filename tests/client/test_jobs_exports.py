"""ZIP exports, typed errors, rate limits and generation detection of the jobs generation,
against the scripted stand-in server where a case needs a body the real server never sends."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import (
    BadRequestError,
    DownloadIntegrityError,
    InsufficientCreditsError,
    SceneNotReadyError,
    UnsafeArchiveError,
)
from gizmo_client.generation import ApiGeneration

from .scripted_server import Reply, Request, ScriptedServer, json_reply

KEY = "gzm_k1_scripted_test_key"
SCENE = {"id": "jh72k3m4n5p6q7r8", "name": "Lab", "created_at": 1733000000, "version": 3}


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_ZIP = _zip({"scene.xml": b"<mujoco/>", "meshes/arm.obj": b"v 0 0 0\n" * 500})


class ExportServer:
    """A jobs-generation scene and its export, answered with `export` (a Reply)."""

    def __init__(self, export: Reply, scene: dict[str, object] | None = None) -> None:
        self.export = export
        self.scene = scene or SCENE

    def __call__(self, request: Request) -> Reply:
        if request.path == f"/v1/scenes/{SCENE['id']}" and request.method == "GET":
            return json_reply(200, {"ok": True, "scene": self.scene})
        if request.path == f"/v1/scenes/{SCENE['id']}/export":
            return self.export
        return json_reply(404, {"ok": False, "error": {"code": "route_not_found", "status": 404}})


def _client(server: ScriptedServer, tmp_path: Path, **kwargs: object) -> GizmoClient:
    return GizmoClient(
        api_key=KEY,
        base_url=server.base_url,
        cache_dir=tmp_path / "cache",
        backoff_base=0.01,
        max_retries=1,
        **kwargs,  # type: ignore[arg-type]
    )


def _zip_reply(body: bytes, **headers: str) -> Reply:
    return Reply(200, body, {"Content-Type": "application/zip", **headers})


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_zip_export_is_unpacked_cached_by_version_and_reused(tmp_path: Path) -> None:
    route = ExportServer(_zip_reply(GOOD_ZIP))
    with ScriptedServer(route) as server, _client(server, tmp_path, api_generation="jobs") as c:
        first = c.fetch_scene(str(SCENE["id"]), "mujoco_mjcf")
        second = c.fetch_scene(str(SCENE["id"]), "mjcf")
        route.scene = {**SCENE, "version": 4}
        third = c.fetch_scene(str(SCENE["id"]), "mjcf")
        exports = [r for r in server.requests if r.path.endswith("/export")]
    assert first.path.name == "scene.xml" and first.path.read_bytes() == b"<mujoco/>"
    assert (first.path.parent / "meshes" / "arm.obj").is_file()
    assert (first.from_cache, second.from_cache, third.from_cache) == (False, True, False)
    assert first.fingerprint == second.fingerprint != third.fingerprint
    assert [json.loads(r.body) for r in exports] == [{"format": "mjcf"}] * 2
    assert exports[0].query == {} and server.requests[0].query == {"include_record": "true"}


def test_without_version_or_updated_at_the_cache_is_keyed_by_the_zip_content(
    tmp_path: Path,
) -> None:
    scene = {k: v for k, v in SCENE.items() if k != "version"}
    route = ExportServer(_zip_reply(GOOD_ZIP), scene)
    with ScriptedServer(route) as server, _client(server, tmp_path, api_generation="jobs") as c:
        first = c.fetch_scene(str(SCENE["id"]), "mjcf")
        second = c.fetch_scene(str(SCENE["id"]), "mjcf")
        route.export = _zip_reply(_zip({"scene.xml": b"<mujoco model='changed'/>"}))
        third = c.fetch_scene(str(SCENE["id"]), "mjcf")
    assert (first.from_cache, second.from_cache, third.from_cache) == (False, True, False)
    assert third.path.read_bytes() == b"<mujoco model='changed'/>"
    assert not [p for p in _files(tmp_path / "cache") if p.endswith((".zip", ".part"))]


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "close-delimited"])
def test_a_truncated_zip_is_refused_and_nothing_is_cached(tmp_path: Path, announced: bool) -> None:
    cut = GOOD_ZIP[: len(GOOD_ZIP) // 2]
    headers = {"Content-Length": str(len(GOOD_ZIP))} if announced else {"Connection": "close"}
    reply = Reply(200, [cut], {"Content-Type": "application/zip", **headers}, drop=True)
    with ScriptedServer(ExportServer(reply)) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            with pytest.raises(DownloadIntegrityError):
                c.fetch_scene(str(SCENE["id"]), "mjcf")
    cached = _files(tmp_path / "cache")
    assert all(p.endswith(".lock") for p in cached), cached


def test_a_zip_with_a_corrupted_entry_fails_its_crc(tmp_path: Path) -> None:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("scene.xml", b"<mujoco>" + b"A" * 1000 + b"</mujoco>")
    body = stored.getvalue().replace(b"A" * 10, b"B" * 10, 1)
    with ScriptedServer(ExportServer(_zip_reply(body))) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            with pytest.raises(DownloadIntegrityError, match="CRC"):
                c.fetch_scene(str(SCENE["id"]), "mjcf")


def test_a_zip_with_traversal_entries_writes_nothing_outside_the_cache(tmp_path: Path) -> None:
    evil = _zip({"scene.xml": b"<mujoco/>", "../../../../escaped.txt": b"owned"})
    with ScriptedServer(ExportServer(_zip_reply(evil))) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            with pytest.raises(UnsafeArchiveError, match=r"\.\."):
                c.fetch_scene(str(SCENE["id"]), "mjcf")
    outside = [p for p in _files(tmp_path) if not p.startswith("cache/")]
    assert outside == []
    assert all(p.endswith(".lock") for p in _files(tmp_path / "cache"))


def _error(status: int, code: str, **extra: object) -> Reply:
    error = {"code": code, "message": f"{code} happened", "status": status, **extra}
    return json_reply(status, {"ok": False, "error": error}, **{"X-Request-Id": "req_42"})


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (402, "insufficient_credits", InsufficientCreditsError),
        (409, "scene_not_ready", SceneNotReadyError),
        (422, "validation_error", BadRequestError),
    ],
)
def test_nested_errors_are_typed_with_code_message_and_request_id(
    tmp_path: Path, status: int, code: str, cls: type[Exception]
) -> None:
    details = [{"field": "prompt", "message": "must not be empty"}]
    with ScriptedServer(lambda r: _error(status, code, details=details)) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            with pytest.raises(cls) as info:
                c.scenes.generate("")
    error = info.value
    assert type(error) is cls
    assert (error.status, error.code, error.request_id) == (status, code, "req_42")  # type: ignore[attr-defined]
    assert error.details == details  # type: ignore[attr-defined]
    assert f"{code} happened" in str(error) and KEY not in str(error)


def test_a_429_without_retry_after_waits_until_the_rate_limit_reset(tmp_path: Path) -> None:
    reset_at = time.time() + 1.5
    answers = [
        json_reply(
            429,
            {"ok": False, "error": {"code": "rate_limit_exceeded", "status": 429}},
            **{"X-RateLimit-Reset": f"{reset_at:.3f}", "X-RateLimit-Remaining": "0"},
        ),
        json_reply(200, {"ok": True, "scenes": [SCENE], "total": 1, "limit": 20, "offset": 0}),
    ]
    arrivals: list[float] = []

    def route(request: Request) -> Reply:
        arrivals.append(time.time())
        return answers.pop(0)

    with ScriptedServer(route) as server, _client(server, tmp_path, api_generation="jobs") as c:
        page = c.scenes.list()
    assert [s.id for s in page.items] == [SCENE["id"]]
    assert arrivals[1] >= reset_at - 0.05  # it waited for the reset, not a backoff guess


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ({"ok": True, "items": [SCENE]}, [SCENE["id"]]),
        ([SCENE], [SCENE["id"]]),
        ({"ok": True, "scenes": [SCENE], "total": 1}, [SCENE["id"]]),
    ],
    ids=["items", "bare-array", "scenes"],
)
def test_lists_accept_every_documented_shape_and_end(
    tmp_path: Path, shape: object, expected: list[str]
) -> None:
    with ScriptedServer(lambda r: json_reply(200, shape)) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            assert [s.id for s in c.scenes.iter_all()] == expected
            assert len(server.requests) <= 2  # a service ignoring offset cannot loop it


def test_detection_asks_once_per_url_and_key(tmp_path: Path) -> None:
    whoami = {"ok": True, "user": {"id": "u1"}, "key": {"prefix": "gzm_k1_scri", "scopes": []}}
    with ScriptedServer(lambda r: json_reply(200, whoami)) as server:
        with _client(server, tmp_path) as a, _client(server, tmp_path) as b:
            assert a.api_generation is ApiGeneration.JOBS is b.api_generation
        assert server.paths() == ["GET /v1/whoami"]
        other = GizmoClient(api_key=KEY + "2", base_url=server.base_url, cache_dir=tmp_path)
        assert other.api_generation is ApiGeneration.JOBS
        assert server.paths() == ["GET /v1/whoami"] * 2


def _corrupted_stored_zip() -> bytes:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("scene.xml", b"<mujoco>" + b"A" * 1000 + b"</mujoco>")
    return stored.getvalue().replace(b"A" * 10, b"B" * 10, 1)


def test_unpack_to_is_the_crc_check_and_leaves_no_folder_when_an_entry_fails(
    tmp_path: Path,
) -> None:
    with ScriptedServer(ExportServer(_zip_reply(_corrupted_stored_zip()))) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            with pytest.raises(DownloadIntegrityError, match="CRC"):
                c.scenes.export_zip(
                    str(SCENE["id"]), "mjcf", tmp_path / "x.zip", unpack_to=tmp_path / "out"
                )
        assert len([r for r in server.requests if r.path.endswith("/export")]) == 2  # retried
    assert list(tmp_path.iterdir()) == []  # no ZIP, no folder, no staging left


def test_a_corrupted_zip_is_downloaded_again_and_only_the_good_one_is_cached(
    tmp_path: Path,
) -> None:
    route = ExportServer(_zip_reply(_corrupted_stored_zip()))
    answers = iter([_zip_reply(_corrupted_stored_zip()), _zip_reply(GOOD_ZIP)])

    def export_once_bad(request: Request) -> Reply:
        if request.path.endswith("/export"):
            return next(answers)
        return route(request)

    with ScriptedServer(export_once_bad) as server:
        with _client(server, tmp_path, api_generation="jobs") as c:
            fetched = c.fetch_scene(str(SCENE["id"]), "mjcf")
    assert fetched.path.read_bytes() == b"<mujoco/>"
    assert (fetched.directory / "unpacked" / "meshes" / "arm.obj").is_file()
    left = [p for p in _files(tmp_path / "cache") if not p.endswith(".lock")]
    assert sorted(Path(p).name for p in left) == ["arm.obj", "meta.json", "scene.xml"], left
