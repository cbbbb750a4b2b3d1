"""Response models of the jobs generation: they document the shapes in the OpenAPI document.

Handlers build the bodies from `views` (one place); these models say what those bodies hold, and
the fuzz tests check every answer against them. Unknown extra fields are allowed, as Part C says.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Accepted",
    "AssetEnvelope",
    "AssetPage",
    "Deleted",
    "JobEnvelope",
    "SceneEnvelope",
    "ScenePage",
    "SceneStatus",
    "WhoAmI",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Ok(_Out):
    ok: Literal[True]


class Accepted(_Ok):
    scene_id: str | None
    job_id: str
    status: Literal["queued"]


class Scene(_Out):
    id: str
    name: str
    description: str | None
    prompt: str
    status: Literal["generating", "ready", "failed", "cancelled"]
    created_at: int
    updated_at: int
    version: int
    pipeline_status: str
    record: dict[str, Any] | None = None


class SceneEnvelope(_Ok):
    scene: Scene


class ScenePage(_Ok):
    scenes: list[Scene]
    total: int
    limit: int
    offset: int


class SceneStatus(_Ok):
    scene_id: str
    status: str
    version: int
    pipeline_status: str
    pipeline_stages: list[dict[str, Any]]
    error: str | None


class Job(_Out):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    mode: Literal["scene", "edit", "asset"]
    scene_id: str | None
    created_at: int
    started_at: int | None
    finished_at: int | None
    progress: float
    error: dict[str, Any] | None
    result: dict[str, Any] | None = None


class JobEnvelope(_Ok):
    job: Job


class Asset(_Out):
    id: str
    name: str
    prompt: str
    kind: str
    scene_id: str | None
    status: str
    created_at: int


class AssetEnvelope(_Ok):
    asset: Asset


class AssetPage(_Ok):
    assets: list[Asset]
    total: int
    limit: int
    offset: int


class Deleted(_Ok):
    deleted: bool
    id: str


class WhoAmI(_Ok):
    user: dict[str, Any]
    key: dict[str, Any]
