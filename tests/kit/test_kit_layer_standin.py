"""STAND-IN SMOKE TEST (not Kit): extension.py and window.py against `omni_standin`.

What it shows: the Kit layer imports; enabling registers the Window-menu item and its action;
the action opens the window; the window's widgets drive the real controller against the real
local server (refresh fills the list, selecting shows placements); disabling removes menu, action,
window and show-function; and a client that cannot import becomes a message in the window instead
of a failed enable. What it cannot show: anything about real omni.ui (see omni_standin.py).

Each case runs in a subprocess so the stand-in modules never leak into other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kit_support import EXT_ROOT

from gizmo_server.embedded import LocalServer

SCRIPT = r"""
import asyncio, json, sys
if MODE == "unavailable":
    sys.modules["pydantic"] = None
import omni_standin
omni_standin.install()
import gizmo.scenes as package
from gizmo.scenes.extension import ACTION_TOGGLE, MENU
from gizmo.scenes.settings import EXT_NAME
from gizmo.scenes.window import WINDOW_TITLE

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
ext = package.GizmoScenesExtension()
ext.on_startup("gizmo.scenes-0.1.0")
(item,) = omni_standin.MENUS[MENU]
report = {"menu": item.name, "action": list(item.kwargs["onclick_action"]),
          "ticked_before": item.kwargs["ticked_fn"]()}
omni_standin.ACTIONS[(EXT_NAME, ACTION_TOGGLE)]()
window = omni_standin.WINDOWS[WINDOW_TITLE]
report["ticked_after"] = item.kwargs["ticked_fn"]()
window.frame.build_fn()
by_id = {w.identifier[len("gizmo_scenes_"):]: w for w in omni_standin.WIDGETS if w.identifier}
report["widgets"] = sorted(by_id)

async def until(check):
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise SystemExit("timeout: " + by_id["status"].text + " " + by_id["error"].text)

if MODE == "server":
    report["masked"] = by_id["api_key"].kwargs.get("password_mode")
    by_id["refresh"].click()
    tree = by_id["scene_list"]
    loop.run_until_complete(until(lambda: len(tree.model.get_item_children()) >= 3))
    rows = tree.model.get_item_children()
    report["scenes"] = [r.cells[0].get_value_as_string() for r in rows]
    report["reference_enabled_before"] = by_id["reference"].enabled
    tree.selection_fn([r for r in rows if r.row.name == "Warehouse Workcell Alpha"])
    placements = by_id["placements"].model
    loop.run_until_complete(until(lambda: len(placements.get_item_children()) > 0))
    report["placements"] = [r.row.asset_name for r in placements.get_item_children()]
    report["reference_enabled_after"] = by_id["reference"].enabled
    report["count"] = by_id["count"].text
    report["commands"] = sorted(omni_standin.COMMANDS)
    by_id["reference"].click()
    loaded = by_id["loaded"].model
    loop.run_until_complete(until(lambda: len(loaded.get_item_children()) == 1))
    stage = omni_standin.omni_usd_context().stage
    path = loaded.get_item_children()[0].row.prim_path
    report["undo_stack"] = [type(c).__name__ for c in omni_standin.UNDO_STACK]
    report["added"] = bool(stage.GetPrimAtPath(path))
    omni_standin.UNDO_STACK[-1].undo()  # Ctrl+Z
    report["after_undo"] = [bool(stage.GetPrimAtPath(p)) for p in (path, "/World/Gizmo")]
    omni_standin.UNDO_STACK[-1].do()  # Ctrl+Shift+Z
    report["after_redo"] = stage.GetPrimAtPath(path).GetAttribute("gizmo:loadMode").Get()
    omni_standin.ACTIONS[(EXT_NAME, ACTION_TOGGLE)]()  # hide and show: the list is re-checked
    omni_standin.ACTIONS[(EXT_NAME, ACTION_TOGGLE)]()
    report["loaded_after_redo"] = len(loaded.get_item_children())
    from pxr import Usd
    omni_standin.omni_usd_context().stage = Usd.Stage.CreateInMemory()  # File > New
    omni_standin.OBSERVERS["stage:opened"](None)
    report["loaded_after_new_stage"] = len(loaded.get_item_children())
    models = [window._filter, window._auto_sync]
elif MODE == "jobs":
    by_id["refresh"].click()
    loop.run_until_complete(until(lambda: len(by_id["scene_list"].model.get_item_children()) >= 2))
    by_id = {w.identifier[len("gizmo_scenes_"):]: w for w in omni_standin.WIDGETS if w.identifier}
    tree = by_id["scene_list"]  # the frame was rebuilt with the jobs generation's columns
    report["rebuilds"] = window.frame.rebuilds
    report["headers"] = list(tree.model.headers)
    rows = tree.model.get_item_children()
    report["first_row"] = [c.get_value_as_string() for c in rows[0].cells]
    tree.selection_fn(rows[:1])
    loop.run_until_complete(until(lambda: by_id["detail"].text.startswith("Prompt: ")))
    report["detail"] = by_id["detail"].text
    window._prompt.set_value("a tool room with a workbench")
    by_id["generate"].click()
    loop.run_until_complete(until(lambda: by_id["status"].text.startswith("Generating ")))
    report["status_while_generating"] = [by_id["status"].text, by_id["generate"].enabled]
    loop.run_until_complete(until(lambda: len(tree.model.get_item_children()) == len(rows) + 1))
    loop.run_until_complete(until(lambda: by_id["generate"].enabled))
    report["after"] = [by_id["status"].text, tree.model.get_item_children()[0].row.prompt]
    by_id["file"].model.set_value("/nonexistent/scene.zip")
    by_id["add_file"].click()
    loop.run_until_complete(until(lambda: bool(by_id["error"].text)))
    report["file_error"] = by_id["error"].text
else:
    report["unavailable"] = by_id["unavailable"].text
ext.on_shutdown()
report["left"] = {"menus": [i.name for i in omni_standin.MENUS[MENU]],
                  "actions": list(map(list, omni_standin.ACTIONS)),
                  "windows": list(omni_standin.WINDOWS), "show_fns": list(omni_standin.SHOW_FNS),
                  "commands": sorted(omni_standin.COMMANDS)}
if MODE == "server":
    report["callbacks_left"] = sum(m.callbacks for m in models)

# An on_startup that fails half-way (here: the menu) must still be undone by on_shutdown.
def broken(items, menu):
    raise RuntimeError("menu registration failed")
sys.modules["omni.kit.menu.utils"].add_menu_items = broken
half = package.GizmoScenesExtension()
try:
    half.on_startup("gizmo.scenes-0.2.0")
except RuntimeError as exc:
    report["startup_failed"] = str(exc)
half.on_shutdown()
report["left_after_failed_startup"] = {"actions": list(map(list, omni_standin.ACTIONS)),
                                       "commands": sorted(omni_standin.COMMANDS)}
print(json.dumps(report))
"""


def _run(mode: str, env: dict[str, str]) -> dict[str, Any]:
    paths = [str(Path(__file__).parent), str(EXT_ROOT / "vendor"), str(EXT_ROOT)]
    result = subprocess.run(
        [sys.executable, "-c", f"MODE = {mode!r}\n{SCRIPT}"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join(paths)},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _assert_enabled_then_cleaned_up(report: dict[str, Any]) -> None:
    assert report["menu"] == "Gizmo Scenes"
    assert report["action"] == ["gizmo.scenes", "toggle_window"]
    assert report["ticked_before"] is False and report["ticked_after"] is True
    assert report["left"] == {
        "menus": [],
        "actions": [],
        "windows": [],
        "show_fns": [],
        "commands": [],
    }
    assert report["startup_failed"] == "menu registration failed"
    assert report["left_after_failed_startup"] == {"actions": [], "commands": []}


def test_standin_panel_drives_the_real_controller(kit_server: LocalServer, tmp_path: Path) -> None:
    report = _run(
        "server",
        {
            "GIZMO_BASE_URL": kit_server.base_url,
            "GIZMO_API_KEY": kit_server.api_key,
            "GIZMO_CACHE_DIR": str(tmp_path / "cache"),
        },
    )
    _assert_enabled_then_cleaned_up(report)
    assert report["masked"] is True
    assert {"refresh", "scene_list", "placements", "reference", "payload", "open"} <= set(
        report["widgets"]
    )
    assert "Warehouse Workcell Alpha" in report["scenes"]
    assert report["reference_enabled_before"] is False and report["reference_enabled_after"]
    assert "Industrial Arm v1" in report["placements"]
    assert report["count"].endswith("scenes") and report["count"].startswith(
        f"{len(report['scenes'])} of "
    )
    assert report["commands"] == ["AddGizmoScene", "RemoveGizmoScene", "SyncGizmoScene"]
    assert report["undo_stack"] == ["AddGizmoSceneCommand"] and report["added"]
    assert report["after_undo"] == [False, False], "Ctrl+Z takes back the prim and /World/Gizmo"
    assert report["after_redo"] == "reference" and report["loaded_after_redo"] == 1
    assert report["loaded_after_new_stage"] == 0, "the list follows File > New"
    assert report["callbacks_left"] == 0, "the window removes its model callbacks"


def test_standin_panel_on_the_jobs_generation(kit_server: LocalServer, tmp_path: Path) -> None:
    """The window switches the scene list to the jobs generation's columns and drives a
    generation from the prompt field; a file that is not there is one error line."""
    report = _run(
        "jobs",
        {
            "GIZMO_BASE_URL": kit_server.base_url,
            "GIZMO_API_KEY": kit_server.gen2_api_key,
            "GIZMO_CACHE_DIR": str(tmp_path / "cache"),
        },
    )
    _assert_enabled_then_cleaned_up(report)
    assert report["rebuilds"] == 1
    assert report["headers"] == ["Scene", "Version", "Status", "Id"]
    name, version, status, _ = report["first_row"]
    assert version.startswith("v") and status == "ready" and name
    assert " · version " in report["detail"] and report["detail"].endswith(" · ready")
    generating, enabled = report["status_while_generating"]
    assert generating.startswith("Generating 'a tool room with a workbench': ") and not enabled
    status_line, prompt = report["after"]
    assert status_line.startswith("Generated ") and prompt == "a tool room with a workbench"
    assert report["file_error"].startswith("The scene file could not be used: /nonexistent/")


@pytest.mark.parametrize("mode", ["unavailable"])
def test_standin_panel_explains_a_missing_client(mode: str) -> None:
    report = _run(mode, {})
    _assert_enabled_then_cleaned_up(report)
    assert report["widgets"] == ["unavailable"]
    assert "pydantic" in report["unavailable"] and "pip install" in report["unavailable"]
