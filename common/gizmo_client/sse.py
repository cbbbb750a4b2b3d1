"""A small, bounded Server-Sent Events parser (the WHATWG `text/event-stream` rules).

Why not a library: the SSE clients for `requests` (sseclient-py, requests-sse) buffer a line or an
event without any bound, so a hostile stream grows memory until the process dies, and they own
reconnection where the job stream needs to resume by the API's own sequence numbers. Here a line
longer than `max_line_bytes` or an event longer than `max_event_bytes` raises
`StreamProtocolError`; undecodable bytes are replaced; lines that are no field are skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import StreamProtocolError

__all__ = ["MAX_EVENT_BYTES", "MAX_LINE_BYTES", "ServerSentEvent", "iter_sse"]

MAX_LINE_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


def iter_sse(
    chunks: Iterable[bytes],
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> Iterator[ServerSentEvent]:
    """Yield the events of a byte stream as they complete; an unfinished last one is dropped."""
    pending = b""  # an unfinished line (or one ending in CR, which may be the half of a CRLF)
    data: list[bytes] = []
    size = 0
    event = b""
    event_id: bytes | None = None
    retry: int | None = None
    for chunk in itertools.chain(chunks, [None]):
        if chunk is None:  # end of stream: a last CR ends its line after all
            if not pending.endswith(b"\r"):
                return
            chunk = b"\n"
        text = pending + chunk if pending else chunk
        if b"\r" not in text:  # the usual stream: LF only, split in C without keeping ends
            lines = text.split(b"\n")
            pending = lines.pop()
        else:  # bytes.splitlines splits at CR, LF and CRLF only: the SSE line endings
            lines = text.splitlines(keepends=True)
            # A last line without LF is unfinished, or ends in a CR that may be half a CRLF.
            pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
            lines = [line.rstrip(b"\r\n") for line in lines]
        if len(pending) > max_line_bytes:
            raise _too_long("line", max_line_bytes)
        check_lines = len(text) > max_line_bytes  # no line can be longer than the text
        for line in lines:
            if not line:
                if data:
                    yield ServerSentEvent(
                        event.decode("utf-8", "replace") or "message",
                        b"\n".join(data).decode("utf-8", "replace"),
                        None if event_id is None else event_id.decode("utf-8", "replace"),
                        retry,
                    )
                data, size, event, event_id, retry = [], 0, b"", None, None
                continue
            if check_lines and len(line) > max_line_bytes:
                raise _too_long("line", max_line_bytes)
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                size += len(value) + 1
                if size > max_event_bytes:
                    raise _too_long("event", max_event_bytes)
                data.append(value)
            elif name == b"event":
                event = value
            elif name == b"id" and b"\0" not in value:
                event_id = value
            elif name == b"retry" and value.isdigit():
                retry = int(value)
            # anything else, comments (an empty name) included, is no field: skipped


def _too_long(what: str, limit: int) -> StreamProtocolError:
    return StreamProtocolError(f"The event stream sent more than {limit} bytes in one {what}")
