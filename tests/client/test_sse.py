"""The bounded SSE parser, byte by byte: line endings, chunk boundaries, comments, limits."""

from __future__ import annotations

import pytest

from gizmo_client.errors import StreamProtocolError
from gizmo_client.sse import ServerSentEvent, iter_sse

STREAM = (
    b": keep-alive comment\n"
    b'id: 1\nevent: job_queued\ndata: {"seq": 1}\n\n'
    b"id: 2\r\nevent: stage_start\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b"id: 3\revent: done\rdata:no-space\r\r"
)
EXPECTED = [
    ServerSentEvent("job_queued", '{"seq": 1}', "1"),
    ServerSentEvent("stage_start", "line one\nline two", "2"),
    ServerSentEvent("done", "no-space", "3"),
]


def test_every_line_ending_and_multi_line_data() -> None:
    assert list(iter_sse([STREAM])) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_any_chunking_gives_the_same_events(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert list(iter_sse(chunks)) == EXPECTED


@pytest.mark.parametrize("size", [1, 5, 13])
def test_lf_only_streams_split_anywhere_give_the_same_events(size: int) -> None:
    stream = b"".join(b'id: %d\nevent: stage\ndata: {"seq": %d}\n\n' % (n, n) for n in range(20))
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    events = list(iter_sse(chunks))
    assert [e.id for e in events] == [str(n) for n in range(20)]
    assert events[7] == ServerSentEvent("stage", '{"seq": 7}', "7")


def test_garbage_lines_and_unknown_fields_are_skipped() -> None:
    stream = b"garbage without colon\nfoo: bar\nretry: soon\ndata: kept\n\n"
    assert list(iter_sse([stream])) == [ServerSentEvent("message", "kept")]


def test_an_event_without_data_is_not_dispatched_and_state_resets() -> None:
    stream = b"event: ping\nid: 9\n\ndata: x\n\n"
    assert list(iter_sse([stream])) == [ServerSentEvent("message", "x")]


def test_retry_field_and_invalid_bytes() -> None:
    stream = b"retry: 1500\ndata: caf\xe9\n\n"
    (event,) = iter_sse([stream])
    assert event.retry == 1500 and event.data == "caf\ufffd"


def test_an_unfinished_last_event_is_dropped() -> None:
    assert list(iter_sse([b"data: complete\n\ndata: cut off"])) == [
        ServerSentEvent("message", "complete")
    ]


def test_a_huge_line_without_newline_is_refused_without_growing_unbounded() -> None:
    def endless() -> object:
        while True:
            yield b"x" * 65536

    with pytest.raises(StreamProtocolError, match="bytes in one line"):
        list(iter_sse(endless(), max_line_bytes=1024 * 1024))  # type: ignore[arg-type]


def test_a_huge_event_of_many_data_lines_is_refused() -> None:
    def many() -> object:
        while True:
            yield b"data: " + b"y" * 1000 + b"\n"

    with pytest.raises(StreamProtocolError, match="bytes in one event"):
        list(iter_sse(many(), max_event_bytes=100_000))  # type: ignore[arg-type]
