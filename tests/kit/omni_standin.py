"""STAND-IN, NOT KIT: the few `omni.*` / `carb.*` names the extension's Kit layer touches.

Kit cannot be installed on CI, so `test_kit_layer_standin.py` imports `extension.py`,
`window.py`, `list_models.py` and `kit_stage.py` against these stand-ins, in a subprocess. It
proves the Kit layer imports, registers and unregisters its menu and action, builds its window and
wires widgets to the real controller. It proves nothing about omni.ui's real behaviour, layout or
keyword arguments (every widget accepts any arguments here): that is what the omni.kit.test
suite in `gizmo/scenes/tests/` is for, inside Isaac Sim.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections.abc import Callable
from typing import Any

WIDGETS: list[Widget] = []
WINDOWS: dict[str, Window] = {}
SHOW_FNS: dict[str, Callable[[bool], None]] = {}
ACTIONS: dict[tuple[str, str], Callable[[], None]] = {}
MENUS: dict[str, list[Any]] = {}
SETTINGS: dict[str, Any] = {}
COMMANDS: dict[str, type] = {}
UNDO_STACK: list[Any] = []
OBSERVERS: dict[str, Callable[[Any], None]] = {}


class Widget:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        self.identifier = kwargs.get("identifier", "")
        self.text = args[0] if args and isinstance(args[0], str) else ""
        self.model = args[0] if args and not isinstance(args[0], str) else kwargs.get("model")
        self.visible = self.enabled = True
        self.selection_fn: Callable[[list[Any]], None] | None = None
        WIDGETS.append(self)

    def __enter__(self) -> Widget:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_selection_changed_fn(self, fn: Callable[[list[Any]], None]) -> None:
        self.selection_fn = fn

    def click(self) -> None:
        self.kwargs["clicked_fn"]()


class ValueModel:
    def __init__(self, value: Any = None) -> None:
        self.value = value
        self._fns: list[Callable[[ValueModel], None] | None] = []

    def add_value_changed_fn(self, fn: Callable[[ValueModel], None]) -> int:
        self._fns.append(fn)
        return len(self._fns) - 1

    def remove_value_changed_fn(self, callback_id: int) -> None:
        self._fns[callback_id] = None

    @property
    def callbacks(self) -> int:
        """How many callbacks are still subscribed (a destroyed window must leave none)."""
        return sum(fn is not None for fn in self._fns)

    def set_value(self, value: Any) -> None:
        if value != self.value:
            self.value = value
            for fn in self._fns:
                if fn is not None:
                    fn(self)

    def get_value_as_string(self) -> str:
        return str(self.value)

    def get_value_as_bool(self) -> bool:
        return bool(self.value)


class AbstractItemModel:
    def _item_changed(self, item: Any) -> None:
        return None


class Frame:
    def __init__(self) -> None:
        self.build_fn: Callable[[], None] | None = None

    def set_build_fn(self, fn: Callable[[], None]) -> None:
        self.build_fn = fn

    def rebuild(self) -> None:
        """omni.ui rebuilds on the next draw; the stand-in builds at once and counts."""
        self.rebuilds = getattr(self, "rebuilds", 0) + 1
        if self.build_fn is not None:
            self.build_fn()


class Window:
    def __init__(self, title: str, **kwargs: Any) -> None:
        self.title, self.visible, self.frame = title, kwargs.get("visible", True), Frame()
        WINDOWS[title] = self

    def set_visibility_changed_fn(self, fn: Callable[[bool], None]) -> None:
        self.visibility_fn = fn

    def destroy(self) -> None:
        WINDOWS.pop(self.title, None)


class Workspace:
    @staticmethod
    def set_show_window_fn(title: str, fn: Callable[[bool], None] | None) -> None:
        if fn is None:
            SHOW_FNS.pop(title, None)
        else:
            SHOW_FNS[title] = fn

    @staticmethod
    def get_window(title: str) -> Window | None:
        return WINDOWS.get(title)


class ActionRegistry:
    def register_action(self, ext: str, action: str, fn: Callable[[], None], **_: Any) -> None:
        ACTIONS[(ext, action)] = fn

    def deregister_action(self, ext: str, action: str) -> None:
        del ACTIONS[(ext, action)]


class MenuItemDescription:
    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name, self.kwargs = name, kwargs


def add_menu_items(items: list[Any], menu: str) -> None:
    MENUS.setdefault(menu, []).extend(items)


def remove_menu_items(items: list[Any], menu: str) -> None:
    MENUS[menu] = [i for i in MENUS.get(menu, []) if i not in items]


class Settings:
    def get(self, path: str) -> Any:
        return SETTINGS.get(path)

    def set(self, path: str, value: Any) -> None:
        SETTINGS[path] = value


class UsdContext:
    """Only a stage to read and edit: opening files is not simulated."""

    def __init__(self) -> None:
        from pxr import Usd

        self.stage = Usd.Stage.CreateInMemory()

    def get_stage(self) -> Any:
        return self.stage

    def has_pending_edit(self) -> bool:
        return False

    def stage_event_name(self, kind: str) -> str:
        return f"stage:{kind}"


class Command:
    """omni.kit.commands.Command: a base class only."""


def register_all_commands_in_module(module: types.ModuleType) -> list[type]:
    found = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, Command)]
    named = {c.__name__.removesuffix("Command"): c for c in found if not c.__name__.startswith("_")}
    COMMANDS.update(named)
    return list(named.values())


def unregister_module_commands(registered: list[type]) -> None:
    for command in registered:
        COMMANDS.pop(command.__name__.removesuffix("Command"), None)


def execute(name: str, **kwargs: Any) -> tuple[bool, Any]:
    """Like Kit: a failing `do` is logged, not raised, and gives `(False, None)`."""
    command = COMMANDS[name](**kwargs)
    try:
        result = command.do()
    except Exception:
        return False, None
    UNDO_STACK.append(command)
    return True, result


class EventDispatcher:
    def observe_event(
        self, *, event_name: str, on_event: Callable[[Any], None], observer_name: str
    ) -> object:
        OBSERVERS[event_name] = on_event
        return object()


_CONTEXT: list[UsdContext] = []


def omni_usd_context() -> UsdContext:
    """The one USD context `omni.usd.get_context()` returns (after `install`)."""
    return _CONTEXT[0]


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__path__ = []
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def install() -> None:
    """Put the stand-in modules into `sys.modules`; only ever in a throw-away process."""
    widget_names = [
        "ScrollingFrame",
        "VStack",
        "HStack",
        "CollapsableFrame",
        "Label",
        "StringField",
        "Button",
        "CheckBox",
        "Spacer",
        "ProgressBar",
        "TreeView",
    ]
    ui = _module(
        "omni.ui",
        Window=Window,
        Workspace=Workspace,
        DockPreference=types.SimpleNamespace(RIGHT_BOTTOM="right_bottom"),
        SimpleStringModel=ValueModel,
        SimpleBoolModel=ValueModel,
        SimpleFloatModel=ValueModel,
        AbstractItem=object,
        AbstractItemModel=AbstractItemModel,
        AbstractItemDelegate=object,
        **{name: type(name, (Widget,), {}) for name in widget_names},
    )
    registry = ActionRegistry()
    menu_utils = _module(
        "omni.kit.menu.utils",
        MenuItemDescription=MenuItemDescription,
        add_menu_items=add_menu_items,
        remove_menu_items=remove_menu_items,
        refresh_menu_items=lambda menu: None,
    )
    actions = _module("omni.kit.actions.core", get_action_registry=lambda: registry)

    context = UsdContext()
    _CONTEXT[:] = [context]
    commands = _module(
        "omni.kit.commands",
        Command=Command,
        execute=execute,
        register_all_commands_in_module=register_all_commands_in_module,
        unregister_module_commands=unregister_module_commands,
    )
    usd = _module(
        "omni.usd",
        get_context=lambda name="": context,
        UsdContext=UsdContext,
        StageEventType=types.SimpleNamespace(OPENED="opened", CLOSED="closed"),
    )
    manager = types.SimpleNamespace(is_extension_enabled=lambda name: False)
    app = _module(
        "omni.kit.app",
        get_app=lambda: types.SimpleNamespace(get_extension_manager=lambda: manager),
    )
    ext = _module("omni.ext", IExt=object)
    menu = _module("omni.kit.menu", utils=menu_utils)
    kit_actions = _module("omni.kit.actions", core=actions)
    kit = _module("omni.kit", commands=commands, menu=menu, actions=kit_actions, app=app)
    _module("omni", ui=ui, usd=usd, ext=ext, kit=kit)
    carb_settings = _module("carb.settings", get_settings=lambda: Settings())
    dispatcher = EventDispatcher()
    events = _module("carb.eventdispatcher", get_eventdispatcher=lambda: dispatcher)
    _module("carb", settings=carb_settings, eventdispatcher=events)
