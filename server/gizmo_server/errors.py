"""The one error envelope: every non-2xx answer is `{"error", "code", "message"}` (plus extras).

Handlers and middlewares raise or send `ApiError`; nothing else builds an error body, so no
response can ever be an HTML page or a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "ApiError",
    "bad_request",
    "forbidden",
    "internal_error",
    "not_found",
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
