"""The rows the store hands out (frozen dataclasses) and their decoding from SQLite tuples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AssetRow",
    "DownloadRow",
    "IdempotentResponse",
    "PlacementRow",
    "Quat",
    "Row",
    "SceneRow",
    "Vec3",
    "asset_row",
    "placement_row",
    "scene_row",
]

Vec3 = tuple[float, float, float]
Row = tuple[Any, ...]
Quat = tuple[float, float, float, float]


@dataclass(frozen=True)
class AssetRow:
    id: str
    account_id: str
    name: str
    prompt: str
    tags: tuple[str, ...]
    status: str
    error: str | None
    export_formats: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class SceneRow:
    id: str
    account_id: str
    name: str
    description: str | None
    created_at: str


@dataclass(frozen=True)
class PlacementRow:
    """A placement joined with its asset's current name and prompt."""

    id: str
    scene_id: str
    asset_id: str
    asset_name: str
    prompt: str
    position: Vec3
    rotation: Quat  # scalar-last, like the wire
    added_at: str


@dataclass(frozen=True)
class DownloadRow:
    token: str
    account_id: str
    sha256: str
    filename: str
    format: str
    size_bytes: int


@dataclass(frozen=True)
class IdempotentResponse:
    request_sha256: str
    status: int
    content_type: str
    body: bytes


def asset_row(row: Row) -> AssetRow:
    asset_id, account_id, name, prompt, tags, status, error, export_formats, created_at = row
    return AssetRow(
        id=asset_id,
        account_id=account_id,
        name=name,
        prompt=prompt,
        tags=tuple(json.loads(tags)),
        status=status,
        error=error,
        export_formats=tuple(json.loads(export_formats)),
        created_at=created_at,
    )


def scene_row(row: Row) -> SceneRow:
    return SceneRow(row[0], row[1], row[2], row[3], row[4])


def placement_row(row: Row) -> PlacementRow:
    return PlacementRow(
        id=row[0],
        scene_id=row[1],
        asset_id=row[2],
        asset_name=row[3],
        prompt=row[4],
        position=(row[5], row[6], row[7]),
        rotation=(row[8], row[9], row[10], row[11]),
        added_at=row[12],
    )
