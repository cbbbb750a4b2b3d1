"""`gizmo`: the command line for the Gizmo Scenes API.

Results on stdout (tables, or JSON with `--json`), everything else on stderr. Exit codes say
what went wrong so scripts can branch on them (`EXIT_CODES`). Other packages add subcommands
through the entry-point group `gizmo.cli_plugins`.
"""

from __future__ import annotations

from .arguments import add_global_options as add_connection_options
from .connection import client_from_args
from .failures import (
    EXIT_AUTH,
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_CREDITS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
)
from .program import build_parser, main

__all__ = [
    "EXIT_AUTH",
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_CREDITS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_NOT_FOUND",
    "EXIT_NOT_READY",
    "EXIT_OK",
    "EXIT_USAGE",
    "add_connection_options",
    "build_parser",
    "client_from_args",
    "main",
]
