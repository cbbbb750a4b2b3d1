"""The `gizmo` program: the parser, logging, and the one place where failures become exit codes.

Subcommands of other packages (`gizmo loadtest`) register through the entry-point group
`gizmo.cli_plugins`: each entry point is a function taking the subparsers object.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points

from .._version import __version__
from ..errors import GizmoError
from . import account, assets, catalog, jobs, scenes
from .arguments import Parser, add_global_options
from .failures import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_INTERRUPTED,
    CliError,
    Failure,
    Interrupted,
    describe,
    redact,
    report,
)

__all__ = ["build_parser", "main"]

logger = logging.getLogger("gizmo_client")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gizmo",
        description="Work with Gizmo scenes and assets: generate, list, compose, export and fetch "
        "them (both API generations).",
        epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"gizmo {__version__}")
    add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (account, scenes, assets, jobs, catalog):
        module.register(commands)
    builtin = set(commands.choices)
    for plugin in entry_points(group="gizmo.cli_plugins"):
        try:
            plugin.load()(commands)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            logger.warning("CLI plugin %r could not be loaded: %s", plugin.name, exc)
    for name, sub in commands.choices.items():
        if name not in builtin:
            add_global_options(sub)  # plugins' commands take them after the name too
    return parser


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _OwnDebugOnly(logging.Filter):
    """Debug and info records of the gizmo packages only; other libraries (urllib3, filelock)
    reach stderr from WARNING up."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.startswith("gizmo")


@contextmanager
def _logging_to_stderr(verbose: bool, as_json: bool) -> Iterator[None]:
    """Log records to stderr, redacted, while one command runs (then the root logger is as it
    was: `main` may run in a process that logs elsewhere, such as a test session). With --json
    and no -v, stderr is kept for the JSON error: retry warnings are not logged."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_OwnDebugOnly())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    quiet = logging.ERROR if as_json else logging.WARNING
    root.setLevel(logging.DEBUG if verbose else quiet)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no real file (a test's capture): nothing to flush


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in raw
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(raw)
        as_json = bool(args.json)
        with _logging_to_stderr(bool(args.verbose), as_json):
            code: int = args.func(args)
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as exc:
        note = f": {exc.note}" if isinstance(exc, Interrupted) else ""
        return report(Failure(EXIT_INTERRUPTED, f"interrupted{note}"), as_json=as_json, label="")
    except (CliError, GizmoError, OSError) as exc:
        base_url = getattr(args, "base_url_in_use", None) or getattr(args, "base_url", None)
        return report(describe(exc, base_url), as_json=as_json)
