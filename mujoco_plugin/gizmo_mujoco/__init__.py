"""Gizmo scenes in MuJoCo: load, hot-reload with state kept, view, or run headless.

Public surface (used by `gizmo_loadtest` too): `load_scene`, `load_file`, `render_png`,
`MjcfLoadError`, `KeyframeNotFoundError`, plus `SceneWatcher` and `transfer_state` for live
reloading.
"""

from ._log import route_warnings_to_logging
from .errors import KeyframeNotFoundError, MjcfLoadError
from .loading import load_file, load_scene
from .render import render_png
from .transfer import TransferReport, transfer_state
from .watcher import ReloadEvent, SceneWatcher

route_warnings_to_logging()

__all__ = [
    "KeyframeNotFoundError",
    "MjcfLoadError",
    "ReloadEvent",
    "SceneWatcher",
    "TransferReport",
    "load_file",
    "load_scene",
    "render_png",
    "transfer_state",
]
