"""`gizmo assets …`: generate, wait for, show, list and export assets."""

from __future__ import annotations

import argparse
from typing import Any

from ..client import GizmoClient
from ..generation import ApiGeneration
from .arguments import ASSET_FORMATS, add_pagination, export_format, positive_seconds, prompt_text
from .commands import add_command, listing
from .connection import require_generation
from .failures import EXIT_USAGE, CliError
from .output import note, print_json, show_asset, table
from .saving import add_export_options, export_command
from .waiting import follow_job, wait_for_asset

__all__ = ["register"]


def _generate(args: argparse.Namespace, client: GizmoClient) -> int:
    if client.api_generation is ApiGeneration.JOBS:
        return _generate_in_scene(args, client)
    if args.scene:
        raise CliError(
            EXIT_USAGE,
            "--scene belongs to the jobs API generation; this service speaks alpha",
            "Generate without it, then place the asset with `gizmo scenes add-asset`.",
        )
    asset = client.assets.generate(args.prompt, name=args.name, tags=args.tag or None)
    if args.wait:
        asset = wait_for_asset(client, asset.id, args.timeout, show=not args.json)
    elif not args.json:
        note(f"generating; wait for it with `gizmo assets wait {asset.id}`")
    print_json(asset) if args.json else show_asset(asset)
    return 0


def _generate_in_scene(args: argparse.Namespace, client: GizmoClient) -> int:
    """Jobs generation: an asset is generated into a scene by a job, whose result names it."""
    if not args.scene:
        raise CliError(
            EXIT_USAGE,
            "on the jobs API generation an asset is generated into a scene: give --scene ID",
            "List scenes with `gizmo scenes list`, or make one with `gizmo scenes generate`.",
        )
    job = client.assets.generate(args.prompt, scene_id=args.scene)
    if args.wait:
        job = follow_job(client, job.id, args.timeout, show=not args.json)
    if args.json:
        print_json(job)
    elif args.wait:
        print(job.result_asset_id or job.id)
    else:
        print(job.id)
        note(f"job {job.id} started; follow it with `gizmo jobs watch {job.id}`")
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
    if args.scene:
        require_generation(
            client, ApiGeneration.JOBS, "assets list --scene", "List all assets without it."
        )
        if args.all:
            assets: list[Any] = list(client.assets.iter_all(scene_id=args.scene))
            total = len(assets)
        else:
            page = client.assets.list(args.limit, args.offset, scene_id=args.scene)
            assets, total = list(page.items), page.total
    else:
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
    p.add_argument(
        "prompt",
        type=prompt_text,
        help="what to build; be specific about shape, joints and function",
    )
    p.add_argument("--name", help="display name (default: the prompt, shortened)")
    p.add_argument("--tag", action="append", help="a tag (repeatable)")
    p.add_argument(
        "--scene", metavar="SCENE_ID", help="jobs API: the scene to generate the asset into"
    )
    p.add_argument("--wait", action="store_true", help="wait until ready (or failed)")
    _timeout(p)

    p = add_command(ac, "wait", "wait until an asset is ready (or failed)", _wait)
    p.add_argument("asset_id")
    _timeout(p)

    p = add_command(ac, "show", "an asset, its status and export formats", _show)
    p.add_argument("asset_id")

    p = add_command(ac, "list", "list the account's assets, newest first", _list)
    add_pagination(p, "assets")
    p.add_argument("--scene", metavar="SCENE_ID", help="jobs API: only the assets of this scene")

    p = add_command(
        ac,
        "export",
        "export one asset and save it (-o FILE), or print its link (--link)",
        export_command,
    )
    p.add_argument("id", metavar="asset_id")
    p.add_argument(
        "--format",
        type=export_format(ASSET_FORMATS),
        required=True,
        help="mjcf | usd | urdf (alpha) | sdf (jobs)",
    )
    add_export_options(p)
    p.set_defaults(kind="assets")
