"""Jobs: scene generation, scene edits and asset generation, run through named stages.

Each job runs on a small thread pool. Its stages (`scene_director`, `asset_inventory`,
`floorplan`, `placement_plan`, one `asset_generation` per asset, `physics_validation`) each take
`seconds / STAGES_PER_JOB`, so a job lasts about `seconds` and SSE streaming is real; `seconds=0`
runs them back to back. Events are stored with their sequence number, so a stream can resume.

One lock orders every event and every terminal transition: a cancel and a finishing job cannot
both end a job, and nothing is emitted after the terminal event and `done`. A scene changes only
in the final commit, under that lock, replanned from the scene's record as it is then, so two
edits in flight cannot lose each other's change. Failed and cancelled jobs refund their credits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gizmo_server.faults import Faults
from gizmo_server.generator import generate

from .ids import new_id, new_job_id, now
from .journal import TERMINAL, append_event, mirror_on_scene
from .planner import Layout, PlanError, apply_edit, place_asset, plan_scene
from .records import layout_from_record, record_from_layout
from .store import Doc, Gen2Store
from .validation import physics_problem

__all__ = ["COSTS", "Jobs"]

logger = logging.getLogger("gizmo_server")

COSTS = {"scene": 10, "edit": 2, "asset": 3}  # credits per job mode
STAGES_PER_JOB = 8
NAME_FROM_PROMPT = 60


class _Stopped(Exception):
    """The job became terminal elsewhere (cancelled) or the server is stopping."""


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Run:
    job_id: str
    account: str
    job: Doc
    cancel: threading.Event
    delay: float  # seconds per stage
    faults: bool  # seeded (instant) jobs meet no injected faults
    done_stages: int = 0
    expected_stages: int = STAGES_PER_JOB
    stages: list[Doc] = field(default_factory=list)

    @property
    def progress(self) -> float:
        return round(min(0.99, self.done_stages / max(1, self.expected_stages)), 3)


@dataclass(frozen=True)
class _Outcome:
    commit: Callable[[], Doc]  # applies the change under the jobs lock; returns the final result


class Jobs:
    """Creates, runs, cancels and streams jobs of the generation."""

    def __init__(self, store: Gen2Store, faults: Faults, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"the job duration must not be negative, got {seconds}")
        self._store = store
        self._faults = faults
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gizmo-job")
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._cancels: dict[str, threading.Event] = {}
        self._terminal: set[str] = set()

    def start(self) -> None:
        """Fail the jobs a previous process left unfinished (their threads died with it)."""
        for job in self._store.of_kind_with("job", "status", ("queued", "running")):
            found = self._store.get("job", job["id"])
            if found is not None:
                self._end(
                    found[0],
                    job["id"],
                    "failed",
                    error=(
                        "server_restarted",
                        "The server stopped while this job ran; submit it again.",
                    ),
                )

    def stop(self) -> None:
        self._stopping.set()
        for event in list(self._cancels.values()):
            event.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- submitting ---------------------------------------------------------------------------

    def submit_scene(
        self,
        account: str,
        prompt: str,
        *,
        scene_id: str | None = None,
        job_id: str | None = None,
        instant: bool = False,
        model: str | None = None,
    ) -> tuple[str, str]:
        """A new scene generated from `prompt`; returns (scene id, job id)."""
        scene_id = scene_id or new_id()
        stamp = now()
        name = prompt if len(prompt) <= NAME_FROM_PROMPT else f"{prompt[: NAME_FROM_PROMPT - 1]}…"
        scene: Doc = {
            "id": scene_id,
            "name": name,
            "description": None,
            "prompt": prompt,
            "status": "generating",
            "created_at": stamp,
            "updated_at": stamp,
            "version": 0,
            "pipeline_status": "queued",
            "pipeline_stages": [],
            "error": None,
            "record": None,
        }
        self._store.put("scene", account, scene, time.time())
        return scene_id, self._create(account, "scene", scene_id, prompt, model, job_id, instant)

    def submit_edit(self, account: str, scene_id: str, prompt: str, model: str | None) -> str:
        return self._create(account, "edit", scene_id, prompt, model, None, False)

    def submit_asset(
        self, account: str, prompt: str, scene_id: str | None, model: str | None
    ) -> str:
        return self._create(account, "asset", scene_id, prompt, model, None, False)

    def _create(
        self,
        account: str,
        mode: str,
        scene_id: str | None,
        prompt: str,
        model: str | None,
        job_id: str | None,
        instant: bool,
    ) -> str:
        job_id = job_id or new_job_id()
        stamp = now()
        job = {
            "id": job_id,
            "status": "queued",
            "mode": mode,
            "scene_id": scene_id,
            "prompt": prompt,
            "model": model,
            "created_at": stamp,
            "started_at": None,
            "finished_at": None,
            "updated_at": stamp,
            "stage": None,
            "progress": 0.0,
            "credits": COSTS[mode],
            "error": None,
            "result": None,
        }
        self._store.put("job", account, job, time.time())
        with self._lock:
            self._cancels[job_id] = threading.Event()
        self._emit(job_id, "job_queued", message=f"{mode} job queued")
        mirror_on_scene(self._store, scene_id, mode, status="queued", reset=True)
        if instant:
            self._run(job_id, instant=True)
        else:
            self._pool.submit(self._run, job_id)
        return job_id

    # -- cancelling ---------------------------------------------------------------------------

    def cancel(self, account: str, job_id: str) -> Doc:
        """Cancel a queued or running job (a finished one is returned unchanged)."""
        with self._lock:
            found = self._store.get("job", job_id)
            assert found is not None
            event = self._cancels.get(job_id)  # before `_end` forgets it
            if found[1]["status"] not in TERMINAL:
                self._end(account, job_id, "cancelled")
            if event is not None:
                event.set()  # wakes the job's thread from its stage wait
            found = self._store.get("job", job_id)
        assert found is not None
        return found[1]

    # -- running ------------------------------------------------------------------------------

    def _run(self, job_id: str, instant: bool = False) -> None:
        found = self._store.get("job", job_id)
        if found is None:
            return
        account, job = found
        cancel = self._cancels.get(job_id) or threading.Event()
        delay = 0.0 if instant else self.seconds / STAGES_PER_JOB
        run = _Run(job_id, account, job, cancel, delay, faults=not instant)
        try:
            with self._lock:
                self._check(job_id)
                self._update_job(job_id, status="running", started_at=now())
                self._emit(job_id, "job_started", message="job started")
                mirror_on_scene(self._store, job["scene_id"], job["mode"], status="running")
            modes = {"scene": self._scene_job, "edit": self._edit_job, "asset": self._asset_job}
            outcome = modes[job["mode"]](run)
            if run.faults and self._faults.draw("job") == "job_failed":
                raise _Failed(
                    "job_failed", "The job failed (fault injected by gizmo-server: job_failed)."
                )
            with self._lock:
                self._check(job_id)
                try:
                    result = outcome.commit()
                except PlanError as exc:
                    raise _Failed("edit_not_possible", str(exc)) from None
                self._end(account, job_id, "succeeded", result=result)
        except _Stopped:
            return
        except _Failed as exc:
            self._fail(run, exc.code, exc.message)
        except PlanError as exc:
            self._fail(run, "prompt_not_understood", str(exc))
        except Exception:
            logger.exception("job %s failed unexpectedly", job_id)
            self._fail(run, "internal_error", "The job failed unexpectedly; this is a bug.")

    def _fail(self, run: _Run, code: str, message: str) -> None:
        with self._lock:
            if run.job_id in self._terminal:
                return
            self._emit(run.job_id, "error", message=message, stage=run.job.get("stage"))
            self._end(run.account, run.job_id, "failed", error=(code, message))

    @contextmanager
    def _stage(self, run: _Run, name: str, asset_id: str | None = None) -> Iterator[None]:
        """A stage: `stage_start`, its share of the job's time, the work, `stage_complete`."""
        entry: Doc = {"name": name, "asset_id": asset_id, "status": "running"}
        entry |= {"started_at": now(), "finished_at": None}
        run.stages.append(entry)
        run.job["stage"] = name
        with self._lock:
            self._check(run.job_id)
            self._update_job(run.job_id, stage=name, progress=run.progress)
            self._emit(
                run.job_id, "stage_start", stage=name, asset_id=asset_id, progress=run.progress
            )
        mirror_on_scene(self._store, run.job["scene_id"], run.job["mode"], stages=run.stages)
        if run.cancel.wait(run.delay) or self._stopping.is_set():
            raise _Stopped
        try:
            yield
        except BaseException:
            entry |= {"status": "failed", "finished_at": now()}
            mirror_on_scene(self._store, run.job["scene_id"], run.job["mode"], stages=run.stages)
            raise
        run.done_stages += 1
        entry |= {"status": "succeeded", "finished_at": now()}
        with self._lock:
            self._check(run.job_id)
            self._update_job(run.job_id, progress=run.progress)
            self._emit(
                run.job_id, "stage_complete", stage=name, asset_id=asset_id, progress=run.progress
            )
        mirror_on_scene(self._store, run.job["scene_id"], run.job["mode"], stages=run.stages)

    def _generate_assets(self, run: _Run, layout: Layout, known: dict[str, str]) -> dict[str, str]:
        """One `asset_generation` stage and `asset_ready` per new asset; prompt -> asset id."""
        ids = dict(known)
        for prompt, label in dict((i.prompt, i.label) for i in layout.items).items():
            if prompt in ids:
                continue
            ids[prompt] = asset_id = new_id()
            with self._stage(run, "asset_generation", asset_id):
                generate(prompt)
                self._put_asset(run, asset_id, label.replace("_", " "), prompt)
            self._ready(run, asset_id)
        return ids

    def _put_asset(self, run: _Run, asset_id: str, name: str, prompt: str) -> None:
        stamp = now()
        asset = {
            "id": asset_id,
            "name": name,
            "prompt": prompt,
            "kind": generate(prompt).kind.value,
            "scene_id": run.job["scene_id"],
            "status": "ready",
            "job_id": run.job_id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._store.put("asset", run.account, asset, time.time())

    def _ready(self, run: _Run, asset_id: str) -> None:
        with self._lock:
            self._check(run.job_id)
            self._emit(run.job_id, "asset_ready", asset_id=asset_id, progress=run.progress)

    def _validate(self, run: _Run, layout: Layout) -> None:
        with self._stage(run, "physics_validation"):
            problem = physics_problem(layout)
            if problem is not None:
                raise _Failed("physics_validation_failed", problem)

    def _scene_job(self, run: _Run) -> _Outcome:
        with self._stage(run, "scene_director"):
            layout = plan_scene(run.job["prompt"])
        run.expected_stages = 5 + len({i.prompt for i in layout.items})
        with self._stage(run, "asset_inventory"):
            pass
        with self._stage(run, "floorplan"):
            pass
        with self._stage(run, "placement_plan"):
            pass
        asset_ids = self._generate_assets(run, layout, {})
        self._validate(run, layout)
        scene_id = run.job["scene_id"]

        def commit() -> Doc:
            record = record_from_layout(layout, asset_ids)
            self._store.update(
                "scene",
                scene_id,
                lambda s: (
                    s | {"record": record, "status": "ready", "version": 1, "updated_at": now()}
                ),
            )
            return {
                "scene_id": scene_id,
                "version": 1,
                "asset_ids": sorted(set(asset_ids.values())),
                "objects": [o["name"] for o in record["objects"]],
            }

        return _Outcome(commit)

    def _current(self, scene_id: str) -> tuple[Layout, dict[str, str]]:
        found = self._store.get("scene", scene_id)
        if found is None or found[1]["record"] is None:
            raise _Failed("scene_not_ready", f"Scene {scene_id!r} has no finished layout.")
        record = found[1]["record"]
        return layout_from_record(record), {o["prompt"]: o["asset_id"] for o in record["objects"]}

    def _edit_job(self, run: _Run) -> _Outcome:
        scene_id, prompt = run.job["scene_id"], run.job["prompt"]
        with self._stage(run, "scene_director"):
            layout, known = self._current(scene_id)
            planned, _ = apply_edit(layout, prompt)
        run.expected_stages = 3 + len({i.prompt for i in planned.items} - set(known))
        with self._stage(run, "placement_plan"):
            pass
        known = self._generate_assets(run, planned, known)
        self._validate(run, planned)

        def commit() -> Doc:
            layout, current = self._current(scene_id)
            edited, changes = apply_edit(layout, prompt)  # on the scene as it is now
            return self._commit_layout(scene_id, edited, current | known, changes)

        return _Outcome(commit)

    def _asset_job(self, run: _Run) -> _Outcome:
        scene_id, prompt = run.job["scene_id"], run.job["prompt"]
        run.expected_stages = 4 if scene_id else 2
        with self._stage(run, "asset_inventory"):
            generate(prompt)
        if scene_id:
            with self._stage(run, "placement_plan"):
                layout, _ = self._current(scene_id)
                place_asset(layout, prompt)
        asset_id = new_id()
        name = prompt if len(prompt) <= NAME_FROM_PROMPT else f"{prompt[: NAME_FROM_PROMPT - 1]}…"
        with self._stage(run, "asset_generation", asset_id):
            generate(prompt)
        if scene_id:
            self._validate(run, place_asset(self._current(scene_id)[0], prompt)[0])

        def commit() -> Doc:
            self._put_asset(run, asset_id, name, prompt)
            self._emit(run.job_id, "asset_ready", asset_id=asset_id, progress=run.progress)
            result: Doc = {"asset_id": asset_id, "scene_id": scene_id, "name": name}
            if scene_id:
                layout, current = self._current(scene_id)
                placed, item = place_asset(layout, prompt)
                changes = [f"added {item.name}"]
                ids = current | {prompt: asset_id}
                result |= self._commit_layout(scene_id, placed, ids, changes) | {
                    "object": item.name
                }
            return result

        return _Outcome(commit)

    def _commit_layout(
        self, scene_id: str, layout: Layout, asset_ids: dict[str, str], changes: list[str]
    ) -> Doc:
        record = record_from_layout(layout, asset_ids)
        scene = self._store.update(
            "scene",
            scene_id,
            lambda s: s | {"record": record, "version": s["version"] + 1, "updated_at": now()},
        )
        if scene is None:
            raise _Failed("scene_not_found", f"Scene {scene_id!r} was deleted while the job ran.")
        return {"scene_id": scene_id, "version": scene["version"], "changes": changes}

    # -- state changes (callers hold the lock where it matters) --------------------------------

    def _check(self, job_id: str) -> None:
        if job_id in self._terminal or self._stopping.is_set():
            raise _Stopped

    def _update_job(self, job_id: str, **fields: Any) -> None:
        self._store.update("job", job_id, lambda j: j | fields | {"updated_at": now()})

    def _end(
        self,
        account: str,
        job_id: str,
        status: str,
        *,
        result: Doc | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """The job's one terminal transition: status, terminal event, `done`, scene, credits."""
        with self._lock:
            if job_id in self._terminal:
                return
            self._terminal.add(job_id)
            body = {"code": error[0], "message": error[1]} if error else None
            fields = {"status": status, "finished_at": now(), "result": result, "error": body}
            if status == "succeeded":
                fields["progress"] = 1.0
            job = self._store.update("job", job_id, lambda j: j | fields | {"updated_at": now()})
            assert job is not None
            message = error[1] if error else f"job {status}"
            append_event(
                self._store, job_id, f"job_{status}", message=message, progress=job["progress"]
            )
            append_event(self._store, job_id, "done", progress=job["progress"])
            if status != "succeeded":
                self._store.refund(account, int(job["credits"]))
            mirror_on_scene(
                self._store,
                job["scene_id"],
                job["mode"],
                status=status,
                error=message if error else None,
            )
            self._cancels.pop(job_id, None)

    def _emit(self, job_id: str, type_: str, **fields: Any) -> None:
        with self._lock:
            self._check(job_id)
            append_event(self._store, job_id, type_, **fields)
