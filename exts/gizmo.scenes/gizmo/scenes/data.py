"""Plain rows shared by the controller, the list models and the stage code.

No `omni` and no `pxr` here: the panel's lists show these rows as they are, and tests build them
without Kit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from gizmo_client.models import PlacedAsset, SceneSummary
    from gizmo_client.models_jobs import GeneratedScene, GeneratedSceneSummary

__all__ = [
    "GeneratedSceneRow",
    "LoadMode",
    "LoadedScene",
    "PlacementRow",
    "SceneRow",
    "UnsavedChangesError",
    "UsdFileError",
]


class UsdFileError(ValueError):
    """A USD file the panel was asked to bring in cannot be used; the stage was not changed."""


class UnsavedChangesError(Exception):
    """Opening a scene as the stage would discard unsaved edits; nothing was opened."""


class LoadMode(str, Enum):
    """How a scene's export enters Kit: as the whole stage, or under a prim of the current one."""

    OPEN = "open"
    REFERENCE = "reference"
    PAYLOAD = "payload"


@dataclass(frozen=True)
class SceneRow:
    """One scene in the list."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Scene", "Id")

    id: str
    name: str
    description: str = ""

    @staticmethod
    def from_summary(summary: SceneSummary) -> SceneRow:
        """The row for either generation's scene (a generated one keeps prompt, version, status)."""
        # Imported here: the Kit layer imports this module even when the client cannot load.
        from gizmo_client.models_jobs import GeneratedScene, GeneratedSceneSummary

        if isinstance(summary, GeneratedSceneSummary | GeneratedScene):
            return GeneratedSceneRow.from_generated(summary)
        return SceneRow(id=summary.id, name=summary.name, description=summary.description or "")

    def columns(self) -> tuple[str, ...]:
        return (self.name, self.id)

    def matches(self, text: str) -> bool:
        """Case-insensitive match of every word of `text` against the row's words."""
        haystack = self._haystack().casefold()
        return all(word in haystack for word in text.casefold().split())

    def _haystack(self) -> str:
        return f"{self.name} {self.description} {self.id}"


@dataclass(frozen=True)
class GeneratedSceneRow(SceneRow):
    """A scene of the jobs generation: made from a prompt, versioned, with a pipeline status.

    Its name is the prompt until someone renames it, so the prompt only gets a column of its own
    in the detail line; the filter matches it either way.
    """

    HEADERS: ClassVar[tuple[str, ...]] = ("Scene", "Version", "Status", "Id")

    prompt: str = ""
    version: int | None = None
    status: str = ""

    @classmethod
    def from_generated(cls, summary: GeneratedSceneSummary | GeneratedScene) -> GeneratedSceneRow:
        return cls(
            id=summary.id,
            name=summary.name,
            description=summary.description or "",
            prompt=summary.prompt or "",
            version=summary.version,
            status=summary.status or "",
        )

    def columns(self) -> tuple[str, ...]:
        version = f"v{self.version}" if self.version is not None else "–"
        return (self.name, version, self.status or "–", self.id)

    def _haystack(self) -> str:
        return f"{self.name} {self.description} {self.prompt} {self.status} {self.id}"


@dataclass(frozen=True)
class PlacementRow:
    """One placed asset of the selected scene, with its rotation both as the API gives it and as
    roll/pitch/yaw, which people read more easily."""

    HEADERS: ClassVar[tuple[str, ...]] = (
        "Asset",
        "Position (m)",
        "Quaternion x y z w",
        "RPY (deg)",
    )

    placement_id: str
    asset_id: str
    asset_name: str
    position: tuple[float, float, float]
    quaternion_xyzw: tuple[float, float, float, float]
    rpy_degrees: tuple[float, float, float]

    @classmethod
    def from_placed(cls, placed: PlacedAsset) -> PlacementRow:
        return cls(
            placement_id=placed.id or "",
            asset_id=placed.asset_id,
            asset_name=placed.name or placed.asset_id,
            position=placed.position.as_tuple(),
            quaternion_xyzw=placed.rotation.to_xyzw(),
            rpy_degrees=placed.rotation.to_euler_degrees(),
        )

    def columns(self) -> tuple[str, ...]:
        return (
            self.asset_name,
            " ".join(f"{v:.3f}" for v in self.position),
            " ".join(f"{v:.4f}" for v in self.quaternion_xyzw),
            " ".join(f"{v:.1f}" for v in self.rpy_degrees),
        )


@dataclass(frozen=True)
class LoadedScene:
    """A scene the panel brought in; `prim_path` is None when it was opened as the stage."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Loaded scene", "As", "Prim")

    scene_id: str
    scene_name: str
    mode: LoadMode
    file: str
    fingerprint: str
    prim_path: str | None = None

    def columns(self) -> tuple[str, ...]:
        return (self.scene_name, self.mode.value, self.prim_path or "(whole stage)")
