"""Request and response models: validation of what comes in, and the OpenAPI document.

Requests are strict (no "1.5" for a number, no 1 for a string) and ignore unknown fields.
Quaternions more than 1e-3 away from unit norm fail with the error type `invalid_rotation`,
which the app reports under that code; the rest are normalised by the handler.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from .rotation import Quaternion

__all__ = [
    "NON_SPACE",
    "ROTATION_TOLERANCE",
    "AssetCreate",
    "AssetList",
    "AssetOut",
    "ErrorBody",
    "ExportLinkOut",
    "ExportRequest",
    "PlacementCreate",
    "PlacementOut",
    "Position",
    "Rotation",
    "SceneCreate",
    "SceneList",
    "SceneOut",
    "SceneSummaryOut",
    "error_responses",
]

ROTATION_TOLERANCE = 1e-3
MAX_COORDINATE = 1e6  # metres: anything farther is a bug, and breaks float32 simulators

AssetStatus = Literal["pending", "processing", "ready", "failed"]
Timestamp = Annotated[
    str, Field(json_schema_extra={"format": "date-time"}, examples=["2024-11-12T10:15:00.000Z"])
]
# Every character `str.strip()` removes (those with `str.isspace()`), as a regex class: names,
# prompts and tags are stripped and must keep a character outside it. The pattern tells clients
# and fuzzers the same rule in the OpenAPI document (it is checked in Python, not by the regex).
SPACE_CLASS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NON_SPACE: dict[str, Any] = {"pattern": f"[^{SPACE_CLASS}]"}


def _stripped(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must contain a character other than white space")
    return stripped


Name = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra=NON_SPACE),
    AfterValidator(_stripped),
]
Prompt = Annotated[
    str,
    Field(min_length=1, max_length=4000, json_schema_extra=NON_SPACE),
    AfterValidator(_stripped),
]
Tag = Annotated[
    str, Field(min_length=1, max_length=64, json_schema_extra=NON_SPACE), AfterValidator(_stripped)
]
Text = Annotated[str, Field(max_length=4000)]
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
Component = Annotated[float, Field(allow_inf_nan=False)]
FORMAT_FIELD = Field(
    description="One of isaac_sim_usd, mujoco_mjcf (scenes and assets) or isaac_sim_urdf "
    "(assets that offer it, see export_formats).",
    examples=["mujoco_mjcf"],
)


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class AssetCreate(_Request):
    prompt: Prompt = Field(examples=["6-DOF industrial robot arm with a 1 m reach"])
    name: Name | None = Field(None, description="Defaults to the prompt, truncated.")
    tags: Annotated[list[Tag], Field(max_length=32)] | None = None


class SceneCreate(_Request):
    name: Name = Field(examples=["Warehouse Workcell Alpha"])
    description: Text | None = None


class Position(_Request):
    """Metres in the scene frame (Z up)."""

    x: Coordinate
    y: Coordinate
    z: Coordinate


class Rotation(_Request):
    """A unit quaternion, scalar-last: a norm within 1e-3 of 1 (stored normalised)."""

    x: Component
    y: Component
    z: Component
    w: Component

    @model_validator(mode="after")
    def _unit_norm(self) -> Rotation:
        norm = math.hypot(self.x, self.y, self.z, self.w)
        if not abs(norm - 1.0) <= ROTATION_TOLERANCE:
            raise PydanticCustomError(
                "invalid_rotation",
                "must be a unit quaternion {x, y, z, w} (scalar last), but its norm is {norm}, "
                "more than {tolerance} away from 1; identity is {x: 0, y: 0, z: 0, w: 1}",
                {"norm": f"{norm:.6g}", "tolerance": ROTATION_TOLERANCE},
            )
        return self

    def normalised(self) -> Quaternion:
        return Quaternion(x=self.x, y=self.y, z=self.z, w=self.w)


class PlacementCreate(_Request):
    asset_id: str = Field(min_length=1, max_length=64, examples=["ast_01hx9z3k2n8f7q"])
    position: Position | None = Field(None, description="Defaults to the origin.")
    rotation: Rotation | None = Field(None, description="Defaults to identity {0, 0, 0, 1}.")


class ExportRequest(_Request):
    format: str = FORMAT_FIELD


class AssetOut(BaseModel):
    id: str
    status: AssetStatus
    name: str
    prompt: str
    tags: list[str]
    created_at: Timestamp
    export_formats: list[str] = Field(description="Empty until the asset is ready.")
    error: str | None = Field(description="Why generation failed (status failed), else null.")


class AssetList(BaseModel):
    assets: list[AssetOut]
    total: int
    limit: int
    offset: int


class Vector(BaseModel):
    x: float
    y: float
    z: float


class Quat(BaseModel):
    x: float
    y: float
    z: float
    w: float


class PlacementOut(BaseModel):
    id: str
    asset_id: str
    name: str
    position: Vector
    rotation: Quat
    added_at: Timestamp


class SceneSummaryOut(BaseModel):
    id: str
    name: str
    description: str | None
    created_at: Timestamp


class SceneOut(SceneSummaryOut):
    assets: list[PlacementOut]


class SceneList(BaseModel):
    scenes: list[SceneSummaryOut]
    total: int
    limit: int
    offset: int


class ExportLinkOut(BaseModel):
    download_url: str = Field(description="Pre-signed; needs no Authorization header.")
    expires_at: Timestamp
    format: str
    size_bytes: int
    sha256: str
    filename: str


class ErrorBody(BaseModel):
    """Every error; some carry more fields (e.g. `assets` with assets_not_ready)."""

    model_config = ConfigDict(extra="allow")

    error: str
    code: str
    message: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the error envelope for each status."""
    return {status: {"model": ErrorBody} for status in statuses}
