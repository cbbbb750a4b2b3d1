"""Keep a live (model, data) in step with a scene source, state kept across every reload.

Polling, fetching and compiling happen off the simulation thread (`start()`, or `poll()` called
by hand); the simulation thread calls `apply()` between steps, which carries the state over by
name and swaps, so stepping never waits for the network. A failed reload leaves the previous
model running and comes back as an error event, once per broken revision. A source that cannot
be *asked* (the server is down) is not a failed reload: nothing changed, the model runs on, and
one log line says so (another when it answers again).

A scene's edit job is followed by its event stream when its id is known (`follow`), so the
reload starts the moment the job succeeds instead of at the next poll. The API names no running
job on the scene itself (`GET /scenes/{id}` and `/status` give `pipeline_status`, not a job id),
so a job started elsewhere is seen by the next check: at once where the service holds the
scene's conditional GET until it changes (`Prefer: wait`, the local server), else at the next
poll. A held GET never delays `stop()`: the thread waiting in it is left to end by itself, and
does nothing more once it answers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import mujoco

from gizmo_client.errors import GizmoError

from .errors import MjcfLoadError
from .loading import new_data
from .sources import Build, SceneSource, Source
from .transfer import TransferReport, transfer_state

__all__ = ["ReloadEvent", "SceneWatcher"]

logger = logging.getLogger("gizmo_mujoco")

#: Seconds a scene's GET asks to be held. Short, because a stopped watcher's GET lingers that
#: long (a local server that stops answers it at once).
LONG_WAIT = 1.0


@dataclass(frozen=True)
class ReloadEvent:
    """One reload's outcome: the state-transfer report, or the error that kept the old model."""

    label: str
    revision: str | None
    report: TransferReport | None = None
    error: Exception | None = None
    build_seconds: float = 0.0  # fetch + compile
    fetch_seconds: float = 0.0
    detected_at: float = 0.0  # time.monotonic() when the change was first seen
    applied_at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def message(self) -> str:
        if self.error is not None:
            first_line = str(self.error).splitlines()[0]
            return f"Reload failed, previous model kept: {first_line}"
        assert self.report is not None
        return f"Reloaded {self.label} in {self.build_seconds:.2f}s: {self.report.summary()}"


class SceneWatcher:
    """Owns the live model and data of one scene source."""

    def __init__(
        self, source: Source, *, poll_interval: float = 1.0, long_wait: float = LONG_WAIT
    ) -> None:
        """`long_wait` (seconds, 0 = plain polling) is how long each check of a scene of the API
        asks to be held; a service that does not hold it is polled every `poll_interval`."""
        if poll_interval <= 0:
            raise ValueError(f"poll interval must be positive, got {poll_interval}")
        self.source = source
        self.poll_interval = poll_interval
        self.long_wait = long_wait
        self._model: mujoco.MjModel | None = None
        self._data: mujoco.MjData | None = None
        self._revision: str | None = None
        self._seen: str | None = None  # the revision the last check saw
        self._staged: Build | ReloadEvent | None = None
        self._staged_revision: str | None = None
        self._detected_at = 0.0
        self._failed_revision: str | None = None
        self._last_error = ""
        self._unreachable = ""  # the kind of error the last check met; "" while it answers
        self._lock = threading.Lock()
        self._polling = threading.Lock()  # one poll at a time: the loop's and a follower's
        self._stop = threading.Event()
        self._holding = False  # the thread is in a held GET (stop() does not wait for it)
        self._holding_lock = threading.Lock()  # `_holding` and the stop flag change together
        self._thread: threading.Thread | None = None

    # The live pair -------------------------------------------------------------------------

    def load(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        """The first load; its errors propagate (there is no previous model to keep)."""
        build = self.source.build()
        self._model, self._data, self._revision = build.model, new_data(build.model), build.revision
        self._seen = build.revision
        logger.info("loaded %s", build.label)
        return self._model, self._data

    @property
    def model(self) -> mujoco.MjModel:
        self._require_loaded()
        assert self._model is not None
        return self._model

    @property
    def data(self) -> mujoco.MjData:
        self._require_loaded()
        assert self._data is not None
        return self._data

    @property
    def revision(self) -> str | None:
        return self._revision

    def _require_loaded(self) -> None:
        if self._model is None:
            raise RuntimeError("call SceneWatcher.load() before using the model")

    # Off the simulation thread -------------------------------------------------------------

    def poll(self, *, force: bool = False) -> bool:
        """Check the source once; build a changed revision (or every time with `force`) and
        stage it for `apply()`. Returns whether anything (a build or an error) was staged."""
        with self._polling:
            return self._poll(force)

    def _poll(self, force: bool, seen: tuple[str | None] | None = None) -> bool:
        """`seen`: the revision a held GET just answered, so it is not asked for again."""
        detected_at = time.monotonic()
        if seen is None:
            try:
                revision = self.source.revision()
            except GizmoError as exc:  # cannot ask: nothing is known to have changed
                self._lost_contact(exc)
                return False
        else:
            (revision,) = seen
        self._regained_contact()
        self._seen = revision
        try:
            known = self._known()
            if not force and (revision is None or revision in (known, self._failed_revision)):
                return False
            build = self.source.build()
        except MjcfLoadError as exc:
            self._failed_revision = revision  # the same bytes would fail again: wait for a change
            return self._stage_error(exc, revision, detected_at)
        except GizmoError as exc:  # network, server, download: try again next poll
            return self._stage_error(exc, revision, detected_at)
        with self._lock:
            self._staged, self._staged_revision = build, build.revision
            self._detected_at = detected_at
        return True

    def _known(self) -> str | None:
        """The revision live or staged: what a check finding the same has nothing to do for."""
        with self._lock:
            return self._staged_revision if self._staged is not None else self._revision

    def follow(self, job_id: str) -> bool:
        """Wait for an edit job of the watched scene to end (its event stream), then poll at
        once; returns whether that staged a reload. A failed or cancelled job is logged and
        stages nothing (the scene did not change); so is a stream that cannot be followed, and
        the next poll sees the change anyway."""
        if not isinstance(self.source, SceneSource):
            raise TypeError(f"only a scene of the API has jobs, not {self.source.label}")
        self._require_loaded()
        try:
            self.source.wait_for_job(job_id)
        except GizmoError as exc:
            logger.warning("job %s: %s", job_id, exc.message.splitlines()[0])
            return False
        return not self._stop.is_set() and self.poll()  # stopped meanwhile: nobody applies it

    def follow_in_background(self, job_id: str) -> threading.Thread:
        """`follow` in a daemon thread (the stream may last minutes on the hosted service)."""
        thread = threading.Thread(
            target=self.follow, args=(job_id,), name=f"gizmo-follow-{job_id}", daemon=True
        )
        thread.start()
        return thread

    def _lost_contact(self, exc: GizmoError) -> None:
        kind = f"{type(exc).__name__} {getattr(exc, 'status', '')}"  # not the request id
        if kind != self._unreachable:
            logger.warning(
                "cannot check %s for changes (%s); the current model runs on, checking again "
                "every %g s", self.source.label, exc.message.splitlines()[0], self.poll_interval,
            )  # fmt: skip
        self._unreachable = kind

    def _regained_contact(self) -> None:
        if self._unreachable:
            logger.warning("%s answers again", self.source.label)
            self._unreachable = ""

    def _stage_error(self, exc: Exception, revision: str | None, detected_at: float) -> bool:
        key = f"{revision}: {exc}"
        if key == self._last_error:
            return False  # already reported; keep quiet until something changes
        self._last_error = key
        logger.info("reload of %s failed: %s", self.source.label, exc)
        event = ReloadEvent(self.source.label, None, error=exc, detected_at=detected_at)
        with self._lock:
            self._staged, self._staged_revision = event, None
        return True

    def start(self) -> SceneWatcher:
        """Check in a daemon thread: held GETs back to back where the service holds them, else
        a poll every `poll_interval` seconds."""
        if self._thread is None:
            self._require_loaded()
            self._stop = stop = threading.Event()  # a thread left in a held GET keeps its own
            self._thread = threading.Thread(
                target=self._run, args=(stop,), name="gizmo-watcher", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop checking; waits for a poll or build under way, never for a held GET."""
        with self._holding_lock:
            self._stop.set()
            in_held_get = self._holding
        if self._thread is not None:
            if not in_held_get:
                self._thread.join(timeout=30)
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        # The last round was held by the service, so the next needs no sleep first; the first
        # round asks to be held at once where it may be.
        held = self.long_wait > 0 and isinstance(self.source, SceneSource)
        while not stop.is_set() and (held or not stop.wait(self.poll_interval)):
            try:
                held = self._round(stop)
            except Exception as exc:  # keep polling: one bad round must not end live reload
                if stop.is_set():  # e.g. a held GET left to end after stop(): stage nothing
                    return
                held = False
                if self._stage_error(exc, None, time.monotonic()):  # logged once per error
                    logger.debug("unexpected error while polling", exc_info=exc)

    def _round(self, stop: threading.Event) -> bool:
        """One check: a held GET when the source offers it and nothing is left to retry (a
        failed download is retried after `poll_interval`, not after the next change), else a
        plain poll. Returns whether the service held it."""
        source = self.source
        settled = self._seen in (self._known(), self._failed_revision)
        if self.long_wait <= 0 or not isinstance(source, SceneSource) or not settled:
            self.poll()
            return False
        with self._holding_lock:
            if stop.is_set():
                return False
            self._holding = True
        try:
            revision: str | GizmoError | None = source.revision(self.long_wait)
        except GizmoError as exc:
            revision = exc
        finally:
            with self._holding_lock:
                self._holding = False
                stopped = stop.is_set()
        if stopped:  # stop() did not wait for this thread: touch nothing
            return False
        if isinstance(revision, GizmoError):
            self._lost_contact(revision)
            return False
        self._regained_contact()
        if revision != self._seen:
            with self._polling:  # a follower may have staged it meanwhile: _poll compares
                self._poll(False, (revision,))
        return source.holds_waits

    def __enter__(self) -> SceneWatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # On the simulation thread ----------------------------------------------------------------

    def apply(self) -> ReloadEvent | None:
        """Swap in a staged revision with the state carried over; None when nothing is staged.

        Call it between steps, from the thread that steps `data`. After a successful event,
        step `watcher.model`/`watcher.data` (new objects).
        """
        # The lock is held through the swap: a poll meanwhile must find the new revision
        # current, or it would build and stage the same revision a second time.
        with self._lock:
            staged, self._staged = self._staged, None
            if staged is None or isinstance(staged, ReloadEvent):
                return staged
            data = mujoco.MjData(staged.model)
            report = transfer_state(self.model, self.data, staged.model, data)
            self._model, self._data, self._revision = staged.model, data, staged.revision
            detected_at = self._detected_at
        self._last_error = ""
        event = ReloadEvent(
            staged.label,
            staged.revision,
            report=report,
            build_seconds=staged.fetch_seconds + staged.compile_seconds,
            fetch_seconds=staged.fetch_seconds,
            detected_at=detected_at,
            applied_at=time.monotonic(),
        )
        logger.info("%s", event.message())
        return event

    def reload(self) -> ReloadEvent:
        """Build the current revision now and apply it (a user's explicit reload)."""
        self._last_error = ""  # asked for explicitly: report an error even if it is not new
        self.poll(force=True)
        event = self.apply()
        assert event is not None, "a forced poll always stages a build or an error"
        return event
