"""What a job writes besides its own document: its events, and its mirror on its scene."""

from __future__ import annotations

import time

from .store import Doc, Gen2Store

__all__ = ["TERMINAL", "append_event", "mirror_on_scene"]

TERMINAL = ("succeeded", "failed", "cancelled")


def append_event(
    store: Gen2Store,
    job_id: str,
    type_: str,
    *,
    stage: str | None = None,
    asset_id: str | None = None,
    message: str | None = None,
    progress: float = 0.0,
) -> None:
    """Store the job's next event, numbered by the store."""
    store.add_event(
        job_id,
        lambda seq: {
            "seq": seq,
            "type": type_,
            "job_id": job_id,
            "stage": stage,
            "asset_id": asset_id,
            "message": message,
            "progress": progress,
            "ts": round(time.time(), 3),
        },
    )


def mirror_on_scene(
    store: Gen2Store,
    scene_id: str | None,
    mode: str,
    *,
    status: str | None = None,
    stages: list[Doc] | None = None,
    error: str | None = None,
    reset: bool = False,
) -> None:
    """Mirror the job on its scene: `pipeline_status`, `pipeline_stages`, `error`."""
    if scene_id is None:
        return

    def change(scene: Doc) -> Doc:
        out = dict(scene)
        if reset:
            out |= {"pipeline_stages": [], "error": None}
        if status is not None:
            out["pipeline_status"] = status
            if mode == "scene" and status in ("failed", "cancelled"):
                out["status"] = status
            if status in TERMINAL:
                out["error"] = error
        if stages is not None:
            out["pipeline_stages"] = [dict(s) for s in stages]
        return out

    store.update("scene", scene_id, change)
