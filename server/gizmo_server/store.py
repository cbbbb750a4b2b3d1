"""SQLite persistence (WAL): accounts, assets, scenes, placements, downloads, idempotency records.

One connection guarded by a lock: every call is a short transaction, so serialising them costs
little and makes concurrent writers (20 threads adding placements to one scene) trivially safe.
Each write runs in `BEGIN IMMEDIATE ... COMMIT`; a failure rolls back, nothing is half-written.

A request with an `Idempotency-Key` runs as one `unit` instead: its writes and its idempotency
record commit in one transaction (`finish_unit`), so a crash between them cannot leave data
written without the record that makes the client's retry a replay. The unit holds the lock from
its first write to its end, across the threads the request runs on, so the lock is owned by the
unit (a context variable) rather than by a thread.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from .changes import Changes
from .ids import new_id, timestamp
from .store_rows import (
    AssetRow,
    DownloadRow,
    IdempotentResponse,
    PlacementRow,
    Quat,
    Row,
    SceneRow,
    Vec3,
    asset_row,
    placement_row,
    scene_row,
)

__all__ = [
    "AssetRow",
    "DownloadRow",
    "IdempotentResponse",
    "PlacementRow",
    "SceneRow",
    "Store",
    "Unit",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, key_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    key_sha256 TEXT PRIMARY KEY, masked TEXT, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL, prompt TEXT NOT NULL, tags TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT, export_formats TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS assets_by_account ON assets (account_id, created_at, id);
CREATE INDEX IF NOT EXISTS assets_by_status ON assets (status);
CREATE TABLE IF NOT EXISTS scenes (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL, description TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scenes_by_account ON scenes (account_id, created_at, id);
CREATE TABLE IF NOT EXISTS placements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    scene_id TEXT NOT NULL REFERENCES scenes(id), asset_id TEXT NOT NULL REFERENCES assets(id),
    px REAL NOT NULL, py REAL NOT NULL, pz REAL NOT NULL,
    qx REAL NOT NULL, qy REAL NOT NULL, qz REAL NOT NULL, qw REAL NOT NULL,
    added_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS placements_by_scene ON placements (scene_id, seq);
CREATE TABLE IF NOT EXISTS downloads (
    token TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
    sha256 TEXT NOT NULL, filename TEXT NOT NULL, format TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    account_id TEXT NOT NULL, key TEXT NOT NULL, request_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL, content_type TEXT NOT NULL, body BLOB NOT NULL,
    created_unix REAL NOT NULL,
    PRIMARY KEY (account_id, key));
"""

_ASSET_COLUMNS = "id, account_id, name, prompt, tags, status, error, export_formats, created_at"
_SCENE_COLUMNS = "id, account_id, name, description, created_at"
_PLACEMENT_SELECT = """
SELECT p.id, p.scene_id, p.asset_id, a.name, a.prompt, p.px, p.py, p.pz,
       p.qx, p.qy, p.qz, p.qw, p.added_at
FROM placements p JOIN assets a ON a.id = p.asset_id
"""


class Unit:
    """One request's writes, committed together with its idempotency record."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.open = False  # a transaction is running and the unit holds the store's lock
        self.changed: set[str] = set()  # scenes its writes change, announced when it commits


_UNIT: ContextVar[Unit | None] = ContextVar("gizmo_store_unit", default=None)


class _UnitLock:
    """A reentrant lock owned by the current unit if there is one, else by the thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: object = None
        self._depth = 0

    @staticmethod
    def _me() -> object:
        unit = _UNIT.get()
        return unit if unit is not None else threading.get_ident()

    def acquire(self) -> None:
        me = self._me()
        with self._cond:
            while self._owner is not None and self._owner != me:
                self._cond.wait()
            self._owner = me
            self._depth += 1

    def release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Store:
    """The server's database in `<data dir>/gizmo.sqlite3`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changes = Changes()  # held `Prefer: wait` GETs of a scene, woken by its commits
        self._lock = _UnitLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")

    def close(self) -> None:
        self.changes.close()
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self, scene_id: str | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any error; a commit that
        changes `scene_id` wakes the requests held on it.

        Inside a unit it is a savepoint of the unit's transaction, committed by `finish_unit`.
        """
        unit = _UNIT.get()
        if unit is not None and unit.store is self:
            with self._lock:
                if not unit.open:
                    self._lock.acquire()  # held until finish_unit
                    self._db.execute("BEGIN IMMEDIATE")
                    unit.open = True
                self._db.execute("SAVEPOINT write")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK TO write")
                    self._db.execute("RELEASE write")
                    raise
                self._db.execute("RELEASE write")
                if scene_id is not None:
                    unit.changed.add(scene_id)
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        if scene_id is not None:
            self.changes.changed(scene_id)

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """Run the writes of the current context (threads it starts included) as one unit.

        Call `finish_unit` before leaving to commit; leaving without it rolls back.
        """
        unit = Unit(self)
        token = _UNIT.set(unit)
        try:
            yield unit
        finally:
            if unit.open:
                self._end(unit, commit=False)
            _UNIT.reset(token)

    def finish_unit(
        self, unit: Unit, record: tuple[str, str, IdempotentResponse, float] | None
    ) -> None:
        """Commit the unit's writes with `record` (account, key, answer, max age) or, with
        None (the request failed), roll them back."""
        if record is None:
            if unit.open:
                self._end(unit, commit=False)
            return
        token = _UNIT.set(unit)
        try:
            self.put_idempotent(*record)
            self._end(unit, commit=True)
        finally:
            _UNIT.reset(token)

    def _end(self, unit: Unit, *, commit: bool) -> None:
        token = _UNIT.set(unit)
        try:
            self._db.execute("COMMIT" if commit else "ROLLBACK")
            unit.open = False
            self._lock.release()
        finally:
            _UNIT.reset(token)
        for scene_id in unit.changed if commit else ():
            self.changes.changed(scene_id)
        unit.changed.clear()

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- server-wide values -------------------------------------------------------------------

    def secret(self) -> bytes:
        """The HMAC secret for download links; created once, kept across restarts."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('link_secret', ?)",
                (secrets.token_bytes(32),),
            )
            value: bytes = db.execute(
                "SELECT value FROM meta WHERE key = 'link_secret'"
            ).fetchone()[0]
        return value

    def replace_secret(self) -> None:
        """Forget the link-signing secret (it may have been read); `secret` makes a new one."""
        with self._tx() as db:
            db.execute("DELETE FROM meta WHERE key = 'link_secret'")

    # -- accounts -----------------------------------------------------------------------------

    def ensure_account(self, key_sha256: str) -> str:
        """The account of a key hash, created if new."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO accounts (id, key_sha256, created_at) VALUES (?, ?, ?)",
                (new_id("acct"), key_sha256, timestamp()),
            )
            account: str = db.execute(
                "SELECT id FROM accounts WHERE key_sha256 = ?", (key_sha256,)
            ).fetchone()[0]
        return account

    def account_keys(self) -> list[tuple[str, str]]:
        """Every (key hash, account id)."""
        return [(row[0], row[1]) for row in self._read("SELECT key_sha256, id FROM accounts")]

    def account_count(self) -> int:
        count: int = self._read("SELECT COUNT(*) FROM accounts")[0][0]
        return count

    # -- assets -------------------------------------------------------------------------------

    def create_asset(
        self,
        account_id: str,
        name: str,
        prompt: str,
        tags: Sequence[str],
        *,
        asset_id: str | None = None,
        status: str = "pending",
        export_formats: Sequence[str] = (),
        created_at: str | None = None,
    ) -> AssetRow:
        """Insert an asset; an explicit `asset_id` that already exists keeps the stored asset.

        The explicit id and timestamp are for seeded data (the demo), which must be repeatable.
        """
        asset_id = asset_id or new_id("ast")
        with self._tx() as db:
            db.execute(
                f"INSERT OR IGNORE INTO assets ({_ASSET_COLUMNS}) VALUES ({', '.join('?' * 9)})",
                (
                    asset_id,
                    account_id,
                    name,
                    prompt,
                    json.dumps(list(tags)),
                    status,
                    None,
                    json.dumps(list(export_formats)),
                    created_at or timestamp(),
                ),
            )
            row = db.execute(
                f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = ?", (asset_id,)
            ).fetchone()
        return asset_row(row)

    def get_asset(self, asset_id: str) -> AssetRow | None:
        rows = self._read(f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = ?", (asset_id,))
        return asset_row(rows[0]) if rows else None

    def get_assets(self, asset_ids: Sequence[str]) -> list[AssetRow]:
        marks = ",".join("?" * len(asset_ids))
        rows = self._read(f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id IN ({marks})", asset_ids)
        return [asset_row(row) for row in rows]

    def list_assets(self, account_id: str, limit: int, offset: int) -> tuple[list[AssetRow], int]:
        """One page, newest first (ties broken by id), and the account's total."""
        with self._lock:
            rows = self._read(
                f"SELECT {_ASSET_COLUMNS} FROM assets WHERE account_id = ? "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (account_id, limit, offset),
            )
            total = self._read("SELECT COUNT(*) FROM assets WHERE account_id = ?", (account_id,))
        return [asset_row(row) for row in rows], total[0][0]

    def set_asset_status(
        self,
        asset_id: str,
        status: str,
        *,
        export_formats: Sequence[str] = (),
        error: str | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE assets SET status = ?, export_formats = ?, error = ? WHERE id = ?",
                (status, json.dumps(list(export_formats)), error, asset_id),
            )

    def unfinished_assets(self) -> list[AssetRow]:
        """Assets still pending or processing (to resume generation after a restart)."""
        rows = self._read(
            f"SELECT {_ASSET_COLUMNS} FROM assets WHERE status IN ('pending', 'processing') "
            "ORDER BY created_at, id"
        )
        return [asset_row(row) for row in rows]

    # -- scenes and placements ----------------------------------------------------------------

    def create_scene(
        self,
        account_id: str,
        name: str,
        description: str | None,
        *,
        scene_id: str | None = None,
        created_at: str | None = None,
    ) -> SceneRow:
        """Insert a scene; with a given `scene_id` that already exists, keep the stored one."""
        scene_id = scene_id or new_id("scn")
        with self._tx(scene_id) as db:
            db.execute(
                f"INSERT OR IGNORE INTO scenes ({_SCENE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (scene_id, account_id, name, description, created_at or timestamp()),
            )
            row = db.execute(
                f"SELECT {_SCENE_COLUMNS} FROM scenes WHERE id = ?", (scene_id,)
            ).fetchone()
        return scene_row(row)

    def get_scene(self, scene_id: str) -> SceneRow | None:
        rows = self._read(f"SELECT {_SCENE_COLUMNS} FROM scenes WHERE id = ?", (scene_id,))
        return scene_row(rows[0]) if rows else None

    def get_scene_with_placements(
        self, scene_id: str
    ) -> tuple[SceneRow, list[PlacementRow]] | None:
        """A scene and its placements in insertion order, read consistently."""
        with self._lock:
            scene = self.get_scene(scene_id)
            if scene is None:
                return None
            rows = self._read(
                f"{_PLACEMENT_SELECT} WHERE p.scene_id = ? ORDER BY p.seq", (scene_id,)
            )
        return scene, [placement_row(row) for row in rows]

    def scene_fingerprint(self, scene_id: str) -> tuple[str, str] | None:
        """The scene's account and what its answer depends on (placements are append-only and
        assets keep their names, so the count and last sequence number say what changed)."""
        rows = self._read(
            "SELECT s.account_id, s.name, COUNT(p.seq), MAX(p.seq) FROM scenes s "
            "LEFT JOIN placements p ON p.scene_id = s.id WHERE s.id = ? GROUP BY s.id",
            (scene_id,),
        )
        if not rows:
            return None
        account, name, count, last = rows[0]
        return account, f"{name}\0{count}\0{last}"

    def list_scenes(self, account_id: str, limit: int, offset: int) -> tuple[list[SceneRow], int]:
        """One page, newest first (ties broken by id), and the account's total."""
        with self._lock:
            rows = self._read(
                f"SELECT {_SCENE_COLUMNS} FROM scenes WHERE account_id = ? "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (account_id, limit, offset),
            )
            total = self._read("SELECT COUNT(*) FROM scenes WHERE account_id = ?", (account_id,))
        return [scene_row(row) for row in rows], total[0][0]

    def add_placement(
        self,
        scene_id: str,
        asset_id: str,
        position: Vec3,
        rotation: Quat,
        *,
        placement_id: str | None = None,
        added_at: str | None = None,
    ) -> str:
        """Append a placement (returns its id); with a given `placement_id` that already exists,
        do nothing."""
        placement_id = placement_id or new_id("pla")
        with self._tx(scene_id) as db:
            db.execute(
                "INSERT OR IGNORE INTO placements "
                "(id, scene_id, asset_id, px, py, pz, qx, qy, qz, qw, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    placement_id,
                    scene_id,
                    asset_id,
                    *position,
                    *rotation,
                    added_at or timestamp(),
                ),
            )
        return placement_id

    def get_placement(self, placement_id: str) -> PlacementRow | None:
        rows = self._read(f"{_PLACEMENT_SELECT} WHERE p.id = ?", (placement_id,))
        return placement_row(rows[0]) if rows else None

    # -- downloads ----------------------------------------------------------------------------

    def add_download(
        self, account_id: str, sha256: str, filename: str, fmt: str, size_bytes: int
    ) -> str:
        """Record an exported file behind a new random token; returns the token."""
        token = secrets.token_urlsafe(24)
        with self._tx() as db:
            db.execute(
                "INSERT INTO downloads (token, account_id, sha256, filename, format, size_bytes, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token, account_id, sha256, filename, fmt, size_bytes, timestamp()),
            )
        return token

    def get_download(self, token: str) -> DownloadRow | None:
        rows = self._read(
            "SELECT token, account_id, sha256, filename, format, size_bytes FROM downloads "
            "WHERE token = ?",
            (token,),
        )
        return DownloadRow(*rows[0]) if rows else None

    # -- idempotency --------------------------------------------------------------------------

    def get_idempotent(
        self, account_id: str, key: str, max_age: float
    ) -> IdempotentResponse | None:
        rows = self._read(
            "SELECT request_sha256, status, content_type, body FROM idempotency "
            "WHERE account_id = ? AND key = ? AND created_unix > ?",
            (account_id, key, time.time() - max_age),
        )
        return IdempotentResponse(*rows[0]) if rows else None

    def put_idempotent(
        self, account_id: str, key: str, response: IdempotentResponse, max_age: float
    ) -> None:
        """Store a response to replay; also drops records older than `max_age` seconds."""
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM idempotency WHERE created_unix <= ?", (now - max_age,))
            db.execute(
                "INSERT OR REPLACE INTO idempotency "
                "(account_id, key, request_sha256, status, content_type, body, created_unix) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    key,
                    response.request_sha256,
                    response.status,
                    response.content_type,
                    response.body,
                    now,
                ),
            )
