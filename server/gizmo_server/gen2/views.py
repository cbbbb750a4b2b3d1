"""What the API shows of stored documents (the one place the response shapes live)."""

from __future__ import annotations

from typing import Any

from .store import Doc

__all__ = ["asset_view", "job_view", "scene_view", "status_view"]

_SCENE_FIELDS = ("id", "name", "description", "prompt", "status", "created_at", "updated_at")
_JOB_FIELDS = (
    "id",
    "status",
    "mode",
    "scene_id",
    "prompt",
    "model",
    "created_at",
    "started_at",
    "finished_at",
    "updated_at",
    "stage",
    "progress",
    "error",
)
_ASSET_FIELDS = ("id", "name", "prompt", "kind", "scene_id", "status", "job_id", "created_at")


def scene_view(scene: Doc, include_record: bool = False) -> dict[str, Any]:
    view = {field: scene.get(field) for field in _SCENE_FIELDS}
    view |= {"version": scene["version"], "pipeline_status": scene["pipeline_status"]}
    view["object_count"] = len(scene["record"]["objects"]) if scene["record"] else 0
    if include_record:
        view["record"] = scene["record"]
    return view


def status_view(scene: Doc) -> dict[str, Any]:
    return {
        "scene_id": scene["id"],
        "status": scene["status"],
        "version": scene["version"],
        "pipeline_status": scene["pipeline_status"],
        "pipeline_stages": scene["pipeline_stages"],
        "error": scene["error"],
    }


def job_view(job: Doc, include_result: bool = False) -> dict[str, Any]:
    view = {field: job.get(field) for field in _JOB_FIELDS}
    if include_result:
        view["result"] = job["result"]
    return view


def asset_view(asset: Doc) -> dict[str, Any]:
    return {field: asset.get(field) for field in _ASSET_FIELDS} | {
        "updated_at": asset["updated_at"]
    }
