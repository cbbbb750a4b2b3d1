"""Exit codes, and how each failure becomes one line on stderr (or JSON with `--json`).

Every error the CLI can meet ends here: the client's typed errors, file-system errors, and the
CLI's own `CliError`. Nothing else prints errors, so the wording and the codes stay consistent.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .. import errors

__all__ = [
    "EXIT_AUTH",
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_CREDITS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_NOT_FOUND",
    "EXIT_NOT_READY",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliError",
    "Failure",
    "Interrupted",
    "describe",
    "redact",
    "report",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_NOT_READY, EXIT_NETWORK = range(7)
EXIT_CREDITS = 7
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away (`| head`)
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_ERROR: "other error (file system included)",
    EXIT_USAGE: "usage error",
    EXIT_AUTH: "no key, bad key, bad base URL or config file, or not allowed",
    EXIT_NOT_FOUND: "scene, asset or job not found",
    EXIT_NOT_READY: "not ready yet, or generation failed",
    EXIT_NETWORK: "network, timeout, service or download failure",
    EXIT_CREDITS: "insufficient credits",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "the reader of stdout went away",
}

_SECRET_QUERY = re.compile(
    r"((?:[?&]|\b)(?:signature|sig|token|access_token|x-amz-signature|x-amz-security-token|"
    r"x-goog-signature)=)[^&\s\"']+",
    re.IGNORECASE,
)
_DOWNLOAD_TOKEN = re.compile(r"(/downloads/)[A-Za-z0-9_\-]{8,}")


def redact(text: str) -> str:
    """`text` without signed-URL secrets: signature/token query values, download tokens."""
    return _DOWNLOAD_TOKEN.sub(r"\1***", _SECRET_QUERY.sub(r"\1***", text))


class CliError(Exception):
    """A failure the CLI itself detected, with the exit code and what to do."""

    def __init__(self, code: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while something goes on elsewhere; `note` says how to pick it up again."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


@dataclass(frozen=True)
class Failure:
    code: int
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _version_missing(base_url: str) -> str | None:
    """`base_url` plus `/v1` when its path names no API version, else None."""
    parts = urlsplit(base_url)
    if re.search(r"/v\d+$", parts.path.rstrip("/")):
        return None
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/v1"))


def _api_failure(exc: errors.APIStatusError, base_url: str | None) -> Failure:
    code = _exit_code(exc)
    what = exc.api_message or f"{type(exc).__name__}"
    tags = [f"HTTP {exc.status}"] + ([exc.code] if exc.code else [])
    if exc.request_id:
        tags.append(f"request id {exc.request_id}")
    hint = exc.hint
    with_v1 = _version_missing(base_url) if base_url else None
    if isinstance(exc, errors.NotFoundError) and with_v1:
        hint = f"The base URL {base_url} names no API version: did you mean {with_v1}?"
    details = {"status": exc.status, "code": exc.code, "request_id": exc.request_id}
    return Failure(code, f"{what.rstrip('.')} ({', '.join(tags)})", hint, details)


def _connection_failure(exc: errors.GizmoError, base_url: str | None) -> Failure:
    parts = urlsplit(base_url or "")
    text = exc.message
    if isinstance(exc.__cause__, requests.exceptions.SSLError) and parts.scheme == "https":
        plain = urlunsplit(parts._replace(scheme="http"))
        return Failure(  # a URL mistake, not the network: retrying cannot help
            EXIT_AUTH,
            f"TLS handshake with {parts.netloc} failed: it does not speak https",
            f"If it is a plain-http server (such as gizmo-server), use {plain}.",
        )
    if isinstance(exc, errors.GizmoConnectionError) and _is_loopback(parts.hostname or ""):
        return Failure(
            EXIT_NETWORK,
            f"connection refused: is `gizmo-server` running? (nothing answers at {base_url})",
            "Start it with `gizmo-server --demo`, or fix GIZMO_BASE_URL / --base-url.",
        )
    return Failure(EXIT_NETWORK, text, exc.hint)


_EXIT_BY_ERROR: tuple[tuple[type[errors.GizmoError], int], ...] = (
    # Most specific first: LinkExpiredError is a PermissionDeniedError, and so on.
    (errors.InsufficientCreditsError, EXIT_CREDITS),
    (errors.LinkExpiredError, EXIT_NETWORK),
    (errors.ConfigurationError, EXIT_AUTH),
    (errors.AuthenticationError, EXIT_AUTH),
    (errors.PermissionDeniedError, EXIT_AUTH),
    (errors.NotFoundError, EXIT_NOT_FOUND),
    (errors.AssetsNotReadyError, EXIT_NOT_READY),
    (errors.ConflictError, EXIT_NOT_READY),
    (errors.AssetGenerationFailedError, EXIT_NOT_READY),
    (errors.JobFailedError, EXIT_NOT_READY),
    (errors.WrongGenerationError, EXIT_USAGE),
    (errors.UnsupportedFormatError, EXIT_USAGE),
    (errors.GizmoConnectionError, EXIT_NETWORK),
    (errors.GizmoTimeoutError, EXIT_NETWORK),
    (errors.ServerError, EXIT_NETWORK),
    (errors.RateLimitError, EXIT_NETWORK),
    (errors.DownloadIntegrityError, EXIT_NETWORK),
    (errors.StreamProtocolError, EXIT_NETWORK),
)


def _exit_code(exc: errors.GizmoError) -> int:
    if isinstance(exc, errors.APIStatusError) and exc.status == 402:
        return EXIT_CREDITS
    for cls, code in _EXIT_BY_ERROR:
        if isinstance(exc, cls):
            return code
    return EXIT_ERROR


_OS_HINTS = {
    errno.ENOENT: "Check the path: nothing by that name exists there.",
    errno.ENOSPC: "The disk is full: free some space, or point GIZMO_CACHE_DIR (or -o) elsewhere.",
    errno.EDQUOT: "The disk quota is used up: free some space, or point GIZMO_CACHE_DIR elsewhere.",
}
_OS_DEFAULT_HINT = (
    "Choose a writable folder: GIZMO_CACHE_DIR for the export cache, -o/--out for output files."
)


def _os_failure(exc: OSError) -> Failure:
    where = exc.filename or ""
    reason = exc.strerror or str(exc)
    message = f"cannot use {where}: {reason}" if where else f"file system error: {reason}"
    return Failure(EXIT_ERROR, message, _OS_HINTS.get(exc.errno or 0, _OS_DEFAULT_HINT))


def describe(exc: BaseException, base_url: str | None = None) -> Failure:
    """The exit code, line and hint for `exc` (`base_url`: what the CLI was talking to)."""
    if isinstance(exc, CliError):
        return Failure(exc.code, exc.message, exc.hint)
    if isinstance(exc, errors.APIStatusError):
        return _api_failure(exc, base_url)
    if isinstance(exc, (errors.GizmoConnectionError, errors.GizmoTimeoutError)):
        return _connection_failure(exc, base_url)
    if isinstance(exc, errors.GizmoError):
        return Failure(_exit_code(exc), exc.message, exc.hint)
    if isinstance(exc, OSError):
        return _os_failure(exc)
    raise TypeError(f"not a failure the CLI describes: {type(exc).__name__}")


def report(failure: Failure, *, as_json: bool, label: str = "error: ") -> int:
    """Print `failure` on stderr (one line and a hint, or one JSON object); return its code."""
    if as_json:
        body = {
            "error": {
                "message": redact(failure.message),
                "hint": redact(failure.hint) or None,
                "exit_code": failure.code,
                **failure.details,
            }
        }
        print(json.dumps(body), file=sys.stderr)
    else:
        message = redact(failure.message).rstrip()
        if failure.hint and not message.endswith((".", "?", "!")):
            message += "."
        hint = f" {redact(failure.hint)}" if failure.hint else ""
        print(f"{label}{message}{hint}", file=sys.stderr)
    return failure.code
