"""Everything the HTTP app runs on, built from one `Settings`: the single place that wires parts.

Both the `gizmo-server` command and `LocalServer` build a `Service`, hand it to
`app.create_app`, and close it when the server stops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from . import export_pool
from .artifacts import Artifacts, BlobStore
from .auth import Accounts
from .faults import Faults
from .gen2.runtime import Gen2Runtime, Gen2Settings
from .links import LinkSigner
from .private import private_file, secure
from .ratelimit import TokenBuckets
from .store import Store
from .worker import GenerationWorker

__all__ = ["Service", "Settings"]

logger = logging.getLogger("gizmo_server")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    generation_delay: float = 0.2  # seconds from pending to ready
    link_ttl: float = 900.0  # seconds a download link stays valid
    rate_limit_writes: int | None = None  # POSTs per minute per key; None = unlimited
    faults: str | None = None  # "KIND:SHARE,..."; None = no faults
    fault_seed: int = 0
    slow_seconds: float = 2.0  # delay of the `slow` fault
    max_body_bytes: int = 1024 * 1024
    zip_exports: bool = False  # deliver exports as ZIPs, as the hosted service may
    export_workers: int = field(default_factory=export_pool.default_workers)  # 0 = old, inline
    export_queue: int = 8  # exports that may wait for a worker; more are refused with 503
    export_inline_max: int = 50  # placements a small-textured export may have to render inline
    gen2: Gen2Settings = field(default_factory=Gen2Settings)  # the newer ("jobs") generation


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        exposed = secure(settings.data_dir)
        private_file(settings.data_dir / "gizmo.sqlite3")
        self.faults = Faults(settings.faults, settings.fault_seed, settings.slow_seconds)
        self.buckets = (
            TokenBuckets(settings.rate_limit_writes)
            if settings.rate_limit_writes is not None
            else None
        )
        self.store = Store(settings.data_dir / "gizmo.sqlite3")
        self.exports = export_pool.acquire(
            settings.export_workers, settings.export_queue, settings.export_inline_max
        )
        try:
            if exposed:
                self.store.replace_secret()
                logger.warning(
                    "the data directory %s was readable by other users: it is now private (0700, "
                    "files 0600) and the link-signing secret is new, so download links given "
                    "before no longer work",
                    settings.data_dir,
                )
            self.accounts = Accounts(self.store)
            links = LinkSigner(self.store.secret(), settings.link_ttl)
            blobs = BlobStore(settings.data_dir / "files")
            self.artifacts = Artifacts(self.store, blobs, links, self.exports, settings.zip_exports)
            self.worker = GenerationWorker(self.store, self.faults, settings.generation_delay)
            self.gen2 = Gen2Runtime(settings.gen2, self.store.path, self.faults, self.exports)
            self.gen2.accounts.revoked = self.accounts.revoked  # one view of `keys revoke`
        except BaseException:
            export_pool.release(self.exports)
            self.store.close()
            raise

    def start(self) -> None:
        self.worker.start()
        self.gen2.start()

    def release_held_requests(self) -> None:
        """Answer every `Prefer: wait` GET held now and hold no more: called when the server
        starts shutting down, so held requests end before uvicorn's graceful timeout cuts them."""
        self.store.changes.close()
        self.gen2.store.changes.close()

    def close(self) -> None:
        self.gen2.close()
        self.worker.stop()
        export_pool.release(self.exports)
        self.store.close()
