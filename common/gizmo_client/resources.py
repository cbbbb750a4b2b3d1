"""The API's resources, `client.scenes` and `client.assets`, for both API generations.

One object serves both: calls that exist in both (`get`, `list`, `iter_all`, `assets.get`) speak
the service's generation; a call of only one generation raises `WrongGenerationError` on the
other, naming what to call instead. Jobs-generation objects are subclasses of the alpha ones
(`GeneratedScene` is a `Scene`), so code written for one reads both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, overload

from .errors import AssetGenerationFailedError, GizmoTimeoutError
from .formats import JobsFormat
from .generation import ApiGeneration
from .models import (
    Asset,
    AssetStatus,
    ExportFormat,
    ExportLink,
    Page,
    Quaternion,
    Scene,
    SceneSummary,
    Vector3,
)
from .models_jobs import GeneratedAsset, GeneratedScene, GeneratedSceneSummary, Job
from .resource_base import quote_id
from .resources_jobs import GeneratedAssetCalls, GeneratedSceneCalls

__all__ = ["Assets", "Scenes"]

logger = logging.getLogger("gizmo_client")

ALPHA = ApiGeneration.ALPHA
JOBS = ApiGeneration.JOBS


class Scenes(GeneratedSceneCalls):
    plural = "scenes"

    def create(self, name: str, description: str | None = None) -> Scene:
        self._require(ALPHA, "create", "scenes.generate(prompt)")
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        return Scene.model_validate(self._t.request("POST", "/scenes", json_body=body))

    def get(self, scene_id: str, include_record: bool = False, *, wait: float = 0.0) -> Scene:
        """The scene with its placements. Jobs generation: a `GeneratedScene`, whose placements
        (`assets`) are filled only with `include_record=True`; the alpha generation always
        includes them and ignores the flag.
        (Conditional: a service that sends an `ETag` answers an unchanged scene with 304, and the
        object returned last time is returned again, so treat scenes as read-only.)
        With `wait` (seconds) a scene read before is asked for with `Prefer: wait`: a service
        that honours it answers when the scene changes or `wait` passes, so a watcher sees a
        change at once; `holds_waits` tells whether it did (else poll on an interval)."""
        path = f"/scenes/{quote_id(scene_id)}"
        if self.generation is ALPHA:
            return self._t.get_parsed(path, Scene.model_validate, wait=wait)
        params = {"include_record": "true"} if include_record else None
        return self._t.get_parsed(path, _generated_scene, params=params, wait=wait)

    @property
    def holds_waits(self) -> bool | None:
        """Whether the service held the last `get(..., wait=...)` (None: none was sent yet)."""
        return self._t.holds_waits

    def list(self, limit: int = 20, offset: int = 0) -> Page[SceneSummary]:
        return self._page(self._summary_model(), limit, offset)

    def iter_all(self) -> Iterator[SceneSummary]:
        return self._iter_all(self._summary_model())

    def _summary_model(self) -> type[SceneSummary]:
        return SceneSummary if self.generation is ALPHA else GeneratedSceneSummary

    def add_asset(
        self,
        scene_id: str,
        asset_id: str,
        position: Vector3 | None = None,
        rotation: Quaternion | None = None,
    ) -> Scene:
        """Place a ready asset; omitted position/rotation mean the origin and identity."""
        self._require(ALPHA, "add_asset", "scenes.edit(scene_id, prompt)")
        body: dict[str, Any] = {"asset_id": asset_id}
        if position is not None:
            body["position"] = position.model_dump(include={"x", "y", "z"})
        if rotation is not None:
            body["rotation"] = rotation.model_dump(include={"x", "y", "z", "w"})
        path = f"/scenes/{quote_id(scene_id)}/assets"
        return Scene.model_validate(self._t.request("POST", path, json_body=body))

    def export(self, scene_id: str, format: ExportFormat | JobsFormat | str) -> ExportLink:
        """An alpha export link; the jobs generation answers with the ZIP (`export_zip`)."""
        self._require(ALPHA, "export", "scenes.export_zip(scene_id, format, dest)")
        return self._export_link(f"/scenes/{quote_id(scene_id)}/export", format)


def _generated_scene(body: Any) -> GeneratedScene:
    return GeneratedScene.model_validate(body.get("scene", body))


class Assets(GeneratedAssetCalls):
    plural = "assets"

    @overload
    def generate(
        self, prompt: str, name: str | None = None, tags: list[str] | None = None
    ) -> Asset: ...

    @overload
    def generate(
        self,
        prompt: str,
        name: str | None = None,
        tags: list[str] | None = None,
        *,
        scene_id: str,
        model: str | None = None,
        asset_pipeline: str = "auto",
        persist: bool = True,
    ) -> Job: ...

    def generate(
        self,
        prompt: str,
        name: str | None = None,
        tags: list[str] | None = None,
        *,
        scene_id: str | None = None,
        model: str | None = None,
        asset_pipeline: str = "auto",
        persist: bool = True,
    ) -> Asset | Job:
        """Alpha: create an asset (poll `wait_until_ready`). Jobs generation: pass `scene_id`;
        the answer is the job, whose finished result names the asset (`result_asset_id`)."""
        if scene_id is None:
            self._require(ALPHA, "generate", "assets.generate(prompt, scene_id=...)")
            body: dict[str, Any] = {"prompt": prompt}
            if name is not None:
                body["name"] = name
            if tags is not None:
                body["tags"] = list(tags)
            return Asset.model_validate(self._t.request("POST", "/assets", json_body=body))
        return self._generate_job(prompt, scene_id, model, asset_pipeline, persist)

    def get(self, asset_id: str) -> Asset:
        body = self._t.request("GET", f"/assets/{quote_id(asset_id)}")
        if self.generation is ALPHA:
            return Asset.model_validate(body)
        return GeneratedAsset.model_validate(body.get("asset", body))

    def list(self, limit: int = 20, offset: int = 0, *, scene_id: str | None = None) -> Page[Asset]:
        """A page of assets; `scene_id` filters by scene (jobs generation)."""
        return self._page(self._model(), limit, offset, self._filter(scene_id))

    def iter_all(self, *, scene_id: str | None = None) -> Iterator[Asset]:
        return self._iter_all(self._model(), self._filter(scene_id))

    def _model(self) -> type[Asset]:
        return Asset if self.generation is ALPHA else GeneratedAsset

    def _filter(self, scene_id: str | None) -> dict[str, str] | None:
        if scene_id is None:
            return None
        self._require(JOBS, "list(scene_id=...)", "scenes.get(scene_id).assets")
        return {"scene_id": scene_id}

    def export(self, asset_id: str, format: ExportFormat | JobsFormat | str) -> ExportLink:
        """An alpha export link; the jobs generation answers with the ZIP (`export_zip`)."""
        self._require(ALPHA, "export", "assets.export_zip(asset_id, format, dest)")
        return self._export_link(f"/assets/{quote_id(asset_id)}/export", format)

    def wait_until_ready(
        self,
        asset_id: str,
        timeout: float = 120.0,
        on_progress: Callable[[Asset], None] | None = None,
        *,
        initial_interval: float = 0.5,
        max_interval: float = 5.0,
    ) -> Asset:
        """Poll with backoff (0.5 s growing to 5 s) until ready; raise on failure or timeout.
        (Jobs generation: `client.jobs.wait(job_id)` follows the job's events instead.)"""
        deadline = time.monotonic() + timeout
        interval = initial_interval
        while True:
            asset = self.get(asset_id)
            if on_progress is not None:
                on_progress(asset)
            if asset.status == AssetStatus.READY:
                return asset
            if asset.status == AssetStatus.FAILED:
                reason = asset.error or "no reason given"
                raise AssetGenerationFailedError(
                    f"Asset {asset_id} ({asset.name!r}) failed to generate: {reason}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GizmoTimeoutError(
                    f"Asset {asset_id} is still {asset.status.value} after {timeout:.0f} s"
                )
            time.sleep(min(interval, remaining))
            interval = min(max_interval, interval * 1.5)
