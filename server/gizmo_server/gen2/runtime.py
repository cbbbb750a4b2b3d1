"""Everything the generation runs on, built once per server by `gizmo_server.service.Service`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gizmo_server.export_pool import ExportPool
from gizmo_server.faults import Faults

from .accounts import Gen2Accounts
from .jobs import Jobs
from .store import Gen2Store

__all__ = ["Gen2Runtime", "Gen2Settings"]


@dataclass(frozen=True)
class Gen2Settings:
    job_seconds: float = 1.5  # about how long a job takes; 0 = its stages back to back
    rate_limit: int = 100  # requests per minute per key
    credits: int = 1000  # starting balance of each account
    ping_interval: float = 1.0  # seconds without events before an SSE `ping`
    rate_window: float = 60.0  # seconds of a rate-limit window (`rate_limit` requests each)


class Gen2Runtime:
    def __init__(
        self, settings: Gen2Settings, database: Path, faults: Faults, exports: ExportPool
    ) -> None:
        self.settings = settings
        self.faults = faults
        self.exports = exports  # the server's export pool, shared with the alpha generation
        self.store = Gen2Store(database)
        try:
            self.accounts = Gen2Accounts(
                self.store, settings.rate_limit, settings.credits, settings.rate_window
            )
            self.jobs = Jobs(self.store, faults, settings.job_seconds)
        except BaseException:
            self.store.close()
            raise

    def start(self) -> None:
        self.jobs.start()

    def close(self) -> None:
        self.jobs.stop()
        self.store.close()
