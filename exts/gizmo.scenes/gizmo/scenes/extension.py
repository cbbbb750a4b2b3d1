"""The Kit extension: a Window-menu toggle, the window's lifecycle, stage events, cleanup.

Kit calls `on_shutdown` when the extension is disabled or hot-reloaded (not at app exit), so
everything registered here is undone there: menu, action, commands, stage-event subscription,
window, running tasks, worker threads. `on_shutdown` also runs after an `on_startup` that failed
half-way, so it undoes only what was done (the class attributes are the "nothing yet" values).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import carb.eventdispatcher
import carb.settings
import omni.ext
import omni.kit.actions.core
import omni.kit.commands
import omni.kit.menu.utils
import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuItemDescription

from . import commands
from .bootstrap import load_controller
from .kit_stage import KitStagePort
from .scheduler import AsyncioScheduler
from .settings import EXT_NAME, POLL_INTERVAL_SETTING
from .window import WINDOW_TITLE, GizmoScenesWindow

__all__ = ["ACTION_TOGGLE", "MENU", "GizmoScenesExtension"]

logger = logging.getLogger("gizmo.scenes")

MENU = "Window"
ACTION_TOGGLE = "toggle_window"
#: After these, the stage the panel described is gone: find the panel's prims on the new one.
_STAGE_EVENTS = ("OPENED", "CLOSED")


class GizmoScenesExtension(omni.ext.IExt):  # type: ignore[misc]
    _window: GizmoScenesWindow | None = None
    _executor: ThreadPoolExecutor | None = None
    _controller: Any = None
    _unavailable = ""
    _menu: list[Any] | None = None
    _action = False
    _commands: Any = None
    _stage_subscriptions: list[Any] | None = None
    _show_fn = False

    def on_startup(self, ext_id: str) -> None:
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
            self._commands = omni.kit.commands.register_all_commands_in_module(commands)
            self._stage_subscriptions = self._subscribe_to_stage_events()
        omni.kit.actions.core.get_action_registry().register_action(
            EXT_NAME,
            ACTION_TOGGLE,
            self._toggle_window,
            display_name="Gizmo Scenes",
            description="Show or hide the Gizmo Scenes panel",
        )
        self._action = True
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
        self._show_fn = True

    def on_shutdown(self) -> None:
        if self._show_fn:
            ui.Workspace.set_show_window_fn(WINDOW_TITLE, None)
            self._show_fn = False
        if self._menu is not None:
            omni.kit.menu.utils.remove_menu_items(self._menu, MENU)
            self._menu = None
        if self._action:
            omni.kit.actions.core.get_action_registry().deregister_action(EXT_NAME, ACTION_TOGGLE)
            self._action = False
        self._stage_subscriptions = None  # dropping the subscription objects ends them
        if self._controller is not None:
            self._controller.shutdown()
            self._controller = None
        if self._commands is not None:
            omni.kit.commands.unregister_module_commands(self._commands)
            self._commands = None
        if self._window is not None:
            self._window.destroy()
            self._window = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _subscribe_to_stage_events(self) -> list[Any]:
        """File → Open / New / Close: Kit 106+ sends named events through carb.eventdispatcher
        (`stage_event_name`); older Kit only has the stage event stream."""
        context = omni.usd.get_context()
        kinds = [getattr(omni.usd.StageEventType, name) for name in _STAGE_EVENTS]
        if hasattr(context, "stage_event_name"):
            dispatcher = carb.eventdispatcher.get_eventdispatcher()
            return [
                dispatcher.observe_event(
                    event_name=context.stage_event_name(kind),
                    on_event=lambda _event: self._on_stage_changed(),
                    observer_name=f"{EXT_NAME}.stage_changed",
                )
                for kind in kinds
            ]
        wanted = {int(kind) for kind in kinds}
        stream = context.get_stage_event_stream()
        return [
            stream.create_subscription_to_pop(
                lambda event: self._on_stage_changed() if event.type in wanted else None,
                name=f"{EXT_NAME}.stage_changed",
            )
        ]

    def _on_stage_changed(self) -> None:
        if self._controller is not None:
            self._controller.rescan()

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
            self._controller.refresh_loaded()

    def _toggle_window(self) -> None:
        self._show_window(not self._is_visible())

    def _is_visible(self) -> bool:
        return bool(self._window is not None and self._window.visible)

    def _on_visibility_changed(self, visible: bool) -> None:
        omni.kit.menu.utils.refresh_menu_items(MENU)
