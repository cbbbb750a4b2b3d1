"""`gizmo catalog …`: search and show the service's premade assets (jobs generation)."""

from __future__ import annotations

import argparse
from typing import Any

from ..client import GizmoClient
from ..generation import ApiGeneration
from .arguments import add_pagination
from .commands import add_command
from .connection import require_generation
from .output import clip, note, print_json, table

__all__ = ["register"]

_ALPHA_INSTEAD = "The alpha generation has no catalog: generate with `gizmo assets generate`."


def _search(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "catalog search", _ALPHA_INSTEAD)
    page = client.catalog.search(
        args.query, category=args.category, limit=args.limit, offset=args.offset
    )
    if args.json:
        print_json(
            {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}
        )
        return 0
    if not page.items:
        wanted = f" matching {args.query!r}" if args.query else ""
        inside = f" in category {args.category!r}" if args.category else ""
        note(f"no catalog item{wanted}{inside}")
        return 0
    table(
        ["SLUG", "NAME", "CATEGORY", "DESCRIPTION"],
        [
            [i.slug, i.name or "", i.category or "", clip(i.description or "", 40)]
            for i in page.items
        ],
    )
    note(f"\n{len(page.items)} shown of {page.total} item(s)")
    return 0


def _categories(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "catalog categories", _ALPHA_INSTEAD)
    found = client.catalog.categories()
    if args.json:
        print_json(found)
        return 0
    table(
        ["CATEGORY", "NAME", "ITEMS"],
        [[c.slug, c.name or "", "" if c.count is None else c.count] for c in found],
    )
    return 0


def _show(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "catalog show", _ALPHA_INSTEAD)
    item = client.catalog.get(args.slug)
    if args.json:
        print_json(item)
        return 0
    print(f"{item.slug}  {item.name or ''}".rstrip())
    extra: dict[str, Any] = item.model_dump(exclude={"slug", "name"}, exclude_none=True)
    for key, value in extra.items():
        print(f"  {key}: {value}")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(commands, "catalog", "search the premade assets (jobs API)")
    cc = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(cc, "search", "premade assets matching a text, by category", _search)
    p.add_argument("query", nargs="?", help="words to match (default: everything)")
    p.add_argument("--category", help="only this category (see `gizmo catalog categories`)")
    add_pagination(p, "items", walk=False)
    add_command(cc, "categories", "the catalog's categories", _categories)
    p = add_command(cc, "show", "one premade asset", _show)
    p.add_argument("slug")
