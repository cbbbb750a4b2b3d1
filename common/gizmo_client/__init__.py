"""Python client for the Gizmo Scenes API (Antim Labs): typed models, retries, verified downloads,
an export cache, and the `gizmo` command line."""

from . import errors
from ._version import __version__
from .client import FetchedScene, GizmoClient
from .formats import JobsFormat
from .generation import ApiGeneration
from .models import ExportFormat, Quaternion, Vector3

__all__ = [
    "ApiGeneration",
    "ExportFormat",
    "FetchedScene",
    "GizmoClient",
    "JobsFormat",
    "Quaternion",
    "Vector3",
    "__version__",
    "errors",
]
