"""SQLite persistence of the generation: accounts with credits, documents, job events.

Scenes, assets and jobs are JSON documents (`g2_docs`, one row each, kind + id), so the shapes
the API shows live in one place (`views`) instead of in columns. Every write is one
`BEGIN IMMEDIATE ... COMMIT` under one lock; `update` is a read-modify-write in one transaction, so
a PATCH and a finishing job cannot lose each other's change.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gizmo_server.changes import Changes

__all__ = ["Account", "Doc", "Gen2Store", "Kind"]

Doc = dict[str, Any]
Kind = Literal["scene", "asset", "job"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS g2_accounts (
    id TEXT PRIMARY KEY, key_sha256 TEXT NOT NULL UNIQUE, key_prefix TEXT NOT NULL,
    credits INTEGER NOT NULL, created_unix REAL NOT NULL);
CREATE TABLE IF NOT EXISTS g2_docs (
    kind TEXT NOT NULL, id TEXT NOT NULL, account_id TEXT NOT NULL, scene_id TEXT,
    created_unix REAL NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS g2_docs_by_account ON g2_docs (kind, account_id, created_unix, id);
CREATE TABLE IF NOT EXISTS g2_events (
    job_id TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (job_id, seq));
"""


@dataclass(frozen=True)
class Account:
    """A key's account; its balance changes, so it is read with `credits`, not kept here."""

    id: str
    key_prefix: str
    created_unix: float


class Gen2Store:
    """The generation's tables in `<data dir>/gizmo.sqlite3`, beside the alpha ones."""

    def __init__(self, path: Path) -> None:
        self.changes = Changes()  # held `Prefer: wait` GETs of a scene, woken by its commits
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")

    def close(self) -> None:
        self.changes.close()
        with self._lock:
            self._db.close()

    def _changed(self, kind: Kind, doc_id: str) -> None:
        """After a commit: a scene's document is all its GET answers, so its waiters wake."""
        if kind == "scene":
            self.changes.changed(doc_id)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- accounts -----------------------------------------------------------------------------

    def ensure_account(self, account_id: str, key_sha256: str, prefix: str, credits: int) -> str:
        """The account of a key hash; created with `credits` if new (an existing one keeps its)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO g2_accounts VALUES (?, ?, ?, ?, ?)",
                (account_id, key_sha256, prefix, credits, time.time()),
            )
            found: str = db.execute(
                "SELECT id FROM g2_accounts WHERE key_sha256 = ?", (key_sha256,)
            ).fetchone()[0]
        return found

    def account_for_key(self, key_sha256: str) -> Account | None:
        rows = self._read(
            "SELECT id, key_prefix, created_unix FROM g2_accounts WHERE key_sha256 = ?",
            (key_sha256,),
        )
        return Account(*rows[0]) if rows else None

    def spend(self, account_id: str, amount: int) -> int | None:
        """Take `amount` credits; the balance left, or None (nothing taken) if too few."""
        with self._tx() as db:
            (balance,) = db.execute(
                "SELECT credits FROM g2_accounts WHERE id = ?", (account_id,)
            ).fetchone()
            if balance < amount:
                return None
            db.execute(
                "UPDATE g2_accounts SET credits = ? WHERE id = ?", (balance - amount, account_id)
            )
        return int(balance - amount)

    def credits(self, account_id: str) -> int:
        (balance,) = self._read("SELECT credits FROM g2_accounts WHERE id = ?", (account_id,))[0]
        return int(balance)

    def refund(self, account_id: str, amount: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE g2_accounts SET credits = credits + ? WHERE id = ?", (amount, account_id)
            )

    # -- documents ----------------------------------------------------------------------------

    def put(self, kind: Kind, account_id: str, doc: Doc, created_unix: float) -> None:
        """Insert a document; `created_unix` (sub-second) orders lists newest first."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO g2_docs VALUES (?, ?, ?, ?, ?, ?)",
                (kind, doc["id"], account_id, doc.get("scene_id"), created_unix, json.dumps(doc)),
            )
        self._changed(kind, doc["id"])

    def get(self, kind: Kind, doc_id: str) -> tuple[str, Doc] | None:
        """The owning account and the document, or None."""
        rows = self._read(
            "SELECT account_id, doc FROM g2_docs WHERE kind = ? AND id = ?", (kind, doc_id)
        )
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def fingerprint(self, kind: Kind, doc_id: str) -> tuple[str, str] | None:
        """The owning account and the SHA-256 of the stored document (not decoded)."""
        rows = self._read(
            "SELECT account_id, doc FROM g2_docs WHERE kind = ? AND id = ?", (kind, doc_id)
        )
        if not rows:
            return None
        return rows[0][0], hashlib.sha256(rows[0][1].encode()).hexdigest()

    def update(self, kind: Kind, doc_id: str, change: Callable[[Doc], Doc | None]) -> Doc | None:
        """Apply `change` to the stored document in one transaction; returns the new document.

        `change` returns None to leave the document as it is (and `update` returns None).
        """
        with self._tx() as db:
            row = db.execute(
                "SELECT doc FROM g2_docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            if row is None:
                return None
            changed = change(json.loads(row[0]))
            if changed is not None:
                db.execute(
                    "UPDATE g2_docs SET doc = ?, scene_id = ? WHERE kind = ? AND id = ?",
                    (json.dumps(changed), changed.get("scene_id"), kind, doc_id),
                )
        if changed is not None:
            self._changed(kind, doc_id)
        return changed

    def delete(self, kind: Kind, doc_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM g2_docs WHERE kind = ? AND id = ?", (kind, doc_id))
        self._changed(kind, doc_id)

    def page(
        self,
        kind: Kind,
        account_id: str,
        limit: int,
        offset: int,
        scene_id: str | None = None,
    ) -> tuple[list[Doc], int]:
        """One page, newest first (ties broken by id), and the matching total."""
        where = "kind = ? AND account_id = ?" + (" AND scene_id = ?" if scene_id else "")
        params: tuple[object, ...] = (kind, account_id, *((scene_id,) if scene_id else ()))
        with self._lock:
            rows = self._read(
                f"SELECT doc FROM g2_docs WHERE {where} "
                "ORDER BY created_unix DESC, id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
            (total,) = self._read(f"SELECT COUNT(*) FROM g2_docs WHERE {where}", params)[0]
        return [json.loads(row[0]) for row in rows], int(total)

    def of_kind_with(self, kind: Kind, field: str, values: tuple[str, ...]) -> list[Doc]:
        """Every document of `kind` whose `field` is one of `values` (e.g. unfinished jobs)."""
        rows = self._read("SELECT doc FROM g2_docs WHERE kind = ?", (kind,))
        docs = [json.loads(row[0]) for row in rows]
        return [d for d in docs if d.get(field) in values]

    # -- job events ---------------------------------------------------------------------------

    def add_event(self, job_id: str, make: Callable[[int], Doc]) -> Doc:
        """Append the event `make(seq)` with the job's next sequence number (from 1)."""
        with self._tx() as db:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM g2_events WHERE job_id = ?", (job_id,)
            ).fetchone()
            event = make(int(last) + 1)
            db.execute(
                "INSERT INTO g2_events VALUES (?, ?, ?)", (job_id, event["seq"], json.dumps(event))
            )
        return event

    def events_after(self, job_id: str, after: int) -> list[Doc]:
        rows = self._read(
            "SELECT doc FROM g2_events WHERE job_id = ? AND seq > ? ORDER BY seq", (job_id, after)
        )
        return [json.loads(row[0]) for row in rows]

    def last_event(self, job_id: str) -> Doc | None:
        rows = self._read(
            "SELECT doc FROM g2_events WHERE job_id = ? ORDER BY seq DESC LIMIT 1", (job_id,)
        )
        return json.loads(rows[0][0]) if rows else None
