"""What the window renders: the panel's state, one immutable `PanelState` per change.

Kept apart from the controller (which makes these) so the window and tests read them without the
controller's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .data import LoadedScene, PlacementRow, SceneRow
from .failures import PanelError
from .job_progress import JobProgress

__all__ = ["PanelState", "Phase", "Progress", "Status"]


class Status(str, Enum):
    IDLE = "idle"
    LOADING = "loading"
    LOADED = "loaded"
    ERROR = "error"


class Phase(str, Enum):
    LIST = "list"
    SCENE = "scene"
    EXPORT = "export"
    WAIT_ASSETS = "wait_assets"
    DOWNLOAD = "download"
    OPEN = "open"
    SYNC = "sync"
    GENERATE = "generate"


@dataclass(frozen=True)
class Progress:
    phase: Phase
    text: str
    fraction: float | None = None


@dataclass(frozen=True)
class PanelState:
    """Everything the window shows; a new object on every change.

    `scene_headers` are the scene list's columns, which depend on the service's API generation
    (`api_generation`: "" until the first listing, then "alpha" or "jobs"). `job` follows a
    generation or edit started from a prompt; `outdated` names loaded scenes known to have a
    newer version on Gizmo (an edit finished while auto-sync was off), which Sync now fetches.
    """

    status: Status = Status.IDLE
    scenes: tuple[SceneRow, ...] = ()
    scene_headers: tuple[str, ...] = SceneRow.HEADERS
    total_scenes: int = 0
    filter_text: str = ""
    selected: SceneRow | None = None
    placements: tuple[PlacementRow, ...] = ()
    loaded: tuple[LoadedScene, ...] = ()
    progress: Progress | None = None
    job: JobProgress | None = None
    outdated: tuple[str, ...] = ()
    error: PanelError | None = None
    warnings: tuple[str, ...] = ()
    message: str = ""
    auto_sync: bool = False
    api_generation: str = ""
    base_url: str = ""
    base_url_source: str = ""
    key_source: str = ""
    key_set: bool = False
