"""A small, bounded Server-Sent Events parser (the WHATWG `text/event-stream` rules).

Why not a library: the SSE clients for `requests` (sseclient-py, requests-sse) buffer a line or an
event without any bound, so a hostile stream grows memory until the process dies, and they own
reconnection where the job stream needs to resume by the API's own sequence numbers. Here a line
longer than `max_line_bytes` or an event longer than `max_event_bytes` raises
`StreamProtocolError`; undecodable bytes are replaced; lines that are no field are skipped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import StreamProtocolError

__all__ = ["MAX_EVENT_BYTES", "MAX_LINE_BYTES", "ServerSentEvent", "iter_sse"]

MAX_LINE_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 4 * 1024 * 1024
_EOL = re.compile(rb"\r\n|\r|\n")


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
    buffer = b""
    data: list[str] = []
    size = 0
    event = ""
    event_id: str | None = None
    retry: int | None = None
    for chunk in itertools.chain(chunks, [None]):
        if chunk is None:  # end of stream: a last CR ends its line after all
            if not buffer.endswith(b"\r"):
                return
            chunk = b"\n"
        buffer = buffer + chunk if buffer else chunk
        pos = 0
        while match := _EOL.search(buffer, pos):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # a CR at the end of a chunk may be the first half of CRLF
            line = buffer[pos : match.start()]
            pos = match.end()
            if not line:
                if data:
                    yield ServerSentEvent(event or "message", "\n".join(data), event_id, retry)
                data, size, event, event_id, retry = [], 0, "", None, None
                continue
            if len(line) > max_line_bytes:
                raise _too_long("line", max_line_bytes)
            if line.startswith(b":"):
                continue  # a comment (keep-alive)
            name, _, value = line.decode("utf-8", "replace").partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                size += len(line)
                if size > max_event_bytes:
                    raise _too_long("event", max_event_bytes)
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                event_id = value
            elif name == "retry" and value.isdigit():
                retry = int(value)
        buffer = buffer[pos:]
        if len(buffer) > max_line_bytes:
            raise _too_long("line", max_line_bytes)


def _too_long(what: str, limit: int) -> StreamProtocolError:
    return StreamProtocolError(f"The event stream sent more than {limit} bytes in one {what}")
