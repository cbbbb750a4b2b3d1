"""`gizmo`: the command line for the Gizmo Scenes API.

Human tables on stdout by default, `--json` for machines, progress on stderr. Exit codes say what
went wrong so scripts can branch on them (see `EXIT_CODES`). Subcommands that live in other
packages (`gizmo loadtest`) register through the entry-point group `gizmo.cli_plugins`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import errors
from ._version import __version__
from .client import GizmoClient
from .config import save_config
from .models import Asset, ExportFormat, Quaternion, Scene, Vector3
from .resources import Assets, Scenes

__all__ = ["EXIT_CODES", "add_connection_options", "client_from_args", "main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_NOT_READY, EXIT_NETWORK = range(7)
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_ERROR: "other error",
    EXIT_USAGE: "usage error",
    EXIT_AUTH: "no key, bad key, or not allowed",
    EXIT_NOT_FOUND: "scene or asset not found",
    EXIT_NOT_READY: "asset not ready, or generation failed",
    EXIT_NETWORK: "network, timeout, service or download failure",
}
_FORMAT_ALIASES = {"usd": "isaac_sim_usd", "mjcf": "mujoco_mjcf", "urdf": "isaac_sim_urdf"}


def _format(value: str) -> str:
    name = _FORMAT_ALIASES.get(value, value)
    try:
        return ExportFormat(name).value
    except ValueError:
        choices = ", ".join([f.value for f in ExportFormat] + list(_FORMAT_ALIASES))
        raise argparse.ArgumentTypeError(
            f"unknown format {value!r} (choose from {choices})"
        ) from None


def _exit_code(exc: errors.GizmoError) -> int:
    if isinstance(exc, (errors.ConfigurationError, errors.AuthenticationError)):
        return EXIT_AUTH
    if isinstance(exc, errors.PermissionDeniedError) and not isinstance(
        exc, errors.LinkExpiredError
    ):
        return EXIT_AUTH
    if isinstance(exc, errors.NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, (errors.AssetsNotReadyError, errors.AssetGenerationFailedError)):
        return EXIT_NOT_READY
    if isinstance(
        exc,
        (
            errors.GizmoConnectionError,
            errors.GizmoTimeoutError,
            errors.ServerError,
            errors.RateLimitError,
            errors.DownloadIntegrityError,
            errors.LinkExpiredError,
        ),
    ):
        return EXIT_NETWORK
    return EXIT_ERROR


# ---------------------------------------------------------------- output


def _print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    print(json.dumps(value, indent=2))


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _fmt_vec(v: Vector3) -> str:
    return f"({v.x:.4g}, {v.y:.4g}, {v.z:.4g})"


def _fmt_rot(q: Quaternion) -> str:
    roll, pitch, yaw = q.to_euler_degrees()
    return f"rpy=({roll:.1f}, {pitch:.1f}, {yaw:.1f})°"


def _show_scene(scene: Scene) -> None:
    print(f"{scene.name}  [{scene.id}]")
    if scene.description:
        print(f"  {scene.description}")
    print(f"  {len(scene.assets)} placed asset(s), fingerprint {scene.fingerprint()[:12]}")
    if scene.assets:
        print()
        _table(
            ["PLACEMENT", "ASSET", "NAME", "POSITION (m)", "ROTATION"],
            [
                [p.id or "-", p.asset_id, p.name or "", _fmt_vec(p.position), _fmt_rot(p.rotation)]
                for p in scene.assets
            ],
        )


def _show_asset(asset: Asset) -> None:
    print(f"{asset.name or asset.id}  [{asset.id}]  {asset.status.value}")
    if asset.prompt:
        print(f"  prompt: {asset.prompt}")
    if asset.export_formats:
        print(f"  formats: {', '.join(asset.export_formats)}")
    if asset.error:
        print(f"  error: {asset.error}")


@contextmanager
def _progress(desc: str, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A byte progress bar on stderr (silent when stderr is not a terminal or with --json)."""
    from tqdm import tqdm

    bar = tqdm(
        desc=desc,
        unit="B",
        unit_scale=True,
        file=sys.stderr,
        disable=not enabled or not sys.stderr.isatty(),
    )

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


# ---------------------------------------------------------------- commands


def client_from_args(args: argparse.Namespace) -> GizmoClient:
    """The client for the global `--api-key`/`--base-url` options (also used by plugins)."""
    return GizmoClient(api_key=args.api_key, base_url=args.base_url)


def _cmd_login(args: argparse.Namespace) -> int:
    key = args.api_key or getpass.getpass("Gizmo API key: ").strip()
    if not key:
        raise errors.ConfigurationError("No key was entered.")
    with GizmoClient(api_key=key, base_url=args.base_url) as client:
        client.scenes.list(limit=1)  # proves the key works before it is saved
        path = save_config(api_key=key, base_url=client.base_url)
        print(f"Logged in to {client.base_url}; key saved to {path} (mode 0600).")
    return EXIT_OK


def _listing(
    resource: Scenes | Assets, args: argparse.Namespace, *, walk_all: bool
) -> tuple[list[Any], int]:
    """One page (`--limit`/`--offset`) or every page (`--all`), with the account's total."""
    if walk_all:
        items: list[Any] = list(resource.iter_all())
        return items, len(items)
    page = resource.list(limit=args.limit, offset=args.offset)
    return list(page.items), page.total


def _cmd_scenes_list(args: argparse.Namespace, client: GizmoClient) -> int:
    scenes, total = _listing(client.scenes, args, walk_all=args.all or bool(args.match))
    if args.match:
        scenes = [s for s in scenes if args.match.lower() in s.name.lower()]
    if args.json:
        _print_json(scenes)
        return EXIT_OK
    _table(
        ["ID", "NAME", "CREATED", "DESCRIPTION"],
        [
            [
                s.id,
                s.name,
                s.created_at.isoformat() if s.created_at else "",
                _clip(s.description or "", 40),
            ]
            for s in scenes
        ],
    )
    print(f"\n{len(scenes)} shown of {total} scene(s)", file=sys.stderr)
    return EXIT_OK


def _cmd_scenes_show(args: argparse.Namespace, client: GizmoClient) -> int:
    scene = client.scenes.get(args.scene_id)
    _print_json(scene) if args.json else _show_scene(scene)
    return EXIT_OK


def _cmd_scenes_create(args: argparse.Namespace, client: GizmoClient) -> int:
    scene = client.scenes.create(args.name, description=args.description)
    _print_json(scene) if args.json else print(f"Created scene {scene.name!r}: {scene.id}")
    return EXIT_OK


def _cmd_scenes_add_asset(args: argparse.Namespace, client: GizmoClient) -> int:
    if args.rotation and args.rpy:
        raise _UsageError("give either --rotation X Y Z W or --rpy ROLL PITCH YAW, not both")
    position = Vector3(x=args.position[0], y=args.position[1], z=args.position[2])
    rotation = (
        Quaternion(x=args.rotation[0], y=args.rotation[1], z=args.rotation[2], w=args.rotation[3])
        if args.rotation
        else Quaternion.from_euler_degrees(*args.rpy)
        if args.rpy
        else None
    )
    scene = client.scenes.add_asset(args.scene_id, args.asset_id, position, rotation)
    _print_json(scene) if args.json else _show_scene(scene)
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, client: GizmoClient) -> int:
    resource = client.scenes if args.kind == "scenes" else client.assets
    link = resource.export(args.id, args.format)
    if args.output:
        with _progress(f"download {args.id}", not args.json) as progress:
            client.download(link, Path(args.output), progress)
    if args.json:
        _print_json({**link.model_dump(mode="json"), "saved_to": args.output})
    elif args.output:
        print(f"Saved {args.format} export of {args.id} to {args.output}")
    else:
        print(f"{link.download_url}\n(expires {link.expires_at.isoformat()}; no key needed)")
    return EXIT_OK


def _cmd_scenes_fetch(args: argparse.Namespace, client: GizmoClient) -> int:
    with _progress(f"fetch {args.scene_id}", not args.json) as progress:
        fetched = client.fetch_scene(args.scene_id, args.format, progress)
    if args.json:
        _print_json(
            {
                "path": str(fetched.path),
                "scene_id": fetched.scene.id,
                "format": fetched.format,
                "fingerprint": fetched.fingerprint,
                "from_cache": fetched.from_cache,
            }
        )
    else:
        origin = "cache" if fetched.from_cache else "fresh export"
        print(f"{fetched.path}  ({origin})")
    return EXIT_OK


def _cmd_assets_generate(args: argparse.Namespace, client: GizmoClient) -> int:
    asset = client.assets.generate(args.prompt, name=args.name, tags=args.tag or None)
    if args.wait:
        if not args.json:
            print(f"Generating {asset.id}…", file=sys.stderr)
        asset = client.assets.wait_until_ready(
            asset.id,
            timeout=args.timeout,
            on_progress=None
            if args.json
            else lambda a: print(f"  {a.id}: {a.status.value}", file=sys.stderr),
        )
    _print_json(asset) if args.json else _show_asset(asset)
    return EXIT_OK


def _cmd_assets_show(args: argparse.Namespace, client: GizmoClient) -> int:
    asset = client.assets.get(args.asset_id)
    _print_json(asset) if args.json else _show_asset(asset)
    return EXIT_OK


def _cmd_assets_list(args: argparse.Namespace, client: GizmoClient) -> int:
    assets, total = _listing(client.assets, args, walk_all=args.all)
    if args.json:
        _print_json(assets)
        return EXIT_OK
    _table(
        ["ID", "STATUS", "NAME", "FORMATS"],
        [[a.id, a.status.value, a.name or "", ",".join(a.export_formats or [])] for a in assets],
    )
    print(f"\n{len(assets)} shown of {total} asset(s)", file=sys.stderr)
    return EXIT_OK


class _UsageError(Exception):
    pass


def _with_client(
    fn: Callable[[argparse.Namespace, GizmoClient], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with client_from_args(args) as client:
            return fn(args, client)

    return run


# ---------------------------------------------------------------- parser


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", help="API key (default: $GIZMO_API_KEY, then `gizmo login`)")
    parser.add_argument("--base-url", help="API base URL (default: $GIZMO_BASE_URL, then config)")


def _pagination(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="page size (max 100)")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="walk every page")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gizmo",
        description="Work with Gizmo scenes and assets: list, compose, export and fetch them.",
        epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"gizmo {__version__}")
    add_connection_options(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    login = commands.add_parser("login", help="check an API key and save it (mode 0600)")
    login.set_defaults(func=_cmd_login)

    scenes = commands.add_parser("scenes", help="list, show, create, compose and export scenes")
    sc = scenes.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sc.add_parser("list", help="list scenes, newest first")
    _pagination(p)
    p.add_argument("--match", help="only scenes whose name contains TEXT (walks every page)")
    p.set_defaults(func=_with_client(_cmd_scenes_list))
    p = sc.add_parser("show", help="a scene and its placed assets")
    p.add_argument("scene_id")
    p.set_defaults(func=_with_client(_cmd_scenes_show))
    p = sc.add_parser("create", help="create an empty scene")
    p.add_argument("name")
    p.add_argument("--description")
    p.set_defaults(func=_with_client(_cmd_scenes_create))
    p = sc.add_parser("add-asset", help="place a ready asset in a scene")
    p.add_argument("scene_id")
    p.add_argument("asset_id")
    p.add_argument("--position", type=float, nargs=3, metavar=("X", "Y", "Z"), default=[0, 0, 0])
    p.add_argument("--rotation", type=float, nargs=4, metavar=("X", "Y", "Z", "W"))
    p.add_argument("--rpy", type=float, nargs=3, metavar=("ROLL", "PITCH", "YAW"), help="degrees")
    p.set_defaults(func=_with_client(_cmd_scenes_add_asset))
    p = sc.add_parser("export", help="export a scene; print the link or save with -o")
    p.add_argument("id", metavar="scene_id")
    p.add_argument("--format", type=_format, required=True, help="usd | mjcf (or full names)")
    p.add_argument("-o", "--output", help="download to this file")
    p.set_defaults(func=_with_client(_cmd_export), kind="scenes")
    p = sc.add_parser("fetch", help="export, download and cache; print the local path")
    p.add_argument("scene_id")
    p.add_argument("--format", type=_format, default="mujoco_mjcf")
    p.set_defaults(func=_with_client(_cmd_scenes_fetch))

    assets = commands.add_parser("assets", help="generate, show, list and export assets")
    ac = assets.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ac.add_parser("generate", help="generate an asset from a text prompt")
    p.add_argument("prompt")
    p.add_argument("--name")
    p.add_argument("--tag", action="append", help="repeatable")
    p.add_argument("--wait", action="store_true", help="wait until ready (or failed)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (with --wait)")
    p.set_defaults(func=_with_client(_cmd_assets_generate))
    p = ac.add_parser("show", help="an asset and its status")
    p.add_argument("asset_id")
    p.set_defaults(func=_with_client(_cmd_assets_show))
    p = ac.add_parser("list", help="list assets, newest first")
    _pagination(p)
    p.set_defaults(func=_with_client(_cmd_assets_list))
    p = ac.add_parser("export", help="export one asset; print the link or save with -o")
    p.add_argument("id", metavar="asset_id")
    p.add_argument("--format", type=_format, required=True, help="usd | mjcf | urdf")
    p.add_argument("-o", "--output", help="download to this file")
    p.set_defaults(func=_with_client(_cmd_export), kind="assets")

    for plugin in entry_points(group="gizmo.cli_plugins"):
        try:
            plugin.load()(commands)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            logging.getLogger("gizmo_client").warning(
                "CLI plugin %r could not be loaded: %s", plugin.name, exc
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
        return code
    except _UsageError as exc:
        parser.error(str(exc))
    except errors.GizmoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
