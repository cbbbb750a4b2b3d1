"""Running the app under uvicorn, with one addition: access to each connection's transport.

Fault injection must be able to cut a connection the way a broken network does (a TCP reset, or
a body that stops half-way), which ASGI cannot express. The protocol below is uvicorn's h11
protocol that also puts the asyncio transport into the request scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import logs

__all__ = ["bind_socket", "drop_connection", "make_server"]

_TRANSPORT = "gizmo.transport"


class _TransportExposingProtocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        app = self.app

        async def with_transport(scope: Scope, receive: Receive, send: Send) -> None:
            scope[_TRANSPORT] = transport
            await app(scope, receive, send)

        self.app = with_transport


async def drop_connection(scope: Scope, receive: Receive, *, reset: bool) -> None:
    """Cut the client's connection now: a TCP reset, or (`reset=False`) a plain close.

    A plain close still delivers what was already sent (a truncated body); a reset discards it.
    """
    transport: asyncio.Transport | None = scope.get(_TRANSPORT)
    if transport is None:
        raise RuntimeError("dropping a connection needs the server started by gizmo_server.runner")
    if reset:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Wait until uvicorn has seen the disconnect, so it does not report an unfinished response.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5.0):
            while (await receive())["type"] != "http.disconnect":
                pass


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); bound here so the port is known at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on connections whose socket says TCP,
    # and without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server that calls `on_shutdown` first when it starts shutting down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._on_shutdown is not None:
            self._on_shutdown()
        await super().shutdown(sockets)


def make_server(
    app: ASGIApp,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    on_shutdown: Callable[[], None] | None = None,
) -> uvicorn.Server:
    """A `uvicorn.Server` for `app`; run it with `.run(sockets=[bind_socket(...)])`.
    `on_shutdown` runs as shutdown begins (the service releases its held requests there)."""
    config = uvicorn.Config(
        app,
        http=_TransportExposingProtocol,
        ws="none",
        lifespan="off",
        log_level=log_level,
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    logs.install()  # after uvicorn configured its loggers
    return _Server(config, on_shutdown)
