"""The panel inside Kit: menu, window, scene list, loading, disabling.

Runs only in Kit (see docs/kit.md for the headless command). The list and load tests talk to a
real server: start `gizmo-server --demo` and pass GIZMO_BASE_URL / GIZMO_API_KEY to Kit.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import omni.kit.actions.core
import omni.kit.app
import omni.kit.menu.utils
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.ui as ui
import omni.usd

from ..extension import ACTION_TOGGLE, MENU
from ..settings import ENV_API_KEY, ENV_BASE_URL, EXT_NAME
from ..usd_ops import MODE_ATTR
from ..window import WINDOW_TITLE

_Q = f"{WINDOW_TITLE}//Frame/**"
DEMO_SCENE = "Warehouse Workcell Alpha"


def _find(kind: str, identifier: str) -> ui_test.WidgetRef:
    return ui_test.find(f"{_Q}/{kind}[*].identifier=='gizmo_scenes_{identifier}'")


def _window_menu_names() -> list[str]:
    entry = (omni.kit.menu.utils.get_merged_menus() or {}).get(MENU, {})
    return [item.name for item in entry.get("items", [])]


async def _until(check: Callable[[], bool], what: str, frames: int = 1800) -> None:
    app = omni.kit.app.get_app()
    for _ in range(frames):
        if check():
            return
        await app.next_update_async()
    status = _find("Label", "status")
    error = _find("Label", "error")
    raise AssertionError(
        f"timed out waiting for {what}; status={status.widget.text if status else '?'!r} "
        f"error={error.widget.text if error else '?'!r}"
    )


class TestGizmoScenesPanel(omni.kit.test.AsyncTestCase):  # type: ignore[misc]
    async def setUp(self) -> None:
        await omni.usd.get_context().new_stage_async()
        window = ui.Workspace.get_window(WINDOW_TITLE)
        if window is not None:
            window.visible = False
        await ui_test.human_delay()

    async def tearDown(self) -> None:
        window = ui.Workspace.get_window(WINDOW_TITLE)
        if window is not None:
            window.visible = False
        await ui_test.human_delay()

    async def _open_from_menu(self) -> None:
        await ui_test.menu_click(f"{MENU}/{WINDOW_TITLE}")
        await _until(
            lambda: (
                bool(ui.Workspace.get_window(WINDOW_TITLE))
                and ui.Workspace.get_window(WINDOW_TITLE).visible
            ),
            "the window",
        )
        await ui_test.human_delay(5)

    def _need_server(self) -> None:
        if not (os.environ.get(ENV_BASE_URL) and os.environ.get(ENV_API_KEY)):
            self.skipTest(f"start `gizmo-server --demo` and set {ENV_BASE_URL} and {ENV_API_KEY}")

    async def _refresh(self) -> ui_test.WidgetRef:
        await _find("Button", "refresh").click()
        tree = _find("TreeView", "scene_list")
        await _until(lambda: len(tree.widget.model.get_item_children(None)) >= 3, "scenes")
        return tree

    async def test_window_opens_from_the_window_menu(self) -> None:
        self.assertIn(WINDOW_TITLE, _window_menu_names())
        await self._open_from_menu()
        self.assertIsNotNone(_find("Button", "refresh"))
        self.assertTrue(_find("StringField", "api_key").widget.password_mode)

    async def test_refresh_fills_the_scene_list(self) -> None:
        self._need_server()
        await self._open_from_menu()
        tree = await self._refresh()
        names = [item.row.name for item in tree.widget.model.get_item_children(None)]
        self.assertIn(DEMO_SCENE, names)

    async def test_load_as_reference_adds_the_prim(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await ui_test.find(f"{_Q}/Label[*].text=='{DEMO_SCENE}'").click()
        placements = _find("TreeView", "placements")
        await _until(lambda: len(placements.widget.model.get_item_children(None)) > 0, "placements")
        await _find("Button", "reference").click()
        stage = omni.usd.get_context().get_stage()
        path = "/World/Gizmo/Warehouse_Workcell_Alpha"
        await _until(lambda: bool(stage.GetPrimAtPath(path)), path)
        prim = stage.GetPrimAtPath(path)
        self.assertEqual(prim.GetAttribute(MODE_ATTR).Get(), "reference")
        self.assertFalse(prim.IsInstanceable(), "placed assets must stay editable")
        placed = [c for c in prim.GetChildren() if c.HasAttribute("gizmo:placementId")]
        self.assertEqual(len(placed), len(placements.widget.model.get_item_children(None)))

    async def test_disable_removes_window_and_menu(self) -> None:
        await self._open_from_menu()
        manager = omni.kit.app.get_app().get_extension_manager()
        registry = omni.kit.actions.core.get_action_registry()
        manager.set_extension_enabled_immediate(EXT_NAME, False)
        try:
            await ui_test.human_delay(5)
            self.assertIsNone(ui.Workspace.get_window(WINDOW_TITLE))
            self.assertNotIn(WINDOW_TITLE, _window_menu_names())
            self.assertIsNone(registry.get_action(EXT_NAME, ACTION_TOGGLE))
        finally:
            manager.set_extension_enabled_immediate(EXT_NAME, True)
            await ui_test.human_delay(5)
        self.assertIn(WINDOW_TITLE, _window_menu_names())
