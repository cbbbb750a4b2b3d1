"""What the panel says when something fails: one `PanelError` per failure, saying what to do.

The controller turns every exception a job raises into one of these; the window shows the title,
the detail and the hint, and a Retry button (`retry_label`) when the job can run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gizmo_client.errors import (
    AssetsNotReadyError,
    AuthenticationError,
    ConfigurationError,
    GizmoConnectionError,
    GizmoError,
    GizmoTimeoutError,
    InsufficientCreditsError,
    JobFailedError,
    RateLimitError,
    SceneNotReadyError,
    ServerError,
)

from .data import UnsavedChangesError, UsdFileError
from .job_progress import PromptError
from .settings import ConnectionSettings

__all__ = ["KEY_HINT", "ErrorKind", "PanelError", "describe"]


class ErrorKind(str, Enum):
    NO_KEY = "no_key"
    AUTH = "auth"
    NOT_READY = "not_ready"
    PROMPT = "prompt"
    CREDITS = "credits"
    JOB_FAILED = "job_failed"
    NETWORK = "network"
    FILE = "file"
    UNSAVED = "unsaved"
    OTHER = "other"


@dataclass(frozen=True)
class PanelError:
    kind: ErrorKind
    title: str
    detail: str
    hint: str
    can_retry: bool
    asset_names: tuple[str, ...] = ()
    retry_label: str = "Retry"


KEY_HINT = (
    "Set GIZMO_API_KEY in the environment before starting Isaac Sim, or paste the key into the "
    "panel's API key field and press Save (it is kept in Kit's persistent settings; the "
    "environment variable wins). `gizmo login` on this machine works too."
)


def describe(
    exc: BaseException, connection: ConnectionSettings, not_ready_timeout: float
) -> PanelError:
    """Turn a failure into what the user should read and do."""
    url = connection.base_url or "the default Gizmo API"
    if isinstance(exc, ConfigurationError):
        return PanelError(ErrorKind.NO_KEY, "No Gizmo API key", exc.message, KEY_HINT, True)
    if isinstance(exc, AuthenticationError):
        source = connection.api_key_source
        return PanelError(
            ErrorKind.AUTH,
            "The API key was rejected (HTTP 401)",
            f"The key from the {source} is not accepted by {url}.",
            KEY_HINT + " Check that the base URL is the one the key belongs to.",
            True,
        )
    if isinstance(exc, AssetsNotReadyError):
        names = tuple(exc.asset_names)
        return PanelError(
            ErrorKind.NOT_READY,
            "Assets are still generating",
            f"Still not ready after {not_ready_timeout:.0f} s: {', '.join(names) or exc.message}.",
            "Wait until every asset of the scene is ready, then press Retry.",
            True,
            names,
        )
    if isinstance(exc, SceneNotReadyError):
        return PanelError(
            ErrorKind.NOT_READY,
            "The scene is still generating",
            f"Still not ready after {not_ready_timeout:.0f} s: {exc.message}",
            "Wait until its generation finishes (its status in the list), then press Retry.",
            True,
        )
    if isinstance(exc, PromptError):
        return PanelError(
            ErrorKind.PROMPT,
            "No prompt",
            str(exc),
            "Type what the scene should hold (or, for an edit, what to change), then press "
            "Generate or Edit again.",
            False,
        )
    if isinstance(exc, InsufficientCreditsError):
        return PanelError(
            ErrorKind.CREDITS,
            "Not enough credits (HTTP 402)",
            exc.message,
            "Top the account's credits up (`gizmo usage` shows them), then press Retry.",
            True,
        )
    if isinstance(exc, JobFailedError):
        return PanelError(
            ErrorKind.JOB_FAILED,
            "The generation failed",
            _one_line(exc.message),
            exc.hint or "Rephrase the prompt, or press Retry to run it again.",
            True,
        )
    if isinstance(exc, (GizmoConnectionError, GizmoTimeoutError, ServerError, RateLimitError)):
        return PanelError(
            ErrorKind.NETWORK,
            f"Could not reach Gizmo at {url}",
            exc.message,
            exc.hint or "Check the network and the base URL, then press Retry.",
            True,
        )
    if isinstance(exc, GizmoError):
        return PanelError(ErrorKind.OTHER, "Gizmo request failed", exc.message, exc.hint, True)
    if isinstance(exc, UnsavedChangesError):
        return PanelError(
            ErrorKind.UNSAVED,
            "The stage has unsaved changes",
            str(exc),
            "Save them first (File → Save), or press the button to open the scene anyway "
            "and discard them.",
            True,
            retry_label="Open anyway (discard changes)",
        )
    if isinstance(exc, UsdFileError):
        return PanelError(
            ErrorKind.FILE,
            "The scene file could not be used",
            str(exc),
            "Nothing was changed in the stage. Press Retry to fetch the scene again.",
            True,
        )
    return PanelError(
        ErrorKind.OTHER,
        "Unexpected error",
        f"{type(exc).__name__}: {exc}",
        "See the console log for details; please report it.",
        True,
    )


def _one_line(text: str) -> str:
    """The panel's error line holds one line: a service's multi-line reason is joined."""
    return " ".join(text.split())
