"""Client-test helpers: a recorder of every HTTP request this process sends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SentRequest]]:
    """Every request sent through `requests` while the test runs (the real send still happens)."""
    log: list[SentRequest] = []
    real_send = requests.Session.send

    def recording_send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        log.append(SentRequest(request.method, request.url, dict(request.headers)))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    yield log
