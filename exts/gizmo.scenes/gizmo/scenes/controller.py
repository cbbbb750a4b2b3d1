"""The panel's whole behaviour, headless: no `omni` import, so tests drive it with the real client.

The window only renders `PanelState` (`state.py`) and calls the action methods (`refresh`,
`select`, `load`, `load_file`, `generate`, `edit`, `sync_now`, `cancel`, `retry`...). The
machinery (state, slots, failures) is `panel_core.PanelCore`; the prompt jobs are
`prompt_actions.PromptActions`.

Both API generations go through the same paths: a scene's `fingerprint()` is its placements'
hash (alpha) or its `version` (jobs), and `client.fetch_scene` unpacks a jobs ZIP export into
the client's cache, so sync and load need not know which one they talk to. Only the prompt
jobs (`generate`, `edit`) exist in the jobs generation alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from gizmo_client import FetchedScene
from gizmo_client.errors import AssetsNotReadyError, SceneNotReadyError
from gizmo_client.models import ExportFormat, Scene

from . import local_files
from .data import GeneratedSceneRow, LoadedScene, LoadMode, SceneRow
from .failures import ErrorKind, PanelError
from .panel_core import (
    ClientFactory,
    PanelJob,
    StagePort,
    UnsavedEdits,
    default_client_factory,
)
from .prompt_actions import PromptActions
from .state import PanelState, Phase, Progress, Status

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

USD_FORMAT = ExportFormat.ISAAC_SIM_USD


@dataclass(frozen=True)
class _Source:
    """A USD file to bring in and what it is: a fetched export, or a file from disk."""

    path: Path
    scene_id: str
    name: str
    fingerprint: str
    scene: Scene | None = None


class PanelController(PromptActions):
    """The panel's behaviour. Call every method on the main thread."""

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
        scene = self._need_selection()
        if scene is not None:
            self._start_load(scene, mode)

    def _start_load(self, scene: SceneRow, mode: LoadMode, discard: bool = False) -> None:
        retry = partial(self._start_load, scene, mode)  # the same scene, whatever is selected then
        proceed = partial(self._start_load, scene, mode, True)
        body = partial(self._load, scene=scene, mode=mode, discard=discard, proceed=proceed)
        self._start("load", body, retry=retry)

    def load_file(self, path: str | Path, mode: LoadMode, discard: bool = False) -> None:
        """Bring in a USD file or a ZIP export from disk, the way a fetched export comes in.

        A ZIP is unpacked beside the exports cache (`local_files`), so its relative asset paths
        (textures) resolve. A file whose default prim names its Gizmo scene (`gizmo:sceneId`,
        as every export does) is synced with that scene like a fetched one; others never are."""
        file = Path(path).expanduser()
        proceed = partial(self.load_file, file, mode, True)
        body = partial(self._load_file, file=file, mode=mode, discard=discard, proceed=proceed)
        self._start("load", body, retry=partial(self.load_file, file, mode))

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

    def shutdown(self) -> None:
        """Cancel everything and close the client (the extension is being disabled)."""
        self.set_auto_sync(False)
        for slot in list(self._jobs):
            self._cancel_slot(slot)
        self._listeners.clear()
        self._reset_client()

    # ----------------------------------------------------------------- job bodies

    async def _refresh(self, job: PanelJob) -> None:
        client = self._get_client()
        self._progress(job, Phase.LIST, "Listing scenes…")

        def fetch_all() -> list[SceneRow]:
            generation.append(client.api_generation.value)  # one GET /whoami the first time
            rows: list[SceneRow] = []
            for summary in client.scenes.iter_all():
                job.check()
                rows.append(SceneRow.from_summary(summary))
                if len(rows) % 100 == 0:
                    self._sched.post(partial(self._listing_progress, job, len(rows)))
            return rows

        generation: list[str] = []
        rows = tuple(await self._sched.run(fetch_all))
        job.check()
        self._all_scenes = rows
        selected = self._state.selected
        keep = selected if selected is not None and any(r.id == selected.id for r in rows) else None
        self._set(
            api_generation=generation[0],
            scene_headers=(GeneratedSceneRow if generation[0] == "jobs" else SceneRow).HEADERS,
            scenes=self._filtered(rows, self._state.filter_text),
            total_scenes=len(rows),
            selected=keep,
            placements=self._state.placements if keep is not None else (),
            message=f"{len(rows)} scene{'s' if len(rows) != 1 else ''}.",
        )

    def _listing_progress(self, job: PanelJob, count: int) -> None:
        self._progress(job, Phase.LIST, f"Listing scenes… {count} so far")

    def _reselect(self) -> None:
        selected = self._state.selected
        if selected is not None:
            self._set(placements=())
            self.select(selected.id)

    async def _select(self, job: PanelJob, scene_id: str) -> None:
        client = self._get_client()
        self._progress(job, Phase.SCENE, "Reading the scene…")
        scene = await self._sched.run(lambda: client.scenes.get(scene_id, include_record=True))
        job.check()
        self._show_scene(scene)

    async def _load(
        self,
        job: PanelJob,
        *,
        scene: SceneRow,
        mode: LoadMode,
        discard: bool,
        proceed: Callable[[], None],
    ) -> None:
        fetched = await self._fetch(job, scene.id, scene.name)
        source = _Source(fetched.path, scene.id, scene.name, fetched.fingerprint, fetched.scene)
        await self._bring_in(job, source, mode=mode, discard=discard, proceed=proceed)

    async def _load_file(
        self,
        job: PanelJob,
        *,
        file: Path,
        mode: LoadMode,
        discard: bool,
        proceed: Callable[[], None],
    ) -> None:
        self._progress(job, Phase.OPEN, f"Reading {file.name}…")
        local = await self._sched.run(partial(local_files.prepare, file, self._files_dir))
        job.check()
        source = _Source(local.path, local.scene_id, local.name, local.fingerprint)
        await self._bring_in(job, source, mode=mode, discard=discard, proceed=proceed)

    async def _bring_in(
        self,
        job: PanelJob,
        source: _Source,
        *,
        mode: LoadMode,
        discard: bool,
        proceed: Callable[[], None],
    ) -> None:
        """Check the file on the worker, then open it as the stage or add it (main thread)."""
        self._progress(job, Phase.OPEN, f"Opening {source.name}…")
        export = await self._sched.run(partial(self._stage.check_file, source.path))
        job.check()
        if mode is LoadMode.OPEN:
            await self._open_as_stage(source.path, discard, proceed)
            file = str(source.path.resolve())
            entry = LoadedScene(source.scene_id, source.name, mode, file, source.fingerprint)
            loaded = (entry, *self._stage.list_added())
            where, warnings = "as the stage", list[str]()
        else:
            entry, warnings = self._stage.add_scene(
                export,
                mode=mode,
                parent=self._parent,
                name=source.name,
                scene_id=source.scene_id,
                fingerprint=source.fingerprint,
            )
            loaded = self._current_loaded()
            where = f"as a {mode.value} at {entry.prim_path}"
        if source.scene is not None:  # what was fetched is news for its row too
            self._put_row(source.scene, add=False)
            self._show_scene(source.scene)
        self._set(
            loaded=loaded, warnings=tuple(warnings), message=f"Loaded {source.name!r} {where}."
        )

    async def _open_as_stage(self, file: Path, discard: bool, proceed: Callable[[], None]) -> None:
        """Open `file` as the stage; with unsaved edits, only once the user said to discard them
        (Kit's own File → Open asks the same through `omni.kit.window.file`)."""
        if not discard and self._stage.has_pending_edits():
            raise UnsavedEdits(proceed)
        await self._stage.open_stage(file)

    async def _fetch(self, job: PanelJob, scene_id: str, name: str) -> FetchedScene:
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
            except (AssetsNotReadyError, SceneNotReadyError) as exc:
                if time.monotonic() + delay > deadline:
                    raise
                if isinstance(exc, AssetsNotReadyError):
                    names = ", ".join(exc.asset_names) or "some assets"
                    waiting = f"Waiting for assets to finish generating: {names}."
                else:
                    waiting = f"Waiting for {name} to finish generating."
                self._progress(job, Phase.WAIT_ASSETS, f"{waiting} Trying again in {delay:.0f} s.")
                await self._sched.sleep(delay)
                job.check()
                delay = min(longest, delay * 1.5)
                continue
            job.check()
            return fetched

    async def _sync_all(self, job: PanelJob, *, discard: bool, proceed: Callable[[], None]) -> None:
        client = self._get_client()
        entries = self._current_loaded()
        self._set(loaded=entries)
        updated = 0
        for entry in entries:
            if entry not in self._state.loaded or not entry.scene_id:
                continue  # went with the stage an opened scene's sync replaced; or no Gizmo scene
            self._progress(job, Phase.SYNC, f"Checking {entry.scene_name}…")
            scene = await self._sched.run(partial(client.scenes.get, entry.scene_id))
            job.check()
            if scene.fingerprint() == entry.fingerprint:  # alpha: placements; jobs: version
                self._forget_outdated(entry.scene_id)
                continue
            fetched = await self._fetch(job, entry.scene_id, entry.scene_name)
            self._forget_outdated(entry.scene_id)
            if fetched.fingerprint == entry.fingerprint:
                continue  # a jobs scene without version: its export is the one loaded
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
            self._put_row(fetched.scene, add=False)
            self._show_scene(fetched.scene)
            updated += 1
        self._set(message=f"Synced: {updated} of {len(entries)} loaded scene(s) changed.")

    def _forget_outdated(self, scene_id: str) -> None:
        if scene_id in self._state.outdated:
            self._set(outdated=tuple(i for i in self._state.outdated if i != scene_id))

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
