"""Jobs-generation models: both timestamp forms, the 202 answer as a job, generated scenes and
assets read as their alpha counterparts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gizmo_client.models import AssetStatus, Scene
from gizmo_client.models_jobs import (
    CatalogCategory,
    GeneratedAsset,
    GeneratedScene,
    GeneratedSceneSummary,
    Job,
    JobEvent,
    JobStatus,
)

WHEN = datetime(2024, 11, 30, 20, 53, 20, tzinfo=UTC)


@pytest.mark.parametrize("stamp", [1733000000, 1733000000.0, "2024-11-30T20:53:20Z"])
def test_epoch_and_iso_timestamps_are_the_same_instant(stamp: object) -> None:
    job = Job.model_validate({"id": "job_1", "status": "running", "created_at": stamp})
    assert job.created_at == WHEN


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValidationError):
        Job.model_validate({"id": "job_1", "status": "queued", "created_at": "2024-11-30T20:53"})


def test_the_202_answer_reads_as_a_queued_job() -> None:
    job = Job.model_validate(
        {"scene_id": "jh72k3m4n5p6q7r8", "job_id": "job_9", "status": "queued"}
    )
    assert (job.id, job.status, job.result_scene_id) == (
        "job_9",
        JobStatus.QUEUED,
        "jh72k3m4n5p6q7r8",
    )
    assert not job.status.terminal


def test_reported_status_spellings_and_the_asset_in_a_result() -> None:
    job = Job.model_validate(
        {"id": "job_2", "status": "completed", "result": {"asset": {"id": "ab12cd34ef56gh78"}}}
    )
    assert job.status is JobStatus.SUCCEEDED and job.status.terminal
    assert job.result_asset_id == "ab12cd34ef56gh78"
    with pytest.raises(ValidationError):
        Job.model_validate({"id": "job_3", "status": "exploded"})


def test_a_generated_scene_is_a_scene_with_its_record_as_placements() -> None:
    scene = GeneratedScene.model_validate(
        {
            "id": "jh72k3m4n5p6q7r8",
            "name": None,
            "prompt": "A small lab",
            "version": 2,
            "created_at": 1733000000,
            "updated_at": "2024-12-01T00:00:00Z",
            "record": {
                "objects": [
                    {
                        "name": "Arm_1",
                        "asset_id": "a1",
                        "position": {"x": 1, "y": 2, "z": 0},
                        "rotation": {"x": 0, "y": 0, "z": 0.7071068, "w": 0.7071068},
                        "fixed": True,
                    }
                ]
            },
        }
    )
    assert isinstance(scene, Scene) and scene.name == "A small lab"
    (placement,) = scene.assets
    assert (placement.id, placement.asset_id, placement.position.as_tuple()) == (
        "Arm_1",
        "a1",
        (1, 2, 0),
    )
    assert placement.rotation.to_wxyz()[0] == pytest.approx(0.7071068)
    same_version = scene.model_copy(update={"name": "renamed"})
    assert scene.fingerprint() == same_version.fingerprint()
    assert scene.fingerprint() != scene.model_copy(update={"version": 3}).fingerprint()


def test_summaries_assets_categories() -> None:
    assert GeneratedSceneSummary.model_validate({"id": "x1"}).name == "x1"
    asset = GeneratedAsset.model_validate({"id": "a1", "status": "succeeded", "name": "Arm"})
    assert (asset.status, asset.pipeline_status) == (AssetStatus.READY, "succeeded")
    assert CatalogCategory.model_validate("grippers").slug == "grippers"
    assert CatalogCategory.model_validate({"name": "Arms", "count": 3}).slug == "Arms"


def test_an_event_is_terminal_only_at_the_end() -> None:
    assert not JobEvent(seq=1, type="stage_complete").terminal
    assert JobEvent(seq=9, type="job_cancelled").terminal and JobEvent(seq=10, type="done").terminal
