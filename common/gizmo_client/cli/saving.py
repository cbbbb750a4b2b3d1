"""`gizmo scenes|assets export`, and putting exports where the user asked (`export -o FILE`,
`fetch -o DIR`), whole or not at all.

A ZIP export (a scene file plus meshes; always so on the jobs generation) is never written under
a `.usd`/`.xml` name: it is unpacked into a folder named after the requested file, and stderr
says so. Asked for a `.zip`, the archive is kept as it came.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from ..archive import extract_zip_safely, find_primary_file, is_zip
from ..client import FetchedScene, GizmoClient
from ..formats import suffixes_for
from ..generation import ApiGeneration
from .failures import EXIT_USAGE, CliError
from .output import download_progress, fmt_time, note, print_json

__all__ = ["add_export_options", "copy_out", "export_command", "save_export"]


def save_export(
    client: GizmoClient, kind: str, item_id: str, fmt: str, dest: Path, *, show: bool
) -> Path:
    """Export scene or asset `item_id` to `dest`; return the file to load (or the kept ZIP)."""
    resource = client.scenes if kind == "scenes" else client.assets
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gizmo-", dir=dest.parent) as work:
        download = Path(work) / "export"
        with download_progress(f"download {dest.name}", show) as progress:
            if client.api_generation is ApiGeneration.JOBS:
                resource.export_zip(item_id, fmt, download, on_progress=progress)
            else:
                client.download(resource.export(item_id, fmt), download, progress)
        if not is_zip(download) or dest.suffix.lower() == ".zip":
            os.replace(download, dest)
            return dest
        folder = dest.with_suffix("") if dest.suffix else dest
        unpacked = Path(work) / "unpacked"
        files = extract_zip_safely(download, unpacked)
        primary = find_primary_file(files, unpacked, suffixes_for(fmt))
        _publish(unpacked, folder)
    if show:
        note(f"the export is a ZIP archive (a scene file plus its meshes): unpacked into {folder}/")
    return folder / primary.relative_to(unpacked)


def export_command(args: argparse.Namespace, client: GizmoClient) -> int:
    """`scenes export` and `assets export`: save the export (to -o FILE, else to `ID.<suffix>`
    here), or with --link print the pre-signed link, which lets anyone download until it
    expires, so it is printed only when asked for."""
    if args.link:
        return _print_link(args, client)
    dest = Path(args.output or f"{args.id}{suffixes_for(args.format)[0]}")
    saved = save_export(client, args.kind, args.id, args.format, dest, show=not args.json)
    print_json({"saved_to": str(saved)}) if args.json else print(saved)
    return 0


def _print_link(args: argparse.Namespace, client: GizmoClient) -> int:
    if client.api_generation is ApiGeneration.JOBS:
        raise CliError(
            EXIT_USAGE,
            "this service answers an export with the file itself: there is no link to print",
            "Drop --link to save the file (-o FILE to choose where).",
        )
    resource = client.scenes if args.kind == "scenes" else client.assets
    link = resource.export(args.id, args.format)
    if args.json:
        print_json(link)
    else:
        print(link.download_url)
        note(f"link expires {fmt_time(link.expires_at)}; anyone holding it can download until then")
    return 0


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Where `scenes export` / `assets export` put the export."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        metavar="FILE",
        help="save to FILE (default: ID.xml/.usd/... here); a ZIP export is unpacked into a "
        "folder named after FILE (ask for a .zip to keep it)",
    )
    where.add_argument(
        "--link",
        action="store_true",
        help="print the pre-signed download link instead (alpha API; anyone holding it can "
        "download until it expires)",
    )


def copy_out(fetched: FetchedScene, out_dir: Path) -> Path:
    """Copy a cached export (its file, or the unpacked folder holding it) into `out_dir`."""
    relative = fetched.path.relative_to(fetched.directory)
    top = fetched.directory / relative.parts[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    if top == fetched.path:
        target = out_dir / fetched.path.name
        shutil.copy2(fetched.path, target)
        return target
    shutil.copytree(top, out_dir, dirs_exist_ok=True)
    return out_dir.joinpath(*relative.parts[1:])


def _publish(source: Path, folder: Path) -> None:
    """Move the unpacked `source` to `folder`, which must be new or empty (nothing is lost)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CliError(
            EXIT_USAGE,
            f"the export is a ZIP archive to unpack into {folder}/, which exists and is not empty",
            "Choose another -o name (or one ending in .zip to keep the archive).",
        )
    if folder.exists():
        folder.rmdir()
    os.replace(source, folder)
