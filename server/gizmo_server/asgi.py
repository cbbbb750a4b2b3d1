"""Small helpers shared by the raw ASGI middlewares (request ids, body guard, faults, limits)."""

from __future__ import annotations

from starlette.types import Message, Scope

__all__ = ["API_PREFIX", "DOWNLOADS_PREFIX", "add_headers", "header", "is_api_call"]

API_PREFIX = "/v1"
DOWNLOADS_PREFIX = f"{API_PREFIX}/downloads/"
_DOC_PATHS = frozenset(
    f"{API_PREFIX}/{name}"
    for name in ("openapi.json", "openapi-alpha.json", "openapi-jobs.json", "docs")
)


def header(scope: Scope, name: str) -> str | None:
    """The first value of a request header (`name` in lower case), decoded as latin-1."""
    wanted = name.encode("latin-1")
    for key, value in scope["headers"]:
        if key == wanted:
            return str(value.decode("latin-1"))
    return None


def add_headers(message: Message, headers: dict[str, str]) -> None:
    """Append headers to an `http.response.start` message in place."""
    message["headers"] = [
        *message.get("headers", []),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]


def is_api_call(scope: Scope) -> bool:
    """An HTTP request to an API route (not the OpenAPI document or the docs page)."""
    path: str = scope["path"]
    return scope["type"] == "http" and path.startswith(f"{API_PREFIX}/") and path not in _DOC_PATHS
