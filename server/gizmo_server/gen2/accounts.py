"""Accounts of the generation: `gzm_k1_` keys (stored as SHA-256), credits, per-key rate limits.

The key travels as `Authorization: Bearer <key>` or alone in `x-gizmo-service-token`. Limits are
fixed windows per key (`limit` requests; a minute as hosted, shorter for tests), the window
opening at the key's first request in it; `X-RateLimit-Reset` is the window's end in epoch
seconds and a 429 has no `Retry-After`, as the hosted service is reported to answer. Usage
counters live in memory (per process).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass

from gizmo_server.auth import hash_key, parse_bearer, validate_key

from .ids import stable_id
from .store import Account, Gen2Store

__all__ = ["KEY_PREFIX", "Decision", "Gen2Accounts", "is_gen2_key", "presented_key"]

KEY_PREFIX = "gzm_k1_"
SERVICE_TOKEN_HEADER = "x-gizmo-service-token"
WINDOW_SECONDS = 60.0
SCOPES = ("scenes:read", "scenes:write", "assets:read", "assets:write", "jobs:read", "exports")


def presented_key(authorization: str | None, service_token: str | None) -> str | None:
    """The key a request carries: the Bearer one, else `x-gizmo-service-token`."""
    key = parse_bearer(authorization)
    if key is None and service_token:
        key = service_token.strip() or None
    return key


def is_gen2_key(key: str | None) -> bool:
    return key is not None and key.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds at which the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class Gen2Accounts:
    """Resolves keys to accounts, counts usage and applies the per-key limit."""

    def __init__(
        self, store: Gen2Store, rate_limit: int, credits: int, window: float = WINDOW_SECONDS
    ) -> None:
        if rate_limit < 1:
            raise ValueError(f"the rate limit must be at least 1 per window, got {rate_limit}")
        if not window > 0:
            raise ValueError(f"the rate-limit window must be positive, got {window} s")
        self._store = store
        self.rate_limit = rate_limit
        self.window = window
        self.credits = credits
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key hash -> (window start, count)
        self._usage: dict[str, Counter[str]] = {}
        self._known: dict[str, Account] = {}  # accounts are never deleted: cache the lookups
        self.revoked: Container[str] = frozenset()  # key hashes refused (Service wires it)

    def register(self, key: str) -> str:
        """The account of `key` (created with the starting credits if new)."""
        if not is_gen2_key(validate_key(key)):
            raise ValueError(f"a newer-generation key starts with {KEY_PREFIX}")
        digest = hash_key(key)
        return self._store.ensure_account(
            stable_id(f"account/{digest}"), digest, key[: len(KEY_PREFIX) + 4], self.credits
        )

    def resolve(self, key: str) -> Account | None:
        digest = hash_key(key)
        if digest in self.revoked:
            return None
        with self._lock:
            account = self._known.get(digest)
        if account is None:
            account = self._store.account_for_key(digest)
            if account is not None:
                with self._lock:
                    self._known[digest] = account
        return account

    def take(self, key: str) -> Decision:
        """Count one request against `key`'s window."""
        digest = hash_key(key)
        with self._lock:
            moment = time.time()
            start, count = self._windows.get(digest, (moment, 0))
            if moment - start >= self.window:
                start, count = moment, 0
            allowed = count < self.rate_limit
            count += allowed
            self._windows[digest] = (start, count)
        return Decision(
            allowed, self.rate_limit, self.rate_limit - count, math.ceil(start + self.window)
        )

    def count(self, key: str, what: str) -> None:
        with self._lock:
            self._usage.setdefault(hash_key(key), Counter())[what] += 1

    def usage(self, key: str) -> dict[str, int]:
        with self._lock:
            return dict(self._usage.get(hash_key(key), Counter()))
