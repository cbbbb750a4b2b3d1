"""Helpers of the `gizmo` CLI tests: pointing the CLI at a local server, in-process or as a
real subprocess (for what only a process shows: exit on a broken pipe, Ctrl-C, import-time
behaviour)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from gizmo_client.cli import EXIT_OK, main
from gizmo_server.embedded import LocalServer

GIZMO = [sys.executable, "-m", "gizmo_client"]


def settings(server: LocalServer, tmp_path: Path, api_key: str | None = None) -> dict[str, str]:
    return {
        "GIZMO_API_KEY": api_key or server.api_key,
        "GIZMO_BASE_URL": server.base_url,
        "GIZMO_CACHE_DIR": str(tmp_path / "cache"),
        "GIZMO_CONFIG": str(tmp_path / "config.json"),
    }


def use_server(
    monkeypatch: pytest.MonkeyPatch, server: LocalServer, tmp_path: Path, api_key: str | None = None
) -> None:
    """Point in-process `main([...])` calls at `server`."""
    monkeypatch.delenv("GIZMO_API_GENERATION", raising=False)
    for name, value in settings(server, tmp_path, api_key).items():
        monkeypatch.setenv(name, value)


def run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = EXIT_OK) -> tuple[str, str]:
    """`gizmo ARGV` in-process; asserts the exit code, returns (stdout, stderr)."""
    capsys.readouterr()
    got = main(list(argv))
    out, err = capsys.readouterr()
    assert got == code, f"exit {got} != {code}\nstdout: {out}\nstderr: {err}"
    return out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    out, _ = run(capsys, "--json", *argv)
    return json.loads(out)


def subprocess_env(server: LocalServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    return {**env, **settings(server, tmp_path), **extra}


def gizmo(
    *argv: str, env: dict[str, str], timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """`gizmo ARGV` as a real process."""
    return subprocess.run(
        [*GIZMO, *argv], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def stderr_on_a_tty(*argv: str, env: dict[str, str], timeout: float = 60.0) -> str:
    """Run `gizmo ARGV` with stderr on a pseudo-terminal (where progress bars show); asserts it
    exits 0 and returns what it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(
        [*GIZMO, *argv], env=env, stdout=subprocess.DEVNULL, stderr=follower
    ) as proc:
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=timeout) == 0, b"".join(chunks).decode(errors="replace")
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")
