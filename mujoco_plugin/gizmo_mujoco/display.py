"""Whether the interactive viewer can open a window, asked *before* touching it.

Without a display, MuJoCo's viewer does not raise: its C++ side calls `mju_error` while building
the window and the whole process exits with status 1. So the check runs first: an environment
test (instant), then a GLFW probe in a child process, which may fail without harming us. The
probe also names the display's OpenGL renderer: on a software rasteriser the viewer draws no
shadows, so its shadow map need not be allocated (see `viewer.py`).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from dataclasses import dataclass

from .errors import ViewerUnavailableError

__all__ = ["display_problem", "require_display", "software_display"]

_PROBE = """
import sys, glfw
glfw.set_error_callback(lambda code, text: print(text.decode(errors="replace"), file=sys.stderr))
if not glfw.init():
    sys.exit(1)
glfw.window_hint(glfw.VISIBLE, glfw.FALSE)
window = glfw.create_window(16, 16, "probe", None, None)
if window:
    glfw.make_context_current(window)
    from OpenGL import GL
    print((GL.glGetString(GL.GL_RENDERER) or b"").decode(errors="replace"))
    glfw.destroy_window(window)
glfw.terminate()
"""
_PROBE_TIMEOUT = 30.0
_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")


@dataclass(frozen=True)
class _Probe:
    problem: str | None
    renderer: str = ""


def display_problem() -> str | None:
    """Why no window can open here, or None when one can."""
    return _probe(_display_names()).problem


def software_display() -> bool:
    """Whether windows here are drawn by a CPU rasteriser (Xvfb, Mesa llvmpipe)."""
    renderer = _probe(_display_names()).renderer.lower()
    return any(word in renderer for word in _SOFTWARE_RENDERERS)


def require_display() -> None:
    problem = display_problem()
    if problem is not None:
        raise ViewerUnavailableError(f"The MuJoCo viewer cannot start: {problem}.")


def _display_names() -> tuple[str | None, str | None]:
    return os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")


@functools.cache
def _probe(names: tuple[str | None, str | None]) -> _Probe:
    """Asked once per display (the child process takes about 0.3 s)."""
    if not sys.platform.startswith("linux"):
        return _Probe(None)  # Windows and macOS always have a window server
    if not any(names):
        return _Probe("there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    shown = " / ".join(name for name in names if name)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=_PROBE_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return _Probe(f"the display {shown} did not answer within {_PROBE_TIMEOUT:.0f} s")
    if probe.returncode != 0:
        detail = probe.stderr.strip().splitlines()[:1] or ["GLFW could not initialise"]
        return _Probe(f"no window can open on display {shown} ({detail[0]})")
    return _Probe(None, probe.stdout.strip())
