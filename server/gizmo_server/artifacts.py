"""Exported files: rendered once per scene state, stored by content hash, served by signed link.

Files live under `<data dir>/files/<sha256[:2]>/<sha256>`, written atomically, never twice,
private to the server's user (folders 0700; `mkstemp` makes the files 0600). A
per-process cache maps "what was rendered" (scene id and name, every placement's asset and pose,
the format) to the stored file, so exporting an unchanged scene again skips rendering. The cache is
deliberately not persisted: a new server version may render differently.

Rendering goes through the export pool (`export_pool`): a big export renders, packs and stores
its file in a worker process, which writes the blob itself and answers only its hash (a
5,000-placement USD or a 12 MB textured ZIP never crosses the pipe, nor sits in the server's
memory).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import exports, zips
from .export_pool import ExportPool
from .ids import timestamp
from .links import LinkSigner
from .private import DIR_MODE, private_dir
from .rotation import Quaternion
from .store import AssetRow, DownloadRow, PlacementRow, SceneRow, Store

__all__ = ["Artifacts", "BlobStore", "ExportResult", "content_type"]

_CONTENT_TYPES = {
    ".usd": "application/octet-stream",
    ".usdc": "application/octet-stream",
    ".usda": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".urdf": "application/xml",
    ".zip": "application/zip",
}


def content_type(filename: str) -> str:
    return _CONTENT_TYPES.get(Path(filename).suffix.lower(), "application/octet-stream")


class BlobStore:
    """Content-addressed files: the name is the SHA-256 of the bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        private_dir(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if not target.exists():
            target.parent.mkdir(mode=DIR_MODE, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        return sha256


@dataclass(frozen=True)
class _Stored:
    sha256: str
    filename: str
    size_bytes: int


@dataclass(frozen=True)
class ExportResult:
    download_url: str
    expires_at: str
    format: str
    size_bytes: int
    sha256: str
    filename: str


class Artifacts:
    """Renders exports (through `gizmo_server.exports`), stores them and issues signed links."""

    CACHE_ENTRIES = 256

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        links: LinkSigner,
        pool: ExportPool,
        zip_exports: bool = False,
    ) -> None:
        self._store = store
        self.zip_exports = zip_exports
        self.blobs = blobs
        self.links = links
        self.pool = pool
        self._cache: OrderedDict[str, _Stored] = OrderedDict()
        self._lock = threading.Lock()

    def export_scene(
        self,
        account_id: str,
        scene: SceneRow,
        placements: Sequence[PlacementRow],
        fmt: str,
        base_url: str,
        zip_fault: str | None = None,
    ) -> ExportResult:
        """`zip_fault` (one of `zips.ZIP_FAULTS`) delivers a damaged ZIP."""
        inputs = [
            exports.PlacementInput(
                placement_id=p.id,
                asset_id=p.asset_id,
                asset_name=p.asset_name,
                prompt=p.prompt,
                position=p.position,
                rotation=_quaternion(p.rotation),
            )
            for p in placements
        ]
        state = ["scene", fmt, scene.id, scene.name, [_placement_state(p) for p in placements]]
        render = functools.partial(exports.render_scene, textures=self.zip_exports)
        stored = self._stored(
            state, render, (scene.id, scene.name, inputs, fmt), len(inputs), zip_fault
        )
        return self._publish(account_id, stored, fmt, base_url)

    def export_asset(
        self, account_id: str, asset: AssetRow, fmt: str, base_url: str
    ) -> ExportResult:
        state = ["asset", fmt, asset.id, asset.name, asset.prompt]
        render = functools.partial(exports.render_asset, textures=self.zip_exports)
        stored = self._stored(state, render, (asset.id, asset.name, asset.prompt, fmt), 1)
        return self._publish(account_id, stored, fmt, base_url)

    def download(self, token: str) -> tuple[DownloadRow, Path] | None:
        row = self._store.get_download(token)
        return (row, self.blobs.path(row.sha256)) if row else None

    def _stored(
        self,
        state: Sequence[object],
        render: Callable[..., exports.RenderedFile],
        args: tuple[object, ...],
        placements: int,
        zip_fault: str | None = None,
    ) -> _Stored:
        """The stored file for `state`: from the cache, else `render(*args)` in the pool."""
        packing = zip_fault or ("zip" if self.zip_exports else "file")
        key = hashlib.sha256(json.dumps([*state, packing]).encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None and self.blobs.path(cached.sha256).exists():
            return cached
        stored = self.pool.run(
            _render_stored,
            self.blobs.root,
            render,
            args,
            packing,
            zip_fault,
            placements=placements,
            textured=self.zip_exports,
        )
        with self._lock:
            self._cache[key] = stored
            while len(self._cache) > self.CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return stored

    def _publish(self, account_id: str, stored: _Stored, fmt: str, base_url: str) -> ExportResult:
        token = self._store.add_download(
            account_id, stored.sha256, stored.filename, fmt, stored.size_bytes
        )
        link = self.links.sign(base_url, token)
        return ExportResult(
            download_url=link.url,
            expires_at=timestamp(link.expires),
            format=fmt,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            filename=stored.filename,
        )


def _render_stored(
    root: Path,
    render: Callable[..., exports.RenderedFile],
    args: tuple[object, ...],
    packing: str,
    zip_fault: str | None,
) -> _Stored:
    """Render, pack if asked, store; runs in an export worker for big exports."""
    rendered = render(*args) if packing == "file" else _zipped(render(*args), zip_fault)
    return _Stored(BlobStore(root).put(rendered.data), rendered.filename, len(rendered.data))


def _zipped(rendered: exports.RenderedFile, fault: str | None) -> exports.RenderedFile:
    """The export as the hosted service may deliver it: a ZIP holding the file (and, there,
    meshes and textures), damaged by a `zips.ZIP_FAULTS` fault if one is given."""
    files = {
        rendered.filename: rendered.data,
        **rendered.files,  # textures/*.png when the export is textured
        "README.txt": b"Exported by gizmo-server (ZIP packaging).\n",
    }
    return exports.RenderedFile(zips.pack(files, fault), f"{Path(rendered.filename).stem}.zip")


def _quaternion(xyzw: tuple[float, float, float, float]) -> Quaternion:
    x, y, z, w = xyzw
    return Quaternion(x=x, y=y, z=z, w=w)


def _placement_state(p: PlacementRow) -> list[object]:
    return [p.id, p.asset_id, p.asset_name, p.prompt, list(p.position), list(p.rotation)]
