"""The outer middlewares: request ids and the last-resort 500, and the request-body guard."""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Callable
from typing import NoReturn

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import add_headers, header
from .errors import ApiError, bad_request, internal_error, is_disk_full, storage_full

__all__ = ["BodyGuard", "RequestContext", "request_body"]

logger = logging.getLogger("gizmo_server")

_BODY = "gizmo.body"
_REQUEST_ID = "gizmo.request_id"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_body(scope: Scope) -> bytes:
    """The body `BodyGuard` read for this request (empty for requests without one)."""
    body: bytes = scope.get(_BODY, b"")
    return body


class RequestContext:
    """Gives every response an `X-Request-Id`; turns any unhandled exception into a 500 envelope,
    or 507 when the disk is full (`render` shapes it: each API generation has its own envelope)."""

    def __init__(
        self, app: ASGIApp, render: Callable[[ApiError], Response] = ApiError.response
    ) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope[_REQUEST_ID] = f"req_{secrets.token_hex(12)}"
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                add_headers(message, {"X-Request-Id": request_id})
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            full = is_disk_full(exc)
            if full:
                logger.error(
                    "%s %s: the disk is full [%s]", scope["method"], scope["path"], request_id
                )
            else:
                logger.exception("%s %s failed [%s]", scope["method"], scope["path"], request_id)
            if started:
                raise  # too late for an envelope: uvicorn closes the connection
            error = storage_full() if full else internal_error()
            await self.render(error)(scope, receive, send_with_id)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number; send finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _check_json(body: bytes) -> None:
    """Raise 400 `invalid_body` unless `body` is strict JSON (no NaN/Infinity, finite numbers)."""
    try:
        json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise bad_request(
            "invalid_body", f"The request body is not valid JSON: {detail[:200]}."
        ) from None


class BodyGuard:
    """Reads write requests' bodies up front: size cap, JSON only, strict JSON (all 400).

    A body without Content-Type is taken as JSON; one declared as anything else but JSON
    (`application/json` or `*/*+json`) is refused with a message saying what to send.

    The body is then replayed to the app and kept for `request_body` (idempotency hashes it).
    An over-long body is still drained (up to 16 times the cap) before answering, so the client
    reads a clean 400 instead of a connection reset in the middle of its upload.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        render: Callable[[ApiError], Response] = lambda error: error.response(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render = render  # each API generation renders the refusal in its own envelope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            content_type = (header(scope, "content-type") or "").split(";")[0].strip().lower()
            if content_type and not (
                content_type == "application/json" or content_type.endswith("+json")
            ):
                raise bad_request(
                    "invalid_body",
                    f"Content-Type {content_type!r} is not supported; send a JSON body with "
                    "Content-Type: application/json.",
                )
            if body:
                _check_json(body)
        except ApiError as error:
            await self.render(error)(scope, receive, send)
            return
        if not content_type:  # lenient: a body without a type is read as the JSON it must be
            scope["headers"] = [*scope["headers"], (b"content-type", b"application/json")]
        scope[_BODY] = body
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > 16 * self.max_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size <= self.max_bytes:
                chunks.append(chunk)
            elif size > 16 * self.max_bytes:
                break
            if not message.get("more_body", False):
                break
        if size > self.max_bytes:
            raise self._too_large()
        return b"".join(chunks)

    def _too_large(self) -> ApiError:
        return ApiError(
            400,
            "invalid_request",
            "invalid_body",
            f"The request body is larger than {self.max_bytes} bytes; requests carry small "
            "JSON objects.",
            headers={"Connection": "close"},  # the rest of the body is not read
        )
