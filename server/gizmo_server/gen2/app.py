"""The generation's ASGI app: its routes, nested error envelopes, and per-key rate limits.

Requests pass, outermost first: request id and last-resort 500 (nested) -> rate limit (headers on
every answer, 429 without Retry-After) -> the alpha body guard (size cap, JSON only, strict JSON;
its refusals become 422) -> the server's export pool (`export_pool.PoolScope`) -> routes. A full
disk (507) and the export pool's refusals (503 queue full, 500 worker lost) are answered by
exception handlers, inside the rate limit, so they carry its headers like every answer.
FastAPI's validation errors become 422 `validation_error` with `details`; unknown routes and
methods 404 `route_not_found`.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gizmo_server import __version__
from gizmo_server.asgi import add_headers, header
from gizmo_server.errors import ApiError, export_failed, is_disk_full, storage_full
from gizmo_server.export_pool import ExportQueueFull, ExportWorkerLost, PoolScope
from gizmo_server.middleware import BodyGuard, RequestContext

from .accounts import SERVICE_TOKEN_HEADER, Gen2Accounts, presented_key
from .errors import Gen2Error
from .routes import router
from .runtime import Gen2Runtime

__all__ = ["create_gen2_app"]

logger = logging.getLogger("gizmo_server")


def _validation(exc: RequestValidationError) -> Gen2Error:
    details: list[dict[str, Any]] = [
        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(d['loc'][1:]) or d['loc'][0]}: {d['msg']}" for d in details[:5])
    return Gen2Error(422, "validation_error", f"Invalid request: {summary}.", details=details)


class RateLimits:
    """Counts every request against its key's window; adds the headers to every answer."""

    def __init__(self, app: ASGIApp, accounts: Gen2Accounts) -> None:
        self.app = app
        self.accounts = accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = presented_key(header(scope, "authorization"), header(scope, SERVICE_TOKEN_HEADER))
        if scope["type"] != "http" or key is None:
            await self.app(scope, receive, send)
            return
        decision = self.accounts.take(key)
        headers = decision.headers()
        self.accounts.count(key, "requests")
        if not decision.allowed:
            self.accounts.count(key, "rate_limited")
            error = Gen2Error(
                429,
                "rate_limit_exceeded",
                f"Rate limit of {decision.limit} requests per minute exceeded; wait until "
                f"X-RateLimit-Reset ({decision.reset}, epoch seconds).",
                headers=headers,
            )
            await error.response()(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(message, headers)
                self.accounts.count(key, f"status_{message['status'] // 100}xx")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _refused_body(error: ApiError) -> Response:
    """The body guard's refusal (size, content type, strict JSON) as this generation's 422."""
    details = [{"loc": ["body"], "msg": error.message, "type": error.code}]
    return Gen2Error(
        422, "validation_error", error.message, details=details, headers=error.headers
    ).response()


def _nested(error: ApiError) -> Response:
    """An alpha-shaped error (last-resort 500, 507 full disk, export refusals) as this
    generation's envelope."""
    return Gen2Error(error.status, error.code, error.message, headers=error.headers).response()


def create_gen2_app(runtime: Gen2Runtime, max_body_bytes: int) -> FastAPI:
    app = FastAPI(
        title="Gizmo jobs generation (local)",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.gen2 = runtime
    app.include_router(router)

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Gen2Error)
        return exc.response()

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation(exc).response()

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (404, 405):
            return Gen2Error(
                404,
                "route_not_found",
                f"No such route: {request.method} {request.url.path}.",
            ).response()
        if exc.status_code == 400:  # a body Starlette cannot even decode
            return Gen2Error(
                422,
                "validation_error",
                f"The request body must be a JSON object: {exc.detail}.",
                details=[{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}],
            ).response()
        return Gen2Error(exc.status_code, "http_error", str(exc.detail)).response()

    async def on_export_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ExportQueueFull | ExportWorkerLost)
        return _nested(export_failed(exc))

    async def on_storage_error(request: Request, exc: Exception) -> Response:
        if not is_disk_full(exc):
            raise exc  # RequestContext's last-resort 500
        logger.error("%s %s: the disk is full", request.method, request.url.path)
        return _nested(storage_full())

    app.add_exception_handler(Gen2Error, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(ExportQueueFull, on_export_error)
    app.add_exception_handler(ExportWorkerLost, on_export_error)
    app.add_exception_handler(OSError, on_storage_error)
    app.add_exception_handler(sqlite3.Error, on_storage_error)
    app.add_middleware(PoolScope, pool=runtime.exports)
    app.add_middleware(BodyGuard, max_bytes=max_body_bytes, render=_refused_body)
    app.add_middleware(RateLimits, accounts=runtime.accounts)
    app.add_middleware(RequestContext, render=_nested)
    return app
