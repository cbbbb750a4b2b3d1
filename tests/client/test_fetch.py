"""`fetch_scene`: export, verified download, cache; one GET when nothing changed."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import DownloadIntegrityError, LinkExpiredError, UnsafeArchiveError
from gizmo_client.models import ExportFormat, Quaternion, Vector3
from gizmo_server.embedded import LocalServer

from .conftest import SentRequest


def _demo_scene_id(client: GizmoClient) -> str:
    return next(s.id for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")


def test_fetch_then_cache_hit_is_exactly_one_request(
    client: GizmoClient, sent: list[SentRequest]
) -> None:
    scene_id = _demo_scene_id(client)
    sent.clear()
    first = client.fetch_scene(scene_id, ExportFormat.MUJOCO_MJCF)
    assert not first.from_cache and first.path.suffix == ".xml"
    assert [r.method for r in sent] == ["GET", "POST", "GET"]
    assert first.path.read_bytes().lstrip().startswith(b"<mujoco")
    sent.clear()
    second = client.fetch_scene(scene_id, ExportFormat.MUJOCO_MJCF)
    assert second.from_cache and second.path == first.path
    assert len(sent) == 1 and sent[0].method == "GET"
    usd = client.fetch_scene(scene_id, "isaac_sim_usd")
    assert usd.path.suffix == ".usd" and usd.path.read_bytes()[:8] == b"PXR-USDC"


def test_a_changed_scene_is_exported_again(client: GizmoClient) -> None:
    scene = client.scenes.create("fetch-change")
    asset_id = client.assets.list().items[0].id
    client.assets.wait_until_ready(asset_id, timeout=30, initial_interval=0.05)
    client.scenes.add_asset(scene.id, asset_id)
    first = client.fetch_scene(scene.id)
    rotation = Quaternion.from_euler_degrees(5, 10, 15)
    client.scenes.add_asset(scene.id, asset_id, Vector3(x=2.0), rotation)
    second = client.fetch_scene(scene.id)
    assert not second.from_cache and second.fingerprint != first.fingerprint
    assert second.path != first.path and first.path.exists()


def test_concurrent_fetches_share_one_cache_entry(client: GizmoClient) -> None:
    scene_id = client.scenes.create("concurrent").id
    results: list[Path] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            results.append(client.fetch_scene(scene_id, "isaac_sim_usd").path)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1 and results[0].read_bytes()[:8] == b"PXR-USDC"
    leftovers = [p for p in client.cache.root.rglob("*") if ".tmp-" in p.name or ".part" in p.name]
    assert leftovers == []


def test_least_recently_used_entries_are_evicted(local_server: LocalServer, tmp_path: Path) -> None:
    with local_server.client(cache_dir=tmp_path, cache_max_bytes=1) as client:
        first = client.fetch_scene(_demo_scene_id(client))
        other_id = next(s.id for s in client.scenes.iter_all() if s.id != first.scene.id)
        client.fetch_scene(other_id)
        assert first.path.exists(), "an entry used a moment ago is spared: it may be in use"
        client.cache.protect_seconds = 0.0
        third = client.fetch_scene(other_id, "isaac_sim_usd")
    assert third.path.exists() and not first.directory.exists()


def test_corrupted_downloads_fail_loudly_and_leave_nothing(tmp_path: Path) -> None:
    with LocalServer(demo=True, faults="corrupt_download:1.0") as server:
        with server.client(cache_dir=tmp_path, max_retries=2, backoff_base=0.01) as client:
            with pytest.raises(DownloadIntegrityError, match=r"SHA-256|bytes"):
                client.fetch_scene(_demo_scene_id(client))
    assert [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".lock")] == []


def test_an_expired_link_is_exported_again_once(
    tmp_path: Path, sent: list[SentRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalServer(demo=True) as server:
        links = server.service.artifacts.links
        monkeypatch.setattr(links, "ttl", -5.0)  # every link is born expired
        with server.client(cache_dir=tmp_path) as client:
            scene_id = _demo_scene_id(client)
            sent.clear()
            with pytest.raises(LinkExpiredError, match="HTTP 403"):
                client.fetch_scene(scene_id)
            exports = [r for r in sent if r.method == "POST" and r.url.endswith("/export")]
            assert len(exports) == 2, "exported again once, then gave up"

            real_get = client._downloader._session.get  # heal the server after one expired try

            def get_then_heal(*args: object, **kwargs: object) -> object:
                response = real_get(*args, **kwargs)  # type: ignore[arg-type]
                monkeypatch.setattr(links, "ttl", 900.0)
                return response

            monkeypatch.setattr(client._downloader._session, "get", get_then_heal)
            sent.clear()
            fetched = client.fetch_scene(scene_id)
    assert fetched.path.read_bytes().lstrip().startswith(b"<mujoco")
    assert [r.method for r in sent if "/downloads/" not in r.url] == ["GET", "POST", "POST"]


def _store_many(root: str, prefix: str, same: bool = False, count: int = 300) -> None:
    from gizmo_client.cache import ExportCache

    cache = ExportCache(Path(root), max_bytes=20_000, protect_seconds=0.0)

    def populate(tmp: Path, i: int) -> Path:  # distinct bytes unless `same`: then all share one
        (tmp / "scene.xml").write_bytes(b"x" * 1000 if same else f"{prefix}{i:04d}".encode() * 200)
        return tmp / "scene.xml"

    for i in range(count):
        cache.store(
            "scn_shared", "mujoco_mjcf", f"{prefix}{i}", functools.partial(populate, i=i), {}
        )


def _two_storers(root: Path, *args: object) -> None:
    """`_store_many` in two spawned processes at once, both ending well."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_store_many, args=(str(root), p, *args)) for p in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]


def test_two_processes_storing_and_evicting_in_one_cache(tmp_path: Path) -> None:
    _two_storers(tmp_path)
    entries = list(tmp_path.glob("*/*/*/meta.json"))
    assert 0 < len(entries) <= 21 and not list(tmp_path.glob("*/*/.tmp-*"))


def test_two_processes_sharing_one_file_among_entries_they_evict(tmp_path: Path) -> None:
    """Every entry links the same bytes while the other process deletes entries: a link to a
    file being removed either holds it or falls back to the copy, and every entry stays whole."""
    _two_storers(tmp_path, True, 60)
    scenes = list(tmp_path.glob("*/*/*/scene.xml"))
    assert scenes and all(p.read_bytes() == b"x" * 1000 for p in scenes)
    assert len({p.stat().st_ino for p in scenes}) < len(scenes), "entries share the file"


@pytest.mark.parametrize(
    ("fmt", "magic"), [("mujoco_mjcf", b"<mujoco"), ("isaac_sim_usd", b"PXR-USDC")]
)
def test_zip_exports_are_unpacked_and_the_scene_file_found(
    tmp_path: Path, fmt: str, magic: bytes
) -> None:
    with LocalServer(demo=True, zip_exports=True) as server:
        with server.client(cache_dir=tmp_path) as client:
            fetched = client.fetch_scene(_demo_scene_id(client), fmt)
    assert fetched.path.read_bytes().lstrip().startswith(magic)
    assert (fetched.path.parent / "README.txt").is_file(), "the archive's other files come along"
    assert not list(fetched.directory.glob("*.zip*")), "the archive itself is not kept"


def test_a_zip_with_a_path_traversal_entry_is_refused_and_nothing_escapes(tmp_path: Path) -> None:
    cache = tmp_path / "deep" / "cache"
    with LocalServer(demo=True, zip_exports=True, faults="unsafe_zip:1.0") as server:
        with server.client(cache_dir=cache) as client:
            with pytest.raises(UnsafeArchiveError, match=r"\.\."):
                client.fetch_scene(_demo_scene_id(client))
    assert not list(tmp_path.rglob("gizmo-zip-slip.txt"))
    assert [p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".lock")] == []


def test_two_services_never_share_cache_entries(local_server: LocalServer, tmp_path: Path) -> None:
    """Demo scenes have the same ids and placements on every local server: still no sharing."""
    with local_server.client(cache_dir=tmp_path) as first_client:
        first = first_client.fetch_scene(_demo_scene_id(first_client))
    with LocalServer(demo=True) as other, other.client(cache_dir=tmp_path) as second_client:
        second = second_client.fetch_scene(_demo_scene_id(second_client))
    assert first.scene.id == second.scene.id and first.fingerprint == second.fingerprint
    assert not second.from_cache and second.directory != first.directory
