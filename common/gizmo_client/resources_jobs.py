"""Calls that exist only in the jobs generation: scene generation and edits, deletes, ZIP
exports, and the premade-asset catalog. `Scenes` and `Assets` (in `resources.py`) mix these in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .downloads import ProgressFn
from .formats import JobsFormat, wire_format
from .generation import ApiGeneration
from .models import ExportFormat, Page
from .models_jobs import CatalogCategory, CatalogItem, GeneratedScene, Job, SceneStatus
from .resource_base import Resource, quote_id

__all__ = ["Catalog", "GeneratedAssetCalls", "GeneratedSceneCalls"]

JOBS = ApiGeneration.JOBS
AnyFormat = ExportFormat | JobsFormat | str


def _generation_body(
    prompt: str, model: str | None, asset_pipeline: str | None, persist: bool | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt, "model": model}
    if asset_pipeline is not None:
        body["asset_pipeline"] = asset_pipeline
    if persist is not None:
        body["persist"] = persist
    return body


class GeneratedSceneCalls(Resource):
    def generate(
        self,
        prompt: str,
        *,
        asset_pipeline: str = "auto",
        model: str | None = None,
        persist: bool = True,
    ) -> Job:
        """Start generating a scene from a prompt; the job's `scene_id` names the new scene."""
        self._require(JOBS, "generate", "scenes.create(name) and scenes.add_asset(...)")
        body = _generation_body(prompt, model, asset_pipeline, persist)
        return Job.from_answer(self._t.request("POST", "/scenes", json_body=body))

    def edit(self, scene_id: str, prompt: str, *, model: str | None = None) -> Job:
        """Start an edit of a generated scene ("Add a conveyor belt along the north wall")."""
        self._require(JOBS, "edit", "scenes.add_asset(scene_id, asset_id, ...)")
        path = f"/scenes/{quote_id(scene_id)}/edit"
        body = _generation_body(prompt, model, None, None)
        return Job.from_answer(self._t.request("POST", path, json_body=body))

    def status(self, scene_id: str) -> SceneStatus:
        self._require(JOBS, "status", "scenes.get(scene_id)")
        body = self._t.request("GET", f"/scenes/{quote_id(scene_id)}/status")
        nested = body.get("status")  # some answers nest it, others give the scene's status here
        return SceneStatus.model_validate(nested if isinstance(nested, dict) else body)

    def update(
        self, scene_id: str, *, name: str | None = None, description: str | None = None
    ) -> GeneratedScene:
        self._require(JOBS, "update", "scenes.create(name, description) for a new scene")
        changes = {k: v for k, v in (("name", name), ("description", description)) if v is not None}
        body = self._t.request("PATCH", f"/scenes/{quote_id(scene_id)}", json_body=changes)
        return GeneratedScene.model_validate(body.get("scene", body))

    def delete(self, scene_id: str) -> None:
        self._require(JOBS, "delete", "nothing: the alpha generation cannot delete scenes")
        self._t.request("DELETE", f"/scenes/{quote_id(scene_id)}")

    def export_zip(
        self,
        scene_id: str,
        format: AnyFormat,
        dest: Path,
        *,
        robot_profile: str | None = None,
        on_progress: ProgressFn | None = None,
        unpack_to: Path | None = None,
    ) -> Path:
        """Export the scene; the answer is the ZIP itself, written to `dest` once its length and
        every entry's CRC check out. With `unpack_to` (a folder that must not exist yet) it is
        also unpacked there, and that unpack is the CRC check (one read instead of two); the
        folder appears only when every entry passed. `fetch_scene` also caches it."""
        self._require(JOBS, "export_zip", "scenes.export(scene_id, format) and client.download")
        body: dict[str, Any] = {"format": wire_format(format, JOBS)}
        if robot_profile is not None:
            body["robot_profile"] = robot_profile
        path = f"/scenes/{quote_id(scene_id)}/export"
        return self._save_zip(
            path, dest, json_body=body, on_progress=on_progress, unpack_to=unpack_to
        )


class GeneratedAssetCalls(Resource):
    def _generate_job(
        self, prompt: str, scene_id: str, model: str | None, asset_pipeline: str, persist: bool
    ) -> Job:
        """`assets.generate(prompt, scene_id=...)`: the asset id is in the finished job's result."""
        self._require(JOBS, "generate(scene_id=...)", "assets.generate(prompt, name, tags)")
        body = {**_generation_body(prompt, model, asset_pipeline, persist), "scene_id": scene_id}
        return Job.from_answer(self._t.request("POST", "/assets", json_body=body))

    def delete(self, asset_id: str) -> None:
        self._require(JOBS, "delete", "nothing: the alpha generation cannot delete assets")
        self._t.request("DELETE", f"/assets/{quote_id(asset_id)}")

    def export_zip(
        self,
        asset_id: str,
        format: AnyFormat,
        dest: Path,
        *,
        on_progress: ProgressFn | None = None,
        unpack_to: Path | None = None,
    ) -> Path:
        """Export one asset (the format goes in the query); the ZIP is written to `dest`, and
        unpacked into `unpack_to` if given, as `GeneratedSceneCalls.export_zip` does."""
        self._require(JOBS, "export_zip", "assets.export(asset_id, format) and client.download")
        path = f"/assets/{quote_id(asset_id)}/export"
        params = {"format": wire_format(format, JOBS)}
        return self._save_zip(
            path, dest, params=params, on_progress=on_progress, unpack_to=unpack_to
        )


class Catalog(Resource):
    """Premade assets (jobs generation only)."""

    plural = "catalog"
    list_keys = ("items", "assets")

    def _require_jobs(self, call: str) -> None:
        self._require(JOBS, call, "assets.generate(prompt)")

    def search(
        self,
        q: str | None = None,
        *,
        category: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[CatalogItem]:
        self._require_jobs("search")
        params = {k: v for k, v in (("q", q), ("category", category)) if v is not None}
        return self._page(CatalogItem, limit, offset, params)

    def iter_all(
        self, q: str | None = None, *, category: str | None = None
    ) -> Iterator[CatalogItem]:
        self._require_jobs("iter_all")
        params = {k: v for k, v in (("q", q), ("category", category)) if v is not None}
        return self._iter_all(CatalogItem, params)

    def categories(self) -> list[CatalogCategory]:
        self._require_jobs("categories")
        body = self._t.request("GET", "/catalog/categories")
        raw = body if isinstance(body, list) else body.get("categories", body.get("items", []))
        return [CatalogCategory.model_validate(item) for item in raw]

    def get(self, slug: str) -> CatalogItem:
        self._require_jobs("get")
        body = self._t.request("GET", f"/catalog/{quote_id(slug)}")
        return CatalogItem.model_validate(body.get("item", body.get("asset", body)))
