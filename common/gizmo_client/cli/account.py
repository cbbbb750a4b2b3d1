"""`gizmo login`, `gizmo whoami`, `gizmo usage`: the key, the account and its limits."""

from __future__ import annotations

import argparse
import getpass

from .. import errors
from ..client import GizmoClient
from ..config import save_config
from ..generation import ApiGeneration
from .commands import add_command
from .connection import client_from_args, require_generation
from .output import print_json

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
        generation = client.api_generation.value
    if args.json:
        print_json(
            {"base_url": client.base_url, "api_generation": generation, "saved_to": str(path)}
        )
    else:
        print(
            f"Logged in to {client.base_url} ({generation} API generation); "
            f"key saved to {path} (mode 0600)."
        )
    return 0


def _whoami(args: argparse.Namespace, client: GizmoClient) -> int:
    if client.api_generation is ApiGeneration.ALPHA:
        client.scenes.list(limit=1)  # the alpha generation has no whoami: prove the key instead
        body = {"base_url": client.base_url, "api_generation": "alpha", "key_valid": True}
        if args.json:
            print_json(body)
        else:
            print(f"{client.base_url}: the key works (alpha API generation: no account details)")
        return 0
    who = client.whoami()
    if args.json:
        print_json({"base_url": client.base_url, "api_generation": "jobs", **who.model_dump()})
        return 0
    user = who.user
    print(f"{client.base_url}  (jobs API generation)")
    print(f"  user: {user.get('email') or user.get('name') or user.get('id') or '?'}")
    if "credits" in user:
        print(f"  credits: {user['credits']}")
    print(f"  key: {who.key.prefix or '?'}…, {who.key.rate_limit_per_minute or '?'} requests/min")
    if who.key.scopes:
        print(f"  scopes: {', '.join(who.key.scopes)}")
    return 0


def _usage(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "usage", "The alpha generation counts nothing.")
    usage = client.usage().model_dump(mode="json")
    if args.json:
        print_json(usage)
        return 0
    for key, value in usage.items():
        print(f"{key}: {value}")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(
        commands,
        "login",
        "check an API key and save it with its base URL (mode 0600)",
        command=_login,
        details="Without --api-key, asks for the key (not echoed).",
    )
    add_command(commands, "whoami", "check the key; the account, credits, scopes, rate", _whoami)
    add_command(commands, "usage", "the key's request counts and rate limits (jobs API)", _usage)
