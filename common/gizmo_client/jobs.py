"""`client.jobs`: generation jobs of the jobs API generation, their events and waiting on them.

`events` streams Server-Sent Events and survives a dropped stream: it reconnects with `after`
and `Last-Event-ID` set to the last sequence number it yielded, so no event is lost or repeated
(a repeated or out-of-order sequence number is skipped). Pings are skipped; the iterator ends at
the job's terminal event (`done`, or a `job_*` outcome followed by anything but `done`) even if a
server keeps pinging. A stream that ends early is resumed; one that then brings nothing new is
checked against `GET /jobs/{id}`, and a terminal job ends the iteration there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from typing import Any
from urllib.parse import quote

import requests
import urllib3

from .errors import (
    GizmoConnectionError,
    GizmoError,
    GizmoTimeoutError,
    JobFailedError,
    StreamProtocolError,
)
from .generation import ApiGeneration, GenerationResolver
from .models_jobs import Job, JobEvent, JobStatus
from .sse import ServerSentEvent, iter_sse
from .transport import Transport

__all__ = ["Jobs"]

logger = logging.getLogger("gizmo_client")

_CHUNK = 64 * 1024
_OUTCOMES = frozenset({"job_succeeded", "job_failed", "job_cancelled"})
_STREAM_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_PING = JobEvent(seq=-1, type="ping")


class Jobs:
    def __init__(
        self,
        transport: Transport,
        generation: GenerationResolver,
        *,
        max_reconnects: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._t = transport
        self._gen = generation
        #: Reconnects in a row that bring no new event before `events` gives up.
        self.max_reconnects = max_reconnects
        self._sleep = sleep

    def _require(self, call: str) -> None:
        self._gen.require(ApiGeneration.JOBS, f"jobs.{call}", "assets.wait_until_ready(id)")

    def get(self, job_id: str, include_result: bool = False) -> Job:
        self._require("get")
        params = {"include_result": "true"} if include_result else None
        body = self._t.request("GET", f"/jobs/{quote(job_id, safe='')}", params=params)
        return Job.from_answer(body)

    def cancel(self, job_id: str) -> Job:
        self._require("cancel")
        body = self._t.request("POST", f"/jobs/{quote(job_id, safe='')}/cancel")
        return Job.from_answer(body)

    def events(
        self, job_id: str, after: int | None = None, *, timeout: float | None = None
    ) -> Iterator[JobEvent]:
        """The job's events after sequence number `after`, in order, each once, until terminal.

        `timeout` bounds the whole iteration (`GizmoTimeoutError`); every read is bounded by the
        client's read timeout, so a silent stream is a dropped one and is resumed."""
        self._require("events")
        deadline = None if timeout is None else time.monotonic() + timeout
        last = after
        outcome_seen = False
        fruitless = 0
        while True:
            before = last
            try:
                # closing(): leaving early (the outcome, the caller's break) hangs up at once.
                with closing(self._stream_once(job_id, last, deadline)) as stream:
                    for event in stream:
                        if event.type == "ping":
                            if outcome_seen:
                                return  # pings after the outcome: nothing more will come
                            continue
                        if last is not None and event.seq <= last:
                            logger.debug("job %s: skipping repeated event %d", job_id, event.seq)
                            continue
                        if outcome_seen and event.type != "done":
                            return
                        last = event.seq
                        yield event
                        if event.type == "done":
                            return
                        outcome_seen = outcome_seen or event.type in _OUTCOMES
            except _STREAM_ERRORS as exc:
                logger.info("job %s: event stream dropped (%s)", job_id, type(exc).__name__)
            if last != before:
                fruitless = 0  # it moved on: resume at once, a finished job's rest is replayed
            elif outcome_seen or self.get(job_id).status.terminal:
                return  # nothing more to come (a service that never sends `done`)
            else:
                fruitless += 1
                if fruitless > self.max_reconnects:
                    raise GizmoConnectionError(
                        f"The event stream of job {job_id} ended {fruitless} times in a row "
                        f"without a new event (last sequence {last})"
                    )
                self._sleep(min(0.2 * 2**fruitless, 5.0))
            if deadline is not None and time.monotonic() > deadline:
                raise GizmoTimeoutError(f"job {job_id} has not finished in time")
            logger.info("job %s: resuming events after %s", job_id, last)

    def _stream_once(
        self, job_id: str, after: int | None, deadline: float | None
    ) -> Generator[JobEvent, None, None]:
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        params: dict[str, Any] = {}
        if after is not None:
            params["after"] = after
            headers["Last-Event-ID"] = str(after)
        path = f"/jobs/{quote(job_id, safe='')}/events"
        connect, read = self._t.timeout
        if deadline is not None:  # a silent stream must not outlast the caller's deadline
            read = min(read, max(deadline - time.monotonic(), 0.05))
        response = self._t.open(
            "GET", path, params=params, headers=headers, stream=True, timeout=(connect, read)
        )
        with response:
            kind = response.headers.get("Content-Type", "")
            if not kind.startswith("text/event-stream"):
                raise StreamProtocolError(
                    f"GET {path} answered {kind or 'no content type'}, not text/event-stream"
                )
            for message in iter_sse(_read_chunks(response)):
                if deadline is not None and time.monotonic() > deadline:
                    raise GizmoTimeoutError(f"job {job_id} has not finished in time")
                event = _parse_event(message, job_id)
                if event is not None:
                    yield event

    def wait(
        self,
        job_id: str,
        on_event: Callable[[JobEvent], None] | None = None,
        timeout: float | None = None,
    ) -> Job:
        """Follow the job's events until it ends; return it (with its result) if it succeeded.

        Raises `JobFailedError` (with `.job`) if it failed or was cancelled, `GizmoTimeoutError`
        after `timeout` seconds."""
        for event in self.events(job_id, timeout=timeout):
            if on_event is not None:
                on_event(event)
        job = self.get(job_id, include_result=True)
        if job.status is JobStatus.SUCCEEDED:
            return job
        if not job.status.terminal:
            raise GizmoError(f"The events of job {job_id} ended while it is {job.status.value}")
        reason = job.error.get("message") if isinstance(job.error, dict) else job.error
        raise JobFailedError(f"Job {job_id} {job.status.value}: {reason or 'no reason given'}", job)


def _read_chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives (`read1`: one socket read at most, so no event waits for more)."""
    while chunk := response.raw.read1(_CHUNK):
        yield chunk


def _parse_event(message: ServerSentEvent, job_id: str) -> JobEvent | None:
    """A typed event, or `None` (logged) for one that cannot be read: non-JSON or no sequence.
    The data's own `seq`/`type` come first; the SSE `id`/`event` fields fill them in."""
    if message.event == "ping":
        return _PING
    try:
        return JobEvent.model_validate_json(message.data)  # the common case, in one pass
    except ValueError:
        return _event_from_fields(message, job_id)


def _event_from_fields(message: ServerSentEvent, job_id: str) -> JobEvent | None:
    try:
        body = json.loads(message.data)
    except ValueError:
        logger.warning("job %s: skipping an event whose data is not JSON", job_id)
        return None
    if not isinstance(body, dict):
        body = {}
    if "seq" not in body and message.id is not None and message.id.isdigit():
        body["seq"] = int(message.id)
    if "type" not in body and message.event != "message":
        body["type"] = message.event
    try:
        return JobEvent.model_validate(body)
    except ValueError:
        logger.warning("job %s: skipping an event without a sequence number or type", job_id)
        return None
