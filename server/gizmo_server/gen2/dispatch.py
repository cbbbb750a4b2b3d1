"""Sends each request to the API generation its key belongs to (the outermost middleware).

A key starting `gzm_k1_` (Bearer or `x-gizmo-service-token`) goes to this generation's app; any
other request, keyless ones included, to the alpha app, which answers as it always has.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gizmo_server.asgi import header

from .accounts import SERVICE_TOKEN_HEADER, is_gen2_key, presented_key

__all__ = ["GenerationDispatch"]


class GenerationDispatch:
    def __init__(self, app: ASGIApp, gen2: ASGIApp) -> None:
        self.app = app
        self.gen2 = gen2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = presented_key(header(scope, "authorization"), header(scope, SERVICE_TOKEN_HEADER))
            if is_gen2_key(key):
                await self.gen2(scope, receive, send)
                return
        await self.app(scope, receive, send)
