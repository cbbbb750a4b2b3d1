"""Build a self-contained archive of the gizmo.scenes Kit extension.

In a checkout, `exts/gizmo.scenes/vendor/gizmo_client` is a symbolic link to
`common/gizmo_client`. The archive holds a real copy of the client instead and no links at all,
so it works on any OS once unpacked into an extension search path (Isaac Sim's `extsUser`):

    python exts/package_extension.py --out dist/

The result is `dist/gizmo.scenes-<version>.zip` with one top folder, `gizmo.scenes/`. Entries are
sorted and time-stamped 1980-01-01, so the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import tomllib

EXT_NAME = "gizmo.scenes"
HERE = Path(__file__).resolve().parent
EXT_DIR = HERE / EXT_NAME
CLIENT_DIR = HERE.parent / "common" / "gizmo_client"
VENDOR = "vendor"

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


def _entries(ext_dir: Path, client_dir: Path) -> list[tuple[str, Path]]:
    if not (client_dir / "__init__.py").is_file():
        raise PackagingError(f"{client_dir} does not hold the gizmo_client package.")
    entries: list[tuple[str, Path]] = []
    for path in _files(ext_dir):
        relative = path.relative_to(ext_dir)
        if relative.parts[0] == VENDOR:
            continue  # filled from client_dir below, whatever the link looks like
        if path.is_symlink():
            raise PackagingError(f"{path} is a symbolic link; only vendor/ may hold links.")
        entries.append((f"{EXT_NAME}/{relative.as_posix()}", path))
    for path in _files(client_dir):
        inside = path.relative_to(client_dir).as_posix()
        entries.append((f"{EXT_NAME}/{VENDOR}/gizmo_client/{inside}", path))
    return sorted(entries)


def build_archive(out_dir: Path, ext_dir: Path = EXT_DIR, client_dir: Path = CLIENT_DIR) -> Path:
    """Write the archive into `out_dir` (atomically) and return its path."""
    config = tomllib.loads((ext_dir / "config" / "extension.toml").read_text(encoding="utf-8"))
    version = config["package"]["version"]
    entries = _entries(ext_dir, client_dir)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder")
    args = parser.parse_args(argv)
    try:
        target = build_archive(args.out)
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
