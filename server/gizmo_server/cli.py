"""`gizmo-server`: run the local Gizmo-compatible server in the foreground.

Prints the base URL and the keys at start: in full only the demo's (public) keys and a key it
has just generated (the one chance to see it); keys it was given (`--api-key`, `--keys-file`,
`GIZMO_SERVER_API_KEYS`) are shown masked, `gzk_…abcd`. `GIZMO_SERVER_API_KEYS` keeps keys out of
`ps`, which shows `--api-key` to every local user. `gizmo-server keys add|list|revoke` manages
the keys of a data directory, also while a server runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import json
import logging
import os
import secrets
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from . import __version__
from .app import create_app
from .auth import generate_api_key, hash_key, validate_key
from .demo import DEMO_API_KEY, seed_demo
from .export_pool import default_workers
from .faults import KINDS, parse_spec
from .gen2.accounts import KEY_PREFIX, is_gen2_key
from .gen2.demo import GEN2_DEMO_API_KEY, seed_gen2_demo
from .gen2.runtime import Gen2Settings
from .keys import KeyTable
from .runner import bind_socket, make_server
from .service import Service, Settings

__all__ = ["KEYS_ENV", "build_keys_parser", "build_parser", "keys_main", "main", "mask"]

KEYS_ENV = "GIZMO_SERVER_API_KEYS"


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def _per_minute(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def _faults(text: str) -> str:
    try:
        parse_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _key(text: str) -> str:
    try:
        return validate_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gizmo-server",
        description="A local, offline stand-in for the Gizmo Scenes API (not the real Gizmo; "
        "assets come from a parametric generator, not an AI).",
        epilog="Keys of a data directory: gizmo-server keys add|list|revoke (keys -h).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="data directory (default: the user data dir; with --demo: a temporary one)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        type=_key,
        metavar="KEY",
        help="accept this key as an account of its own (repeatable; a key starting gzm_k1_ is "
        "an account of the newer 'jobs' API generation)",
    )
    parser.add_argument(
        "--keys-file",
        type=Path,
        metavar="FILE",
        help="file with one API key per line (# comments), each its own account; keys can "
        f"also come from ${KEYS_ENV} (comma or space separated), which ps does not show",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no access log line per request (warnings only)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"seed the demo accounts (keys {DEMO_API_KEY} and {GEN2_DEMO_API_KEY}) with the "
        "demo scenes",
    )
    parser.add_argument(
        "--generation-delay",
        type=_non_negative,
        default=0.2,
        metavar="SECONDS",
        help="time from pending to ready for a new asset (default 0.2)",
    )
    parser.add_argument(
        "--link-ttl",
        type=_positive,
        default=900.0,
        metavar="SECONDS",
        help="lifetime of download links (default 900)",
    )
    parser.add_argument(
        "--rate-limit-writes",
        type=_per_minute,
        metavar="PER_MINUTE",
        help="limit POST requests per key per minute (default: no limit)",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        metavar="KIND:SHARE,...",
        help=f"inject faults; KIND is one of {', '.join(KINDS)}; SHARE is 0..1 (default: none)",
    )
    parser.add_argument("--fault-seed", type=int, default=0, metavar="N", help="fault RNG seed")
    parser.add_argument(
        "--zip-exports",
        action="store_true",
        help="deliver exports as ZIP archives (the file plus a README), as the hosted service may",
    )
    parser.add_argument(
        "--job-seconds",
        type=_non_negative,
        default=1.5,
        metavar="SECONDS",
        help="about how long a job of the jobs generation runs; 0 = no waits (default 1.5)",
    )
    parser.add_argument(
        "--gen2-rate-limit",
        type=_per_minute,
        default=100,
        metavar="PER_MINUTE",
        help="requests per minute per gzm_k1_ key, as the hosted service (default 100)",
    )
    parser.add_argument(
        "--gen2-credits",
        type=int,
        default=1000,
        metavar="N",
        help="starting credits of each new gzm_k1_ account (default 1000)",
    )
    parser.add_argument(
        "--ping-interval",
        type=_positive,
        default=1.0,
        metavar="SECONDS",
        help="seconds without job events before an SSE ping (default 1)",
    )
    parser.add_argument(
        "--export-workers",
        type=_count,
        default=default_workers(),
        metavar="N",
        help="exports rendered at once, big ones in worker processes (default "
        f"{default_workers()} here: CPUs - 1, 1 to 4; 0 = in request threads, unbounded, as "
        "before)",
    )
    parser.add_argument(
        "--export-queue",
        type=_count,
        default=8,
        metavar="N",
        help="exports that may wait for a free worker; beyond that 503 with Retry-After "
        "(default 8)",
    )
    parser.add_argument(
        "--fault-slow-seconds",
        type=_non_negative,
        default=2.0,
        metavar="SECONDS",
        help="delay of the `slow` fault (default 2)",
    )
    return parser


def _read_keys_file(path: Path) -> list[str]:
    keys = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                keys.append(validate_key(text))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    return keys


def mask(key: str) -> str:
    """`gzk_…abcd`: enough to tell keys apart, not enough to use one."""
    prefix = "gzm_k1_" if is_gen2_key(key) else key[:4]
    return f"{prefix}…{key[-4:]}"


def _env_keys() -> list[str]:
    keys = []
    for text in os.environ.get(KEYS_ENV, "").replace(",", " ").split():
        try:
            keys.append(validate_key(text))
        except ValueError as exc:
            raise ValueError(f"${KEYS_ENV}: {exc}") from None
    return keys


def _fail(message: str) -> int:
    """One line on stderr and the usage-error exit code, without the whole usage."""
    print(f"gizmo-server: error: {message}", file=sys.stderr)
    return 2


def _listen_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use: is another gizmo-server running? use --port"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _default_data_dir() -> Path:
    return platformdirs.user_data_path("gizmo-server")


def build_keys_parser() -> argparse.ArgumentParser:
    """`gizmo-server keys add|list|revoke`: accounts of a data directory, server running or not."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data", type=Path, metavar="DIR", help="data directory (default: the user data dir)"
    )
    parser = argparse.ArgumentParser(
        prog="gizmo-server keys",
        description="Add, list and revoke API keys of a data directory. A revoked key is "
        "refused (401) at once, also by a server already running on that directory.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="add|list|revoke")
    add = commands.add_parser(
        "add", parents=[common], help="add a key (generated unless --key) and print it once"
    )
    add.add_argument("--key", type=_key, metavar="KEY", help="the key to add (default: a new one)")
    add.add_argument(
        "--generation",
        choices=("alpha", "jobs"),
        help="API generation of the account (default: the key's, alpha for a generated key)",
    )
    show = commands.add_parser("list", parents=[common], help="list keys, masked")
    show.add_argument("--json", action="store_true", help="one JSON array on stdout")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument(
        "key",
        metavar="KEY_OR_MASKED_SUFFIX",
        help="the key, its masked form, its last 4+ "
        "characters or its sha256: id (as `keys list` shows)",
    )
    return parser


def _keys_add(service: Service, table: KeyTable, args: argparse.Namespace) -> int:
    key: str | None = args.key
    if (
        key is not None
        and args.generation is not None
        and is_gen2_key(key) != (args.generation == "jobs")
    ):
        return _fail(
            f"--generation {args.generation} does not fit the key: a jobs key starts with "
            f"{KEY_PREFIX}, an alpha key does not"
        )
    if key is None:
        jobs = args.generation == "jobs"
        key = f"{KEY_PREFIX}{secrets.token_urlsafe(24)}" if jobs else generate_api_key()
    if any(row.revoked_at for row in table.list() if row.key_sha256 == hash_key(key)):
        return _fail(f"{mask(key)} was revoked; a revoked key cannot be added again")
    if is_gen2_key(key):
        account = service.gen2.accounts.register(key)
    else:
        account = service.accounts.register(key)
    table.label(hash_key(key), mask(key))
    print(key, flush=True)
    print(
        f"gizmo-server: account {account} ({'jobs' if is_gen2_key(key) else 'alpha'}); the key "
        "is stored hashed, so it is shown only now",
        file=sys.stderr,
    )
    return 0


def _keys_list(table: KeyTable, args: argparse.Namespace) -> int:
    rows = table.list()
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
        return 0
    for row in rows:
        state = f"revoked {row.revoked_at}" if row.revoked_at else "active"
        print(f"{row.label:<24} {row.generation:<6} {row.created_at}  {state}")
    return 0


def _keys_revoke(table: KeyTable, args: argparse.Namespace) -> int:
    text: str = args.key
    found = [row for row in table.list() if row.matches(text, hash_key(text))]
    if not found:
        return _fail(f"no key matches {text!r}: see `gizmo-server keys list`")
    if len(found) > 1:
        names = ", ".join(row.label for row in found)
        return _fail(f"{text!r} matches {len(found)} keys ({names}): give more of it")
    table.revoke(found[0].key_sha256)
    print(f"revoked {found[0].label}")
    return 0


def keys_main(argv: Sequence[str]) -> int:
    args = build_keys_parser().parse_args(argv)
    data_dir: Path = args.data or _default_data_dir()
    database = data_dir / "gizmo.sqlite3"
    if args.command != "add" and not database.is_file():
        return _fail(f"no gizmo-server data in {data_dir}: give the server's --data DIR")
    try:
        service = Service(Settings(data_dir=data_dir))
    except (OSError, sqlite3.Error) as exc:
        return _fail(f"cannot open the data directory {data_dir}: {exc}")
    table = KeyTable(database)
    try:
        if args.command == "add":
            return _keys_add(service, table, args)
        if args.command == "list":
            return _keys_list(table, args)
        return _keys_revoke(table, args)
    finally:
        table.close()
        service.close()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["keys"]:
        return keys_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    shown: list[str] = [DEMO_API_KEY, GEN2_DEMO_API_KEY] if args.demo else []
    keys = list(shown)
    try:
        if args.keys_file is not None:
            keys += _read_keys_file(args.keys_file)
    except (OSError, ValueError) as exc:
        parser.error(f"--keys-file: {exc}")
    try:
        keys += _env_keys()
    except ValueError as exc:
        parser.error(str(exc))
    keys += args.api_key
    keys = list(dict.fromkeys(keys))

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.ExitStack() as stack:
        data_dir: Path = args.data or (
            Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gizmo-server-")))
            if args.demo
            else _default_data_dir()
        )
        settings = Settings(
            data_dir=data_dir,
            generation_delay=args.generation_delay,
            link_ttl=args.link_ttl,
            rate_limit_writes=args.rate_limit_writes,
            faults=args.faults,
            fault_seed=args.fault_seed,
            slow_seconds=args.fault_slow_seconds,
            zip_exports=args.zip_exports,
            export_workers=args.export_workers,
            export_queue=args.export_queue,
            gen2=Gen2Settings(
                args.job_seconds, args.gen2_rate_limit, args.gen2_credits, args.ping_interval
            ),
        )
        try:
            sock = bind_socket(args.host, args.port)
        except OSError as exc:
            return _fail(_listen_error(args.host, args.port, exc))
        stack.callback(sock.close)
        service = Service(settings)
        stack.callback(service.close)
        existing = service.store.account_count()
        if not keys and existing == 0:
            keys = shown = [generate_api_key()]
        for key in keys:
            if is_gen2_key(key):
                service.gen2.accounts.register(key)
            else:
                service.accounts.register(key)
        if args.demo:
            seed_demo(service)
            seed_gen2_demo(service.gen2)
        service.start()

        host, port = sock.getsockname()[:2]
        url_host = f"[{host}]" if ":" in host else host
        base_url = f"http://{url_host}:{port}/v1"

        def printed(key: str) -> str:
            return key if key in shown else mask(key)

        lines = [
            "Gizmo local server: a stand-in for the Gizmo Scenes API (not the real Gizmo)",
            f"  base URL:  {base_url}",
            f"  API docs:  {base_url}/docs  (Swagger UI loads from a CDN: blank offline; "
            f"{base_url}/openapi.json always works)",
            f"  data:      {data_dir}",
        ]
        lines += [f"  API key:   {printed(key)}" for key in keys if not is_gen2_key(key)]
        lines += [
            f"  jobs key:  {printed(key)}  (the newer jobs generation)"
            for key in keys
            if is_gen2_key(key)
        ]
        if any(key not in shown for key in keys):
            lines.append("  (keys you gave are shown masked)")
        if not keys:
            lines.append(
                f"  accounts:  {existing} existing (keys are stored hashed; use the ones printed "
                "when they were created, or add --api-key)"
            )
        else:
            first = keys[0] if keys[0] in shown else "<your key>"
            lines.append(f"  try:       export GIZMO_BASE_URL={base_url} GIZMO_API_KEY={first}")
        print("\n".join(lines), flush=True)
        if not _is_loopback(host):
            print(
                f"gizmo-server: warning: listening on {host}, not loopback: anyone who can reach "
                "this machine can call it, and keys travel in plain HTTP; use --host 127.0.0.1 "
                "unless you mean it",
                file=sys.stderr,
                flush=True,
            )
        server = make_server(
            create_app(service),
            log_level="warning" if args.quiet else "info",
            access_log=not args.quiet,
            on_shutdown=service.release_held_requests,
        )
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal: that is a clean stop
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
