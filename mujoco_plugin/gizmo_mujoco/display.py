"""Whether the interactive viewer can open a window, asked *before* touching it.

Without a display, MuJoCo's viewer does not raise: its C++ side calls `mju_error` while building
the window and the whole process exits with status 1. So the check runs first: an environment
test (instant), then a GLFW probe in a child process, which may fail without harming us.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .errors import ViewerUnavailableError

__all__ = ["display_problem", "require_display"]

_PROBE = """
import sys, glfw
glfw.set_error_callback(lambda code, text: print(text.decode(errors="replace"), file=sys.stderr))
sys.exit(0 if glfw.init() else 1)
"""
_PROBE_TIMEOUT = 30.0


def display_problem() -> str | None:
    """Why no window can open here, or None when one can."""
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS always have a window server
    names = [os.environ.get(var) for var in ("DISPLAY", "WAYLAND_DISPLAY")]
    if not any(names):
        return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    shown = " / ".join(name for name in names if name)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=_PROBE_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return f"the display {shown} did not answer within {_PROBE_TIMEOUT:.0f} s"
    if probe.returncode != 0:
        detail = probe.stderr.strip().splitlines()[:1] or ["GLFW could not initialise"]
        return f"no window can open on display {shown} ({detail[0]})"
    return None


def require_display() -> None:
    problem = display_problem()
    if problem is not None:
        raise ViewerUnavailableError(f"The MuJoCo viewer cannot start: {problem}.")
