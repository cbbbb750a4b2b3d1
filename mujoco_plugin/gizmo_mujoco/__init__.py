"""Gizmo scenes in MuJoCo: load, hot-reload with state kept, view, or run headless.

Public surface (used by `gizmo_loadtest` too): `load_scene`, `load_file`, `render_png`,
`MjcfLoadError`, plus `SceneWatcher` and `transfer_state` for live reloading.
"""

from ._gl import prefer_egl

prefer_egl()  # must run before the first `import mujoco`

from ._log import route_warnings_to_logging  # noqa: E402
from .errors import MjcfLoadError  # noqa: E402
from .loading import load_file, load_scene  # noqa: E402
from .render import render_png  # noqa: E402

route_warnings_to_logging()

__all__ = ["MjcfLoadError", "load_file", "load_scene", "render_png"]
