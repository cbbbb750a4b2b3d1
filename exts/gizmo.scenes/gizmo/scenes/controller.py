"""The panel's whole behaviour, headless: no `omni` import, so tests drive it with the real client.

The window only renders `PanelState` and calls the action methods (`refresh`, `select`, `load`,
`sync_now`, `cancel`, `retry`...). Every action runs as a coroutine on the injected `Scheduler`:
blocking calls go through `scheduler.run` (a worker thread in Kit), and state changes, listener
calls and stage edits happen between awaits, on the main thread.

Jobs live in slots (listing, scene details, loading, syncing); starting a job cancels the previous
one in its slot only, so clicking another scene does not abort a load. Failures become a
`PanelError` that says what to do; a failed job can be retried as it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from gizmo_client import FetchedScene, GizmoClient
from gizmo_client.errors import AssetsNotReadyError, GizmoError
from gizmo_client.models import ExportFormat, Scene

from . import settings as panel_settings
from .data import LoadedScene, LoadMode, PlacementRow, SceneRow, UnsavedChangesError
from .failures import ErrorKind, PanelError, describe
from .scheduler import Scheduler, TaskHandle
from .settings import ConnectionSettings, SettingsStore

__all__ = [
    "ClientFactory",
    "ErrorKind",
    "PanelController",
    "PanelError",
    "PanelState",
    "Phase",
    "Progress",
    "StagePort",
    "Status",
    "default_client_factory",
]

logger = logging.getLogger("gizmo.scenes")

USD_FORMAT = ExportFormat.ISAAC_SIM_USD
DEFAULT_PARENT = "/World/Gizmo"


class Status(str, Enum):
    IDLE = "idle"
    LOADING = "loading"
    LOADED = "loaded"
    ERROR = "error"


class Phase(str, Enum):
    LIST = "list"
    SCENE = "scene"
    EXPORT = "export"
    WAIT_ASSETS = "wait_assets"
    DOWNLOAD = "download"
    OPEN = "open"
    SYNC = "sync"


@dataclass(frozen=True)
class Progress:
    phase: Phase
    text: str
    fraction: float | None = None


@dataclass(frozen=True)
class PanelState:
    """Everything the window shows; a new object on every change."""

    status: Status = Status.IDLE
    scenes: tuple[SceneRow, ...] = ()
    total_scenes: int = 0
    filter_text: str = ""
    selected: SceneRow | None = None
    placements: tuple[PlacementRow, ...] = ()
    loaded: tuple[LoadedScene, ...] = ()
    progress: Progress | None = None
    error: PanelError | None = None
    warnings: tuple[str, ...] = ()
    message: str = ""
    auto_sync: bool = False
    base_url: str = ""
    base_url_source: str = ""
    key_source: str = ""
    key_set: bool = False


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


class _Unsaved(UnsavedChangesError):
    """The stage has unsaved edits; `proceed` runs the job again, discarding them."""

    def __init__(self, proceed: Callable[[], None]) -> None:
        super().__init__("The stage has unsaved changes that opening a scene would discard.")
        self.proceed = proceed


@dataclass
class _Job:
    slot: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    handle: TaskHandle | None = None

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled()


class PanelController:
    """The panel's behaviour. Call every method on the main thread."""

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
        self._client: GizmoClient | None = None
        self._jobs: dict[str, _Job] = {}
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

    # ----------------------------------------------------------------- actions

    def refresh(self) -> None:
        """Fetch every page of the account's scenes."""
        self._start("list", self._refresh, retry=self.refresh)

    def set_filter(self, text: str) -> None:
        """Show only scenes whose name, description or id contain every word of `text`."""
        self._set(filter_text=text, scenes=self._filtered(self._all_scenes, text))

    def select(self, scene_id: str) -> None:
        """Show the placements of a scene."""
        current = self._state.selected
        shown_or_coming = bool(self._state.placements) or "scene" in self._jobs
        if current is not None and current.id == scene_id and shown_or_coming:
            return
        row = next((r for r in self._all_scenes if r.id == scene_id), None)
        self._set(selected=row or SceneRow(id=scene_id, name=scene_id), placements=())
        self._start("scene", lambda job: self._select(job, scene_id), retry=self._reselect)

    def load(self, mode: LoadMode) -> None:
        """Bring the selected scene in: as the stage, or as a reference/payload under the parent."""
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
            return
        self._start_load(scene, mode)

    def _start_load(self, scene: SceneRow, mode: LoadMode, discard: bool = False) -> None:
        retry = partial(self._start_load, scene, mode)  # the same scene, whatever is selected then
        proceed = partial(self._start_load, scene, mode, True)
        body = partial(self._load, scene=scene, mode=mode, discard=discard, proceed=proceed)
        self._start("load", body, retry=retry)

    def sync_now(self, discard: bool = False) -> None:
        """Check every loaded scene and bring changed ones up to date. A scene opened as the stage
        is reopened, which discards unsaved edits: only with `discard` (asked for otherwise)."""
        body = partial(self._sync_all, discard=discard, proceed=partial(self.sync_now, True))
        self._start("sync", body, retry=self.sync_now)

    def set_auto_sync(self, enabled: bool) -> None:
        """Poll loaded scenes every `poll_interval` seconds and sync the ones that changed."""
        if enabled and self._poller is None:
            self._poller = self._sched.spawn(self._poll())
        elif not enabled and self._poller is not None:
            self._poller.cancel()
            self._poller = None
        self._set(auto_sync=enabled)

    def remove(self, prim_path: str | None) -> None:
        """Delete a loaded scene's prim; for a scene opened as the stage, just stop tracking it.

        A prim that is already gone (undone, deleted by hand) is simply dropped from the list.
        """
        try:
            if prim_path in {e.prim_path for e in self._stage.list_added()}:
                self._stage.remove(str(prim_path))
        except Exception as exc:
            self._fail(exc, retry=None)
            return
        kept = tuple(e for e in self._current_loaded() if e.prim_path != prim_path)
        self._set(loaded=kept, message=f"Removed {prim_path or 'the opened scene'}.")

    def rescan(self) -> None:
        """Find the scenes the current stage holds from scratch (another stage was opened)."""
        self._set(loaded=self._current_loaded(rescan=True))

    def refresh_loaded(self) -> None:
        """Re-check the known scenes (undone, deleted by hand): cheap, for every window show."""
        self._set(loaded=self._current_loaded())

    def cancel(self) -> None:
        """Stop whatever is running (the stage is only edited at a job's very end)."""
        if not self._jobs:
            return
        for slot in list(self._jobs):
            self._cancel_slot(slot)
        self._set(progress=None, message="Cancelled.")

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

    def shutdown(self) -> None:
        """Cancel everything and close the client (the extension is being disabled)."""
        self.set_auto_sync(False)
        for slot in list(self._jobs):
            self._cancel_slot(slot)
        self._listeners.clear()
        self._reset_client()

    # ----------------------------------------------------------------- jobs

    def _start(
        self,
        slot: str,
        body: Callable[[_Job], Coroutine[Any, Any, None]],
        *,
        retry: Callable[[], None],
    ) -> None:
        self._cancel_slot(slot)
        job = _Job(slot)
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
        job: _Job,
        body: Callable[[_Job], Coroutine[Any, Any, None]],
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

    def _finish(self, job: _Job) -> None:
        del self._jobs[job.slot]

    def _fail(self, exc: BaseException, retry: Callable[[], None] | None) -> None:
        if isinstance(exc, _Unsaved):
            retry = exc.proceed
        error = describe(exc, self._connection, self._not_ready_timeout)
        if error.kind is ErrorKind.OTHER and not isinstance(exc, GizmoError):
            logger.error("gizmo.scenes: unexpected failure", exc_info=exc)
        else:
            logger.warning("gizmo.scenes: %s: %s", error.title, error.detail)
        self._retry = retry if error.can_retry else None
        self._set(error=error, progress=None)

    def _progress(self, job: _Job, phase: Phase, text: str, fraction: float | None = None) -> None:
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

    # ----------------------------------------------------------------- job bodies

    async def _refresh(self, job: _Job) -> None:
        client = self._get_client()
        self._progress(job, Phase.LIST, "Listing scenes…")

        def fetch_all() -> list[SceneRow]:
            rows: list[SceneRow] = []
            for summary in client.scenes.iter_all():
                job.check()
                rows.append(SceneRow.from_summary(summary))
                if len(rows) % 100 == 0:
                    self._sched.post(partial(self._listing_progress, job, len(rows)))
            return rows

        rows = tuple(await self._sched.run(fetch_all))
        job.check()
        self._all_scenes = rows
        selected = self._state.selected
        keep = selected if selected is not None and any(r.id == selected.id for r in rows) else None
        self._set(
            scenes=self._filtered(rows, self._state.filter_text),
            total_scenes=len(rows),
            selected=keep,
            placements=self._state.placements if keep is not None else (),
            message=f"{len(rows)} scene{'s' if len(rows) != 1 else ''}.",
        )

    def _listing_progress(self, job: _Job, count: int) -> None:
        self._progress(job, Phase.LIST, f"Listing scenes… {count} so far")

    def _reselect(self) -> None:
        selected = self._state.selected
        if selected is not None:
            self._set(placements=())
            self.select(selected.id)

    async def _select(self, job: _Job, scene_id: str) -> None:
        client = self._get_client()
        self._progress(job, Phase.SCENE, "Reading the scene…")
        scene = await self._sched.run(lambda: client.scenes.get(scene_id))
        job.check()
        self._show_scene(scene)

    def _show_scene(self, scene: Scene) -> None:
        selected = self._state.selected
        if selected is None or selected.id != scene.id:
            return
        self._set(
            selected=SceneRow.from_summary(scene),
            placements=tuple(PlacementRow.from_placed(p) for p in scene.assets),
        )

    async def _load(
        self,
        job: _Job,
        *,
        scene: SceneRow,
        mode: LoadMode,
        discard: bool,
        proceed: Callable[[], None],
    ) -> None:
        fetched = await self._fetch(job, scene.id, scene.name)
        self._progress(job, Phase.OPEN, f"Opening {scene.name}…")
        export = await self._sched.run(partial(self._stage.check_file, fetched.path))
        job.check()
        if mode is LoadMode.OPEN:
            await self._open_as_stage(fetched.path, discard, proceed)
            entry = LoadedScene(
                scene.id, scene.name, mode, str(fetched.path.resolve()), fetched.fingerprint
            )
            loaded = (entry, *self._stage.list_added())
            where, warnings = "as the stage", list[str]()
        else:
            entry, warnings = self._stage.add_scene(
                export,
                mode=mode,
                parent=self._parent,
                name=scene.name,
                scene_id=scene.id,
                fingerprint=fetched.fingerprint,
            )
            loaded = self._current_loaded()
            where = f"as a {mode.value} at {entry.prim_path}"
        self._show_scene(fetched.scene)
        self._set(
            loaded=loaded, warnings=tuple(warnings), message=f"Loaded {scene.name!r} {where}."
        )

    async def _open_as_stage(self, file: Path, discard: bool, proceed: Callable[[], None]) -> None:
        """Open `file` as the stage; with unsaved edits, only once the user said to discard them
        (Kit's own File → Open asks the same through `omni.kit.window.file`)."""
        if not discard and self._stage.has_pending_edits():
            raise _Unsaved(proceed)
        await self._stage.open_stage(file)

    async def _fetch(self, job: _Job, scene_id: str, name: str) -> FetchedScene:
        """Export and download (or take from the cache), retrying while assets are not ready."""
        client = self._get_client()
        initial, longest = self._not_ready_delays
        delay = initial
        deadline = time.monotonic() + self._not_ready_timeout

        def on_progress(done: int, total: int | None) -> None:  # worker thread
            job.check()
            fraction = done / total if total else None
            text = f"Downloading {name}… {done / 1e6:.1f} MB"
            self._sched.post(lambda: self._progress(job, Phase.DOWNLOAD, text, fraction))

        while True:
            self._progress(job, Phase.EXPORT, f"Exporting {name}…")
            try:
                fetched = await self._sched.run(
                    lambda: client.fetch_scene(scene_id, USD_FORMAT, on_progress=on_progress)
                )
            except AssetsNotReadyError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                names = ", ".join(exc.asset_names) or "some assets"
                self._progress(
                    job,
                    Phase.WAIT_ASSETS,
                    f"Waiting for assets to finish generating: {names}. "
                    f"Trying again in {delay:.0f} s.",
                )
                await self._sched.sleep(delay)
                job.check()
                delay = min(longest, delay * 1.5)
                continue
            job.check()
            return fetched

    async def _sync_all(self, job: _Job, *, discard: bool, proceed: Callable[[], None]) -> None:
        client = self._get_client()
        entries = self._current_loaded()
        self._set(loaded=entries)
        updated = 0
        for entry in entries:
            if entry not in self._state.loaded:
                continue  # its prim went with the stage that syncing an opened scene replaced
            self._progress(job, Phase.SYNC, f"Checking {entry.scene_name}…")
            scene = await self._sched.run(partial(client.scenes.get, entry.scene_id))
            job.check()
            if scene.fingerprint() == entry.fingerprint:
                continue
            fetched = await self._fetch(job, entry.scene_id, entry.scene_name)
            self._progress(job, Phase.OPEN, f"Reloading {entry.scene_name}…")
            export = await self._sched.run(partial(self._stage.check_file, fetched.path))
            job.check()
            if entry.prim_path is None:
                await self._open_as_stage(fetched.path, discard, proceed)
                fresh = replace(
                    entry, file=str(fetched.path.resolve()), fingerprint=fetched.fingerprint
                )
                loaded = (fresh, *self._stage.list_added())
            else:
                fresh = self._stage.replace_file(entry.prim_path, export, fetched.fingerprint)
                loaded = tuple(fresh if e == entry else e for e in self._state.loaded)
            self._set(loaded=loaded)
            self._show_scene(fetched.scene)
            updated += 1
        self._set(message=f"Synced: {updated} of {len(entries)} loaded scene(s) changed.")

    async def _poll(self) -> None:
        try:
            while True:
                await self._sched.sleep(self._poll_interval)
                busy = "sync" in self._jobs or "load" in self._jobs
                error = self._state.error
                blocked = error is not None and error.kind is not ErrorKind.NETWORK
                if self._state.loaded and not busy and not blocked:
                    self.sync_now()
        except Exception as exc:
            # A task's exception would vanish with the task while the checkbox stayed ticked:
            # switch auto-sync off and say why instead.
            self._poller = None
            self._set(auto_sync=False)
            self._fail(exc, partial(self.set_auto_sync, True))

    # ----------------------------------------------------------------- helpers

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
