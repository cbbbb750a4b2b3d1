"""Resource ids and timestamps, formatted the way the API shows them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime

__all__ = ["new_id", "stable_id", "timestamp"]


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").lower()


def new_id(prefix: str) -> str:
    """A fresh random id such as `scn_k2m9q4...` (80 random bits, so collisions are not a worry)."""
    return f"{prefix}_{_b32(secrets.token_bytes(10))}"


def stable_id(prefix: str, seed: str) -> str:
    """An id derived from `seed`, so seeded data (the demo) gets the same ids on every run."""
    return f"{prefix}_{_b32(hashlib.sha256(seed.encode()).digest()[:10])}"


def timestamp(unix: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds and `Z`; fixed width, so strings sort chronologically."""
    moment = datetime.fromtimestamp(time.time() if unix is None else unix, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
