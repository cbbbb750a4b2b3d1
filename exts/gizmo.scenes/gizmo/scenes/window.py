"""The Gizmo Scenes window: omni.ui widgets only.

It renders the controller's `PanelState` and forwards clicks to the controller; it holds no
behaviour of its own. Models live as long as the window, widgets are rebuilt with the frame.
Every widget a test needs to find carries an `identifier` starting with `gizmo_scenes_`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import omni.ui as ui

from .data import GeneratedSceneRow, LoadedScene, LoadMode, PlacementRow, SceneRow
from .list_models import RowDelegate, RowItem, RowListModel

if TYPE_CHECKING:
    from .controller import PanelController, PanelState

__all__ = ["WINDOW_TITLE", "GizmoScenesWindow"]

WINDOW_TITLE = "Gizmo Scenes"
_RED = 0xFF6666FF
_YELLOW = 0xFF33CCFF
_GREY = 0xFFAAAAAA


class GizmoScenesWindow(ui.Window):  # type: ignore[misc]
    """Shows either the panel (with a controller) or why the client could not be loaded."""

    def __init__(self, controller: PanelController | None, unavailable: str = "") -> None:
        super().__init__(
            WINDOW_TITLE, width=560, height=820, dockPreference=ui.DockPreference.RIGHT_BOTTOM
        )
        self._controller = controller
        self._unavailable = unavailable
        self._state: PanelState | None = None
        self._w: dict[str, Any] = {}
        self._scenes = RowListModel(SceneRow.HEADERS)
        self._placements = RowListModel(PlacementRow.HEADERS)
        self._loaded = RowListModel(LoadedScene.HEADERS)
        self._delegates = [
            RowDelegate(m.headers) for m in (self._scenes, self._placements, self._loaded)
        ]
        self._filter = ui.SimpleStringModel("")
        self._prompt = ui.SimpleStringModel("")
        self._file = ui.SimpleStringModel("")
        self._base_url = ui.SimpleStringModel("")
        self._api_key = ui.SimpleStringModel("")
        self._auto_sync = ui.SimpleBoolModel(False)
        self._progress = ui.SimpleFloatModel(0.0)
        self._loaded_choice: LoadedScene | None = None
        self._unsubscribe = None
        self._model_callbacks: list[tuple[Any, int]] = []
        if controller is not None:
            self._model_callbacks = [
                (
                    self._filter,
                    self._filter.add_value_changed_fn(
                        lambda m: controller.set_filter(m.get_value_as_string())
                    ),
                ),
                (
                    self._auto_sync,
                    self._auto_sync.add_value_changed_fn(
                        lambda m: self._on_auto_sync(m.get_value_as_bool())
                    ),
                ),
            ]
            self._unsubscribe = controller.subscribe(self._render)
        self.frame.set_build_fn(self._build)

    def destroy(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for model, callback_id in self._model_callbacks:
            model.remove_value_changed_fn(callback_id)
        self._model_callbacks = []
        for model in (self._scenes, self._placements, self._loaded):
            model.destroy()
        self._w.clear()
        self._controller = None
        super().destroy()

    # ----------------------------------------------------------------- building

    def _build(self) -> None:
        self._w.clear()
        with ui.ScrollingFrame(), ui.VStack(spacing=6, height=0):
            if self._controller is None:
                ui.Label(
                    self._unavailable,
                    word_wrap=True,
                    style={"color": _RED},
                    identifier="gizmo_scenes_unavailable",
                )
                return
            self._build_connection()
            self._build_scene_lists()
            self._build_actions()
            self._build_prompt()
            self._build_feedback()
        if self._state is not None:
            self._render(self._state)

    def _button(self, name: str, text: str, clicked: Any, **kwargs: Any) -> None:
        self._w[name] = ui.Button(
            text, clicked_fn=clicked, identifier=f"gizmo_scenes_{name}", **kwargs
        )

    def _build_connection(self) -> None:
        with ui.CollapsableFrame("Connection", collapsed=False), ui.VStack(spacing=4, height=0):
            with ui.HStack(height=22):
                ui.Label("Base URL", width=80)
                ui.StringField(self._base_url, identifier="gizmo_scenes_base_url")
            with ui.HStack(height=22):
                ui.Label("API key", width=80)
                ui.StringField(self._api_key, password_mode=True, identifier="gizmo_scenes_api_key")
            self._w["connection"] = ui.Label(
                "", word_wrap=True, style={"color": _GREY}, identifier="gizmo_scenes_connection"
            )
            with ui.HStack(height=24, spacing=4):
                self._button("save", "Save", self._on_save)
                self._button("forget_key", "Forget stored key", self._on_forget_key)

    def _build_scene_lists(self) -> None:
        with ui.HStack(height=24, spacing=4):
            ui.Label("Filter", width=40)
            ui.StringField(self._filter, identifier="gizmo_scenes_filter")
            self._button("refresh", "Refresh", self._on_refresh, width=90)
        self._w["count"] = ui.Label(
            "", height=18, style={"color": _GREY}, identifier="gizmo_scenes_count"
        )
        self._tree("scene_list", self._scenes, 0, 220, self._on_scene_selected)
        self._w["detail"] = ui.Label(
            "", word_wrap=True, style={"color": _GREY}, identifier="gizmo_scenes_detail"
        )
        ui.Label("Placements", height=18)
        self._tree("placements", self._placements, 1, 150, None)

    def _tree(self, name: str, model: RowListModel, delegate: int, height: int, pick: Any) -> None:
        with ui.ScrollingFrame(height=height):
            tree = ui.TreeView(
                model,
                delegate=self._delegates[delegate],
                root_visible=False,
                header_visible=True,
                columns_resizable=True,
                identifier=f"gizmo_scenes_{name}",
            )
        if pick is not None:
            tree.set_selection_changed_fn(pick)
        self._w[name] = tree

    def _build_actions(self) -> None:
        controller = self._controller
        assert controller is not None
        with ui.HStack(height=28, spacing=4):
            for name, text, mode in (
                ("open", "Open as stage", LoadMode.OPEN),
                ("reference", "Add as reference", LoadMode.REFERENCE),
                ("payload", "Add as payload", LoadMode.PAYLOAD),
            ):
                self._button(name, text, lambda m=mode: controller.load(m))
        with ui.HStack(height=24, spacing=4):
            ui.CheckBox(self._auto_sync, width=20, identifier="gizmo_scenes_auto_sync")
            ui.Label("Keep loaded scenes in sync", width=0)
            ui.Spacer()
            self._button("sync_now", "Sync now", controller.sync_now, width=130)
            self._button("cancel", "Cancel", controller.cancel, width=70)
        with ui.HStack(height=24, spacing=4):
            ui.Label("File", width=40)
            ui.StringField(self._file, identifier="gizmo_scenes_file")
            self._button("add_file", "Add file as reference", self._on_add_file, width=150)

    def _build_prompt(self) -> None:
        """Generation from a prompt: the newer ("jobs") Gizmo API only."""
        with (
            ui.CollapsableFrame("Generate from a prompt", collapsed=False),
            ui.VStack(spacing=4, height=0),
        ):
            ui.StringField(
                self._prompt, multiline=True, height=44, identifier="gizmo_scenes_prompt"
            )
            with ui.HStack(height=24, spacing=4):
                self._button("generate", "Generate scene", self._on_generate)
                self._button("edit", "Edit selected scene", self._on_edit)

    def _build_feedback(self) -> None:
        ui.ProgressBar(self._progress, height=16, identifier="gizmo_scenes_progress")
        self._w["status"] = ui.Label("", height=18, identifier="gizmo_scenes_status")
        self._w["error"] = ui.Label(
            "", word_wrap=True, style={"color": _RED}, identifier="gizmo_scenes_error"
        )
        self._w["hint"] = ui.Label("", word_wrap=True, identifier="gizmo_scenes_hint")
        self._button("retry", "Retry", self._on_retry, height=24)
        self._w["warnings"] = ui.Label(
            "", word_wrap=True, style={"color": _YELLOW}, identifier="gizmo_scenes_warnings"
        )
        self._tree("loaded", self._loaded, 2, 90, self._on_loaded_selected)
        self._button("remove", "Remove selected loaded scene", self._on_remove, height=24)

    # ----------------------------------------------------------------- rendering

    def _render(self, state: PanelState) -> None:
        previous, self._state = self._state, state
        headers_changed = state.scene_headers != self._scenes.headers
        if headers_changed:  # the other API generation's columns
            self._scenes.set_headers(state.scene_headers)
            self._delegates[0] = RowDelegate(state.scene_headers)
            if self._w:
                self.frame.rebuild()  # a TreeView takes its column count when it is built
        if headers_changed or previous is None or previous.scenes != state.scenes:
            self._scenes.set_rows(state.scenes)
            self._keep_selection(state)
        if previous is None or previous.placements != state.placements:
            self._placements.set_rows(state.placements)
        if previous is None or previous.loaded != state.loaded:
            self._loaded.set_rows(state.loaded)
            self._loaded_choice = None
        if previous is None or previous.base_url != state.base_url:
            self._base_url.set_value(state.base_url)
        self._auto_sync.set_value(state.auto_sync)
        progress = state.progress
        self._progress.set_value((progress.fraction or 0.0) if progress else 0.0)
        if not self._w:
            return
        error = state.error
        texts = {
            "connection": (
                f"URL from {state.base_url_source}; key "
                + (f"from {state.key_source}" if state.key_set else "not set here")
                + ". GIZMO_BASE_URL / GIZMO_API_KEY win over these fields."
            ),
            "count": f"{len(state.scenes)} of {state.total_scenes} scenes",
            "status": progress.text if progress else state.message or state.status.value,
            "error": f"{error.title}: {error.detail}" if error else "",
            "hint": error.hint if error else "",
            "warnings": "\n".join(state.warnings),
            "detail": _detail(state.selected),
        }
        for name, text in texts.items():
            self._w[name].text = text
        self._w["retry"].visible = bool(error and error.can_retry)
        self._w["retry"].text = error.retry_label if error else "Retry"
        busy = state.status.value == "loading"  # Status lives with the controller, maybe absent
        for name in ("open", "reference", "payload"):
            self._w[name].enabled = state.selected is not None
        self._w["cancel"].enabled = busy
        generating = progress is not None and progress.phase.value == "generate"
        jobs_api = state.api_generation != "alpha"  # unknown until the first listing: allowed
        self._w["generate"].enabled = jobs_api and not generating
        self._w["edit"].enabled = jobs_api and not generating and state.selected is not None
        self._w["sync_now"].text = (
            f"Sync now ({len(state.outdated)} changed)" if state.outdated else "Sync now"
        )
        self._w["remove"].enabled = bool(state.loaded)

    def _keep_selection(self, state: PanelState) -> None:
        """New rows are new items: select the chosen scene's again (the controller ignores it)."""
        tree = self._w.get("scene_list")
        if tree is not None and state.selected is not None:
            chosen = state.selected.id
            tree.selection = [i for i in self._scenes.items if getattr(i.row, "id", None) == chosen]

    # ----------------------------------------------------------------- events

    def _on_refresh(self) -> None:
        if self._controller is not None:
            self._controller.refresh()

    def _on_scene_selected(self, items: list[Any]) -> None:
        if self._controller is None:
            return
        rows = [i.row for i in items if isinstance(i, RowItem) and isinstance(i.row, SceneRow)]
        if rows:  # an empty selection comes from replaced rows too; keep the chosen scene
            self._controller.select(rows[0].id)

    def _on_loaded_selected(self, items: list[Any]) -> None:
        rows = [i.row for i in items if isinstance(i, RowItem) and isinstance(i.row, LoadedScene)]
        self._loaded_choice = rows[0] if rows else None

    def _on_remove(self) -> None:
        choice = self._loaded_choice
        if self._controller is not None and choice is not None:
            self._controller.remove(choice.prim_path)

    def _on_retry(self) -> None:
        if self._controller is not None:
            self._controller.retry()

    def _on_auto_sync(self, enabled: bool) -> None:
        state = self._state
        if self._controller is not None and state is not None and enabled != state.auto_sync:
            self._controller.set_auto_sync(enabled)

    def _on_generate(self) -> None:
        if self._controller is not None:
            self._controller.generate(self._prompt.get_value_as_string())

    def _on_edit(self) -> None:
        if self._controller is not None:
            self._controller.edit(self._prompt.get_value_as_string())

    def _on_add_file(self) -> None:
        if self._controller is not None:
            self._controller.load_file(self._file.get_value_as_string(), LoadMode.REFERENCE)

    def _on_save(self) -> None:
        if self._controller is not None:
            key = self._api_key.get_value_as_string()
            self._controller.save_connection(self._base_url.get_value_as_string(), key or None)
            self._api_key.set_value("")

    def _on_forget_key(self) -> None:
        if self._controller is not None:
            self._controller.save_connection(self._base_url.get_value_as_string(), "")


def _detail(row: SceneRow | None) -> str:
    """The selected scene in one line: its prompt, version and status when it was generated."""
    if row is None:
        return ""
    if isinstance(row, GeneratedSceneRow):
        version = f"version {row.version}" if row.version is not None else "no version yet"
        return f"Prompt: {row.prompt or '(none)'} · {version} · {row.status or 'unknown status'}"
    return row.description
