"""What `gizmo-server keys list|revoke` read and write: one row per key, masked, and revocation.

Accounts (`accounts` for alpha keys, `g2_accounts` for `gzm_k1_` ones) hold only key hashes.
`api_keys` adds the masked key (`gzk_…abcd`, recorded when `keys add` made the account) and the
time it was revoked. A key that became an account before (a start with `--api-key`) has no
masked form: it is listed and revocable by `sha256:<12 hex digits>` or by the key itself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .ids import timestamp

__all__ = ["KeyInfo", "KeyTable"]

Generation = Literal["alpha", "jobs"]

_LIST = """
SELECT a.key_sha256, 'alpha', k.masked, a.created_at, k.revoked_at
FROM accounts a LEFT JOIN api_keys k ON k.key_sha256 = a.key_sha256
UNION ALL
SELECT g.key_sha256, 'jobs', k.masked, g.created_unix, k.revoked_at
FROM g2_accounts g LEFT JOIN api_keys k ON k.key_sha256 = g.key_sha256
"""


@dataclass(frozen=True)
class KeyInfo:
    key_sha256: str
    generation: Generation
    masked: str | None
    created_at: str
    revoked_at: str | None

    @property
    def id(self) -> str:
        """A short name for the key that gives nothing away (a prefix of its hash)."""
        return f"sha256:{self.key_sha256[:12]}"

    @property
    def label(self) -> str:
        return self.masked or self.id

    def matches(self, text: str, digest: str) -> bool:
        """Whether `text` (whose SHA-256 is `digest`) names this key: the key itself, its id,
        its masked form or the masked form's last characters (4 or more)."""
        if digest == self.key_sha256 or text == self.id:
            return True
        suffix = text.rpartition("…")[2]
        return self.masked is not None and len(suffix) >= 4 and self.masked.endswith(suffix)

    def as_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "masked": self.masked,
            "generation": self.generation,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


class KeyTable:
    """The key rows of a data directory's database (opened after the server's stores made it)."""

    def __init__(self, database: Path) -> None:
        self._db = sqlite3.connect(database, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")

    def close(self) -> None:
        self._db.close()

    def label(self, key_sha256: str, masked: str) -> None:
        self._db.execute(
            "INSERT INTO api_keys (key_sha256, masked) VALUES (?, ?) "
            "ON CONFLICT (key_sha256) DO UPDATE SET masked = excluded.masked",
            (key_sha256, masked),
        )

    def list(self) -> list[KeyInfo]:
        """Every key, oldest first."""
        rows = [
            KeyInfo(
                digest,
                generation,
                masked,
                created if isinstance(created, str) else timestamp(created),
                revoked,
            )
            for digest, generation, masked, created, revoked in self._db.execute(_LIST)
        ]
        return sorted(rows, key=lambda row: (row.created_at, row.key_sha256))

    def revoke(self, key_sha256: str) -> None:
        """Mark the key revoked (a key revoked twice keeps its first time)."""
        self._db.execute(
            "INSERT INTO api_keys (key_sha256, revoked_at) VALUES (?, ?) "
            "ON CONFLICT (key_sha256) DO UPDATE SET "
            "revoked_at = COALESCE(api_keys.revoked_at, excluded.revoked_at)",
            (key_sha256, timestamp()),
        )
