"""Shared fixtures: one real local server per test session, reached over loopback HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_server.embedded import LocalServer

# Exports carry real-size PBR textures by default (1024 px: tens of MB a furnished scene). The
# suite checks their structure, not their size, so every server it starts (in process or as a
# `gizmo-server` subprocess, which inherits this) paints them at 32 px; tests that need the
# default size set it themselves.
os.environ.setdefault("GIZMO_TEXTURE_SIZE", "32")


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True) as server:
        yield server


@pytest.fixture
def client(local_server: LocalServer, tmp_path: Path) -> Iterator[GizmoClient]:
    with GizmoClient(
        api_key=local_server.api_key,
        base_url=local_server.base_url,
        cache_dir=tmp_path / "cache",
    ) as c:
        yield c
