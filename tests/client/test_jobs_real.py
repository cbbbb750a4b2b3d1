"""The jobs generation end to end against the real local server over loopback HTTP: every call,
real MJCF loaded in real MuJoCo and USD in real usd-core, and the faults the server can inject."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import mujoco
import pytest
from pxr import Usd

from gizmo_client import GizmoClient
from gizmo_client.errors import (
    BadRequestError,
    InsufficientCreditsError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    SceneNotReadyError,
)
from gizmo_client.generation import ApiGeneration
from gizmo_client.models_jobs import GeneratedScene, JobEvent, JobStatus
from gizmo_server.embedded import LocalServer

from .conftest import SentRequest

OTHER_KEY = "gzm_k1_other_account_for_client_tests_0001"
PROMPT = "A small robot workcell: a 6-dof arm beside a table with two bins"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, api_keys=[OTHER_KEY], job_seconds=0.3) as s:
        yield s


@pytest.fixture
def jobs_client(server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path / "cache") as c:
        yield c


@pytest.fixture(scope="module")
def made(
    server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[JobEvent]]:
    """One scene generated for the module: its id and the events of its job."""
    with GizmoClient(
        server.gen2_api_key, server.base_url, cache_dir=tmp_path_factory.mktemp("c")
    ) as c:
        job = c.scenes.generate(PROMPT)
        events: list[JobEvent] = []
        done = c.jobs.wait(job.id, on_event=events.append, timeout=120)
        assert done.status is JobStatus.SUCCEEDED and done.result_scene_id == job.scene_id
        assert job.scene_id is not None
        return job.scene_id, events


def test_the_key_selects_the_generation_on_one_url(server: LocalServer, tmp_path: Path) -> None:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as jobs:
        assert jobs.api_generation is ApiGeneration.JOBS
        who = jobs.whoami()
        assert who.key.prefix and server.gen2_api_key.startswith(who.key.prefix)
        assert who.key.rate_limit_per_minute
        assert jobs.usage().model_dump()  # the service's own fields, kept
    with GizmoClient(server.api_key, server.base_url, cache_dir=tmp_path) as alpha:
        assert alpha.api_generation is ApiGeneration.ALPHA


def test_a_generation_job_streams_ordered_events_once_each(
    made: tuple[str, list[JobEvent]],
) -> None:
    _, events = made
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    kinds = [e.type for e in events]
    assert kinds[0] == "job_queued" and kinds[-2:] == ["job_succeeded", "done"]
    assert "ping" not in kinds and "stage_start" in kinds and "asset_ready" in kinds


def test_a_generated_scene_loads_in_mujoco_and_usd_and_is_cached_by_version(
    jobs_client: GizmoClient, made: tuple[str, list[JobEvent]]
) -> None:
    scene_id, _ = made
    scene = jobs_client.scenes.get(scene_id, include_record=True)
    assert isinstance(scene, GeneratedScene) and scene.version is not None and scene.assets
    first = jobs_client.fetch_scene(scene_id, "mjcf")
    model = mujoco.MjModel.from_xml_path(str(first.path))
    assert model.nbody > len(scene.assets)
    again = jobs_client.fetch_scene(scene_id, "mujoco_mjcf")
    assert again.from_cache and again.path == first.path and not first.from_cache
    # Watchers poll `scenes.get(id).fingerprint()` (no record) against the fetched one.
    assert jobs_client.scenes.get(scene_id).fingerprint() == first.fingerprint
    assert [p.asset_id for p in first.scene.assets] == [p.asset_id for p in scene.assets]
    usd = jobs_client.fetch_scene(scene_id, "isaac_sim_usd")
    stage = Usd.Stage.Open(str(usd.path))
    assert stage.GetDefaultPrim().IsValid()
    assert {p.parent.name for p in (first.path, usd.path)} == {"unpacked"}


def test_a_robot_profile_adds_the_robot_to_the_zip(
    jobs_client: GizmoClient, made: tuple[str, list[JobEvent]], tmp_path: Path
) -> None:
    scene_id, _ = made
    plain = jobs_client.scenes.export_zip(scene_id, "mjcf", tmp_path / "plain.zip")
    robot = jobs_client.scenes.export_zip(
        scene_id, "mujoco_mjcf", tmp_path / "robot.zip", robot_profile="franka_panda"
    )
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(robot) as b:
        extra = set(b.namelist()) - set(a.namelist())
        assert "scene.xml" in a.namelist() and extra == {"robots/franka_panda.xml"}
        mujoco.MjModel.from_xml_string(b.read("robots/franka_panda.xml").decode())


def test_edit_status_update_list_and_delete(jobs_client: GizmoClient) -> None:
    job = jobs_client.scenes.generate("A lab bench with a gripper", persist=True, model=None)
    assert job.status is JobStatus.QUEUED and job.scene_id
    jobs_client.jobs.wait(job.id, timeout=120)
    before = jobs_client.scenes.get(job.scene_id)
    assert isinstance(before, GeneratedScene)
    edit = jobs_client.scenes.edit(job.scene_id, "Add a conveyor belt along the north wall")
    jobs_client.jobs.wait(edit.id, timeout=120)
    after = jobs_client.scenes.get(job.scene_id)
    assert isinstance(after, GeneratedScene) and after.version == (before.version or 0) + 1
    assert after.fingerprint() != before.fingerprint()
    status = jobs_client.scenes.status(job.scene_id)
    assert status.pipeline_status and status.pipeline_stages
    renamed = jobs_client.scenes.update(job.scene_id, name="Bench", description="edited")
    assert (renamed.name, renamed.description) == ("Bench", "edited")
    assert job.scene_id in {s.id for s in jobs_client.scenes.iter_all()}
    page = jobs_client.scenes.list(limit=1)
    assert len(page.items) == 1 and page.total >= 2
    jobs_client.scenes.delete(job.scene_id)
    with pytest.raises(NotFoundError):
        jobs_client.scenes.get(job.scene_id)


def test_an_asset_job_names_its_asset_which_exports_and_deletes(
    jobs_client: GizmoClient, made: tuple[str, list[JobEvent]], tmp_path: Path
) -> None:
    scene_id, _ = made
    job = jobs_client.assets.generate("A parallel gripper with two fingers", scene_id=scene_id)
    done = jobs_client.jobs.wait(job.id, timeout=120)
    asset_id = done.result_asset_id
    assert asset_id is not None
    assert jobs_client.assets.get(asset_id).id == asset_id
    assert asset_id in {a.id for a in jobs_client.assets.iter_all(scene_id=scene_id)}
    archive = jobs_client.assets.export_zip(asset_id, "mjcf", tmp_path / "asset.zip")
    with zipfile.ZipFile(archive) as z:
        assert z.testzip() is None and any(n.endswith(".xml") for n in z.namelist())
    jobs_client.assets.delete(asset_id)
    with pytest.raises(NotFoundError):
        jobs_client.assets.get(asset_id)


def test_cancel_ends_the_job_and_wait_says_so(server: LocalServer, tmp_path: Path) -> None:
    with LocalServer(api_keys=[OTHER_KEY], job_seconds=5.0) as slow:
        with GizmoClient(OTHER_KEY, slow.base_url, cache_dir=tmp_path) as client:
            job = client.scenes.generate(PROMPT)
            cancelled = client.jobs.cancel(job.id)
            assert cancelled.status in (JobStatus.CANCELLED, JobStatus.RUNNING, JobStatus.QUEUED)
            with pytest.raises(JobFailedError) as info:
                client.jobs.wait(job.id, timeout=60)
            assert info.value.job.status is JobStatus.CANCELLED
            with pytest.raises(SceneNotReadyError) as not_ready:
                client.scenes.export_zip(str(job.scene_id), "mjcf", tmp_path / "x.zip")
            assert not_ready.value.status == 409 and not_ready.value.request_id
            assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".*.part"))


def test_catalog(jobs_client: GizmoClient) -> None:
    categories = jobs_client.catalog.categories()
    assert categories and all(c.slug for c in categories)
    page = jobs_client.catalog.search(category=categories[0].slug)
    assert page.items and all(i.category == categories[0].slug for i in page.items)
    assert jobs_client.catalog.get(page.items[0].slug).slug == page.items[0].slug
    with pytest.raises(NotFoundError):
        jobs_client.catalog.get("no-such-entry")


def test_an_empty_prompt_is_a_typed_422_with_details(jobs_client: GizmoClient) -> None:
    with pytest.raises(BadRequestError) as info:
        jobs_client.scenes.generate("")
    assert info.value.status == 422 and info.value.details and info.value.request_id


def test_a_job_of_another_account_is_refused(
    server: LocalServer, made: tuple[str, list[JobEvent]], tmp_path: Path
) -> None:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as mine:
        job = mine.scenes.generate("A shelf")
    with GizmoClient(OTHER_KEY, server.base_url, cache_dir=tmp_path) as other:
        with pytest.raises((PermissionDeniedError, NotFoundError)) as info:
            other.jobs.get(job.id)
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            list(other.jobs.events(job.id))
    assert info.value.status in (403, 404)


def test_no_credits_is_a_typed_402(tmp_path: Path) -> None:
    with LocalServer(api_keys=[OTHER_KEY], gen2_credits=0) as broke:
        with GizmoClient(OTHER_KEY, broke.base_url, cache_dir=tmp_path) as client:
            with pytest.raises(InsufficientCreditsError) as info:
                client.scenes.generate(PROMPT)
    assert info.value.status == 402 and info.value.code == "insufficient_credits"


def test_a_dropped_event_stream_resumes_with_nothing_lost_or_repeated(
    server: LocalServer, tmp_path: Path
) -> None:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as client:
        job = client.scenes.generate("A crate on a pallet")
        server.configure_faults("sse_drop:1.0")
        try:
            dropped = [(e.seq, e.type) for e in client.jobs.events(job.id, timeout=120)]
        finally:
            server.configure_faults(None)
        whole = [(e.seq, e.type) for e in client.jobs.events(job.id, timeout=60)]
    assert dropped == whole and whole[-1][1] == "done"
    assert len(dropped) > 3  # the fault cuts after the second event: it did resume


def test_the_key_goes_only_to_the_api(
    jobs_client: GizmoClient, made: tuple[str, list[JobEvent]], sent: list[SentRequest]
) -> None:
    scene_id, _ = made
    jobs_client.fetch_scene(scene_id, "sdf")
    assert sent and all(r.url.startswith(jobs_client.base_url + "/") for r in sent)
    assert all("x-gizmo-service-token" not in {k.lower() for k in r.headers} for r in sent)


def test_the_key_is_never_logged_nor_in_an_error(
    server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as client:
        server.configure_faults("sse_drop:1.0")  # the reconnect path logs too
        try:
            job = client.scenes.generate("A conveyor")
            client.jobs.wait(job.id, timeout=120)
        finally:
            server.configure_faults(None)
        with pytest.raises(BadRequestError) as info:
            client.scenes.generate("")
        text = f"{caplog.text}{info.value}{client!r}{client._transport!r}"
    assert "resuming events" in caplog.text and server.gen2_api_key not in text


def test_a_429_waits_until_the_rate_limit_window_resets(
    tmp_path: Path, sent: list[SentRequest]
) -> None:
    # A 12 s window: longer than the whole backoff budget (under 8 s), so only a client that waits
    # for X-RateLimit-Reset gets through; short enough for the suite.
    with LocalServer(api_keys=[OTHER_KEY], gen2_rate_limit=3, gen2_rate_window=12) as limited:
        with GizmoClient(OTHER_KEY, limited.base_url, cache_dir=tmp_path) as client:
            for _ in range(4):  # with detection, the third call already meets the 429
                assert client.scenes.list().total == 0
    assert len(sent) > 5  # whoami + 4 lists, and at least one of them was answered 429 first


def test_a_failed_job_is_a_typed_error_with_the_job(server: LocalServer, tmp_path: Path) -> None:
    with GizmoClient(server.gen2_api_key, server.base_url, cache_dir=tmp_path) as client:
        server.configure_faults("job_failed:1.0")
        try:
            job = client.scenes.generate("A pallet")
            with pytest.raises(JobFailedError, match="failed") as info:
                client.jobs.wait(job.id, timeout=120)
        finally:
            server.configure_faults(None)
    assert info.value.job.status is JobStatus.FAILED and info.value.job.error
