"""`ETag` / `If-None-Match` for cheap polling of a scene (both generations).

The tag is a fingerprint of what the answer is built from (taken before the answer is built),
so a poll whose `If-None-Match` holds the current tag is answered 304 without reading or
serialising the scene. Tags are strong and opaque; `If-None-Match` is compared weakly (a `W/`
prefix is ignored) and may list several tags or be `*`, as RFC 9110 says.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

__all__ = ["NOT_MODIFIED", "etag", "matches", "not_modified"]

NOT_MODIFIED: dict[int | str, dict[str, object]] = {
    304: {"description": "Not modified: `If-None-Match` holds the current `ETag`; no body."}
}


def etag(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return f'"{digest.hexdigest()[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """True if the `If-None-Match` header names `tag` (or is `*`)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


def not_modified(tag: str) -> Response:
    """304: no body, the tag repeated."""
    return Response(status_code=304, headers={"ETag": tag})
