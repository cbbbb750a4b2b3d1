"""The API's resources: `client.scenes` and `client.assets`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from .errors import AssetGenerationFailedError, GizmoTimeoutError
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
from .transport import Transport

__all__ = ["Assets", "Scenes"]

logger = logging.getLogger("gizmo_client")

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100


def _id(value: str) -> str:
    return quote(value, safe="")


def _format(value: ExportFormat | str) -> str:
    return value.value if isinstance(value, ExportFormat) else ExportFormat(value).value


class _Resource:
    plural: str
    item_model: type[BaseModel]

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _page(self, model: type[M], limit: int, offset: int) -> Page[M]:
        body = self._t.request("GET", f"/{self.plural}", params={"limit": limit, "offset": offset})
        items = [model.model_validate(item) for item in body.get(self.plural, [])]
        return Page[M](
            items=items,
            total=int(body.get("total", len(items))),
            limit=int(body.get("limit", limit)),
            offset=int(body.get("offset", offset)),
        )

    def _iter_all(self, model: type[M]) -> Iterator[M]:
        """Walk every page of 100, yielding each id once even if the list shifts meanwhile."""
        seen: set[str] = set()
        offset = 0
        while True:
            page = self._page(model, PAGE_SIZE, offset)
            for item in page.items:
                item_id = str(getattr(item, "id", ""))
                if item_id not in seen:
                    seen.add(item_id)
                    yield item
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def _export(self, path: str, fmt: ExportFormat | str) -> ExportLink:
        body = self._t.request("POST", path, json_body={"format": _format(fmt)})
        return ExportLink.model_validate(body)


class Scenes(_Resource):
    plural = "scenes"

    def create(self, name: str, description: str | None = None) -> Scene:
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        return Scene.model_validate(self._t.request("POST", "/scenes", json_body=body))

    def get(self, scene_id: str) -> Scene:
        return Scene.model_validate(self._t.request("GET", f"/scenes/{_id(scene_id)}"))

    def list(self, limit: int = 20, offset: int = 0) -> Page[SceneSummary]:
        return self._page(SceneSummary, limit, offset)

    def iter_all(self) -> Iterator[SceneSummary]:
        return self._iter_all(SceneSummary)

    def add_asset(
        self,
        scene_id: str,
        asset_id: str,
        position: Vector3 | None = None,
        rotation: Quaternion | None = None,
    ) -> Scene:
        """Place a ready asset; omitted position/rotation mean the origin and identity."""
        body: dict[str, Any] = {"asset_id": asset_id}
        if position is not None:
            body["position"] = position.model_dump(include={"x", "y", "z"})
        if rotation is not None:
            body["rotation"] = rotation.model_dump(include={"x", "y", "z", "w"})
        path = f"/scenes/{_id(scene_id)}/assets"
        return Scene.model_validate(self._t.request("POST", path, json_body=body))

    def export(self, scene_id: str, format: ExportFormat | str) -> ExportLink:
        return self._export(f"/scenes/{_id(scene_id)}/export", format)


class Assets(_Resource):
    plural = "assets"

    def generate(
        self, prompt: str, name: str | None = None, tags: list[str] | None = None
    ) -> Asset:
        body: dict[str, Any] = {"prompt": prompt}
        if name is not None:
            body["name"] = name
        if tags is not None:
            body["tags"] = list(tags)
        return Asset.model_validate(self._t.request("POST", "/assets", json_body=body))

    def get(self, asset_id: str) -> Asset:
        return Asset.model_validate(self._t.request("GET", f"/assets/{_id(asset_id)}"))

    def list(self, limit: int = 20, offset: int = 0) -> Page[Asset]:
        return self._page(Asset, limit, offset)

    def iter_all(self) -> Iterator[Asset]:
        return self._iter_all(Asset)

    def export(self, asset_id: str, format: ExportFormat | str) -> ExportLink:
        return self._export(f"/assets/{_id(asset_id)}/export", format)

    def wait_until_ready(
        self,
        asset_id: str,
        timeout: float = 120.0,
        on_progress: Callable[[Asset], None] | None = None,
        *,
        initial_interval: float = 0.5,
        max_interval: float = 5.0,
    ) -> Asset:
        """Poll with backoff (0.5 s growing to 5 s) until ready; raise on failure or timeout."""
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
