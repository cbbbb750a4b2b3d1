"""The generation's error envelope: `{"error": {"code", "message", "status"}}` (+ `details`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["Gen2Error", "conflict", "forbidden", "not_found", "validation_error"]


class Gen2Error(Exception):
    """An error answer; handlers raise it, the app's handler turns it into the nested body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details is not None:
            error["details"] = self.details
        return {"ok": False, "error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def not_found(code: str, message: str) -> Gen2Error:
    return Gen2Error(404, code, message)


def forbidden(message: str) -> Gen2Error:
    return Gen2Error(403, "forbidden", message)


def conflict(message: str) -> Gen2Error:
    return Gen2Error(409, "scene_not_ready", message)


def validation_error(message: str, details: list[dict[str, Any]]) -> Gen2Error:
    return Gen2Error(422, "validation_error", message, details=details)
