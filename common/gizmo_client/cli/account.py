"""`gizmo login`: check a key against the base URL, then save both (mode 0600)."""

from __future__ import annotations

import argparse
import getpass

from .. import errors
from ..config import save_config
from .commands import add_command
from .connection import client_from_args

__all__ = ["register"]


def _login(args: argparse.Namespace) -> int:
    key = args.api_key or getpass.getpass("Gizmo API key: ").strip()
    if not key:
        raise errors.ConfigurationError("No key was entered.")
    args.api_key = key
    with client_from_args(args) as client:
        args.base_url_in_use = client.base_url
        client.scenes.list(limit=1)  # proves the key works before it is saved
        path = save_config(api_key=key, base_url=client.base_url)
        print(f"Logged in to {client.base_url}; key saved to {path} (mode 0600).")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(
        commands,
        "login",
        "check an API key and save it with its base URL (mode 0600)",
        command=_login,
        details="Without --api-key, asks for the key (not echoed).",
    )
