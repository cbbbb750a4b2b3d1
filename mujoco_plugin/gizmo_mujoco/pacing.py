"""Step a live scene at wall-clock speed, one display frame at a time."""

from __future__ import annotations

import time

import mujoco

from .watcher import SceneWatcher

__all__ = ["RealTime"]

_FRAME_SECONDS = 1 / 60
_MAX_STEPS_PER_FRAME = 200  # beyond this, run in slow motion rather than fall further behind


class RealTime:
    """Keeps `watcher.data.time` level with the wall clock; `restart()` after a model swap."""

    def __init__(self, watcher: SceneWatcher) -> None:
        self.watcher = watcher
        self.restart()

    def restart(self) -> None:
        self._wall, self._sim = time.perf_counter(), float(self.watcher.data.time)

    def advance(self) -> None:
        """Step until simulated time catches up with the wall clock (at most one frame's cap)."""
        model, data = self.watcher.model, self.watcher.data
        target = self._sim + (time.perf_counter() - self._wall)
        for _ in range(_MAX_STEPS_PER_FRAME):
            if data.time >= target:
                return
            mujoco.mj_step(model, data)
        self.restart()  # too slow for real time: carry on from here in slow motion

    @staticmethod
    def sleep_rest_of_frame(frame_start: float) -> None:
        time.sleep(max(0.0, _FRAME_SECONDS - (time.perf_counter() - frame_start)))
