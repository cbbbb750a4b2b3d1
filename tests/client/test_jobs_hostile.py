"""Job event streams a well-behaved server never sends, against the scripted stand-in server:
dropped and silent streams, garbage, repeats, endless pings, oversized lines, wrong type."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import (
    GizmoConnectionError,
    GizmoTimeoutError,
    JobFailedError,
    StreamProtocolError,
)

from .scripted_server import Reply, Request, ScriptedServer, json_reply, sse

KEY = "gzm_k1_scripted_test_key"
SSE_HEADERS = {"Content-Type": "text/event-stream"}


def _events(first: int, last: int) -> bytes:
    return sse(
        *[(n, "stage_start", {"job_id": "job_1", "stage": f"s{n}"}) for n in range(first, last + 1)]
    )


def _ending(seq: int, outcome: str = "job_succeeded") -> bytes:
    return sse((seq, outcome, {"job_id": "job_1"}), (seq + 1, "done", {"job_id": "job_1"}))


class JobServer:
    """Answers `GET /jobs/job_1` with `status` and each events connection with the next reply."""

    def __init__(self, streams: list[Reply], status: str = "running") -> None:
        self.streams = streams
        self.status = status
        self.stop = threading.Event()

    def __call__(self, request: Request) -> Reply:
        if request.path == "/v1/jobs/job_1":
            job = {"id": "job_1", "status": self.status, "created_at": 1733000000}
            return json_reply(200, {"ok": True, "job": job})
        if request.path == "/v1/jobs/job_1/events" and self.streams:
            return self.streams.pop(0)
        return json_reply(404, {"ok": False, "error": {"code": "route_not_found", "status": 404}})


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _client(server: ScriptedServer, tmp_path: Path, read_timeout: float = 5.0) -> GizmoClient:
    return GizmoClient(
        api_key=KEY,
        base_url=server.base_url,
        api_generation="jobs",
        cache_dir=tmp_path / "cache",
        timeout=(2.0, read_timeout),
        backoff_base=0.01,
    )


def test_a_dropped_stream_resumes_after_the_last_sequence_with_nothing_lost_or_repeated(
    tmp_path: Path,
) -> None:
    route = JobServer(
        [
            Reply(200, _events(1, 3), SSE_HEADERS, drop=True),
            # The resumed stream repeats event 3 (a server resuming at, not after): skipped.
            Reply(200, _events(3, 5) + _ending(6), SSE_HEADERS),
        ]
    )
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        events = list(client.jobs.events("job_1"))
        streams = [r for r in server.requests if r.path.endswith("/events")]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.type for e in events][-2:] == ["job_succeeded", "done"]
    assert "after" not in streams[0].query
    assert streams[1].query["after"] == "3" and streams[1].headers["last-event-id"] == "3"


def test_events_resume_from_a_given_sequence(tmp_path: Path) -> None:
    route = JobServer([Reply(200, _events(5, 5) + _ending(6), SSE_HEADERS)])
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        assert [e.seq for e in client.jobs.events("job_1", after=4)] == [5, 6, 7]
        assert server.requests[0].query["after"] == "4"


def test_garbage_non_json_repeated_and_out_of_order_events_are_skipped(tmp_path: Path) -> None:
    body = (
        _events(1, 1)
        + b"this line is no field\n\n"
        + b"id: 2\nevent: stage_start\ndata: {not json\n\n"
        + b"data: [1, 2]\n\n"  # JSON, but no sequence and no type
        + _events(2, 2)
        + _events(2, 2)  # repeated
        + _events(1, 1)  # out of order
        + b": comment\n"
        + _ending(3)
    )
    with ScriptedServer(JobServer([Reply(200, body, SSE_HEADERS)])) as server:
        with _client(server, tmp_path) as client:
            assert [e.seq for e in client.jobs.events("job_1")] == [1, 2, 3, 4]


def test_an_outcome_without_done_is_resumed_once_for_done(tmp_path: Path) -> None:
    route = JobServer(
        [
            Reply(200, _events(1, 1) + sse((2, "job_succeeded", {})), SSE_HEADERS, drop=True),
            Reply(200, sse((3, "done", {})), SSE_HEADERS),
        ]
    )
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        assert [e.type for e in client.jobs.events("job_1")][-2:] == ["job_succeeded", "done"]


def test_pings_after_the_outcome_end_the_iteration(tmp_path: Path, stop: threading.Event) -> None:
    ping = b"event: ping\ndata: {}\n\n"

    def endless() -> Iterator[bytes]:
        yield _events(1, 1) + sse((2, "job_succeeded", {}))
        while not stop.wait(0.01):
            yield ping

    with ScriptedServer(JobServer([Reply(200, endless(), SSE_HEADERS)])) as server:
        with _client(server, tmp_path) as client:
            assert [e.type for e in client.jobs.events("job_1")] == ["stage_start", "job_succeeded"]


def test_a_silent_stream_is_dropped_at_the_read_timeout_and_resumed(
    tmp_path: Path, stop: threading.Event
) -> None:
    def then_silence() -> Iterator[bytes]:
        yield _events(1, 1)
        stop.wait(30)

    route = JobServer(
        [
            Reply(200, then_silence(), SSE_HEADERS),
            Reply(200, _events(2, 2) + _ending(3), SSE_HEADERS),
        ]
    )
    with ScriptedServer(route) as server, _client(server, tmp_path, read_timeout=0.5) as client:
        assert [e.seq for e in client.jobs.events("job_1")] == [1, 2, 3, 4]
        assert server.requests[-1].query["after"] == "1"


def test_a_stream_that_closes_early_ends_when_the_job_is_terminal(tmp_path: Path) -> None:
    # A service that never sends the outcome: the resumed stream brings nothing, the job is over.
    route = JobServer(
        [Reply(200, _events(1, 2), SSE_HEADERS), Reply(200, b"", SSE_HEADERS)], status="succeeded"
    )
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        assert [e.seq for e in client.jobs.events("job_1")] == [1, 2]
        assert server.paths()[-1] == "GET /v1/jobs/job_1"


def test_a_stream_that_keeps_closing_without_news_gives_up_with_a_typed_error(
    tmp_path: Path,
) -> None:
    route = JobServer([Reply(200, b"", SSE_HEADERS) for _ in range(20)])
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        client.jobs.max_reconnects = 2
        with pytest.raises(GizmoConnectionError, match="without a new event"):
            list(client.jobs.events("job_1"))


def test_an_endless_line_raises_a_typed_error(tmp_path: Path, stop: threading.Event) -> None:
    def flood() -> Iterator[bytes]:
        while not stop.is_set():
            yield b"data: " + b"x" * 65536

    with ScriptedServer(JobServer([Reply(200, flood(), SSE_HEADERS)])) as server:
        with _client(server, tmp_path) as client, pytest.raises(StreamProtocolError):
            list(client.jobs.events("job_1"))


def test_a_body_that_is_no_event_stream_is_refused(tmp_path: Path) -> None:
    route = JobServer([json_reply(200, {"ok": True})])
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        with pytest.raises(StreamProtocolError, match="not text/event-stream"):
            list(client.jobs.events("job_1"))


def test_wait_reports_every_event_and_raises_for_a_failed_job(tmp_path: Path) -> None:
    route = JobServer([Reply(200, _events(1, 2) + _ending(3, "job_failed"), SSE_HEADERS)])
    seen: list[str] = []
    with ScriptedServer(route) as server, _client(server, tmp_path) as client:
        route.status = "failed"
        with pytest.raises(JobFailedError, match="job_1 failed") as info:
            client.jobs.wait("job_1", on_event=lambda e: seen.append(e.type))
    assert seen == ["stage_start", "stage_start", "job_failed", "done"]
    assert info.value.job.id == "job_1"
    assert server.requests[-1].query == {"include_result": "true"}


def test_wait_times_out_on_a_job_that_only_pings(tmp_path: Path, stop: threading.Event) -> None:
    def pings() -> Iterator[bytes]:
        while not stop.wait(0.02):
            yield b"event: ping\ndata: {}\n\n"

    with ScriptedServer(JobServer([Reply(200, pings(), SSE_HEADERS)])) as server:
        with _client(server, tmp_path) as client, pytest.raises(GizmoTimeoutError):
            client.jobs.wait("job_1", timeout=0.5)
