"""Where a live scene comes from, and how to tell cheaply that it changed.

`SceneSource` asks the API for the scene (one small, conditional GET, which a service that
honours `Prefer: wait` holds until the scene changes) and compares its fingerprint (the
placements' on the alpha generation, the scene's `version` on the jobs one); only a changed
fingerprint triggers an export (which the client caches by it). `FileSource`
stats a local file and every file MuJoCo says it depends on (includes, meshes, textures), and
waits until they have been still for a moment so a half-written file is never read.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import mujoco

from gizmo_client import GizmoClient
from gizmo_client.archive import is_zip

from .loading import compile_file

__all__ = ["Build", "FileSource", "SceneSource", "Source"]

logger = logging.getLogger("gizmo_mujoco")


@dataclass(frozen=True)
class Build:
    """A compiled revision, ready to swap in."""

    model: mujoco.MjModel
    revision: str
    label: str
    fetch_seconds: float
    compile_seconds: float


class Source(Protocol):
    label: str

    def revision(self) -> str | None:
        """The current revision's token (cheap), or None while it is still settling."""
        ...

    def build(self) -> Build:
        """Fetch, materialise and compile the current revision."""
        ...


class SceneSource:
    """A scene of the Gizmo API; its revision is the placements' fingerprint."""

    def __init__(self, client: GizmoClient, scene_id: str) -> None:
        self.client = client
        self.scene_id = scene_id
        self.label = f"scene {scene_id}"

    def revision(self, wait: float = 0.0) -> str | None:
        """The placements' fingerprint (alpha) or the scene's `version` (jobs generation), from
        one conditional GET: an unchanged scene is a 304 where the service sends an ETag.

        With `wait` (seconds) the GET asks to be held until the scene changes (`Prefer: wait`);
        `holds_waits` then says whether the service did, or answered at once."""
        return self.client.scenes.get(self.scene_id, wait=wait).fingerprint()

    @property
    def holds_waits(self) -> bool:
        """Whether the service held the last `revision(wait=...)` (the local server does)."""
        return self.client.scenes.holds_waits is True

    def wait_for_job(self, job_id: str) -> None:
        """Block until the job ends, reading its event stream; raises `JobFailedError` if it
        failed or was cancelled."""
        self.client.jobs.wait(job_id)

    def build(self) -> Build:
        started = time.perf_counter()
        fetched = self.client.fetch_scene(self.scene_id)
        fetched_at = time.perf_counter()
        model = compile_file(fetched.path, by_content=True)  # a new folder per revision
        scene = fetched.scene
        self.label = f"scene '{scene.name}' ({scene.id}, {len(scene.assets)} placements)"
        return Build(
            model,
            fetched.fingerprint,
            self.label,
            fetched_at - started,
            time.perf_counter() - fetched_at,
        )


Signature = tuple[tuple[str, int, int], ...]


class FileSource:
    """A local `.xml` (with its includes and assets) or `.zip`; its revision is a stat digest."""

    def __init__(self, path: str | Path, *, debounce: float = 0.25) -> None:
        self.label = str(path)
        self.path = Path(path).absolute()  # MuJoCo lists dependencies in the form it was given
        self.debounce = debounce
        self._files = [self.path]
        self._seen: Signature = ()
        self._seen_at = float("-inf")

    def revision(self) -> str | None:
        signature = self._signature()
        now = time.monotonic()
        if signature != self._seen:
            self._seen, self._seen_at = signature, now
        if now - self._seen_at < self.debounce:
            return None
        return _digest(signature)

    def build(self) -> Build:
        self._files = self._dependencies()
        signature = self._signature()  # before compiling: a write during it shows next poll
        started = time.perf_counter()
        model = compile_file(self.path)
        return Build(model, _digest(signature), self.label, 0.0, time.perf_counter() - started)

    def _signature(self) -> Signature:
        entries = []
        for file in self._files:
            try:
                stat = file.stat()
                entries.append((str(file), stat.st_mtime_ns, stat.st_size))
            except OSError:
                entries.append((str(file), -1, -1))
        return tuple(entries)

    def _dependencies(self) -> list[Path]:
        """The XML, its includes and asset files (a ZIP is one file)."""
        if is_zip(self.path):
            return [self.path]
        try:
            listed = mujoco.mju_getXMLDependencies(str(self.path))
        except (ValueError, mujoco.FatalError) as exc:  # unreadable now (compile says why)
            logger.debug("could not list dependencies of %s: %s", self.path, exc)
            return self._files
        files = [Path(name) for name in listed]
        return files if self.path in files else [self.path, *files]


def _digest(signature: Signature) -> str:
    return hashlib.sha256(repr(signature).encode()).hexdigest()
