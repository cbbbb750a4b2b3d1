"""The extension as Kit sees it: both extension.toml files, the vendored client, the archive."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from gizmo.scenes import bootstrap
from gizmo.scenes import settings as panel_settings
from kit_support import EXT_ROOT

REPO = EXT_ROOT.parents[1]
CONFIG = EXT_ROOT / "config" / "extension.toml"
TOP_LEVEL = REPO / "extension.toml"
ISAAC_SIM_SHIPS = {
    "omni.kit.uiapp",
    "omni.usd",
    "omni.kit.menu.utils",
    "omni.kit.actions.core",
    "omni.kit.commands",
}
sys.path.insert(0, str(REPO / "exts"))
from package_extension import build_archive  # noqa: E402


def _config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_top_level_extension_toml_is_the_same_file() -> None:
    assert TOP_LEVEL.is_symlink(), "the top-level extension.toml must stay a link, not a copy"
    assert TOP_LEVEL.resolve() == CONFIG.resolve()
    assert TOP_LEVEL.read_bytes() == CONFIG.read_bytes()


def test_package_section_has_what_the_extension_manager_shows() -> None:
    package = _config()["package"]
    for key in ("version", "title", "description", "category", "keywords", "readme", "changelog"):
        assert package.get(key), f"[package] {key} is missing or empty"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
    for key in ("readme", "changelog"):
        assert (EXT_ROOT / package[key]).is_file(), f"[package] {key} points at a missing file"


def test_dependencies_are_only_what_isaac_sim_ships() -> None:
    dependencies = set(_config()["dependencies"])
    assert dependencies <= ISAAC_SIM_SHIPS, dependencies - ISAAC_SIM_SHIPS


def test_python_modules_match_folders() -> None:
    modules = _config()["python"]["module"]
    names = [m["name"] for m in modules if "name" in m]
    assert names == ["gizmo.scenes", "gizmo.scenes.tests"]
    for name in names:
        assert (EXT_ROOT / name.replace(".", "/") / "__init__.py").is_file(), name
    (path,) = [m["path"] for m in modules if "path" in m]
    assert (EXT_ROOT / path / "gizmo_client" / "__init__.py").is_file()
    tests = _config()["test"][0]
    assert tests["pythonTests"]["include"] == ["gizmo.scenes.tests.*"]
    assert {"omni.kit.test", "omni.kit.ui_test"} <= set(tests["dependencies"])


def test_pipapi_declares_the_client_dependencies() -> None:
    pipapi = _config()["python"]["pipapi"]
    assert pipapi["use_online_index"] is True, "without it Kit ignores the whole table"
    assert tuple(pipapi["requirements"]) == bootstrap.REQUIREMENTS
    assert len(pipapi["modules"]) == len(pipapi["requirements"])
    assert pipapi["modules"][0] == "pydantic_core", "pydantic 1 must not satisfy the check"
    assert any(r.startswith("requests") for r in pipapi["requirements"])


def test_settings_defaults_match_the_code() -> None:
    settings = _config()["settings"]
    persistent = settings["persistent"]["exts"]["gizmo.scenes"]
    assert set(persistent) == {"base_url", "api_key"}
    assert panel_settings.BASE_URL_SETTING == "/persistent/exts/gizmo.scenes/base_url"
    assert panel_settings.API_KEY_SETTING == "/persistent/exts/gizmo.scenes/api_key"
    assert settings["exts"]["gizmo.scenes"]["poll_interval"] > 0
    assert panel_settings.POLL_INTERVAL_SETTING == "/exts/gizmo.scenes/poll_interval"


def test_vendor_link_resolves_to_the_client_in_common() -> None:
    link = EXT_ROOT / "vendor" / "gizmo_client"
    assert link.is_symlink()
    assert link.resolve() == (REPO / "common" / "gizmo_client").resolve()


def _isolated_python(code: str, *paths: Path) -> dict[str, Any]:
    """Run `code` with no site processing: only `paths` plus the installed third-party packages
    (pydantic, requests, pxr...) are importable; the editable install of the repo is not."""
    site = sysconfig.get_paths()["purelib"]
    setup = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; sys.path.append({site!r})\n"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", setup + code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_archive_is_self_contained(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "dist")
    assert archive.name == f"gizmo.scenes-{_config()['package']['version']}.zip"
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert all(n.startswith("gizmo.scenes/") for n in names)
        assert all(stat.S_ISREG(i.external_attr >> 16) for i in infos), "no links in the archive"
        assert not any("__pycache__" in n for n in names)
        assert zf.read("gizmo.scenes/config/extension.toml") == CONFIG.read_bytes()
        client = REPO / "common" / "gizmo_client"
        for source in client.glob("*.py"):
            packed = zf.read(f"gizmo.scenes/vendor/gizmo_client/{source.name}")
            assert packed == source.read_bytes(), source.name
        zf.extractall(tmp_path / "extsUser")
    assert build_archive(tmp_path / "again").read_bytes() == archive.read_bytes()

    root = tmp_path / "extsUser" / "gizmo.scenes"
    found = _isolated_python(
        "import json, gizmo_client, gizmo.scenes.controller as c, gizmo.scenes.usd_ops as u\n"
        "print(json.dumps({'client': gizmo_client.__file__, 'controller': c.__file__,"
        " 'usd_ops': u.__file__, 'version': gizmo_client.__version__}))",
        root / "vendor",
        root,
    )
    for key in ("client", "controller", "usd_ops"):
        assert Path(found[key]).is_relative_to(root), (key, found[key])


def test_missing_client_gives_a_panel_message(tmp_path: Path) -> None:
    """Without vendor/ on the path, the extension explains instead of failing to enable."""
    found = _isolated_python(
        "import json\nfrom gizmo.scenes.bootstrap import load_controller\n"
        "print(json.dumps({'message': load_controller()}))",
        EXT_ROOT,
    )
    message = found["message"]
    assert isinstance(message, str) and "gizmo_client" in message
    assert "vendor/gizmo_client" in message and "package_extension.py" in message


@pytest.mark.parametrize("blocked", ["pydantic", "requests"])
def test_missing_dependency_gives_a_panel_message(blocked: str) -> None:
    found = _isolated_python(
        f"import json, sys\nsys.modules[{blocked!r}] = None\n"
        "from gizmo.scenes.bootstrap import load_controller\n"
        "print(json.dumps({'message': load_controller()}))",
        EXT_ROOT / "vendor",
        EXT_ROOT,
    )
    message = found["message"]
    assert isinstance(message, str) and blocked in message
    assert "pip install 'pydantic>=2.6,<3' 'requests>=2.31'" in message
