"""API keys: generated, validated, stored only as SHA-256, resolved to accounts.

A plain SHA-256 suffices: keys are high-entropy random strings, not passwords, so a slow hash
would add latency to every request without adding protection.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading

from .store import Store

__all__ = ["Accounts", "generate_api_key", "hash_key", "parse_bearer", "validate_key"]

# RFC 6750 b64token: what may follow "Bearer " in an Authorization header.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
MAX_KEY_LENGTH = 256


def generate_api_key() -> str:
    return f"gzk_{secrets.token_urlsafe(24)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def validate_key(key: str) -> str:
    """Return `key` if it can travel in a Bearer header; raise ValueError saying why not."""
    if not 8 <= len(key) <= MAX_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
        raise ValueError(
            f"an API key must be 8 to {MAX_KEY_LENGTH} characters of letters, digits and "
            "-._~+/ (optionally ending in =); generate one by omitting --api-key"
        )
    return key


def parse_bearer(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None if missing or malformed."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or len(key) > MAX_KEY_LENGTH:
        return None
    return key if _KEY_PATTERN.fullmatch(key) else None


class Accounts:
    """Maps keys to account ids, all held in memory (loaded at start, added by `register`).

    `resolve` runs on the event loop, so it must never wait for the database (a request's unit
    of work may hold it; see `Store.unit`).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, str] = dict(store.account_keys())
        self._lock = threading.Lock()

    def register(self, key: str) -> str:
        """The account of `key` (created on first use); raises ValueError for a malformed key."""
        digest = hash_key(validate_key(key))
        account = self._store.ensure_account(digest)
        with self._lock:
            self._cache[digest] = account
        return account

    def resolve(self, authorization: str | None) -> str | None:
        """The account of an Authorization header; None if missing, malformed or unknown."""
        key = parse_bearer(authorization)
        if key is None:
            return None
        digest = hash_key(key)
        with self._lock:
            return self._cache.get(digest)
