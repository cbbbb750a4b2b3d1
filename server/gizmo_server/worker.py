"""The generation worker: assets go `pending` -> `processing` -> `ready` (or `failed`).

One background thread runs a schedule (a heap of due times), so any number of assets progress
at once: each spends half the configured delay pending and half processing. Generation itself
happens at the end: the asset is rendered once in every format it offers, so a `ready` asset is
one that is known to export. An exception there, or an injected `generation_failed`, ends the
asset `failed` with its message. Unfinished assets are picked up again after a restart.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time

from . import exports
from .faults import Faults
from .store import AssetRow, Store

__all__ = ["GenerationWorker"]

logger = logging.getLogger("gizmo_server")


class GenerationWorker:
    def __init__(
        self,
        store: Store,
        faults: Faults,
        delay: float,
    ) -> None:
        if delay < 0:
            raise ValueError(f"the generation delay must not be negative, got {delay} s")
        self._store = store
        self._faults = faults
        self._half_delay = delay / 2
        self._queue: list[tuple[float, int, str, str]] = []  # (due, order, asset id, next step)
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="gizmo-generation", daemon=True)

    def start(self) -> None:
        """Start the thread, resuming assets left unfinished by a previous run."""
        for asset in self._store.unfinished_assets():
            self._schedule(asset.id, "processing" if asset.status == "pending" else "finish")
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, asset_id: str) -> None:
        """Begin generating a freshly created (pending) asset."""
        self._schedule(asset_id, "processing")

    def _schedule(self, asset_id: str, step: str) -> None:
        with self._wake:
            due = time.monotonic() + self._half_delay
            heapq.heappush(self._queue, (due, next(self._order), asset_id, step))
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                _, _, asset_id, step = heapq.heappop(self._queue)
            try:
                self._advance(asset_id, step)
            except Exception:  # keep the worker alive for the other assets
                logger.exception("generation step %s of %s failed", step, asset_id)

    def _advance(self, asset_id: str, step: str) -> None:
        if step == "processing":
            self._store.set_asset_status(asset_id, "processing")
            self._schedule(asset_id, "finish")
            return
        asset = self._store.get_asset(asset_id)
        if asset is None:
            return
        if self._faults.draw("generation") is not None:
            self._store.set_asset_status(
                asset_id,
                "failed",
                error="Generation failed: the generator gave up on this prompt "
                "(fault injected by gizmo-server: generation_failed).",
            )
            return
        try:
            formats = _generate(asset)
        except Exception as exc:
            self._store.set_asset_status(asset_id, "failed", error=f"Generation failed: {exc}")
            return
        self._store.set_asset_status(asset_id, "ready", export_formats=formats)


def _generate(asset: AssetRow) -> list[str]:
    """Build the asset in each format it offers; returns those formats."""
    formats = exports.asset_export_formats(asset.prompt)
    for fmt in formats:
        exports.render_asset(asset.id, asset.name, asset.prompt, fmt)
    return formats
