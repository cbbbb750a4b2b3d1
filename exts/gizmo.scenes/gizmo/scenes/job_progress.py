"""Generation and edit jobs started from a prompt (the jobs API generation): what the panel shows
while one runs.

`JobTracker` folds the job's event stream into one `JobProgress` per event (stage names, assets
ready, elapsed time). It runs on the worker thread that follows the stream, so it only builds
immutable snapshots and hands them to `report`, which posts them to the main thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from gizmo_client.models_jobs import JobEvent

__all__ = ["JobKind", "JobProgress", "JobTracker", "PromptError", "check_prompt"]


class PromptError(ValueError):
    """The prompt cannot be sent (empty); nothing was started."""


class JobKind(str, Enum):
    GENERATE = "generate"
    EDIT = "edit"


@dataclass(frozen=True)
class JobProgress:
    """A prompt job as far as its events tell; `scene_id` is the scene it makes or edits."""

    kind: JobKind
    prompt: str
    job_id: str
    scene_id: str | None
    stage: str = ""
    stages_done: tuple[str, ...] = ()
    assets_ready: int = 0
    elapsed: float = 0.0
    fraction: float | None = None

    def text(self) -> str:
        verb = "Generating" if self.kind is JobKind.GENERATE else "Editing"
        prompt = self.prompt if len(self.prompt) <= 60 else self.prompt[:59] + "…"
        parts = [self.stage.replace("_", " ") if self.stage else "queued"]
        if self.assets_ready:
            parts.append(f"{self.assets_ready} asset{'s' if self.assets_ready != 1 else ''} ready")
        parts.append(f"{self.elapsed:.1f} s")
        return f"{verb} {prompt!r}: " + ", ".join(parts)


def check_prompt(prompt: str) -> str:
    """The prompt to send, or `PromptError` saying what to type."""
    text = " ".join(prompt.split())
    if not text:
        raise PromptError("The prompt is empty.")
    return text


class JobTracker:
    """Turns events into `JobProgress` snapshots; `on_event` is the `jobs.wait` callback.

    `check` runs first on every event, so a cancelled panel job stops following the stream at
    the next event (the client hangs the stream up when the iteration is left).
    """

    def __init__(
        self,
        start: JobProgress,
        *,
        check: Callable[[], None],
        report: Callable[[JobProgress], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._progress = start
        self._check = check
        self._report = report
        self._clock = clock
        self._started = clock()

    @property
    def progress(self) -> JobProgress:
        return self._progress

    def on_event(self, event: JobEvent) -> None:
        self._check()
        p = self._progress
        stage, done, ready = p.stage, p.stages_done, p.assets_ready
        if event.type == "stage_start" and event.stage:
            stage = event.stage
        elif event.type == "stage_complete" and event.stage and event.stage not in done:
            done = (*done, event.stage)
        elif event.type == "asset_ready":
            ready += 1
        self._progress = replace(
            p,
            stage=stage,
            stages_done=done,
            assets_ready=ready,
            elapsed=self._clock() - self._started,
            fraction=event.progress if event.progress is not None else p.fraction,
        )
        self._report(self._progress)
