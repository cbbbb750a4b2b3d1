"""How the CLI connects: the base URL checked before any request, then the client, and the
API generation a command needs.

A URL that cannot work (no scheme, `ftp://`, no host) fails at once with the config exit code
instead of being retried into a network error.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from ..client import GizmoClient
from ..generation import ApiGeneration
from .failures import EXIT_AUTH, EXIT_USAGE, CliError

__all__ = ["check_base_url", "client_from_args", "require_generation"]


def check_base_url(url: str) -> None:
    """Raise `CliError` (config exit code) when `url` cannot be an API base URL."""
    parts = urlsplit(url)
    fix = "Set it with --base-url or GIZMO_BASE_URL (e.g. http://127.0.0.1:8000/v1)."
    if "://" not in url:
        raise CliError(
            EXIT_AUTH, f"the base URL {url!r} has no scheme: did you mean http://{url}?", fix
        )
    if parts.scheme not in ("http", "https"):
        raise CliError(
            EXIT_AUTH,
            f"the base URL {url!r} uses {parts.scheme}://, which the API does not speak",
            "Use https:// (or http:// for a local gizmo-server).",
        )
    if not parts.hostname:
        raise CliError(EXIT_AUTH, f"the base URL {url!r} names no host", fix)


def client_from_args(args: argparse.Namespace) -> GizmoClient:
    """The client for the global `--api-key`/`--base-url` options (also used by plugins)."""
    client = GizmoClient(
        api_key=args.api_key,
        base_url=args.base_url,
        api_generation=getattr(args, "api_generation", None),
    )
    try:
        check_base_url(client.base_url)
    except CliError:
        client.close()
        raise
    return client


def require_generation(
    client: GizmoClient, generation: ApiGeneration, command: str, instead: str
) -> None:
    """Refuse `gizmo COMMAND` on a service of the other API generation, saying what to use."""
    actual = client.api_generation
    if actual is generation:
        return
    raise CliError(
        EXIT_USAGE,
        f"`gizmo {command}` needs the {generation.value} API generation, but {client.base_url} "
        f"speaks {actual.value}",
        f"{instead} (If the detection is wrong: --api-generation {generation.value}, or "
        f"GIZMO_API_GENERATION={generation.value}.)",
    )
