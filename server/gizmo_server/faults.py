"""Seeded fault injection, so clients can be tested against the failures of a real network.

`--faults KIND:SHARE,...` gives each kind the share (0..1) of eligible events it hits;
`--fault-seed` makes the sequence reproducible (each site below draws from its own seeded
stream). Off unless asked for. What each kind does, and when, is chosen so stored data is never
corrupted:

- `500`, `503`, `429`: answered *before* the handler runs; nothing happened, so a retry is safe.
- `502`, `reset`: the handler runs and commits, then the answer is lost: a 502 envelope (a gateway
  that lost the upstream reply) or a TCP reset. This is the case `Idempotency-Key` exists for.
- `reset_after_commit`: only on writes (POST, PATCH, PUT, DELETE) that succeeded: the handler
  ran and its writes (and Idempotency-Key record) are committed, then the connection is reset
  instead of answering. Every hit is a committed write whose answer was lost, the case a client's
  recovery (retry with the same key, or look the result up) must handle.
- `slow`: the request is delayed by `slow_seconds` before it is handled.
- `truncate_download`: `Content-Length` announces the whole file, the body stops half-way and the
  connection closes (a dropped transfer). `corrupt_download`: one byte in the middle is flipped,
  length unchanged (only the SHA-256 catches it).
- `generation_failed`: an asset's generation ends `failed`. `export_not_ready`: a scene export
  answers 400 `assets_not_ready`, the path that add-asset's readiness rule otherwise makes
  unreachable. `unsafe_zip`: the scene export is a ZIP (as with `--zip-exports`) that also
  holds an entry named `../gizmo-zip-slip.txt`, announced with its true size and SHA-256, the
  way a compromised or buggy packager would; clients must refuse to unpack it.
  `truncated_zip`: the scene export is the first half of its ZIP (size and SHA-256 those of
  the half), so it downloads fine and fails to open. Both ZIP kinds also hit the jobs
  generation's export (its answer is the ZIP); `export_not_ready` does not.
- `job_failed` (newer generation): a job ends `failed` at its end, after all its stages.
  `sse_drop`: a job's event stream is cut (connection closed) after its second event, the way a
  proxy drops a long-lived stream; the client resumes with `after` / `Last-Event-ID`.

Injected answers carry an `X-Gizmo-Fault: <kind>` header; request faults spare the OpenAPI
document and the docs page.
"""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import DOWNLOADS_PREFIX, add_headers, is_api_call
from .errors import ApiError, internal_error
from .runner import drop_connection

__all__ = ["FAULT_HEADER", "KINDS", "FaultMiddleware", "Faults", "parse_spec"]

Site = Literal["request", "download", "generation", "export", "job", "stream"]

_SITES: dict[Site, tuple[str, ...]] = {
    "request": ("500", "502", "503", "429", "reset", "reset_after_commit", "slow"),
    "download": ("truncate_download", "corrupt_download"),
    "generation": ("generation_failed",),
    "export": ("export_not_ready", "unsafe_zip", "truncated_zip"),
    "job": ("job_failed",),
    "stream": ("sse_drop",),
}
KINDS: tuple[str, ...] = tuple(kind for kinds in _SITES.values() for kind in kinds)
FAULT_HEADER = "X-Gizmo-Fault"


def parse_spec(spec: str | None) -> dict[str, float]:
    """`"500:0.1,reset:0.05"` -> `{"500": 0.1, "reset": 0.05}`; ValueError says what is wrong."""
    shares: dict[str, float] = {}
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        kind, sep, share_text = item.rpartition(":")
        if not sep or kind not in KINDS:
            raise ValueError(
                f"bad fault {item!r}: expected KIND:SHARE with KIND one of {', '.join(KINDS)}"
            )
        try:
            share = float(share_text)
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"bad fault {item!r}: SHARE must be a number from 0 to 1")
        shares[kind] = share
    for site, kinds in _SITES.items():
        total = sum(shares.get(kind, 0.0) for kind in kinds)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"the shares of {', '.join(kinds)} ({site} faults) add up to {total:g}; at most 1"
            )
    return shares


class Faults:
    """The current fault plan; `configure` swaps it at run time. Thread-safe."""

    def __init__(self, spec: str | None = None, seed: int = 0, slow_seconds: float = 2.0) -> None:
        if slow_seconds < 0:
            raise ValueError(f"the slow-fault delay must not be negative, got {slow_seconds}")
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._shares: dict[str, float] = {}
        self._streams: dict[Site, random.Random] = {}
        self.configure(spec, seed)

    def configure(self, spec: str | None, seed: int = 0) -> None:
        shares = parse_spec(spec)
        with self._lock:
            self._shares = shares
            self._streams = {site: random.Random(f"{seed}/{site}") for site in _SITES}

    def draw(self, site: Site) -> str | None:
        """The fault to inject at this event of `site`, or None."""
        with self._lock:
            kinds = [(kind, self._shares[kind]) for kind in _SITES[site] if kind in self._shares]
            if not kinds:
                return None
            roll = self._streams[site].random()
        for kind, share in kinds:
            if roll < share:
                return kind
            roll -= share
        return None


def _injected(kind: str) -> ApiError:
    note = f"(fault injected by gizmo-server: {kind})"
    if kind == "500":
        error = internal_error(f"The server failed unexpectedly {note}.")
    elif kind == "502":
        error = ApiError(502, "api_error", "bad_gateway", f"The upstream answer was lost {note}.")
    elif kind == "503":
        error = ApiError(
            503,
            "api_error",
            "service_unavailable",
            f"Temporarily overloaded {note}; retry.",
            headers={"Retry-After": "1"},
        )
    else:
        error = ApiError(
            429,
            "rate_limit_error",
            "rate_limited",
            f"Too many requests {note}; retry after 1 s.",
            headers={"Retry-After": "1"},
        )
    error.headers[FAULT_HEADER] = kind
    return error


_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class _Held:
    """A `send` that holds the answer back until `release` (or forever, when it is dropped)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        self.messages.append(message)

    async def release(self) -> None:
        for message in self.messages:
            await self.send(message)


async def _discard(message: Message) -> None:
    """A `send` that throws the handler's answer away (it is "lost on the way")."""


class _DamagedDownload:
    """A `send` that truncates or corrupts a successful download's body."""

    def __init__(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        self.kind, self.scope, self.receive, self.send = kind, scope, receive, send
        self.active = False
        self.length = 0
        self.sent = 0
        self.dropped = False

    async def __call__(self, message: Message) -> None:
        if self.dropped:
            return
        if message["type"] == "http.response.start":
            length = next(
                (v for k, v in message.get("headers", []) if k.lower() == b"content-length"), b"0"
            )
            self.length = int(length)
            self.active = message["status"] == 200 and self.length > 1
            if self.active:
                add_headers(message, {FAULT_HEADER: self.kind})
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        if not self.active or not body:
            await self.send(message)
            return
        start, self.sent = self.sent, self.sent + len(body)
        middle = self.length // 2
        if not start <= middle < self.sent:
            await self.send(message)
        elif self.kind == "corrupt_download":
            damaged = bytearray(body)
            damaged[middle - start] ^= 0xFF
            await self.send({**message, "body": bytes(damaged)})
        else:
            await self.send({**message, "body": body[: middle - start], "more_body": True})
            self.dropped = True
            await drop_connection(self.scope, self.receive, reset=False)


class FaultMiddleware:
    """Applies the request and download faults of `Faults` to API calls."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_api_call(scope):
            await self.app(scope, receive, send)
            return
        kind = self.faults.draw("request")
        if kind in ("500", "503", "429"):
            await _injected(kind).response()(scope, receive, send)
            return
        if kind in ("502", "reset"):
            await self.app(scope, receive, _discard)
            if kind == "reset":
                await drop_connection(scope, receive, reset=True)
            else:
                await _injected(kind).response()(scope, receive, send)
            return
        if kind == "reset_after_commit" and scope["method"] in _WRITES:
            answer = _Held(send)
            await self.app(scope, receive, answer)
            if 200 <= answer.status < 300:
                await drop_connection(scope, receive, reset=True)
            else:
                await answer.release()
            return
        if kind == "slow":
            await asyncio.sleep(self.faults.slow_seconds)
            send = _marked(send, kind)
        download_kind = (
            self.faults.draw("download")
            if scope["path"].startswith(DOWNLOADS_PREFIX) and scope["method"] == "GET"
            else None
        )
        if download_kind is not None:
            send = _DamagedDownload(download_kind, scope, receive, send)
        await self.app(scope, receive, send)


def _marked(send: Send, kind: str) -> Send:
    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            add_headers(message, {FAULT_HEADER: kind})
        await send(message)

    return marked
