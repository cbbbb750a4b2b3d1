"""A scripted loopback HTTP server for what the real local server cannot be made to do.

LABELLED STAND-IN: the hostile cases only (malformed or endless event streams, truncated or
traversing ZIP bodies, exact rate-limit headers). Each test gives a `route` function; the server
records every request. Everything else is tested against the real `LocalServer`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection without finishing (after the chunks of `body` were sent).
    drop: bool = False


def json_reply(status: int, value: Any, **headers: str) -> Reply:
    return Reply(
        status, json.dumps(value).encode(), {"Content-Type": "application/json", **headers}
    )


def sse(*events: tuple[int, str, dict[str, Any]]) -> bytes:
    """The wire form of `(seq, type, data)` events as the local server writes them."""
    out = []
    for seq, kind, data in events:
        payload = json.dumps({"seq": seq, "type": kind, **data})
        out.append(f"id: {seq}\nevent: {kind}\ndata: {payload}\n\n")
    return "".join(out).encode()


Route = Callable[[Request], Reply]


class ScriptedServer:
    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Request] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # close-delimited bodies: no chunking to hide behind

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                outer.requests.append(request)
                reply = outer.route(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes) and "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client stopped reading, as it may
                if reply.drop:
                    self.connection.shutdown(2)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def endless(first: bytes, then: bytes, stop: threading.Event) -> Iterator[bytes]:
    """`first`, then `then` over and over until `stop` is set (pings that go on forever)."""
    yield first
    while not stop.wait(0.01):
        yield then
