"""Newcomer finding 6: never a traceback. File-system trouble, a closed pipe and Ctrl-C each end
in one line (or none, for the pipe) and the documented exit code."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.cli import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_INTERRUPTED
from gizmo_client.models import Vector3
from gizmo_server.embedded import LocalServer

from .cli_support import GIZMO, gizmo, subprocess_env

WORKCELL = "Warehouse Workcell Alpha"


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _workcell(env: dict[str, str]) -> str:
    listed = gizmo("scenes", "list", env=env).stdout
    return next(line.split()[0] for line in listed.splitlines() if WORKCELL in line)


def test_a_cache_dir_that_is_a_file(local_server: LocalServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = subprocess_env(local_server, tmp_path, GIZMO_CACHE_DIR=str(blocker))
    done = gizmo("scenes", "fetch", _workcell(env), env=env)
    assert done.returncode == EXIT_ERROR and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert line.startswith(f"error: cannot use {blocker}/") and "Not a directory" in line
    assert "GIZMO_CACHE_DIR" in line


@contextmanager
def _tmpfs(mount: Path, options: str) -> Iterator[Path]:
    """A real small file system at `mount` (needs the right to mount a tmpfs, e.g. root)."""
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """64 KiB, all but 8 KiB of it taken."""
    with _tmpfs(tmp_path / "disk", "size=64k") as mount:
        free = os.statvfs(mount)
        (mount / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8192))
        yield mount


def test_a_read_only_cache_dir(local_server: LocalServer, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "size=64k,ro") as mount:
        env = subprocess_env(local_server, tmp_path, GIZMO_CACHE_DIR=str(mount / "cache"))
        done = gizmo("scenes", "fetch", _workcell(env), env=env)
    assert done.returncode == EXIT_ERROR and done.stdout == ""
    line = _one_error_line(done.stderr)
    assert line.startswith(f"error: cannot use {mount}/cache") and "Read-only file system" in line
    assert "Choose a writable folder: GIZMO_CACHE_DIR" in line


def test_a_full_disk(local_server: LocalServer, tmp_path: Path, tiny_disk: Path) -> None:
    env = subprocess_env(local_server, tmp_path, GIZMO_CACHE_DIR=str(tiny_disk / "cache"))
    done = gizmo("scenes", "fetch", _workcell(env), "--format", "usd", env=env)
    assert done.returncode == EXIT_ERROR, done.stderr
    line = _one_error_line(done.stderr)
    assert "No space left on device" in line and "The disk is full" in line
    leftovers = [p for p in (tiny_disk / "cache").rglob("*") if p.is_file()]
    assert [p for p in leftovers if p.suffix in (".usd", ".xml")] == []  # nothing half-written


def test_a_closed_pipe_ends_quietly(
    local_server: LocalServer, client: GizmoClient, tmp_path: Path
) -> None:
    scene = client.scenes.create("many placements")
    asset = next(a for a in client.assets.iter_all() if a.status.value == "ready")
    for i in range(30):
        client.scenes.add_asset(scene.id, asset.id, Vector3(x=float(i)))
    reader, writer = os.pipe()
    fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, 4096)  # the JSON is bigger: the CLI must block
    env = subprocess_env(local_server, tmp_path)
    with subprocess.Popen(
        [*GIZMO, "--json", "scenes", "show", scene.id],
        env=env,
        stdout=writer,
        stderr=subprocess.PIPE,
    ) as proc:
        os.close(writer)
        with os.fdopen(reader, "rb") as stdout:
            assert stdout.readline().strip() == b"{"  # like `| head -1`
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_BROKEN_PIPE
    assert err == b""


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, faults="slow:1.0", slow_seconds=30.0) as server:
        yield server


def test_ctrl_c_during_a_request(slow_server: LocalServer, tmp_path: Path) -> None:
    env = subprocess_env(slow_server, tmp_path)
    with subprocess.Popen(
        [*GIZMO, "scenes", "list"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        time.sleep(1.5)  # started, waiting on the slow answer
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_INTERRUPTED
    assert out == b"" and err.decode() == "interrupted\n"
