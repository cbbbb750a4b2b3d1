"""The extension as Kit sees it: both extension.toml files, the vendored client, the archive, and
the archive installed into a Python that has only what Isaac Sim prebundles."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
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
    "omni.kit.pip_archive",
    "omni.pip.cloud",
}
#: What Isaac Sim prebundles for the client (4.5: omni.kit.pip_archive's pydantic, omni.pip.cloud's
#: requests); the lowest versions the extension supports, so the venv below has exactly these.
ISAAC_SIM_PREBUNDLED = ("pydantic==2.9.2", "pydantic-core==2.23.4", "requests==2.32.3")
sys.path.insert(0, str(REPO / "scripts"))
from package_kit_extension import VENDORED, PackagingError, build_archive  # noqa: E402


def _config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_top_level_extension_toml_is_the_same_file() -> None:
    assert TOP_LEVEL.is_symlink(), "the top-level extension.toml must stay a link, not a copy"
    assert TOP_LEVEL.resolve() == CONFIG.resolve()
    assert TOP_LEVEL.read_bytes() == CONFIG.read_bytes()


def test_the_search_folder_holds_only_extensions() -> None:
    """Kit takes a .toml/.kit file lying in a search folder for a single-file extension."""
    for entry in (REPO / "exts").iterdir():
        if entry.name.startswith("."):
            continue  # tool caches (.ruff_cache) are not in the checkout
        assert entry.is_dir() and (entry / "config" / "extension.toml").is_file(), entry


def test_package_section_has_what_the_extension_manager_shows() -> None:
    package = _config()["package"]
    for key in ("version", "title", "description", "category", "keywords", "readme", "changelog"):
        assert package.get(key), f"[package] {key} is missing or empty"
    assert "repository" in package
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
    for key in ("readme", "changelog", "icon", "preview_image"):
        assert (EXT_ROOT / package[key]).is_file(), f"[package] {key} points at a missing file"
    for key in ("icon", "preview_image"):
        data = (EXT_ROOT / package[key]).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 20_000, key
    for page in _config()["documentation"]["pages"]:
        assert (EXT_ROOT / page).is_file(), page
    changelog = (EXT_ROOT / package["changelog"]).read_text(encoding="utf-8")
    assert f"## [{package['version']}] - " in changelog, "the current version has a dated entry"


def test_dependencies_are_what_isaac_sim_ships_and_no_pip() -> None:
    config = _config()
    dependencies = set(config["dependencies"])
    assert dependencies <= ISAAC_SIM_SHIPS, dependencies - ISAAC_SIM_SHIPS
    assert {"omni.kit.pip_archive", "omni.pip.cloud"} <= dependencies, "pydantic and requests"
    assert "pipapi" not in config["python"], "Kit would run pip on the main thread at enable"


def test_python_modules_match_folders() -> None:
    modules = _config()["python"]["module"]
    assert "path" in modules[0], "paths first, as Isaac Sim's own extensions list them"
    names = [m["name"] for m in modules if "name" in m]
    assert names == ["gizmo.scenes", "gizmo.scenes.tests"]
    for name in names:
        assert (EXT_ROOT / name.replace(".", "/") / "__init__.py").is_file(), name
    (path,) = [m["path"] for m in modules if "path" in m]
    assert (EXT_ROOT / path / "gizmo_client" / "__init__.py").is_file()


def test_the_test_section_runs_offline_and_isolated() -> None:
    tests = _config()["test"][0]
    assert tests["pythonTests"]["include"] == ["gizmo.scenes.tests.*"]
    assert {"omni.kit.test", "omni.kit.ui_test"} <= set(tests["dependencies"])
    args = tests["args"]
    assert "--/app/settings/persistent=0" in args, "no user settings leak in or out"
    for arg in args:
        assert re.fullmatch(r"--/[\w/.]+=\S+", arg), arg
        assert shlex.split(arg) == [arg.replace('"', "")], f"{arg}: one argument once split"


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


def _run_json(python: str, code: str, *paths: Path, isolated_site: bool = True) -> dict[str, Any]:
    """Run `code` in `python` with `paths` first on sys.path; the last line it prints is JSON.
    With `isolated_site`, this interpreter's site-packages are added but not the editable
    install of the repository (no site processing)."""
    setup = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    flags = ["-I"]
    if isolated_site:
        site = sysconfig.get_paths()["purelib"]
        setup += f"sys.path.append({site!r})\n"
        flags.append("-S")
    result = subprocess.run(
        [python, *flags, "-c", setup + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _unpacked_archive(tmp_path: Path) -> Path:
    archive = build_archive(tmp_path / "dist")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "extsUser")
    return tmp_path / "extsUser" / "gizmo.scenes"


def test_archive_is_self_contained(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "dist")
    assert archive.name == f"gizmo.scenes-{_config()['package']['version']}.zip"
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert all(n.startswith("gizmo.scenes/") for n in names)
        assert all(stat.S_ISREG(i.external_attr >> 16) for i in infos), "no links in the archive"
        assert not any("__pycache__" in n or n.endswith("ruff.toml") for n in names)
        assert zf.read("gizmo.scenes/config/extension.toml") == CONFIG.read_bytes()
        client = REPO / "common" / "gizmo_client"
        for source in client.glob("*.py"):
            packed = zf.read(f"gizmo.scenes/vendor/gizmo_client/{source.name}")
            assert packed == source.read_bytes(), source.name
        for _, package in VENDORED:
            assert f"gizmo.scenes/vendor/{package}/__init__.py" in names, package
            assert any(n.startswith(f"gizmo.scenes/vendor/{package}-LICENSES/") for n in names)
        for data in ("data/icon.png", "data/preview.png", "docs/Overview.md"):
            assert f"gizmo.scenes/{data}" in names, data
    assert build_archive(tmp_path / "again").read_bytes() == archive.read_bytes()


def test_archive_refuses_vendored_packages_the_kit_python_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=r"needs Python .*the Kit app has 3\.6"):
        build_archive(tmp_path / "dist", python="3.6")
    assert not list((tmp_path / "dist").glob("*")), "no partial archive is left"


def _wheelhouse() -> Path:
    """Wheels kept between sessions, so the venv is built offline once they are there."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "gizmo-sim" / "isaac-sim-prebundled-wheels"


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def isaac_like_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh Python 3.11 venv holding only the versions Isaac Sim prebundles (plus usd-core
    for `pxr`, which Kit has built in). Built from a local wheelhouse with --no-index; the first
    run fills the wheelhouse with `pip download`. It FAILS (never skips) if it cannot be built:
    then the claim "the archive needs no pip inside Kit" is not checked."""
    from pxr import Usd

    venv = tmp_path_factory.mktemp("isaac-like") / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.fail(f"cannot create a venv (python3-venv missing?): {made.stderr}")
    python = venv / "bin" / "python"
    usd = f"usd-core=={'.'.join(map(str, Usd.GetVersion()[1:]))}"
    wanted = [*ISAAC_SIM_PREBUNDLED, usd]
    wheels = _wheelhouse()
    offline = ["install", "--no-index", "--find-links", str(wheels), *wanted]
    if _pip(python, *offline).returncode != 0:
        wheels.mkdir(parents=True, exist_ok=True)
        fetched = _pip(python, "download", "--only-binary=:all:", "-d", str(wheels), *wanted)
        if fetched.returncode != 0:
            pytest.fail(
                f"cannot fill {wheels} with {' '.join(wanted)} (no network?): {fetched.stderr}"
            )
        installed = _pip(python, *offline)
        if installed.returncode != 0:
            pytest.fail(f"cannot install the wheels from {wheels}: {installed.stderr}")
    yield python


@pytest.mark.slow
def test_archive_imports_on_isaac_sims_prebundled_packages_alone(
    tmp_path: Path, isaac_like_python: Path
) -> None:
    root = _unpacked_archive(tmp_path)
    found = _run_json(
        str(isaac_like_python),
        "import json, importlib, pydantic, requests\n"
        "mods = ['gizmo_client', 'platformdirs', 'filelock', 'gizmo.scenes.bootstrap',"
        " 'gizmo.scenes.controller', 'gizmo.scenes.usd_ops', 'gizmo.scenes.stage_port',"
        " 'gizmo.scenes.usd_undo', 'gizmo.scenes.scheduler', 'gizmo.scenes.settings']\n"
        "files = {m: importlib.import_module(m).__file__ for m in mods}\n"
        "from pxr import Usd\n"
        "from gizmo.scenes import usd_ops\n"
        "listed = usd_ops.list_added(Usd.Stage.CreateInMemory())\n"
        "print(json.dumps({'files': files, 'pydantic': pydantic.VERSION,"
        " 'pydantic_at': pydantic.__file__, 'requests': requests.__version__,"
        " 'listed': len(listed), 'prefix': sys.prefix}))",
        root / "vendor",
        root,
        isolated_site=False,
    )
    assert found["pydantic"] == "2.9.2" and found["requests"] == "2.32.3"
    assert Path(found["pydantic_at"]).is_relative_to(found["prefix"]), "the venv's, not ours"
    for module, file in found["files"].items():
        assert Path(file).is_relative_to(root), (module, file)
    assert found["listed"] == 0


def test_missing_client_gives_a_panel_message(tmp_path: Path) -> None:
    """Without vendor/ on the path, the extension explains instead of failing to enable."""
    found = _run_json(
        sys.executable,
        "import json\nfrom gizmo.scenes.bootstrap import load_controller\n"
        "print(json.dumps({'message': load_controller()}))",
        EXT_ROOT,
    )
    message = found["message"]
    assert isinstance(message, str) and "gizmo_client" in message
    assert "vendor/gizmo_client" in message and "package_kit_extension.py" in message


@pytest.mark.parametrize("blocked", ["pydantic", "requests"])
def test_missing_dependency_gives_a_panel_message(blocked: str) -> None:
    found = _run_json(
        sys.executable,
        f"import json, sys\nsys.modules[{blocked!r}] = None\n"
        "from gizmo.scenes.bootstrap import load_controller\n"
        "print(json.dumps({'message': load_controller()}))",
        EXT_ROOT / "vendor",
        EXT_ROOT,
    )
    message = found["message"]
    assert isinstance(message, str) and blocked in message
    assert "--no-index --find-links wheels --target <extension>/vendor" in message
    assert "'pydantic>=2.6,<3' 'requests>=2.31'" in message
    assert tuple(bootstrap.REQUIREMENTS[:2]) == ("pydantic>=2.6,<3", "requests>=2.31")


def test_a_pydantic_core_mismatch_is_a_panel_message_not_a_failed_enable(tmp_path: Path) -> None:
    """pydantic refuses a pydantic-core of another version with SystemError, not ImportError."""
    fake = tmp_path / "fake"
    (fake / "pydantic_core").mkdir(parents=True)
    (fake / "pydantic_core" / "__init__.py").write_text(
        "raise SystemError('The installed pydantic-core version (0.0.1) is incompatible')\n",
        encoding="utf-8",
    )
    found = _run_json(
        sys.executable,
        "import json\nfrom gizmo.scenes.bootstrap import load_controller\n"
        "print(json.dumps({'message': load_controller()}))",
        fake,
        EXT_ROOT / "vendor",
        EXT_ROOT,
    )
    message = found["message"]
    assert isinstance(message, str) and "SystemError" in message
    assert "does not match the pydantic-core" in message
