"""Waiting for generation, shown as it happens: one line per status change with the elapsed
time (a live line on a terminal), and on timeout or Ctrl-C the command that resumes watching."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import errors
from ..client import GizmoClient
from ..models import Asset, AssetStatus
from .failures import EXIT_NETWORK, EXIT_NOT_READY, CliError, Interrupted

__all__ = ["StatusLine", "not_ready_assets", "resumable", "wait_for_asset"]


class StatusLine:
    """`update(text)` shows `text` with the time since start: a line per change on a pipe, one
    refreshed line on a terminal; silent when `enabled` is false (--json)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.started = time.monotonic()
        self._enabled = enabled
        self._last: str | None = None
        self._bar: Any = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(file=sys.stderr, bar_format="{desc} {elapsed}", desc=label)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, text: str) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.set_description_str(f"{self.label}: {text}")
            return
        if text != self._last:
            print(f"{self.label}: {text} ({self.elapsed:.1f} s)", file=sys.stderr)
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
