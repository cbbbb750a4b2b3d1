"""A job's events as Server-Sent Events: `id: <seq>`, `event: <type>`, `data: <json>`.

The stream replays the stored events after `after`, then follows the job, sending `ping` (with
the last sequence number as its id) after each `ping_interval` without news, and closes after
`done`. A stream opened after `done` was already delivered closes at once. `drop_after` (the
`sse_drop` fault) cuts the connection after that many events, the way a proxy drops a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gizmo_server.asgi import add_headers
from gizmo_server.faults import FAULT_HEADER
from gizmo_server.runner import drop_connection

from .store import Gen2Store

__all__ = ["EventStream"]

POLL_SECONDS = 0.02


def _frame(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        store: Gen2Store,
        job_id: str,
        after: int,
        ping_interval: float,
        drop_after: int | None,
        headers: dict[str, str],
    ) -> None:
        # Not Response.__init__: without a `body` no Content-Length is declared for the stream.
        self.status_code = 200
        self.background = None
        self.init_headers(headers | {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.store = store
        self.job_id = job_id
        self.after = after
        self.ping_interval = ping_interval
        self.drop_after = drop_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        if self.drop_after is not None:
            add_headers(start, {FAULT_HEADER: "sse_drop"})
        await send(start)
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            await self._follow(send, gone, scope, receive, watcher)
        finally:
            watcher.cancel()

    async def _follow(
        self,
        send: Send,
        gone: asyncio.Event,
        scope: Scope,
        receive: Receive,
        watcher: asyncio.Task[None],
    ) -> None:
        last, sent, quiet_since = self.after, 0, time.monotonic()
        while not gone.is_set():
            events = self.store.events_after(self.job_id, last)
            for event in events:
                await send({"type": "http.response.body", "body": _frame(event), "more_body": True})
                last, sent = event["seq"], sent + 1
                if event["type"] == "done":
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                if self.drop_after is not None and sent >= self.drop_after:
                    watcher.cancel()
                    await drop_connection(scope, receive, reset=False)
                    return
            if events:
                quiet_since = time.monotonic()
            elif self._finished(last):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            elif time.monotonic() - quiet_since >= self.ping_interval:
                ping = {"seq": last, "type": "ping", "job_id": self.job_id, "stage": None}
                ping |= {
                    "asset_id": None,
                    "message": None,
                    "progress": None,
                    "ts": round(time.time(), 3),
                }
                await send({"type": "http.response.body", "body": _frame(ping), "more_body": True})
                quiet_since = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), POLL_SECONDS)

    def _finished(self, last: int) -> bool:
        """`done` was delivered before (the stream resumed after it)."""
        final = self.store.last_event(self.job_id)
        return final is None or (final["type"] == "done" and final["seq"] <= last)
