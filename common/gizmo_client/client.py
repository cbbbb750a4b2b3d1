"""`GizmoClient`: configuration, transport and resources joined, plus `fetch_scene`."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .archive import extract_zip_safely, find_primary_file, is_zip
from .cache import ExportCache
from .config import resolve_settings
from .downloads import Downloader, ProgressFn
from .errors import PermissionDeniedError
from .models import ExportFormat, ExportLink, Scene
from .resources import Assets, Scenes
from .transport import RetryPolicy, Timeout, Transport

__all__ = ["FetchedScene", "GizmoClient"]

logger = logging.getLogger("gizmo_client")

SUFFIXES: dict[str, tuple[str, ...]] = {
    ExportFormat.ISAAC_SIM_USD.value: (".usd", ".usdc", ".usda", ".usdz"),
    ExportFormat.MUJOCO_MJCF.value: (".xml", ".mjcf"),
    ExportFormat.ISAAC_SIM_URDF.value: (".urdf",),
}


@dataclass(frozen=True)
class FetchedScene:
    """A scene's export on disk: `path` is the file to load, `directory` holds it and its meshes."""

    path: Path
    directory: Path
    scene: Scene
    fingerprint: str
    format: str
    from_cache: bool


class GizmoClient:
    """The Gizmo Scenes API client.

    The key comes from the argument, `GIZMO_API_KEY` or the `gizmo login` config file; it is sent
    only to the API base URL and never appears in logs, errors or this object's repr.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: Timeout = (5.0, 60.0),
        max_retries: int = 4,
        backoff_base: float = 0.5,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_max_bytes: int = 2 * 1024**3,
    ) -> None:
        settings = resolve_settings(api_key, base_url, cache_dir)
        self.base_url = settings.base_url
        retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base)
        self._transport = Transport(
            settings.base_url, settings.api_key, timeout=timeout, retry=retry
        )
        self._downloader = Downloader(timeout=timeout, retry=retry)
        # One cache folder per API base URL: two services never share entries, even where their
        # scene ids and placements coincide (the local server's demo scenes have fixed ids).
        namespace = hashlib.sha256(settings.base_url.encode()).hexdigest()[:16]
        self.cache = ExportCache(settings.cache_dir / namespace, cache_max_bytes)
        self.scenes = Scenes(self._transport)
        self.assets = Assets(self._transport)

    def __repr__(self) -> str:
        return f"GizmoClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._transport.close()
        self._downloader.close()

    def __enter__(self) -> GizmoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def download(self, link: ExportLink, dest: Path, on_progress: ProgressFn | None = None) -> Path:
        """Download an export link to `dest`, verified and atomic; never sends the key."""
        return self._downloader.download(
            link.download_url,
            dest,
            expected_size=link.size_bytes,
            expected_sha256=link.sha256,
            on_progress=on_progress,
        )

    def fetch_scene(
        self,
        scene_id: str,
        format: ExportFormat | str = ExportFormat.MUJOCO_MJCF,
        on_progress: ProgressFn | None = None,
    ) -> FetchedScene:
        """The scene's export on disk: from the cache if its placements are unchanged (one GET),
        otherwise exported, downloaded, verified and cached.

        The export is made just after the GET; a placement added in between is in the file but
        not in `scene`, and the next call (a new fingerprint) fetches again.
        """
        fmt = ExportFormat(format).value
        scene = self.scenes.get(scene_id)
        fingerprint = scene.fingerprint()
        entry = self.cache.lookup(scene_id, fmt, fingerprint)
        if entry is None:
            with self.cache.locked(scene_id, fmt):
                entry = self.cache.lookup(scene_id, fmt, fingerprint)
                if entry is None:
                    entry = self.cache.store(
                        scene_id,
                        fmt,
                        fingerprint,
                        lambda tmp: self._export_into(scene_id, fmt, tmp, on_progress),
                        {"scene": scene.model_dump(mode="json"), "format": fmt},
                    )
                    return FetchedScene(
                        entry.primary, entry.directory, scene, fingerprint, fmt, False
                    )
        logger.debug("cache hit for %s %s", scene_id, fmt)
        return FetchedScene(entry.primary, entry.directory, scene, fingerprint, fmt, True)

    def _export_into(
        self, scene_id: str, fmt: str, directory: Path, on_progress: ProgressFn | None
    ) -> Path:
        link = self.scenes.export(scene_id, fmt)
        target = directory / _filename(link, fmt)
        try:
            self.download(link, target, on_progress)
        except PermissionDeniedError as exc:
            # Expired, or refused by object storage (whose 403 carries no Gizmo error code):
            # a fresh link is the cure either way, tried once.
            logger.info("download of %s refused (%s); exporting again", scene_id, exc.code)
            link = self.scenes.export(scene_id, fmt)
            self.download(link, target, on_progress)
        if not is_zip(target):
            return target
        archive = target.with_name(target.name + ".zip-download")
        target.rename(archive)
        files = extract_zip_safely(archive, directory / "unpacked")
        archive.unlink()
        return find_primary_file(files, directory / "unpacked", SUFFIXES[fmt])


def _filename(link: ExportLink, fmt: str) -> str:
    name = Path(link.filename or "").name
    if name and name not in (".", ".."):
        return name
    return "scene" + SUFFIXES[fmt][0]
