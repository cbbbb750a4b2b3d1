"""The Kit extension: a Window-menu toggle, the window's lifecycle, and cleanup on disable.

Kit calls `on_shutdown` when the extension is disabled or hot-reloaded (not at app exit), so
everything registered here is undone there: menu, action, window, running tasks, worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import carb.settings
import omni.ext
import omni.kit.actions.core
import omni.kit.menu.utils
import omni.ui as ui
from omni.kit.menu.utils import MenuItemDescription

from .bootstrap import load_controller
from .kit_stage import KitStagePort
from .scheduler import AsyncioScheduler
from .settings import EXT_NAME, POLL_INTERVAL_SETTING
from .window import WINDOW_TITLE, GizmoScenesWindow

__all__ = ["ACTION_TOGGLE", "MENU", "GizmoScenesExtension"]

logger = logging.getLogger("gizmo.scenes")

MENU = "Window"
ACTION_TOGGLE = "toggle_window"


class GizmoScenesExtension(omni.ext.IExt):  # type: ignore[misc]
    def on_startup(self, ext_id: str) -> None:
        self._window: GizmoScenesWindow | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._controller: Any = None
        self._unavailable = ""
        backend = load_controller()
        if isinstance(backend, str):
            self._unavailable = backend
            logger.warning("gizmo.scenes: %s", backend)
        else:
            settings = carb.settings.get_settings()
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gizmo-scenes")
            self._controller = backend.PanelController(
                scheduler=AsyncioScheduler(asyncio.get_event_loop(), self._executor),
                stage=KitStagePort(),
                settings=settings,
                environ=os.environ,
                poll_interval=float(settings.get(POLL_INTERVAL_SETTING) or 5.0),
            )
        omni.kit.actions.core.get_action_registry().register_action(
            EXT_NAME,
            ACTION_TOGGLE,
            self._toggle_window,
            display_name="Gizmo Scenes",
            description="Show or hide the Gizmo Scenes panel",
        )
        self._menu = [
            MenuItemDescription(
                name=WINDOW_TITLE,
                ticked=True,
                ticked_fn=self._is_visible,
                onclick_action=(EXT_NAME, ACTION_TOGGLE),
            )
        ]
        omni.kit.menu.utils.add_menu_items(self._menu, MENU)
        ui.Workspace.set_show_window_fn(WINDOW_TITLE, self._show_window)

    def on_shutdown(self) -> None:
        ui.Workspace.set_show_window_fn(WINDOW_TITLE, None)
        omni.kit.menu.utils.remove_menu_items(self._menu, MENU)
        omni.kit.actions.core.get_action_registry().deregister_action(EXT_NAME, ACTION_TOGGLE)
        if self._controller is not None:
            self._controller.shutdown()
            self._controller = None
        if self._window is not None:
            self._window.destroy()
            self._window = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _show_window(self, visible: bool) -> None:
        if not visible:
            if self._window is not None:
                self._window.visible = False
            return
        if self._window is None:
            self._window = GizmoScenesWindow(self._controller, self._unavailable)
            self._window.set_visibility_changed_fn(self._on_visibility_changed)
        self._window.visible = True
        if self._controller is not None:
            self._controller.rescan()

    def _toggle_window(self) -> None:
        self._show_window(not self._is_visible())

    def _is_visible(self) -> bool:
        return bool(self._window is not None and self._window.visible)

    def _on_visibility_changed(self, visible: bool) -> None:
        omni.kit.menu.utils.refresh_menu_items(MENU)
