"""Typed errors: one base, a subclass per HTTP status family, and the failures around them.

Every message carries what happened, the HTTP status, the API's `code` and `message`, the
`X-Request-Id` to quote to support, and a hint saying what to do. None of them ever holds the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIStatusError",
    "AssetGenerationFailedError",
    "AssetsNotReadyError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DownloadIntegrityError",
    "GizmoConnectionError",
    "GizmoError",
    "GizmoTimeoutError",
    "InsufficientCreditsError",
    "JobFailedError",
    "LinkExpiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SceneNotReadyError",
    "ServerError",
    "StreamProtocolError",
    "UnsafeArchiveError",
    "UnsupportedFormatError",
    "WrongGenerationError",
    "error_for_response",
]


class GizmoError(Exception):
    """Base of every error this client raises."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        if hint is not None:
            self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ConfigurationError(GizmoError):
    hint = (
        "Set an API key with `export GIZMO_API_KEY=...`, pass api_key=..., or run `gizmo login`. "
        "To try everything offline, start `gizmo-server --demo` and use the key it prints."
    )


class APIStatusError(GizmoError):
    """The API answered with a non-2xx status."""

    def __init__(
        self,
        *,
        status: int,
        code: str | None,
        api_message: str | None,
        request_id: str | None,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.code = code
        self.api_message = api_message
        self.request_id = request_id
        self.body = body or {}
        #: Per-field validation problems (the newer generation's 422 carries them).
        self.details: Any = self.body.get("details")
        text = f"{method} {path} failed: HTTP {status}"
        if code:
            text += f" ({code})"
        if api_message:
            text += f": {api_message}"
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text, hint=hint)


class BadRequestError(APIStatusError):
    hint = "The request was rejected as invalid; check the values named in the message."


class AssetsNotReadyError(BadRequestError):
    """An asset is still pending or processing (add-asset or export)."""

    hint = "Wait until the assets are ready (`gizmo assets show ID`), then try again."

    @property
    def asset_names(self) -> list[str]:
        """Names (or ids) of the assets that are not ready, when the server lists them."""
        listed = self.body.get("assets") or self.body.get("asset_names") or []
        names: list[str] = []
        for item in listed if isinstance(listed, Sequence) else []:
            if isinstance(item, dict):
                names.append(str(item.get("name") or item.get("id")))
            else:
                names.append(str(item))
        return names


class InsufficientCreditsError(APIStatusError):
    hint = "The account has no credits left for generation; top it up, then try again."


class ConflictError(APIStatusError):
    hint = "The resource is not in a state that allows this yet; wait, then try again."


class SceneNotReadyError(ConflictError):
    """Export of a scene whose generation job has not succeeded (newer generation, 409)."""

    hint = "The scene is still generating: wait for its job (`client.jobs.wait(job_id)`)."


class AuthenticationError(APIStatusError):
    hint = (
        "The API key was missing, malformed, unknown or expired. Check GIZMO_API_KEY "
        "(or run `gizmo login`) and that the base URL is the one your key belongs to."
    )


class PermissionDeniedError(APIStatusError):
    hint = "This resource belongs to another account, or the action is not allowed for this key."


class NotFoundError(APIStatusError):
    hint = (
        "Check the id (alpha: scn_..., ast_...; jobs generation: 16 letters/digits, job_...) "
        "and the base URL."
    )


class RateLimitError(APIStatusError):
    hint = "Too many requests: slow down, or raise max_retries so the client waits and retries."


class ServerError(APIStatusError):
    hint = "The service failed; it was retried where safe. Try again later, quoting the request id."


class LinkExpiredError(PermissionDeniedError):
    hint = "Download links are short-lived: export again and download promptly."


class AssetGenerationFailedError(GizmoError):
    hint = "Generation failed on the service; rephrase the prompt and generate again."


class JobFailedError(GizmoError):
    """A generation job ended `failed` or `cancelled`; `job` is its last state."""

    hint = "Generation failed on the service; rephrase the prompt and generate again."

    def __init__(self, message: str, job: Any, *, hint: str | None = None) -> None:
        self.job = job
        super().__init__(message, hint=hint)


class WrongGenerationError(GizmoError):
    """A method of one API generation was called on a service that speaks the other."""


class UnsupportedFormatError(GizmoError, ValueError):
    hint = (
        "Use mjcf, usd or sdf (jobs generation) or mujoco_mjcf, isaac_sim_usd, isaac_sim_urdf "
        "(alpha generation)."
    )


class StreamProtocolError(GizmoError):
    """The job event stream broke the SSE rules beyond what can be skipped safely."""

    hint = "The event stream was malformed; `client.jobs.get(job_id)` still tells the job's state."


class GizmoConnectionError(GizmoError):
    hint = "Could not reach the API: check the network and the base URL (GIZMO_BASE_URL)."


class GizmoTimeoutError(GizmoError):
    hint = "The operation took too long; raise the timeout or try again later."


class DownloadIntegrityError(GizmoError):
    hint = "The download was incomplete or corrupted (it was retried); try the export again."


class UnsafeArchiveError(GizmoError):
    hint = "The export archive was refused for safety; nothing was unpacked. Report the scene id."


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
}
_NOT_READY_CODES = {"asset_not_ready", "assets_not_ready"}


def error_for_response(
    *,
    status: int,
    body: dict[str, Any] | None,
    request_id: str | None,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> APIStatusError:
    """Map a non-2xx answer to its error class: by status, by code only where the contract says.

    Both envelopes are read: the alpha's flat `{"error", "code", "message"}` and the newer
    generation's nested `{"error": {"code", "message", "status", "details"}}`.
    """
    body = body or {}
    nested = body.get("error")
    if isinstance(nested, dict):
        body = {**body, **nested, "error": nested.get("type", nested.get("code"))}
    code = body.get("code") if isinstance(body.get("code"), str) else None
    api_message = body.get("message") if isinstance(body.get("message"), str) else None
    cls: type[APIStatusError]
    if status == 400 and code in _NOT_READY_CODES:
        cls = AssetsNotReadyError
    elif status == 403 and code == "url_expired":
        cls = LinkExpiredError
    elif status == 409 and code == "scene_not_ready":
        cls = SceneNotReadyError
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, BadRequestError)
    return cls(
        status=status,
        code=code,
        api_message=api_message,
        request_id=request_id,
        method=method,
        path=path,
        body=body,
        retry_after=retry_after,
    )
