"""API keys: generated, validated, stored only as SHA-256, resolved to accounts.

A plain SHA-256 suffices: keys are high-entropy random strings, not passwords, so a slow hash
would add latency to every request without adding protection.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from .store import Store

__all__ = [
    "Accounts",
    "Revocations",
    "generate_api_key",
    "hash_key",
    "parse_bearer",
    "validate_key",
]

logger = logging.getLogger("gizmo_server")

# How stale a running server's view of revoked keys may be (`gizmo-server keys revoke`).
RECHECK_SECONDS = 0.25

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


class Revocations:
    """The revoked key hashes of a database, as another process (`keys revoke`) may change them.

    Re-read at most every `interval` seconds when asked, through a fresh read-only connection:
    the store's lock may be held by a request's unit of work, and a WAL reader never waits for a
    writer. The revoked set is small, so reading it whole is simpler than a change counter.
    """

    def __init__(self, database: Path, interval: float = RECHECK_SECONDS) -> None:
        self._uri = f"{database.resolve().as_uri()}?mode=ro"
        self._interval = interval
        self._lock = threading.Lock()
        self._revoked = self._read()
        self._checked = time.monotonic()

    def _read(self) -> frozenset[str]:
        with contextlib.closing(sqlite3.connect(self._uri, uri=True)) as db:
            rows = db.execute("SELECT key_sha256 FROM api_keys WHERE revoked_at IS NOT NULL")
            return frozenset(row[0] for row in rows)

    def __contains__(self, digest: object) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self._interval:
                self._checked = now
                try:
                    self._revoked = self._read()
                except sqlite3.Error as exc:  # keep the last known set; try again next time
                    logger.warning("cannot re-read revoked keys: %s", exc)
            return digest in self._revoked


class Accounts:
    """Maps keys to account ids, all held in memory (loaded at start, added by `register`).

    `resolve` runs on the event loop, so it must never wait for the database (a request's unit
    of work may hold it; see `Store.unit`).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, str] = dict(store.account_keys())
        self._lock = threading.Lock()
        self.revoked = Revocations(store.path)

    def register(self, key: str) -> str:
        """The account of `key` (created on first use); raises ValueError for a malformed key."""
        digest = hash_key(validate_key(key))
        account = self._store.ensure_account(digest)
        with self._lock:
            self._cache[digest] = account
        return account

    def resolve(self, authorization: str | None) -> str | None:
        """The account of an Authorization header; None if missing, malformed, unknown or
        revoked."""
        key = parse_bearer(authorization)
        if key is None:
            return None
        digest = hash_key(key)
        if digest in self.revoked:
            return None
        with self._lock:
            return self._cache.get(digest)
