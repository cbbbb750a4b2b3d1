"""Typed models of the jobs generation of the API (contract Part C).

Timestamps may be ISO 8601 strings or Unix epoch seconds; both become aware datetimes. Unknown
fields are kept. A generated scene is a `Scene` (its `record.objects` become `assets`), and a
generated asset an `Asset`, so code written for the alpha generation reads both.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from .models import Asset, AssetStatus, Quaternion, Scene, SceneSummary, Vector3, _Model

__all__ = [
    "ApiKeyInfo",
    "CatalogCategory",
    "CatalogItem",
    "GeneratedAsset",
    "GeneratedScene",
    "GeneratedSceneSummary",
    "Job",
    "JobEvent",
    "JobStatus",
    "RecordObject",
    "SceneRecord",
    "SceneStatus",
    "Usage",
    "Whoami",
]


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


# Spellings other callers of the hosted service report, folded into the documented five.
_JOB_STATUS_ALIASES = {
    "pending": "queued",
    "processing": "running",
    "in_progress": "running",
    "completed": "succeeded",
    "success": "succeeded",
    "ready": "succeeded",
    "error": "failed",
    "canceled": "cancelled",
}

#: Event types after which a job's stream has nothing more to say.
TERMINAL_EVENTS = frozenset({"job_succeeded", "job_failed", "job_cancelled", "done"})


class Job(_Model):
    """A generation job. The 202 answer of a generate/edit call is read as a queued job."""

    id: str
    status: JobStatus
    mode: str | None = None
    scene_id: str | None = None
    asset_id: str | None = None
    created_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    error: Any = None
    result: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "id" not in data and "job_id" in data:
            data["id"] = data["job_id"]
        status = data.get("status")
        if isinstance(status, str):
            data["status"] = _JOB_STATUS_ALIASES.get(status.lower(), status.lower())
        return data

    @classmethod
    def from_answer(cls, body: dict[str, Any]) -> Job:
        """A job from an answer that holds it under `job` or is the job (or the 202 answer)."""
        inner = body.get("job")
        return cls.model_validate(inner if isinstance(inner, dict) else body)

    @property
    def result_scene_id(self) -> str | None:
        """The scene this job made or changed: from the job, else from its result."""
        return self.scene_id or _result_id(self.result, "scene_id", "scene")

    @property
    def result_asset_id(self) -> str | None:
        """The asset an asset job made, which only the finished job's result names."""
        return self.asset_id or _result_id(self.result, "asset_id", "asset")


def _result_id(result: dict[str, Any] | None, key: str, nested: str) -> str | None:
    if not result:
        return None
    if isinstance(result.get(key), str):
        return str(result[key])
    inner = result.get(nested)
    if isinstance(inner, dict) and isinstance(inner.get("id"), str):
        return str(inner["id"])
    return None


class JobEvent(_Model):
    """One event of a job's stream; `seq` orders them and resumes a dropped stream."""

    seq: int
    type: str
    job_id: str | None = None
    stage: str | None = None
    asset_id: str | None = None
    message: str | None = None
    progress: float | None = None
    ts: AwareDatetime | None = None

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


class RecordObject(_Model):
    """One object of a generated scene's record: its root pose in the scene frame."""

    name: str | None = None
    asset_id: str
    position: Vector3 = Field(default_factory=Vector3)
    rotation: Quaternion = Field(default_factory=Quaternion.identity)
    fixed: bool = False


class SceneRecord(_Model):
    objects: list[RecordObject] = Field(default_factory=list)


def _fill_name(data: Any) -> Any:
    """A scene still generating may have no name yet: fall back to its prompt, then its id."""
    if isinstance(data, dict) and not data.get("name"):
        prompt = data.get("prompt")
        fallback = prompt[:80] if isinstance(prompt, str) and prompt else data.get("id")
        data = {**data, "name": fallback}
    return data


class GeneratedSceneSummary(SceneSummary):
    prompt: str | None = None
    status: str | None = None
    updated_at: AwareDatetime | None = None
    version: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _name(cls, data: Any) -> Any:
        return _fill_name(data)


class GeneratedScene(Scene):
    """A scene of the jobs generation; with `include_record=True` its objects fill `assets`."""

    prompt: str | None = None
    status: str | None = None
    updated_at: AwareDatetime | None = None
    version: int | None = None
    record: SceneRecord | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_and_assets(cls, data: Any) -> Any:
        data = _fill_name(data)
        if isinstance(data, dict) and not data.get("assets"):
            record = data.get("record")
            objects = record.get("objects") if isinstance(record, dict) else None
            if isinstance(objects, list):
                data = {**data, "assets": [_as_placement(o) for o in objects]}
        return data

    def fingerprint(self) -> str:
        """Changes when the scene does: by `version`, else `updated_at`, else its whole body."""
        basis: list[Any]
        if self.version is not None:
            basis = ["version", self.version]
        elif self.updated_at is not None:
            basis = ["updated_at", self.updated_at.isoformat()]
        else:
            basis = ["body", self.model_dump(mode="json", exclude={"record", "assets"})]
        blob = json.dumps([self.id, basis], separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def _as_placement(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    return {**obj, "id": obj.get("id") or obj.get("name")}


class SceneStatus(_Model):
    scene_id: str | None = None
    status: str | None = None
    version: int | None = None
    pipeline_status: str | None = None
    pipeline_stages: list[Any] = Field(default_factory=list)
    error: Any = None


# A generated asset's pipeline status, read as the alpha asset status it corresponds to.
_ASSET_STATUS = {
    "queued": AssetStatus.PENDING,
    "pending": AssetStatus.PENDING,
    "running": AssetStatus.PROCESSING,
    "processing": AssetStatus.PROCESSING,
    "succeeded": AssetStatus.READY,
    "ready": AssetStatus.READY,
    "failed": AssetStatus.FAILED,
    "cancelled": AssetStatus.FAILED,
}


class GeneratedAsset(Asset):
    """An asset of the jobs generation; `pipeline_status` keeps the service's own word."""

    scene_id: str | None = None
    pipeline_status: str | None = None
    updated_at: AwareDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _status(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("status"), str):
            raw = data["status"].lower()
            status = _ASSET_STATUS.get(raw, AssetStatus.PROCESSING)
            data = {**data, "status": status, "pipeline_status": raw}
        return data


class ApiKeyInfo(_Model):
    prefix: str | None = None
    scopes: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int | None = None


class Whoami(_Model):
    user: dict[str, Any] = Field(default_factory=dict)
    key: ApiKeyInfo = Field(default_factory=ApiKeyInfo)


class Usage(_Model):
    """Per-key counts and rate configuration; the fields are the service's (kept as given)."""


class CatalogItem(_Model):
    slug: str
    name: str | None = None
    category: str | None = None
    description: str | None = None


class CatalogCategory(_Model):
    slug: str
    name: str | None = None
    count: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"slug": data, "name": data}
        if isinstance(data, dict) and "slug" not in data:
            return {**data, "slug": data.get("id") or data.get("name")}
        return data
