"""Generating and editing scenes from a prompt (the jobs API generation), as panel actions.

A prompt job has a slot of its own: it follows the job's event stream on a worker thread
(`job_progress.JobTracker`), shows stage names, assets ready and elapsed time, and Cancel stops
following it and cancels the job on Gizmo. On success the scene joins the list; an edited scene
that is loaded is marked outdated, so Sync now (or auto-sync) brings the new version in.
"""

from __future__ import annotations

import logging
from functools import partial

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoError

from .data import SceneRow
from .failures import ErrorKind, PanelError
from .job_progress import JobKind, JobProgress, JobTracker, check_prompt
from .panel_core import PROMPT_SLOT, Cancelled, PanelCore, PanelJob
from .state import Phase, Progress

__all__ = ["PromptActions"]

logger = logging.getLogger("gizmo.scenes")


class PromptActions(PanelCore):
    """`generate` and `edit` (jobs generation); the alpha service answers them with a
    `WrongGenerationError`, shown in the error line."""

    def generate(self, prompt: str) -> None:
        """Start generating a scene from `prompt` (jobs generation), following its events; the
        new scene joins the list, selected, when the job succeeds."""
        self._start_prompt_job(prompt, None)

    def edit(self, prompt: str) -> None:
        """Start an edit of the selected scene from `prompt`. When it succeeds, a loaded copy is
        marked outdated: Sync now (or auto-sync's next poll) brings the new version in."""
        scene = self._need_selection()
        if scene is not None:
            self._start_prompt_job(prompt, scene)

    def _start_prompt_job(self, prompt: str, scene: SceneRow | None) -> None:
        if PROMPT_SLOT in self._jobs:  # starting another would leave the first one unfollowed
            self._set(
                error=PanelError(
                    ErrorKind.OTHER,
                    "A generation is already running",
                    self._state.job.text() if self._state.job else "",
                    "Wait for it to finish, or press Cancel first.",
                    False,
                )
            )
            return
        body = partial(self._prompt_job, prompt=prompt, scene=scene)
        self._start(PROMPT_SLOT, body, retry=partial(self._start_prompt_job, prompt, scene))

    async def _prompt_job(self, job: PanelJob, *, prompt: str, scene: SceneRow | None) -> None:
        """Start the job, follow its events on the worker, then show the scene it made."""
        text = check_prompt(prompt)
        client = self._get_client()
        kind = JobKind.GENERATE if scene is None else JobKind.EDIT
        self._progress(job, Phase.GENERATE, f"Sending {text!r}…")
        if scene is None:
            started = await self._sched.run(partial(client.scenes.generate, text))
        else:
            started = await self._sched.run(partial(client.scenes.edit, scene.id, text))
        job.on_cancel = partial(self._cancel_remote, client, started.id)
        if job.cancelled.is_set():  # Cancel was pressed while the job was being created
            job.on_cancel()
            raise Cancelled()
        scene_id = started.result_scene_id or (scene.id if scene is not None else None)
        tracker = JobTracker(
            JobProgress(kind, text, started.id, scene_id),
            check=job.check,
            report=lambda p: self._sched.post(partial(self._job_progress, job, p)),
        )
        self._job_progress(job, tracker.progress)
        done = await self._sched.run(
            partial(client.jobs.wait, started.id, on_event=tracker.on_event)
        )
        job.check()
        made = done.result_scene_id or scene_id
        if made is None:
            raise GizmoError(f"Job {done.id} succeeded but names no scene.")
        fresh = await self._sched.run(partial(client.scenes.get, made, include_record=True))
        job.check()
        row = self._put_row(fresh, add=True)
        if kind is JobKind.GENERATE:
            self._set(selected=row)
        self._show_scene(fresh)
        seconds = f"{tracker.progress.elapsed:.1f} s"
        if not any(e.scene_id == made for e in self._state.loaded):
            verb = "Generated" if kind is JobKind.GENERATE else "Edited"
            self._set(message=f"{verb} {fresh.name!r} in {seconds}.")
            return
        outdated = tuple(dict.fromkeys((*self._state.outdated, made)))
        then = "auto-sync brings it in" if self._state.auto_sync else "press Sync now to load it"
        self._set(outdated=outdated, message=f"Edited {fresh.name!r} in {seconds}; {then}.")

    def _job_progress(self, job: PanelJob, progress: JobProgress) -> None:
        if self._jobs.get(job.slot) is job:
            bar = Progress(Phase.GENERATE, progress.text(), progress.fraction)
            self._set(job=progress, progress=bar)

    def _cancel_remote(self, client: GizmoClient, job_id: str) -> None:
        self._sched.spawn(self._cancel_remote_job(client, job_id))

    async def _cancel_remote_job(self, client: GizmoClient, job_id: str) -> None:
        try:
            await self._sched.run(partial(client.jobs.cancel, job_id))
        except GizmoError as exc:  # it may have finished in the meantime: say so, no more
            logger.warning("gizmo.scenes: cancelling job %s: %s", job_id, exc)
            self._set(message=f"Cancelled here; Gizmo did not cancel job {job_id}: {exc.message}")
            return
        self._set(message=f"Cancelled (job {job_id} on Gizmo too).")
