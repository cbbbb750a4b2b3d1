"""Waiting for generation, shown as it happens: an asset's status changes (alpha) or a job's
events (jobs generation) with the elapsed time, live on a terminal; on failure, timeout or
Ctrl-C, what goes on and the command that resumes watching."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import errors
from ..client import GizmoClient
from ..models import Asset, AssetStatus
from ..models_jobs import Job, JobEvent
from .failures import EXIT_NETWORK, EXIT_NOT_READY, CliError, Interrupted

__all__ = [
    "JobProgress",
    "StatusLine",
    "follow_job",
    "not_ready_assets",
    "resumable",
    "wait_for_asset",
]


def _line(text: str) -> None:
    """One progress line in one write: `print` writes the text and its newline separately, and a
    Ctrl-C between the two glued the "interrupted" message onto the last progress line."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class StatusLine:
    """`update(text)` shows `text` with the time since start: a line per change on a pipe, one
    refreshed line on a terminal (from the first update on); silent when `enabled` is false."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.started = time.monotonic()
        self._enabled = enabled
        self._last: str | None = None
        self._bar: Any = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, text: str) -> None:
        if not self._enabled:
            return
        if sys.stderr.isatty():
            if self._bar is None:  # made on the first update: nothing to wait for, no line
                from tqdm import tqdm

                self._bar = tqdm(file=sys.stderr, bar_format="{desc} {elapsed}")
            self._bar.set_description_str(f"{self.label}: {text}")
            return
        if text != self._last:
            _line(f"{self.label}: {text} ({self.elapsed:.1f} s)")
        self._last = text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextmanager
def resumable(what: str, resume: str) -> Iterator[None]:
    """Turn Ctrl-C into `Interrupted` saying that `what` goes on and how to `resume` watching."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted):
            raise
        raise Interrupted(f"stopped watching; {what} goes on. Watch again: {resume}") from None


def wait_for_asset(client: GizmoClient, asset_id: str, timeout: float, *, show: bool) -> Asset:
    """Wait until the asset is ready; a failure or a timeout becomes a `CliError` that says what
    to do (a failed asset is never told to wait)."""
    line = StatusLine(asset_id, show)
    resume = f"gizmo assets wait {asset_id}"
    try:
        with resumable(f"generation of {asset_id}", resume):
            asset = client.assets.wait_until_ready(
                asset_id, timeout, lambda a: line.update(a.status.value)
            )
    except errors.AssetGenerationFailedError as exc:
        raise CliError(
            EXIT_NOT_READY,
            exc.message,
            "It will not become ready: generate it again, with a more specific prompt "
            "(`gizmo assets generate PROMPT --wait`).",
        ) from exc
    except errors.GizmoTimeoutError as exc:
        raise CliError(
            EXIT_NETWORK,
            f"{exc.message}; generation goes on on the service",
            f"Watch it again with `{resume}` (or a longer --timeout).",
        ) from exc
    finally:
        line.close()
    return asset


def not_ready_assets(client: GizmoClient, asset_ids: list[str]) -> list[Asset]:
    """Those of `asset_ids` that are not ready right now."""
    assets = [client.assets.get(asset_id) for asset_id in dict.fromkeys(asset_ids)]
    return [a for a in assets if a.status != AssetStatus.READY]


def _event_text(event: JobEvent) -> str | None:
    """What a person wants to read about `event` (None: nothing, e.g. `done`)."""
    what = event.stage or ""
    if event.asset_id and event.type.startswith("stage_"):
        what += f" ({event.asset_id})"
    texts = {
        "job_queued": "queued",
        "job_started": "started",
        "stage_start": f"{what} …",
        "stage_complete": f"{what} done",
        "asset_ready": f"asset {event.asset_id} ready",
        "error": f"error: {event.message or 'no message'}",
        "job_succeeded": "succeeded",
        "job_failed": f"failed: {event.message or 'no reason given'}",
        "job_cancelled": "cancelled",
    }
    return texts.get(event.type, None if event.type in ("done", "ping") else event.type)


class JobProgress:
    """Live progress of a job from its events: a tqdm bar (stage, percent, elapsed) with asset
    lines above it on a terminal; one line per event with the elapsed time otherwise."""

    def __init__(self, job_id: str, enabled: bool) -> None:
        self.job_id = job_id
        self.started = time.monotonic()
        self._enabled = enabled
        self._bar: Any = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=100,
                file=sys.stderr,
                desc=job_id,
                bar_format="{desc} {bar} {percentage:3.0f}% {elapsed}",
            )

    def __call__(self, event: JobEvent) -> None:
        text = _event_text(event)
        if not self._enabled or text is None:
            return
        if self._bar is None:
            elapsed = time.monotonic() - self.started
            _line(f"{self.job_id} {elapsed:6.1f} s  {text}")
            return
        if event.progress is not None:
            self._bar.update(round(100 * event.progress) - self._bar.n)
        if event.type == "stage_start":
            self._bar.set_description_str(f"{self.job_id} {text}")
        elif event.type in ("asset_ready", "error", "job_failed"):
            self._bar.write(f"{self.job_id} {text}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def follow_job(client: GizmoClient, job_id: str, timeout: float, *, show: bool) -> Job:
    """Follow a job to its end, showing progress; failure, timeout and Ctrl-C become errors
    that say what goes on and which command watches it again."""
    progress = JobProgress(job_id, show)
    watch = f"gizmo jobs watch {job_id}"
    try:
        with resumable(f"job {job_id}", f"{watch} (or stop it: gizmo jobs cancel {job_id})"):
            return client.jobs.wait(job_id, on_event=progress, timeout=timeout)
    except errors.JobFailedError as exc:
        raise CliError(
            EXIT_NOT_READY,
            exc.message,
            f"See `gizmo jobs show {job_id}`; rephrase the prompt and generate again.",
        ) from exc
    except errors.GizmoTimeoutError as exc:
        raise CliError(
            EXIT_NETWORK,
            f"job {job_id} has not finished after {timeout:.0f} s; it goes on on the service",
            f"Watch it again with `{watch}` (or a longer --timeout).",
        ) from exc
    finally:
        progress.close()
