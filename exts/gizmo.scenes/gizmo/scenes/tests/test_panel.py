"""The panel inside Kit: menu, window, every load mode, sync, undo, cancel, errors, disabling.

Runs only in Kit (see docs/kit.md for the headless command). The server tests talk to a real
local server: start `gizmo-server --demo` and pass GIZMO_BASE_URL / GIZMO_API_KEY to Kit; without
them they are skipped, saying so. Every test stands alone (omni.kit.test sorts test names, and
may shuffle them): setUp gives a new stage, a hidden window and an enabled extension. Widgets are
found by their `gizmo_scenes_*` identifier, and rows inside one list only, never by a text that
could match in two places.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import omni.kit.actions.core
import omni.kit.app
import omni.kit.menu.utils
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.kit.undo
import omni.ui as ui
import omni.usd

from gizmo_client import GizmoClient, Vector3

from ..extension import ACTION_TOGGLE, MENU
from ..settings import ENV_API_KEY, ENV_BASE_URL, EXT_NAME
from ..usd_ops import FINGERPRINT_ATTR, MODE_ATTR
from ..window import WINDOW_TITLE

_Q = f"{WINDOW_TITLE}//Frame/**"
DEMO_SCENE = "Warehouse Workcell Alpha"
ADDED_AT = "/World/Gizmo/Warehouse_Workcell_Alpha"
JOBS_DEMO_KEY = "gzm_k1_demo_local_development_key_not_secret"  # gizmo-server --demo's, public


def _find(kind: str, identifier: str) -> ui_test.WidgetRef:
    found = ui_test.find_all(f"{_Q}/{kind}[*].identifier=='gizmo_scenes_{identifier}'")
    assert len(found) == 1, f"{len(found)} {kind} widgets named gizmo_scenes_{identifier}"
    return found[0]


def _text(identifier: str) -> str:
    return str(_find("Label", identifier).widget.text)


def _rows(identifier: str) -> list[object]:
    return list(_find("TreeView", identifier).widget.model.get_item_children(None))


def _window_menu_names() -> list[str]:
    entry = (omni.kit.menu.utils.get_merged_menus() or {}).get(MENU, {})
    return [item.name for item in entry.get("items", [])]


async def _until(check: Callable[[], bool], what: str, frames: int = 1800) -> None:
    app = omni.kit.app.get_app()
    for _ in range(frames):
        if check():
            return
        await app.next_update_async()
    window = ui.Workspace.get_window(WINDOW_TITLE)
    state = f"status={_text('status')!r} error={_text('error')!r}" if window else "no window"
    raise AssertionError(f"timed out waiting for {what}; {state}")


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """The panel reads the live environment when its connection is saved (env wins)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class TestGizmoScenesPanel(omni.kit.test.AsyncTestCase):  # type: ignore[misc]
    async def setUp(self) -> None:
        manager = omni.kit.app.get_app().get_extension_manager()
        if not manager.is_extension_enabled(EXT_NAME):  # a failed disable test left it off
            manager.set_extension_enabled_immediate(EXT_NAME, True)
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

    # ------------------------------------------------------------- helpers

    def _need_server(self) -> None:
        if not (os.environ.get(ENV_BASE_URL) and os.environ.get(ENV_API_KEY)):
            self.skipTest(f"start `gizmo-server --demo` and set {ENV_BASE_URL} and {ENV_API_KEY}")

    async def _open_from_menu(self) -> None:
        await ui_test.menu_click(f"{MENU}/{WINDOW_TITLE}")

        def shown() -> bool:
            window = ui.Workspace.get_window(WINDOW_TITLE)
            return bool(window and window.visible)

        await _until(shown, "the window")
        await ui_test.human_delay(5)

    async def _refresh(self) -> None:
        await _find("Button", "refresh").click()
        await _until(lambda: len(_rows("scene_list")) >= 3, "scenes")

    async def _select(self, name: str) -> None:
        """Click the scene's name inside the scene list (nowhere else)."""
        tree = _find("TreeView", "scene_list")
        labels = tree.find_all(f"**/Label[*].text=='{name}'")
        self.assertEqual(len(labels), 1, f"{name!r} in the scene list")
        await labels[0].click()
        await _until(lambda: len(_rows("placements")) > 0, "placements")

    async def _load(self, button: str, path: str) -> None:
        stage = omni.usd.get_context().get_stage()
        await _find("Button", button).click()
        await _until(lambda: bool(omni.usd.get_context().get_stage().GetPrimAtPath(path)), path)
        self.assertIs(stage, omni.usd.get_context().get_stage())

    # ------------------------------------------------------------- tests

    async def test_window_opens_from_the_window_menu(self) -> None:
        self.assertIn(WINDOW_TITLE, _window_menu_names())
        await self._open_from_menu()
        self.assertTrue(_find("StringField", "api_key").widget.password_mode)
        self.assertFalse(_find("Button", "reference").widget.enabled, "nothing selected yet")

    async def test_refresh_fills_the_scene_list(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        names = [item.row.name for item in _rows("scene_list")]  # type: ignore[attr-defined]
        self.assertIn(DEMO_SCENE, names)

    async def test_reference_is_editable_and_one_undo_step(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await self._select(DEMO_SCENE)
        await self._load("reference", ADDED_AT)
        stage = omni.usd.get_context().get_stage()
        prim = stage.GetPrimAtPath(ADDED_AT)
        self.assertEqual(prim.GetAttribute(MODE_ATTR).Get(), "reference")
        self.assertFalse(prim.IsInstanceable(), "placed assets must stay editable")
        placed = [c for c in prim.GetChildren() if c.HasAttribute("gizmo:placementId")]
        self.assertEqual(len(placed), len(_rows("placements")))

        omni.kit.undo.undo()
        self.assertFalse(stage.GetPrimAtPath("/World/Gizmo"), "Ctrl+Z leaves no container")
        omni.kit.undo.redo()
        self.assertEqual(stage.GetPrimAtPath(ADDED_AT).GetAttribute(MODE_ATTR).Get(), "reference")
        await _until(lambda: len(_rows("loaded")) == 1, "the redone scene listed")

    async def test_payload_is_loaded_under_world_gizmo(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await self._select(DEMO_SCENE)
        await self._load("payload", ADDED_AT)
        prim = omni.usd.get_context().get_stage().GetPrimAtPath(ADDED_AT)
        self.assertEqual(prim.GetAttribute(MODE_ATTR).Get(), "payload")
        self.assertTrue(prim.HasAuthoredPayloads() and prim.IsLoaded())

    async def test_open_as_stage_replaces_a_clean_stage(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await self._select(DEMO_SCENE)
        before = omni.usd.get_context().get_stage()
        await _find("Button", "open").click()
        await _until(lambda: omni.usd.get_context().get_stage() is not before, "the new stage")
        stage = omni.usd.get_context().get_stage()
        await _until(lambda: bool(stage.GetPrimAtPath("/World")), "/World")
        self.assertEqual(stage.GetDefaultPrim().GetPath().pathString, "/World")
        self.assertTrue(stage.GetPrimAtPath("/PhysicsScene"), "opened alone, it simulates")
        await _until(lambda: "(whole stage)" in _loaded_columns(), "the opened scene listed")

    async def test_open_as_stage_asks_before_discarding_unsaved_edits(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await self._select(DEMO_SCENE)
        stage = omni.usd.get_context().get_stage()
        stage.DefinePrim("/World/MyWork", "Xform")
        await _until(lambda: bool(omni.usd.get_context().has_pending_edit()), "a pending edit")
        await _find("Button", "open").click()
        await _until(lambda: "unsaved changes" in _text("error"), "the question")
        self.assertIs(omni.usd.get_context().get_stage(), stage, "nothing opened yet")
        retry = _find("Button", "retry")
        self.assertEqual(retry.widget.text, "Open anyway (discard changes)")
        await retry.click()
        await _until(lambda: omni.usd.get_context().get_stage() is not stage, "the new stage")
        new = omni.usd.get_context().get_stage()
        self.assertFalse(new.GetPrimAtPath("/World/MyWork"))

    async def test_sync_now_follows_a_placement_added_through_the_api(self) -> None:
        self._need_server()
        client = GizmoClient(api_key=os.environ[ENV_API_KEY], base_url=os.environ[ENV_BASE_URL])
        self.addCleanup(client.close)
        demo = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE)
        asset = client.scenes.get(demo.id).assets[0].asset_id
        name = f"Kit Sync {os.getpid()} {id(self)}"
        scene = client.scenes.create(name)
        client.scenes.add_asset(scene.id, asset, Vector3(x=0.5, y=0.0, z=0.0))

        await self._open_from_menu()
        await self._refresh()
        await self._select(name)
        path = f"/World/Gizmo/{name.replace(' ', '_')}"
        await self._load("reference", path)
        prim = omni.usd.get_context().get_stage().GetPrimAtPath(path)
        before = prim.GetAttribute(FINGERPRINT_ATTR).Get()

        after = client.scenes.add_asset(scene.id, asset, Vector3(x=-0.5, y=1.0, z=0.0))
        await _find("Button", "sync_now").click()
        await _until(lambda: prim.GetAttribute(FINGERPRINT_ATTR).Get() != before, "the sync")
        self.assertEqual(prim.GetAttribute(FINGERPRINT_ATTR).Get(), after.fingerprint())
        placed = [c for c in prim.GetChildren() if c.HasAttribute("gizmo:placementId")]
        self.assertEqual(len(placed), 2)

    async def test_cancel_stops_a_load_and_leaves_the_stage_alone(self) -> None:
        self._need_server()
        await self._open_from_menu()
        await self._refresh()
        await self._select(DEMO_SCENE)
        with socket.socket() as silent:  # accepts connections, never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
            with _environment(**{ENV_BASE_URL: url}):
                await _find("Button", "save").click()
                await _find("Button", "reference").click()
                await _until(lambda: _find("Button", "cancel").widget.enabled, "a running load")
                await _find("Button", "cancel").click()
                await _until(lambda: _text("status") == "Cancelled.", "the cancel")
            await _find("Button", "save").click()
        self.assertFalse(omni.usd.get_context().get_stage().GetPrimAtPath("/World/Gizmo"))

    async def test_a_rejected_key_says_what_to_do_and_retry_recovers(self) -> None:
        self._need_server()
        await self._open_from_menu()
        with _environment(**{ENV_API_KEY: "gzk_wrong_key_for_the_kit_test_000000"}):
            await _find("Button", "save").click()
            await _find("Button", "refresh").click()
            await _until(lambda: "rejected" in _text("error"), "the 401")
            self.assertIn("GIZMO_API_KEY", _text("hint"))
            self.assertTrue(_find("Button", "retry").widget.visible)
        await _find("Button", "save").click()  # the right key again
        await _find("Button", "refresh").click()
        await _until(lambda: len(_rows("scene_list")) >= 3, "scenes after the fix")
        self.assertEqual(_text("error"), "")

    async def test_generate_from_a_prompt_on_the_jobs_generation(self) -> None:
        """The demo server's jobs-generation account: columns switch, a generation shows its
        stages and the new scene joins the list and loads as a reference."""
        self._need_server()
        await self._open_from_menu()
        with _environment(**{ENV_API_KEY: JOBS_DEMO_KEY}):
            await _find("Button", "save").click()
            await _find("Button", "refresh").click()
            await _until(lambda: len(_rows("scene_list")) >= 2, "generated scenes")
            self.assertEqual(_find("TreeView", "scene_list").widget.model.headers[1], "Version")
            before = len(_rows("scene_list"))
            await _find("StringField", "prompt").input("a tool room with a workbench")
            await _find("Button", "generate").click()
            await _until(lambda: _text("status").startswith("Generating "), "progress")
            await _until(lambda: len(_rows("scene_list")) == before + 1, "the new scene")
            await _until(lambda: _text("status").startswith("Generated "), "the end")
            self.assertTrue(_text("detail").startswith("Prompt: a tool room with a workbench"))
            await _until(lambda: len(_rows("placements")) > 0, "its placements")
            stage = omni.usd.get_context().get_stage()
            await _find("Button", "reference").click()
            await _until(lambda: len(_rows("loaded")) == 1, "the reference")
            self.assertIs(stage, omni.usd.get_context().get_stage())
        await _find("Button", "save").click()  # back to the alpha key for the next test

    async def test_disable_removes_window_and_menu_then_enable_restores_them(self) -> None:
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
        await self._open_from_menu()  # and it works again, whatever runs next


def _loaded_columns() -> list[str]:
    return [
        text
        for item in _rows("loaded")
        for text in item.row.columns()  # type: ignore[attr-defined]
    ]
