"""Import the controller (and with it `gizmo_client`) without letting a failure break Kit.

If the client or one of its dependencies cannot be imported, the extension still enables and the
panel shows the message from here, which says what is missing and how to install it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["REQUIREMENTS", "load_controller"]

#: What `gizmo_client` needs; the same list as `[python.pipapi] requirements` in extension.toml.
REQUIREMENTS = ("pydantic>=2.6,<3", "requests>=2.31", "platformdirs>=4", "filelock>=3.12")


def load_controller() -> ModuleType | str:
    """The `controller` module, or a message for the panel explaining why it cannot load."""
    try:
        return importlib.import_module(f"{__package__}.controller")
    except ImportError as exc:
        return describe_import_failure(exc)


def describe_import_failure(exc: ImportError) -> str:
    missing = exc.name or "a module"
    install = " ".join(f"'{req}'" for req in REQUIREMENTS)
    lines = [f"The Gizmo client could not be loaded: {exc}."]
    try:
        pydantic = importlib.import_module("pydantic")
    except ImportError:
        pydantic = None
    version = str(getattr(pydantic, "VERSION", "")) if pydantic is not None else ""
    if version.startswith("1."):
        lines.append(
            f"This app provides pydantic {version} ({getattr(pydantic, '__file__', '?')}), "
            "and the client needs pydantic 2."
        )
    elif missing == "gizmo_client":
        lines.append(
            "The extension's vendor/gizmo_client folder is missing or is a broken link (a git "
            "checkout without symlinks, e.g. on Windows). Use the packaged archive built by "
            "`python exts/package_extension.py --out dist/`."
        )
    lines.append(
        "Kit installs the dependencies from [python.pipapi] when the extension is enabled with "
        "network access. Offline, install them into the app's Python and restart: "
        f"`./python.sh -m pip install {install}` (python.bat on Windows)."
    )
    return "\n".join(lines)
