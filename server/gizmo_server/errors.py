"""The one error envelope: every non-2xx answer is `{"error", "code", "message"}` (plus extras).

Handlers and middlewares raise or send `ApiError`; nothing else builds an error body, so no
response can ever be an HTML page or a traceback.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from .export_pool import ExportQueueFull, ExportWorkerLost

__all__ = [
    "ApiError",
    "bad_request",
    "export_failed",
    "forbidden",
    "internal_error",
    "is_disk_full",
    "not_found",
    "storage_full",
    "unauthorized",
]


class ApiError(Exception):
    """An API error with its HTTP status, category (`error`), specific `code` and message."""

    def __init__(
        self,
        status: int,
        error: str,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {**self.extra, "error": self.error, "code": self.code, "message": self.message}

    def response(self) -> JSONResponse:
        """The JSON response; also an ASGI app, so raw middlewares can `await` it directly."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(400, "invalid_request", code, message, extra=extra)


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        "authentication_error",
        "invalid_api_key",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="gizmo"'},
    )


def forbidden(message: str, code: str = "forbidden") -> ApiError:
    return ApiError(403, "permission_error", code, message)


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, "not_found", code, message)


def internal_error(message: str = "The server failed unexpectedly; this is a bug.") -> ApiError:
    return ApiError(500, "api_error", "internal_error", message)


def storage_full() -> ApiError:
    """507: the data directory's disk is full (the write was rolled back, nothing half-saved)."""
    return ApiError(
        507,
        "api_error",
        "insufficient_storage",
        "The server's disk is full, so nothing was saved; free space where its data directory "
        "lives (or restart it with --data on a disk with room), then retry.",
        headers={"Retry-After": "60"},
    )


def export_failed(exc: ExportQueueFull | ExportWorkerLost) -> ApiError:
    """503 when the export queue is full (Retry-After: the estimated wait); 500 when the
    export's worker process died."""
    if isinstance(exc, ExportQueueFull):
        headers = {"Retry-After": str(exc.retry_after)}
        return ApiError(503, "api_error", "export_queue_full", str(exc), headers=headers)
    return ApiError(500, "api_error", "export_worker_lost", str(exc))


def is_disk_full(exc: BaseException) -> bool:
    """True if `exc`, or an exception it was raised from, is "no space left" (file or SQLite)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError) and (
            getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
