"""Ids and times as this generation shows them: 16 lowercase letters/digits, `job_...`, epoch s."""

from __future__ import annotations

import hashlib
import secrets
import string
import time

__all__ = ["new_id", "new_job_id", "now", "stable_id"]

_FIRST = string.ascii_lowercase
_REST = string.ascii_lowercase + string.digits


def new_id() -> str:
    """A scene or asset id; it starts with a letter, so it is also a USD/MJCF identifier."""
    return secrets.choice(_FIRST) + "".join(secrets.choice(_REST) for _ in range(15))


def stable_id(seed: str) -> str:
    """An id derived from `seed` (seeded demo data keeps its ids from run to run)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return _FIRST[digest[0] % 26] + "".join(_REST[b % 36] for b in digest[1:16])


def new_job_id() -> str:
    return f"job_{new_id()}"


def now() -> int:
    """Epoch seconds, the generation's timestamp form."""
    return int(time.time())
