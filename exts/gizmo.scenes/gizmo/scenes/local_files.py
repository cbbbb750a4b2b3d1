"""USD files and ZIP exports from disk (a `gizmo export usd` download, a hosted web export).

A ZIP is unpacked once, keyed by its SHA-256, into a folder beside the client's exports cache, so
the files next to the scene (textures, sublayers, per-asset files) sit where its relative asset
paths say; the stage then references the unpacked file, exactly as it references a fetched
export. Runs on a worker thread: it reads and writes files, never a stage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gizmo_client.archive import extract_zip_safely, find_primary_file, is_zip
from gizmo_client.config import default_cache_dir
from gizmo_client.formats import suffixes_for
from gizmo_client.models import ExportFormat

from . import usd_ops
from .data import UsdFileError

__all__ = ["LocalFile", "default_files_dir", "prepare"]

_USD_SUFFIXES = suffixes_for(ExportFormat.ISAAC_SIM_USD)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    """The USD file to load, what identifies its content (`file-<sha256>` of what was given),
    and the Gizmo scene it is an export of (`scene_id` "" when it names none)."""

    path: Path
    fingerprint: str
    name: str
    scene_id: str


def default_files_dir() -> Path:
    """Beside the client's exports cache (`GIZMO_CACHE_DIR` moves both)."""
    return default_cache_dir().parent / "files"


def prepare(file: Path, files_dir: Path) -> LocalFile:
    """The USD file inside `file` (a ZIP is unpacked into `files_dir`), or `file` itself."""
    if not file.is_file():
        raise UsdFileError(f"{file} does not exist or is not a file; check the path.")
    digest = _sha256(file)
    primary = file.resolve()
    if is_zip(file):
        target = files_dir / digest[:32]
        if not target.is_dir():
            _unpack(file, target)
        files = [p for p in target.rglob("*") if p.is_file()]
        primary = find_primary_file(files, target, _USD_SUFFIXES)
    scene_id, scene_name = usd_ops.scene_tags(usd_ops.open_checked(primary))
    return LocalFile(primary, f"file-{digest}", scene_name or file.stem, scene_id)


def _unpack(archive: Path, target: Path) -> None:
    """Unpack into a fresh folder and rename it into place: no half-unpacked folder is ever
    taken for a finished one (a crash leaves only a dot-folder behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        files = extract_zip_safely(archive, staging / "files")
        find_primary_file(files, staging / "files", _USD_SUFFIXES)  # refuse a ZIP without USD
        try:
            os.replace(staging / "files", target)
        except OSError:
            if not target.is_dir():  # not another thread that unpacked the same ZIP first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:  # (hashlib.file_digest is 3.11+; Kit may run 3.10)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
