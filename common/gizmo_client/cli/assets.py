"""`gizmo assets …`: generate, wait for, show, list and export assets."""

from __future__ import annotations

import argparse

from ..client import GizmoClient
from .arguments import ASSET_FORMATS, export_format, int_in, positive_seconds
from .commands import add_command, listing
from .output import note, print_json, show_asset, table
from .scenes import export_command
from .waiting import wait_for_asset

__all__ = ["register"]


def _generate(args: argparse.Namespace, client: GizmoClient) -> int:
    asset = client.assets.generate(args.prompt, name=args.name, tags=args.tag or None)
    if args.wait:
        asset = wait_for_asset(client, asset.id, args.timeout, show=not args.json)
    elif not args.json:
        note(f"generating; wait for it with `gizmo assets wait {asset.id}`")
    print_json(asset) if args.json else show_asset(asset)
    return 0


def _wait(args: argparse.Namespace, client: GizmoClient) -> int:
    asset = wait_for_asset(client, args.asset_id, args.timeout, show=not args.json)
    print_json(asset) if args.json else show_asset(asset)
    return 0


def _show(args: argparse.Namespace, client: GizmoClient) -> int:
    asset = client.assets.get(args.asset_id)
    print_json(asset) if args.json else show_asset(asset)
    return 0


def _list(args: argparse.Namespace, client: GizmoClient) -> int:
    assets, total = listing(client.assets, args, walk_all=args.all)
    if args.json:
        body = {"assets": assets, "total": total}
        if not args.all:
            body.update(limit=args.limit, offset=args.offset)
        print_json(body)
        return 0
    table(
        ["ID", "STATUS", "NAME", "FORMATS"],
        [[a.id, a.status.value, a.name or "", ",".join(a.export_formats or [])] for a in assets],
    )
    note(f"\n{len(assets)} shown of {total} asset(s)")
    return 0


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=300.0,
        help="seconds to wait before giving up; generation goes on (default: 300)",
    )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(commands, "assets", "generate, wait for, show, list and export assets")
    ac = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add_command(ac, "generate", "generate an asset from a text prompt", _generate)
    p.add_argument("prompt", help="what to build; be specific about shape, joints and function")
    p.add_argument("--name", help="display name (default: the prompt, shortened)")
    p.add_argument("--tag", action="append", help="a tag (repeatable)")
    p.add_argument("--wait", action="store_true", help="wait until ready (or failed)")
    _timeout(p)

    p = add_command(ac, "wait", "wait until an asset is ready (or failed)", _wait)
    p.add_argument("asset_id")
    _timeout(p)

    p = add_command(ac, "show", "an asset, its status and export formats", _show)
    p.add_argument("asset_id")

    p = add_command(ac, "list", "list the account's assets, newest first", _list)
    p.add_argument(
        "--limit",
        metavar="N",
        type=int_in(1, 100),
        default=20,
        help="assets per page, 1-100 (default: 20)",
    )
    p.add_argument(
        "--offset", metavar="N", type=int_in(0), default=0, help="assets to skip (default: 0)"
    )
    p.add_argument("--all", action="store_true", help="walk every page")

    p = add_command(
        ac,
        "export",
        "export one asset; print the download link, or save it with -o",
        export_command,
    )
    p.add_argument("id", metavar="asset_id")
    p.add_argument(
        "--format",
        type=export_format(ASSET_FORMATS),
        required=True,
        help="mjcf | usd | urdf (alpha) | sdf (jobs)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="download to FILE (a ZIP export is unpacked into a folder named after FILE)",
    )
    p.set_defaults(kind="assets")
