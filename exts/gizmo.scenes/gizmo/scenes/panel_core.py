"""The machinery under the panel's controller: its state and listeners, job slots, failures,
the client. `PanelController` (`controller.py`) and its prompt jobs (`prompt_actions.py`) build
their behaviour on it.

Every action runs as a coroutine on the injected `Scheduler`: blocking calls go through
`scheduler.run` (a worker thread in Kit), and state changes, listener calls and stage edits
happen between awaits, on the main thread. Jobs live in slots (listing, scene details, loading,
syncing, a prompt job); starting a job cancels the previous one in its slot only, so clicking
another scene does not abort a load. Failures become a `PanelError` that says what to do; a
failed job can be retried as it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoError
from gizmo_client.models import Scene

from . import local_files
from . import settings as panel_settings
from .data import LoadedScene, LoadMode, PlacementRow, SceneRow, UnsavedChangesError
from .failures import ErrorKind, PanelError, describe
from .scheduler import Scheduler, TaskHandle
from .settings import ConnectionSettings, SettingsStore
from .state import PanelState, Phase, Progress, Status

__all__ = [
    "DEFAULT_PARENT",
    "PROMPT_SLOT",
    "Cancelled",
    "ClientFactory",
    "PanelCore",
    "PanelJob",
    "StagePort",
    "UnsavedEdits",
    "default_client_factory",
]

logger = logging.getLogger("gizmo.scenes")

DEFAULT_PARENT = "/World/Gizmo"
PROMPT_SLOT = "prompt"


class StagePort(Protocol):
    """The stage operations the controller needs (`stage_port.UsdStagePort`, `KitStagePort`).

    `check_file` runs on a worker thread (it reads the export); everything else on the main one.
    """

    def check_file(self, file: Path) -> Any: ...

    def has_pending_edits(self) -> bool: ...

    async def open_stage(self, file: Path) -> None: ...

    def root_file(self) -> str | None: ...

    def add_scene(
        self,
        file: Any,
        *,
        mode: LoadMode,
        parent: str,
        name: str,
        scene_id: str,
        fingerprint: str,
    ) -> tuple[LoadedScene, list[str]]: ...

    def replace_file(self, prim_path: str, file: Any, fingerprint: str) -> LoadedScene: ...

    def remove(self, prim_path: str) -> None: ...

    def list_added(self) -> list[LoadedScene]: ...

    def rescan(self) -> list[LoadedScene]: ...


ClientFactory = Callable[[ConnectionSettings], GizmoClient]


def default_client_factory(connection: ConnectionSettings) -> GizmoClient:
    """A client with the panel's settings; unset values fall back to `gizmo login` and defaults."""
    return GizmoClient(api_key=connection.api_key, base_url=connection.base_url)


class Cancelled(Exception):
    """Raised inside a job (and inside its download) once the user cancelled it."""


class UnsavedEdits(UnsavedChangesError):
    """The stage has unsaved edits; `proceed` runs the job again, discarding them."""

    def __init__(self, proceed: Callable[[], None]) -> None:
        super().__init__("The stage has unsaved changes that opening a scene would discard.")
        self.proceed = proceed


@dataclass
class PanelJob:
    slot: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    handle: TaskHandle | None = None
    #: What Cancel must also stop elsewhere (a prompt job's job on Gizmo).
    on_cancel: Callable[[], None] | None = None

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()


class PanelCore:
    """State, slots and failures of the panel. Call every method on the main thread."""

    def __init__(
        self,
        *,
        scheduler: Scheduler,
        stage: StagePort,
        settings: SettingsStore,
        client_factory: ClientFactory = default_client_factory,
        environ: Mapping[str, str] | None = None,
        parent_path: str = DEFAULT_PARENT,
        poll_interval: float = 5.0,
        not_ready_delays: tuple[float, float] = (2.0, 15.0),
        not_ready_timeout: float = 900.0,
        files_dir: Path | None = None,
    ) -> None:
        self._sched = scheduler
        self._stage = stage
        self._settings = settings
        self._client_factory = client_factory
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._parent = parent_path
        self._poll_interval = poll_interval
        self._not_ready_delays = not_ready_delays
        self._not_ready_timeout = not_ready_timeout
        self._files_dir = files_dir or local_files.default_files_dir()
        self._client: GizmoClient | None = None
        self._jobs: dict[str, PanelJob] = {}
        self._poller: TaskHandle | None = None
        self._listeners: list[Callable[[PanelState], None]] = []
        self._all_scenes: tuple[SceneRow, ...] = ()
        self._retry: Callable[[], None] | None = None
        self._state = PanelState()
        self._connection = panel_settings.resolve(settings, self._environ)
        self._set(**self._connection_fields())

    # ----------------------------------------------------------------- observing

    @property
    def state(self) -> PanelState:
        return self._state

    def subscribe(self, listener: Callable[[PanelState], None]) -> Callable[[], None]:
        """Call `listener` with every new state (on the main thread); returns an unsubscriber."""
        self._listeners.append(listener)
        listener(self._state)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _set(self, **changes: Any) -> None:
        if not self._sched.on_main_thread():
            raise RuntimeError("panel state may only change on the main thread")
        state = replace(self._state, **changes)
        if state.error is not None:
            status = Status.ERROR
        elif self._jobs:
            status = Status.LOADING
        elif state.loaded:
            status = Status.LOADED
        else:
            status = Status.IDLE
        state = replace(state, status=status)
        if state == self._state:
            return
        self._state = state
        for listener in list(self._listeners):
            listener(self._state)

    # ----------------------------------------------------------------- shared actions

    def cancel(self) -> None:
        """Stop whatever is running (the stage is only edited at a job's very end); a prompt
        job is cancelled on Gizmo too, which refunds its credits."""
        if not self._jobs:
            return
        remote = [job.on_cancel for job in self._jobs.values() if job.on_cancel is not None]
        for slot in list(self._jobs):
            self._cancel_slot(slot)
        self._set(progress=None, job=None, message="Cancelled.")
        for cancel_remote in remote:
            cancel_remote()

    def retry(self) -> None:
        """Run the job that failed again."""
        action, self._retry = self._retry, None
        self._set(error=None)
        if action is not None:
            action()

    def save_connection(self, base_url: str, api_key: str | None) -> None:
        """Store the base URL (and the key, unless None); the next call uses a new client."""
        panel_settings.save(self._settings, base_url=base_url, api_key=api_key)
        self._reset_client()
        self._set(error=None, message="Connection settings saved.", **self._connection_fields())

    # ----------------------------------------------------------------- jobs

    def _start(
        self,
        slot: str,
        body: Callable[[PanelJob], Coroutine[Any, Any, None]],
        *,
        retry: Callable[[], None],
    ) -> None:
        self._cancel_slot(slot)
        job = PanelJob(slot)
        self._jobs[slot] = job
        self._set(error=None)
        job.handle = self._sched.spawn(self._guard(job, body, retry))

    def _cancel_slot(self, slot: str) -> None:
        job = self._jobs.pop(slot, None)
        if job is not None:
            job.cancelled.set()
            if job.handle is not None:
                job.handle.cancel()

    async def _guard(
        self,
        job: PanelJob,
        body: Callable[[PanelJob], Coroutine[Any, Any, None]],
        retry: Callable[[], None],
    ) -> None:
        try:
            await body(job)
        except (Cancelled, asyncio.CancelledError):
            logger.info("gizmo.scenes: %s cancelled", job.slot)
        except Exception as exc:
            if self._jobs.get(job.slot) is job:
                self._finish(job)
                self._fail(exc, retry)
                return
        if self._jobs.get(job.slot) is job:
            self._finish(job)
            self._set(progress=None)

    def _finish(self, job: PanelJob) -> None:
        del self._jobs[job.slot]
        if job.slot == PROMPT_SLOT:
            self._set(job=None)

    def _fail(self, exc: BaseException, retry: Callable[[], None] | None) -> None:
        if isinstance(exc, UnsavedEdits):
            retry = exc.proceed
        error = describe(exc, self._connection, self._not_ready_timeout)
        if error.kind is ErrorKind.OTHER and not isinstance(exc, GizmoError):
            logger.error("gizmo.scenes: unexpected failure", exc_info=exc)
        else:
            logger.warning("gizmo.scenes: %s: %s", error.title, error.detail)
        self._retry = retry if error.can_retry else None
        self._set(error=error, progress=None)

    def _progress(
        self, job: PanelJob, phase: Phase, text: str, fraction: float | None = None
    ) -> None:
        if self._jobs.get(job.slot) is job:
            self._set(progress=Progress(phase, text, fraction))

    def _get_client(self) -> GizmoClient:
        if self._client is None:
            self._client = self._client_factory(self._connection)
        return self._client

    def _reset_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._connection = panel_settings.resolve(self._settings, self._environ)

    # ----------------------------------------------------------------- helpers

    def _need_selection(self) -> SceneRow | None:
        scene = self._state.selected
        if scene is None:
            self._set(
                error=PanelError(
                    ErrorKind.OTHER,
                    "No scene selected",
                    "",
                    "Pick a scene in the list first.",
                    False,
                )
            )
        return scene

    def _show_scene(self, scene: Scene) -> None:
        selected = self._state.selected
        if selected is None or selected.id != scene.id:
            return
        self._set(
            selected=SceneRow.from_summary(scene),
            placements=tuple(PlacementRow.from_placed(p) for p in scene.assets),
        )

    def _put_row(self, scene: Scene, *, add: bool) -> SceneRow:
        """Show a scene's current fields (a new version) in its row; a scene not listed yet is
        put first if `add` (a prompt job made it), else left out."""
        row = SceneRow.from_summary(scene)
        known = any(r.id == row.id for r in self._all_scenes)
        if known or add:
            rows = tuple(row if r.id == row.id else r for r in self._all_scenes)
            self._all_scenes = rows if known else (row, *rows)
            self._set(
                scenes=self._filtered(self._all_scenes, self._state.filter_text),
                total_scenes=len(self._all_scenes),
            )
        return row

    def _current_loaded(self, rescan: bool = False) -> tuple[LoadedScene, ...]:
        """The stage's tagged prims, plus the opened scene while it is still the stage."""
        root = self._stage.root_file()
        opened = [e for e in self._state.loaded if e.prim_path is None and e.file == root]
        added = self._stage.rescan() if rescan else self._stage.list_added()
        return (*opened, *added)

    @staticmethod
    def _filtered(rows: tuple[SceneRow, ...], text: str) -> tuple[SceneRow, ...]:
        return tuple(r for r in rows if r.matches(text)) if text.strip() else rows

    def _connection_fields(self) -> dict[str, Any]:
        c = self._connection
        return {
            "base_url": c.base_url or "",
            "base_url_source": c.base_url_source,
            "key_source": c.api_key_source,
            "key_set": c.api_key is not None,
        }
