"""Choose MuJoCo's offscreen GL backend before `mujoco` is first imported.

MuJoCo reads `MUJOCO_GL` once, at import. Its default (GLFW) needs a display, so thumbnails would
fail on headless machines; Mesa's EGL works there with nothing to install and works under a
display too. A value the user set, or a `mujoco` already imported, is left alone.
"""

from __future__ import annotations

import os
import sys


def prefer_egl() -> None:
    if not sys.platform.startswith("linux") or "mujoco" in sys.modules:
        return
    if os.environ.get("PYOPENGL_PLATFORM", "egl").lower() != "egl":
        return
    os.environ.setdefault("MUJOCO_GL", "egl")
