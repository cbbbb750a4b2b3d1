"""How a subcommand is declared: its help, description and global options in one call, and
its handler run with a client (the base URL it used is kept for error hints)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..client import GizmoClient
from ..resources import Assets, Scenes
from .arguments import add_global_options
from .connection import client_from_args

__all__ = ["Handler", "add_command", "listing"]

Handler = Callable[[argparse.Namespace, GizmoClient], int]
Command = Callable[[argparse.Namespace], int]


def with_client(handler: Handler) -> Command:
    def run(args: argparse.Namespace) -> int:
        with client_from_args(args) as client:
            args.base_url_in_use = client.base_url
            return handler(args, client)

    return run


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    handler: Handler | None = None,
    *,
    command: Command | None = None,
    details: str = "",
) -> argparse.ArgumentParser:
    """A subcommand whose --help says `summary` (and `details`) and takes the global options;
    `handler` runs with a client, `command` without one."""
    description = summary[0].upper() + summary[1:] + "." + (f"\n\n{details}" if details else "")
    parser = commands.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser)
    if handler is not None:
        parser.set_defaults(func=with_client(handler))
    elif command is not None:
        parser.set_defaults(func=command)
    return parser


def listing(
    resource: Scenes | Assets, args: argparse.Namespace, *, walk_all: bool
) -> tuple[list[Any], int]:
    """One page (`--limit`/`--offset`) or every page (`--all`), with the account's total."""
    if walk_all:
        items: list[Any] = list(resource.iter_all())
        return items, len(items)
    page = resource.list(limit=args.limit, offset=args.offset)
    return list(page.items), page.total
