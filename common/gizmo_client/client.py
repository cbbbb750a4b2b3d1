"""`GizmoClient`: configuration, transport and resources joined, plus `fetch_scene`."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .archive import find_primary_file, is_zip, unpack_verified
from .cache import ExportCache
from .config import resolve_settings
from .downloads import Downloader, ProgressFn
from .errors import PermissionDeniedError
from .formats import SUFFIXES as SUFFIXES  # re-exported: `gizmo_client.formats` is its home
from .formats import JobsFormat, suffixes_for, wire_format
from .generation import ApiGeneration, GenerationResolver
from .jobs import Jobs
from .models import ExportFormat, ExportLink, Scene
from .models_jobs import GeneratedScene, Usage, Whoami
from .resources import Assets, Scenes
from .resources_jobs import Catalog
from .transport import RetryPolicy, Timeout, Transport

__all__ = ["FetchedScene", "GizmoClient"]

logger = logging.getLogger("gizmo_client")

UNPACKED = "unpacked"  # the folder of a cache entry that holds an unpacked ZIP export


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
    """The Gizmo Scenes API client, for both API generations (`api_generation`).

    The key comes from the argument, `GIZMO_API_KEY` or the `gizmo login` config file; it is sent
    only to the API base URL and never appears in logs, errors or this object's repr.
    `api_generation` is `"alpha"`, `"jobs"` or `None`/`"auto"` (then `GIZMO_API_GENERATION`, the
    config file, else detected on first use).
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
        api_generation: ApiGeneration | str | None = None,
    ) -> None:
        settings = resolve_settings(api_key, base_url, cache_dir, api_generation)
        self.base_url = settings.base_url
        retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base)
        self._transport = Transport(
            settings.base_url, settings.api_key, timeout=timeout, retry=retry
        )
        self._downloader = Downloader(timeout=timeout, retry=retry)
        self._generation = GenerationResolver(self._transport, settings.api_generation)
        # One cache folder per API base URL: two services never share entries, even where their
        # scene ids and placements coincide (the local server's demo scenes have fixed ids).
        namespace = hashlib.sha256(settings.base_url.encode()).hexdigest()[:16]
        self.cache = ExportCache(settings.cache_dir / namespace, cache_max_bytes)
        parts = (self._transport, self._generation, self._downloader)
        self.scenes = Scenes(*parts)
        self.assets = Assets(*parts)
        self.catalog = Catalog(*parts)
        self.jobs = Jobs(self._transport, self._generation)

    def __repr__(self) -> str:
        return f"GizmoClient(base_url={self.base_url!r}, api_key='***')"

    @property
    def api_generation(self) -> ApiGeneration:
        """The API generation the service speaks (forced, or detected once and cached)."""
        return self._generation.value

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

    def whoami(self) -> Whoami:
        """The key's user, prefix, scopes and rate limit (jobs generation)."""
        self._generation.require(ApiGeneration.JOBS, "whoami", "scenes.list() to check the key")
        return Whoami.model_validate(self._transport.request("GET", "/whoami"))

    def usage(self) -> Usage:
        """Per-key request counts and rate configuration (jobs generation)."""
        self._generation.require(ApiGeneration.JOBS, "usage", "nothing: alpha has no usage call")
        return Usage.model_validate(self._transport.request("GET", "/usage"))

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
        format: ExportFormat | JobsFormat | str = ExportFormat.MUJOCO_MJCF,
        on_progress: ProgressFn | None = None,
    ) -> FetchedScene:
        """The scene's export on disk, from the cache while the scene is unchanged, otherwise
        exported, downloaded, verified, unpacked (ZIP) and cached. Either generation's format
        names are accepted (`mjcf` or `mujoco_mjcf`, `usd` or `isaac_sim_usd`, `sdf`).

        The cache is keyed by one GET: alpha by the placements' fingerprint; jobs generation by
        the scene's `version`, else `updated_at`, else (neither given) by the SHA-256 of the
        exported ZIP, which then is downloaded every time. An export made just after the GET may
        hold a change the GET missed; the next call (a new key) fetches again.
        """
        generation = self.api_generation
        fmt = wire_format(format, generation)
        if generation is ApiGeneration.ALPHA:
            scene = self.scenes.get(scene_id)
            return self._cached(
                scene,
                fmt,
                scene.fingerprint(),
                lambda tmp: self._alpha_export(scene_id, fmt, tmp, on_progress),
            )
        scene = self.scenes.get(scene_id, include_record=True)
        if isinstance(scene, GeneratedScene) and (scene.version, scene.updated_at) != (None, None):
            return self._cached(
                scene,
                fmt,
                scene.fingerprint(),
                lambda tmp: self._zip_export(scene_id, fmt, tmp, on_progress),
            )
        return self._fetch_by_content(scene, fmt, on_progress)

    def _cached(
        self, scene: Scene, fmt: str, fingerprint: str, populate: Callable[[Path], Path]
    ) -> FetchedScene:
        """The cache entry for `fingerprint`, built with `populate` under the lock if missing."""
        entry = self.cache.lookup(scene.id, fmt, fingerprint)
        if entry is None:
            with self.cache.locked(scene.id, fmt):
                entry = self.cache.lookup(scene.id, fmt, fingerprint)
                if entry is None:
                    entry = self.cache.store(
                        scene.id,
                        fmt,
                        fingerprint,
                        populate,
                        {"scene": scene.model_dump(mode="json"), "format": fmt},
                    )
                    return FetchedScene(
                        entry.primary, entry.directory, scene, fingerprint, fmt, False
                    )
        logger.debug("cache hit for %s %s", scene.id, fmt)
        return FetchedScene(entry.primary, entry.directory, scene, fingerprint, fmt, True)

    def _fetch_by_content(
        self, scene: Scene, fmt: str, on_progress: ProgressFn | None
    ) -> FetchedScene:
        self.cache.root.mkdir(parents=True, exist_ok=True)
        with self.cache.staging(".fetch-") as staging:
            unpacked = staging / UNPACKED
            archive = self.scenes.export_zip(
                scene.id, fmt, staging / "export.zip", on_progress=on_progress, unpack_to=unpacked
            )
            digest = hashlib.sha256()
            with open(archive, "rb") as handle:  # (hashlib.file_digest is 3.11+; Kit has 3.10)
                while chunk := handle.read(1024 * 1024):
                    digest.update(chunk)
            fingerprint = "zip-" + digest.hexdigest()

            def populate(directory: Path) -> Path:
                os.replace(unpacked, directory / UNPACKED)
                return _primary(directory, fmt)

            return self._cached(scene, fmt, fingerprint, populate)

    def _zip_export(
        self, scene_id: str, fmt: str, directory: Path, on_progress: ProgressFn | None
    ) -> Path:
        archive = self.scenes.export_zip(
            scene_id,
            fmt,
            directory / "export.zip",
            on_progress=on_progress,
            unpack_to=directory / UNPACKED,
        )
        archive.unlink()
        return _primary(directory, fmt)

    def _alpha_export(
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
        return self._unpack(archive, directory, fmt)

    @staticmethod
    def _unpack(archive: Path, directory: Path, fmt: str) -> Path:
        """Unpack a downloaded ZIP export safely into `directory/unpacked` (checking every CRC),
        delete the ZIP, and return the primary file."""
        unpack_verified(archive, directory / UNPACKED)
        archive.unlink()
        return _primary(directory, fmt)


def _primary(directory: Path, fmt: str) -> Path:
    root = directory / UNPACKED
    files = [f for f in root.rglob("*") if f.is_file()]
    return find_primary_file(files, root, suffixes_for(fmt))


def _filename(link: ExportLink, fmt: str) -> str:
    name = Path(link.filename or "").name
    if name and name not in (".", ".."):
        return name
    return "scene" + suffixes_for(fmt)[0]
