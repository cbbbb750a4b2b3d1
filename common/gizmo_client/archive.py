"""Safe unpacking of ZIP exports (the hosted service may deliver one instead of a single file).

A ZIP is refused whole, before anything is written, when an entry has an absolute path, a `..`
component, a drive letter or is a symbolic link, or when it declares too many entries or too many
bytes; while unpacking, the bytes actually written are counted too, so a lying header cannot
overflow the bound.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .errors import DownloadIntegrityError, UnsafeArchiveError

__all__ = [
    "ZIP_MAGIC",
    "check_zip_integrity",
    "check_zip_structure",
    "extract_zip_safely",
    "find_primary_file",
    "is_zip",
    "unpack_verified",
]

ZIP_MAGIC = b"PK\x03\x04"
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_ENTRIES = 10_000
_CHUNK = 1024 * 1024


def is_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def check_zip_structure(path: Path) -> None:
    """Raise `DownloadIntegrityError` unless `path` is a whole ZIP: its central directory (at the
    end, so lost by a truncated body) reads and every entry lies inside the file. Cheap: the
    entries' bytes are not read; their CRCs are checked when they are unpacked or by
    `check_zip_integrity`."""
    if not is_zip(path):
        raise DownloadIntegrityError(f"{path.name} is not a ZIP archive (no ZIP signature)")
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            outside = [i.filename for i in archive.infolist() if i.header_offset > size]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise DownloadIntegrityError(f"The ZIP archive is incomplete or damaged: {exc}") from exc
    if outside:
        raise DownloadIntegrityError(f"The ZIP entry {outside[0]!r} lies past the end of the file")


def check_zip_integrity(path: Path) -> None:
    """`check_zip_structure`, then every entry's CRC (a read pass over the whole archive: for a
    ZIP that is kept as a file; one that is unpacked is checked by `extract_zip_safely`)."""
    check_zip_structure(path)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as exc:
        raise DownloadIntegrityError(f"The ZIP archive is incomplete or damaged: {exc}") from exc
    if bad is not None:
        raise DownloadIntegrityError(f"The ZIP entry {bad!r} fails its CRC check")


def unpack_verified(zip_path: Path, dest_dir: Path) -> list[Path]:
    """Unpack into a temporary sibling of `dest_dir` (which must not exist) and rename it into
    place only when every entry passed its CRC: the unpack is the integrity check, so a damaged
    ZIP raises `DownloadIntegrityError` and leaves no `dest_dir`."""
    check_zip_structure(zip_path)
    if dest_dir.exists():
        raise UnsafeArchiveError(f"Will not unpack into {dest_dir}: it exists already")
    staging = dest_dir.parent / f".unpack-{uuid.uuid4().hex[:12]}"
    try:
        files = extract_zip_safely(zip_path, staging)
        os.replace(staging, dest_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [dest_dir / f.relative_to(staging) for f in files]


def _check_name(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    if "\x00" in info.orig_filename:  # zipfile cuts the name at the NUL: another file's name
        raise UnsafeArchiveError(f"ZIP entry {info.orig_filename!r} has a NUL in its name")
    posix = PurePosixPath(name.replace("\\", "/"))
    if not posix.parts or posix == PurePosixPath("."):
        raise UnsafeArchiveError(f"ZIP entry {name!r} names no file")
    if posix.is_absolute() or name.startswith(("/", "\\")):
        raise UnsafeArchiveError(f"ZIP entry {name!r} has an absolute path")
    if any(part == ".." for part in posix.parts):
        raise UnsafeArchiveError(f"ZIP entry {name!r} climbs out of the folder with '..'")
    if posix.parts and ":" in posix.parts[0]:
        raise UnsafeArchiveError(f"ZIP entry {name!r} names a drive")
    return posix


def _check_layout(targets: Sequence[tuple[zipfile.ZipInfo, PurePosixPath]]) -> None:
    """No entry written twice, and no file that another entry needs as a folder."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for info, posix in targets:
        folders.update(posix.parents)
        if info.is_dir():
            folders.add(posix)
        elif posix in files:
            raise UnsafeArchiveError(f"ZIP entry {info.filename!r} appears twice")
        else:
            files.add(posix)
    clash = sorted(files & folders)
    if clash:
        raise UnsafeArchiveError(f"ZIP entry {str(clash[0])!r} is both a file and a folder")


def extract_zip_safely(
    zip_path: Path,
    dest_dir: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_entries: int = MAX_ENTRIES,
) -> list[Path]:
    """Unpack `zip_path` into `dest_dir`, which must be new or empty (on failure it is removed
    whole); return the files written."""
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise UnsafeArchiveError(f"Will not unpack into {dest_dir}: the folder is not empty")
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchiveError(f"{zip_path.name} is not a readable ZIP: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise UnsafeArchiveError(f"ZIP has {len(infos)} entries (limit {max_entries})")
        declared = sum(info.file_size for info in infos)
        if declared > max_total_bytes:
            raise UnsafeArchiveError(
                f"ZIP would unpack to {declared} bytes (limit {max_total_bytes})"
            )
        targets: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        for info in infos:
            posix = _check_name(info)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeArchiveError(f"ZIP entry {info.filename!r} is a symbolic link")
            targets.append((info, posix))
        _check_layout(targets)
        dest_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        total = 0
        try:
            for info, posix in targets:
                out = dest_dir.joinpath(*posix.parts)
                if info.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(out, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        total += len(chunk)
                        if total > max_total_bytes:
                            raise UnsafeArchiveError(
                                f"ZIP unpacks to more than {max_total_bytes} bytes"
                            )
                        dst.write(chunk)
                written.append(out)
        except BaseException as exc:
            shutil.rmtree(dest_dir, ignore_errors=True)
            if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
                raise DownloadIntegrityError(f"The ZIP archive is damaged: {exc}") from exc
            raise
    return written


def find_primary_file(files: Sequence[Path], root: Path, suffixes: Sequence[str]) -> Path:
    """The scene file of an unpacked export: the shallowest file with a wanted suffix."""
    candidates = [f for f in files if f.suffix.lower() in suffixes]
    if not candidates:
        raise UnsafeArchiveError(
            f"The ZIP export holds no {'/'.join(suffixes)} file",
            hint="The export is incomplete; export the scene again or report the scene id.",
        )
    return min(
        candidates, key=lambda f: (len(f.relative_to(root).parts), f.stem != "scene", str(f))
    )
