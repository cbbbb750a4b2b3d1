"""Driving what a user runs: a simulation loop stepping a watcher, and `gizmo-mujoco view`
interrupted with Ctrl-C in a terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import mujoco

from gizmo_mujoco.watcher import ReloadEvent, SceneWatcher


def next_event(watcher: SceneWatcher, timeout: float) -> ReloadEvent | None:
    """Step like a simulation loop until the watcher applies something (None: nothing came)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mujoco.mj_step(watcher.model, watcher.data)
        event = watcher.apply()
        if event is not None:
            return event
        time.sleep(0.01)
    return None


def expect_event(watcher: SceneWatcher, timeout: float = 15.0) -> ReloadEvent:
    event = next_event(watcher, timeout)
    if event is None:
        raise AssertionError(f"no reload within {timeout} s")
    return event


def interrupt_view(
    args: Sequence[str],
    cwd: Path,
    display: str,
    first_line: str,
    while_running: Callable[[], object] | None = None,
) -> str:
    """Run `gizmo-mujoco view ARGS` on `display`, check its first line names `first_line`, let
    the window run (calling `while_running`), send Ctrl-C (SIGINT) and check that it ended
    within a few seconds with the interrupted exit code, one line and no traceback or GLFW
    error; returns its stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gizmo_mujoco.cli", "view", *args],
        cwd=cwd, env={**os.environ, "DISPLAY": display}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert first_line in process.stdout.readline()
        time.sleep(3.0)  # the window opens and its loop runs
        if while_running is not None:
            while_running()
        assert process.poll() is None, process.communicate()
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert time.monotonic() - interrupted_at < 5.0
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "GLFW" not in stderr
    assert stderr.strip() == "Interrupted."
    return stderr
