"""Request bodies of the generation (validated strictly; unknown fields ignored).

A failed validation is 422 `validation_error` with `details` (see `app`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gizmo_server.schemas import NON_SPACE

__all__ = [
    "ERROR_RESPONSES",
    "AssetGenerate",
    "JobsErrorBody",
    "SceneEdit",
    "SceneExport",
    "SceneGenerate",
    "ScenePatch",
]


def _stripped(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty or only white space")
    return stripped


Prompt = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        examples=["a robotics lab with two workbenches"],
        json_schema_extra=NON_SPACE,
    ),
    AfterValidator(_stripped),
]
Pipeline = Literal["auto", "gizmo", "cad"]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SceneGenerate(_Request):
    prompt: Prompt
    model: str | None = None
    asset_pipeline: Pipeline = "auto"
    persist: bool = True


class SceneEdit(_Request):
    prompt: Prompt = Field(examples=["add a conveyor belt along the north wall"])
    model: str | None = None


class AssetGenerate(_Request):
    prompt: Prompt = Field(examples=["a 6-DOF robot arm"])
    scene_id: str | None = Field(None, max_length=64)
    model: str | None = None
    asset_pipeline: Pipeline = "auto"
    persist: bool = True


class ScenePatch(_Request):
    """Fields left out (or a null name) stay as they are; `description: null` clears it."""

    name: (
        Annotated[
            str,
            Field(min_length=1, max_length=200, json_schema_extra=NON_SPACE),
            AfterValidator(_stripped),
        ]
        | None
    ) = None
    description: Annotated[str, Field(max_length=4000)] | None = None

    def changes(self) -> dict[str, str | None]:
        fields = self.model_dump(exclude_unset=True)
        if fields.get("name", "") is None:
            del fields["name"]
        return fields


class SceneExport(_Request):
    format: Literal["mjcf", "usd", "sdf"]
    robot_profile: Literal["franka_panda"] | None = None


class JobsError(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    status: int
    details: list[dict[str, Any]] | None = None


class JobsErrorBody(BaseModel):
    """Every error of the jobs generation: `{"error": {"code", "message", "status"}}`."""

    model_config = ConfigDict(extra="allow")

    ok: Literal[False] = False
    error: JobsError


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": JobsErrorBody} for status in (401, 402, 403, 404, 409, 422, 429, 500)
}
