"""`gizmo scenes …`: list, show, create, compose, export and fetch scenes (the commands that
need the jobs generation are in `scenes_jobs`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .. import errors
from ..client import FetchedScene, GizmoClient
from ..generation import ApiGeneration
from ..models import AssetStatus, Quaternion, Vector3
from . import scenes_jobs
from .arguments import (
    SCENE_FORMATS,
    add_pagination,
    export_format,
    finite_float,
    positive_seconds,
    rotation_from,
)
from .commands import add_command, listing
from .connection import require_generation
from .failures import EXIT_NOT_READY, EXIT_USAGE, CliError
from .output import (
    clip,
    download_progress,
    fmt_time,
    note,
    print_json,
    show_scene,
    table,
)
from .saving import add_export_options, copy_out, export_command
from .waiting import StatusLine, not_ready_assets, resumable, wait_for_asset

__all__ = ["register"]


def _list(args: argparse.Namespace, client: GizmoClient) -> int:
    scenes, total = listing(client.scenes, args, walk_all=args.all or bool(args.match))
    if args.match:
        scenes = [s for s in scenes if args.match.lower() in s.name.lower()]
    if args.json:
        body: dict[str, Any] = {"scenes": scenes, "total": total}
        if not (args.all or args.match):
            body.update(limit=args.limit, offset=args.offset)
        print_json(body)
        return 0
    if args.match and not scenes:
        note(f"no scene name contains {args.match!r} ({total} scene(s) searched)")
        return 0
    if client.api_generation is ApiGeneration.JOBS:
        table(
            ["ID", "NAME", "STATUS", "VERSION", "UPDATED"],
            [
                [
                    s.id,
                    clip(s.name, 50),
                    getattr(s, "status", None) or "",
                    getattr(s, "version", None) or "",
                    fmt_time(getattr(s, "updated_at", None) or s.created_at),
                ]
                for s in scenes
            ],
        )
    else:
        table(
            ["ID", "NAME", "CREATED", "DESCRIPTION"],
            [[s.id, s.name, fmt_time(s.created_at), clip(s.description or "", 40)] for s in scenes],
        )
    note(f"\n{len(scenes)} shown of {total} scene(s)")
    return 0


def _show(args: argparse.Namespace, client: GizmoClient) -> int:
    scene = client.scenes.get(args.scene_id, include_record=True)
    print_json(scene) if args.json else show_scene(scene)
    return 0


_JOBS_INSTEAD = "On the jobs generation, scenes come from prompts: `gizmo scenes generate PROMPT`"


def _create(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.ALPHA, "scenes create", _JOBS_INSTEAD + ".")
    scene = client.scenes.create(args.name, description=args.description)
    if args.json:
        print_json(scene)
    else:
        print(scene.id)
        note(f"created scene {scene.name!r}")
    return 0


def _add_asset(args: argparse.Namespace, client: GizmoClient) -> int:
    if args.rotation and args.rpy:
        raise CliError(
            EXIT_USAGE, "give either --rotation X Y Z W or --rpy ROLL PITCH YAW, not both"
        )
    require_generation(
        client,
        ApiGeneration.ALPHA,
        "scenes add-asset",
        _JOBS_INSTEAD + " and `gizmo scenes edit ID PROMPT`.",
    )
    position = Vector3(x=args.position[0], y=args.position[1], z=args.position[2])
    rotation: Quaternion | None = None
    if args.rotation:
        rotation = rotation_from(args.rotation)
    elif args.rpy:
        rotation = Quaternion.from_euler_degrees(*args.rpy)
    scene = client.scenes.add_asset(args.scene_id, args.asset_id, position, rotation)
    print_json(scene) if args.json else show_scene(scene)
    return 0


def _not_ready(client: GizmoClient, scene_id: str, exc: errors.AssetsNotReadyError) -> list[str]:
    """The ids of the scene's assets that are not ready (failed ones raise, never 'wait')."""
    listed = exc.body.get("assets")
    ids = (
        [str(a["id"]) for a in listed if isinstance(a, dict) and a.get("id")]
        if isinstance(listed, list)
        else []
    )
    if not ids:
        ids = [p.asset_id for p in client.scenes.get(scene_id).assets]
    waiting = not_ready_assets(client, ids)
    failed = [a for a in waiting if a.status == AssetStatus.FAILED]
    if failed:
        named = ", ".join(f"{a.id} ({a.error or 'no reason given'})" for a in failed)
        raise CliError(
            EXIT_NOT_READY,
            f"scene {scene_id} holds assets whose generation failed: {named}",
            "They will never be ready: generate them again and place the new assets.",
        )
    return [a.id for a in waiting] or ids


def _fetch_waiting(args: argparse.Namespace, client: GizmoClient) -> FetchedScene:
    """Fetch; with --wait, first wait out what is not ready (alpha: the scene's assets; jobs
    generation: the scene's pipeline), until --timeout."""
    deadline = time.monotonic() + args.timeout
    line = StatusLine(args.scene_id, not args.json)
    try:
        with download_progress(f"fetch {args.scene_id}", not args.json) as progress:
            while True:
                try:
                    return client.fetch_scene(args.scene_id, args.format, progress)
                except errors.AssetsNotReadyError as exc:
                    _wait_for_assets(args, client, exc, deadline)
                except errors.SceneNotReadyError as exc:
                    _wait_for_pipeline(args, client, exc, line)
                if time.monotonic() >= deadline:
                    raise CliError(
                        EXIT_NOT_READY,
                        f"scene {args.scene_id} is still not ready after {args.timeout:.0f} s",
                        f"Generation goes on; fetch again with `gizmo scenes fetch "
                        f"{args.scene_id} --wait`.",
                    )
                # Ready, yet the export may lag behind for a moment.
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    finally:
        line.close()


def _wait_for_assets(
    args: argparse.Namespace,
    client: GizmoClient,
    exc: errors.AssetsNotReadyError,
    deadline: float,
) -> None:
    ids = _not_ready(client, args.scene_id, exc)
    if not args.wait:
        raise CliError(
            EXIT_NOT_READY,
            f"scene {args.scene_id} cannot be exported yet: asset(s) {', '.join(ids)} not ready",
            f"Wait with `gizmo assets wait {ids[0]}`, or fetch with --wait.",
        ) from exc
    for asset_id in ids:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            wait_for_asset(client, asset_id, remaining, show=not args.json)


def _wait_for_pipeline(
    args: argparse.Namespace,
    client: GizmoClient,
    exc: errors.SceneNotReadyError,
    line: StatusLine,
) -> None:
    status = client.scenes.status(args.scene_id)
    state = status.pipeline_status or "generating"
    if state in ("failed", "cancelled"):
        reason = status.error.get("message") if isinstance(status.error, dict) else status.error
        raise CliError(
            EXIT_NOT_READY,
            f"scene {args.scene_id}'s generation {state}: {reason or 'no reason given'}",
            f"It will not become ready: edit it (`gizmo scenes edit {args.scene_id} PROMPT`) "
            "or generate it again.",
        ) from exc
    if not args.wait:
        raise CliError(
            EXIT_NOT_READY,
            f"scene {args.scene_id} cannot be exported yet: its generation is {state}",
            f"See its stages with `gizmo scenes status {args.scene_id}`, or fetch with --wait.",
        ) from exc
    line.update(state)


def _fetch(args: argparse.Namespace, client: GizmoClient) -> int:
    with resumable(f"the scene {args.scene_id}", f"gizmo scenes fetch {args.scene_id} --wait"):
        fetched = _fetch_waiting(args, client)
    path = copy_out(fetched, Path(args.out)) if args.out else fetched.path
    if args.json:
        print_json(
            {
                "path": str(path),
                "cache_path": str(fetched.path),
                "scene_id": fetched.scene.id,
                "format": fetched.format,
                "fingerprint": fetched.fingerprint,
                "from_cache": fetched.from_cache,
            }
        )
        return 0
    print(path)
    note("from the cache (placements unchanged)" if fetched.from_cache else "exported and cached")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(
        commands, "scenes", "generate, list, show, compose, export and fetch scenes"
    )
    sc = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add_command(sc, "list", "list the account's scenes, newest first", _list)
    add_pagination(p, "scenes")
    p.add_argument(
        "--match", metavar="TEXT", help="only scenes whose name contains TEXT (walks every page)"
    )

    p = add_command(sc, "show", "a scene and its placed assets, with poses", _show)
    p.add_argument("scene_id")

    p = add_command(sc, "create", "create an empty scene; prints its id (alpha API)", _create)
    p.add_argument("name")
    p.add_argument("--description")

    p = add_command(
        sc, "add-asset", "place a ready asset in a scene at a pose (alpha API)", _add_asset
    )
    p.add_argument("scene_id")
    p.add_argument("asset_id")
    p.add_argument(
        "--position",
        type=finite_float,
        nargs=3,
        metavar=("X", "Y", "Z"),
        default=[0.0, 0.0, 0.0],
        help="metres, scene frame, Z up (default: 0 0 0)",
    )
    p.add_argument(
        "--rotation",
        type=finite_float,
        nargs=4,
        metavar=("X", "Y", "Z", "W"),
        help="unit quaternion, scalar last (default: 0 0 0 1); a non-unit one is normalised",
    )
    p.add_argument(
        "--rpy",
        type=finite_float,
        nargs=3,
        metavar=("ROLL", "PITCH", "YAW"),
        help="degrees, applied yaw then pitch then roll (instead of --rotation)",
    )

    p = add_command(
        sc,
        "export",
        "export a scene and save it (-o FILE), or print its link (--link)",
        export_command,
    )
    p.add_argument("id", metavar="scene_id")
    p.add_argument(
        "--format", type=export_format(SCENE_FORMATS), required=True, help="mjcf | usd | sdf"
    )
    add_export_options(p)
    p.set_defaults(kind="scenes")

    p = add_command(
        sc,
        "fetch",
        "export, download, verify and cache a scene; print the local path of its file",
        _fetch,
    )
    p.add_argument("scene_id")
    p.add_argument(
        "--format",
        type=export_format(SCENE_FORMATS),
        default="mjcf",
        help="mjcf | usd | sdf (sdf: jobs generation only; default: mjcf)",
    )
    p.add_argument("-o", "--out", metavar="DIR", help="copy the export out of the cache into DIR")
    p.add_argument(
        "--wait", action="store_true", help="wait for the scene's assets to be ready first"
    )
    p.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=300.0,
        help="seconds to wait with --wait (default: 300)",
    )
    scenes_jobs.register(sc)
