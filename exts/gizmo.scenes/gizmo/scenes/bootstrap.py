"""Import the controller (and with it `gizmo_client`) without letting a failure break Kit.

If the client or one of its dependencies cannot be imported, the extension still enables and the
panel shows the message from here, which says what is missing and how to fix it. Any exception
counts, not only `ImportError`: a pydantic whose pydantic-core does not match raises
`SystemError`, a broken vendored file a `SyntaxError`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["REQUIREMENTS", "describe_import_failure", "load_controller"]

#: What `gizmo_client` needs. Isaac Sim ships pydantic 2 (`omni.kit.pip_archive`) and requests
#: (`omni.pip.cloud`); the pure-Python rest is vendored by scripts/package_kit_extension.py.
REQUIREMENTS = ("pydantic>=2.6,<3", "requests>=2.31", "platformdirs>=4", "filelock>=3.12")

_OFFLINE_HINT = (
    "Isaac Sim 4.5 and later ship what the client needs. In another Kit app, with no network, "
    "download the wheels elsewhere (`pip download --only-binary=:all: --python-version <Kit's "
    "Python, e.g. 3.11> --platform <e.g. manylinux2014_x86_64> -d wheels {reqs}`), copy them "
    "over and install them into the extension's own vendor folder, never into the app's "
    "Python (that would replace the app's prebundled packages): `./python.sh -m pip install "
    "--no-index --find-links wheels --target <extension>/vendor {reqs}`; then restart."
)


def load_controller() -> ModuleType | str:
    """The `controller` module, or a message for the panel explaining why it cannot load."""
    try:
        return importlib.import_module(f"{__package__}.controller")
    except Exception as exc:
        return describe_import_failure(exc)


def _pydantic_version() -> tuple[str, str]:
    try:
        pydantic = importlib.import_module("pydantic.version")
    except Exception:
        return "", ""
    return str(getattr(pydantic, "VERSION", "")), str(getattr(pydantic, "__file__", "?"))


def describe_import_failure(exc: BaseException) -> str:
    name = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    reqs = " ".join(f"'{req}'" for req in REQUIREMENTS)
    lines = [f"The Gizmo client could not be loaded: {type(exc).__name__}: {exc}."]
    version, where = _pydantic_version()
    if version.startswith("1."):
        lines.append(
            f"This app provides pydantic {version} ({where}), and the client needs pydantic 2: "
            "use Isaac Sim 4.5 or later, whose omni.kit.pip_archive ships pydantic 2."
        )
    elif isinstance(exc, SystemError) or "pydantic_core" in str(exc):
        lines.append(
            f"pydantic {version or '?'} ({where}) does not match the pydantic-core on the path: "
            "another extension or folder put a different copy first. Remove the extra copy."
        )
    elif name == "gizmo_client":
        lines.append(
            "The extension's vendor/gizmo_client folder is missing or is a broken link (a git "
            "checkout without symlinks, e.g. on Windows). Use the packaged archive built by "
            "`python scripts/package_kit_extension.py --out dist/`."
        )
    lines.append(_OFFLINE_HINT.format(reqs=reqs))
    return "\n".join(lines)
