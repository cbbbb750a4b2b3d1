"""Per-account token buckets on writes (POST), answering 429 `rate_limited` when empty.

A bucket holds `per_minute` tokens and refills continuously at `per_minute / 60` per second, so
bursts up to the limit pass and a sustained rate above it is cut to the limit. Every limited
response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix time
at which the bucket is full again); a 429 adds `Retry-After` (seconds until the next token).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import add_headers, header, is_api_call
from .auth import Accounts
from .errors import ApiError

__all__ = ["Decision", "RateLimitMiddleware", "TokenBuckets"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    full_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until the next token (0 when allowed)

    def headers(self) -> dict[str, str]:
        values = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(time.time() + self.full_after)),
        }
        if not self.allowed:
            values["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return values


class TokenBuckets:
    """One bucket per key, refilled lazily on each take."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(
                f"the write rate limit must be at least 1 per minute, got {per_minute}"
            )
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        return Decision(
            allowed=allowed,
            limit=self.per_minute,
            remaining=int(tokens),
            full_after=(self.per_minute - tokens) / self._rate,
            retry_after=0.0 if allowed else (1.0 - tokens) / self._rate,
        )


class RateLimitMiddleware:
    """Applies `TokenBuckets` to authenticated POSTs; other requests pass untouched."""

    def __init__(self, app: ASGIApp, accounts: Accounts, buckets: TokenBuckets | None) -> None:
        self.app = app
        self.accounts = accounts
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or not is_api_call(scope) or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        account = self.accounts.resolve(header(scope, "authorization"))
        if account is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        decision = self.buckets.take(account)
        headers = decision.headers()
        if not decision.allowed:
            error = ApiError(
                429,
                "rate_limit_error",
                "rate_limited",
                f"Too many write requests: the limit is {decision.limit} per minute per key; "
                f"retry after {headers['Retry-After']} s.",
                headers=headers,
            )
            await error.response()(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(message, headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
