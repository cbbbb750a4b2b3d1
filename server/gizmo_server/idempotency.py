"""`Idempotency-Key` on POST: a repeated key replays the first answer (per account, 24 h).

Only successful (2xx) answers are recorded: a failed request changed nothing, so running it again
is harmless, and a client that retries after waiting (an asset becoming ready) gets the new result
rather than a replayed error. The same key with a different request (method, path or body) answers
400 `idempotency_key_reused` instead of replaying an answer to another question. Requests with the
same key run one at a time, so two concurrent retries cannot both create.

The request's writes and its record commit in one transaction (`Store.unit`): a server killed
after the handler ran but before the answer was recorded has written nothing, so the retry
creates exactly once. `GIZMO_SERVER_PAUSE_BEFORE_COMMIT=SECONDS` (a test hook, off unless set)
pauses at that point, after logging that it did, so a test can kill the process there.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import weakref

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import header, is_api_call
from .auth import Accounts
from .errors import bad_request
from .middleware import request_body
from .store import IdempotentResponse, Store

__all__ = ["MAX_AGE_SECONDS", "IdempotencyMiddleware"]

MAX_AGE_SECONDS = 24 * 3600.0
MAX_KEY_LENGTH = 255
PAUSE_ENV = "GIZMO_SERVER_PAUSE_BEFORE_COMMIT"

logger = logging.getLogger("gizmo_server")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, store: Store, accounts: Accounts) -> None:
        self.app = app
        self.store = store
        self.accounts = accounts
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, "idempotency-key") if scope["method"] == "POST" else None
        account = (
            self.accounts.resolve(header(scope, "authorization"))
            if key is not None and is_api_call(scope)
            else None
        )
        if key is None or account is None:
            await self.app(scope, receive, send)  # unauthenticated: the route answers 401
            return
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            error = bad_request(
                "invalid_idempotency_key",
                f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} characters; "
                "a UUID is a good choice.",
            )
            await error.response()(scope, receive, send)
            return
        fingerprint = hashlib.sha256(
            b"\n".join((scope["method"].encode(), scope["path"].encode(), scope["query_string"]))
            + b"\n"
            + request_body(scope)
        ).hexdigest()
        lock = self._locks.get((account, key))
        if lock is None:
            lock = self._locks[(account, key)] = asyncio.Lock()
        async with lock:
            stored = await run_in_threadpool(
                self.store.get_idempotent, account, key, MAX_AGE_SECONDS
            )
            if stored is None:
                with self.store.unit() as unit:
                    start, body = await self._run(scope, receive)
                    record = None
                    if 200 <= start["status"] < 300:
                        answer = IdempotentResponse(
                            fingerprint, start["status"], _content_type(start), body
                        )
                        record = (account, key, answer, MAX_AGE_SECONDS)
                    await _pause_before_commit()
                    await run_in_threadpool(self.store.finish_unit, unit, record)
                await send(start)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
        if stored.request_sha256 != fingerprint:
            error = bad_request(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request in the last "
                "24 h; use a fresh key for each new request.",
            )
            await error.response()(scope, receive, send)
            return
        replay = Response(
            stored.body, stored.status, {"Idempotent-Replayed": "true"}, stored.content_type
        )
        await replay(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
        """Run the request, collecting its (small, JSON) answer instead of sending it."""
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        return start, b"".join(chunks)


async def _pause_before_commit() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        logger.warning("%s: pausing %s s before committing a request", PAUSE_ENV, seconds)
        await asyncio.sleep(float(seconds))


def _content_type(start: Message) -> str:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return str(value.decode("latin-1"))
    return "application/json"
