"""Build a self-contained archive of the gizmo.scenes Kit extension.

In a checkout, `exts/gizmo.scenes/vendor/gizmo_client` is a symbolic link to
`common/gizmo_client`. The archive holds a real copy of the client instead, plus the client's
pure-Python dependencies that Isaac Sim does not ship (`platformdirs`, `filelock`, copied from
the Python running this script, with their licences), and no links at all. So it works on any OS
once unpacked into an extension search path (Isaac Sim's `extsUser`), with no pip and no network
inside Kit; pydantic 2 and requests come from Isaac Sim's `omni.kit.pip_archive` and
`omni.pip.cloud`, which extension.toml declares as dependencies:

    python scripts/package_kit_extension.py --out dist/

The result is `dist/gizmo.scenes-<version>.zip` with one top folder, `gizmo.scenes/`. Entries are
sorted and time-stamped 1980-01-01, so the same sources give the same bytes.

`--vendor-in-place` copies the same dependencies into the checkout's `exts/gizmo.scenes/vendor/`
instead (git ignores them there), for running the extension straight from a checkout.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import sys
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from packaging.specifiers import SpecifierSet

EXT_NAME = "gizmo.scenes"
REPO = Path(__file__).resolve().parents[1]
EXT_DIR = REPO / "exts" / EXT_NAME
CLIENT_DIR = REPO / "common" / "gizmo_client"
VENDOR = "vendor"
#: Pure-Python distributions the client imports and Isaac Sim does not prebundle: (dist, package).
VENDORED = (("platformdirs", "platformdirs"), ("filelock", "filelock"))

#: Files of the checkout that are for developers, not for Kit.
_SKIP_FILES = {"ruff.toml"}
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_EPOCH = (1980, 1, 1, 0, 0, 0)


class PackagingError(Exception):
    """The sources cannot be packaged; the message says what to fix."""


def _files(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(directory) / name
            if path.suffix not in _SKIP_SUFFIXES:
                yield path


def vendored_sources(python: str | None = None) -> list[tuple[str, Path]]:
    """(path inside vendor/, file) for each vendored distribution: its package and licences.

    `python` ("3.10") is the Kit app's Python; a distribution whose Requires-Python excludes it
    is refused, since the copy comes from the Python running this script."""
    python = python or ".".join(platform.python_version_tuple()[:2])
    entries: list[tuple[str, Path]] = []
    for dist_name, package in VENDORED:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise PackagingError(
                f"{dist_name} is not installed in {sys.executable}; install the project "
                "(pip install -e .) and run this script with that Python."
            ) from exc
        requires = dist.metadata.get("Requires-Python") or ""
        if not SpecifierSet(requires).contains(python):
            raise PackagingError(
                f"{dist_name} {dist.version} needs Python {requires}, and the Kit app has "
                f"{python} (Isaac Sim 4.5: 3.10, 5.x: 3.11, 6.x: 3.12); run this script from a "
                f"Python {python} environment with the project installed."
            )
        files = [Path(str(dist.locate_file(f))) for f in dist.files or ()]
        source = next(
            (f.parent for f in files if f.name == "__init__.py" and f.parent.name == package), None
        )
        if source is None:
            raise PackagingError(f"{dist_name} has no {package}/ package to vendor.")
        for path in _files(source):
            entries.append((f"{package}/{path.relative_to(source).as_posix()}", path))
        for path in files:
            if "licen" in path.name.lower() and path.is_file():
                entries.append((f"{package}-LICENSES/{path.name}", path))
    return entries


def _entries(ext_dir: Path, client_dir: Path, python: str | None) -> list[tuple[str, Path]]:
    if not (client_dir / "__init__.py").is_file():
        raise PackagingError(f"{client_dir} does not hold the gizmo_client package.")
    entries: list[tuple[str, Path]] = []
    for path in _files(ext_dir):
        relative = path.relative_to(ext_dir)
        if relative.parts[0] == VENDOR or relative.as_posix() in _SKIP_FILES:
            continue  # vendor/ is filled below, whatever the checkout holds there
        if path.is_symlink():
            raise PackagingError(f"{path} is a symbolic link; only vendor/ may hold links.")
        entries.append((f"{EXT_NAME}/{relative.as_posix()}", path))
    for path in _files(client_dir):
        inside = path.relative_to(client_dir).as_posix()
        entries.append((f"{EXT_NAME}/{VENDOR}/gizmo_client/{inside}", path))
    for inside, path in vendored_sources(python):
        entries.append((f"{EXT_NAME}/{VENDOR}/{inside}", path))
    return sorted(entries)


def build_archive(
    out_dir: Path,
    ext_dir: Path = EXT_DIR,
    client_dir: Path = CLIENT_DIR,
    python: str | None = None,
) -> Path:
    """Write the archive for a Kit app on Python `python` (default: this one) into `out_dir`
    (atomically) and return its path."""
    config = tomllib.loads((ext_dir / "config" / "extension.toml").read_text(encoding="utf-8"))
    version = config["package"]["version"]
    entries = _entries(ext_dir, client_dir, python)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{EXT_NAME}-{version}.zip"
    partial = target.with_name(target.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, path in entries:
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def vendor_in_place(ext_dir: Path = EXT_DIR, python: str | None = None) -> list[Path]:
    """Copy the vendored distributions into the checkout's vendor/ folder; return the folders."""
    vendor = ext_dir / VENDOR
    written: set[Path] = set()
    for _, package in VENDORED:
        shutil.rmtree(vendor / package, ignore_errors=True)
        shutil.rmtree(vendor / f"{package}-LICENSES", ignore_errors=True)
    for inside, path in vendored_sources(python):
        target = vendor / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.add(vendor / Path(inside).parts[0])
    return sorted(written)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder")
    parser.add_argument(
        "--python",
        help="the Kit app's Python version, e.g. 3.10 for Isaac Sim 4.5 (default: this Python's)",
    )
    parser.add_argument(
        "--vendor-in-place",
        action="store_true",
        help="copy the dependencies into exts/gizmo.scenes/vendor/ instead of building a zip",
    )
    args = parser.parse_args(argv)
    try:
        if args.vendor_in_place:
            for folder in vendor_in_place(python=args.python):
                print(folder)
        else:
            print(build_archive(args.out, python=args.python))
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
