"""Where the scenes and exports under test come from: an account (hosted, or the embedded local
server with the demo scenes), or files on disk for the offline check."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from gizmo_client import GizmoClient
from gizmo_client.archive import extract_zip_safely, find_primary_file, is_zip
from gizmo_client.errors import GizmoError, UnsafeArchiveError
from gizmo_client.models import Scene, SceneSummary

from .findings import MJCF, USD

__all__ = [
    "EMBEDDED",
    "LoadtestInputError",
    "Target",
    "detect_format",
    "local_target",
    "read_scene_json",
    "select_scenes",
    "unpack_export",
]

EMBEDDED = "embedded demo server"

USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")
MJCF_SUFFIXES = (".xml", ".mjcf")


class LoadtestInputError(GizmoError):
    """A file or option given to the load test cannot be used as it is."""


@dataclass(frozen=True)
class Target:
    """An account to test. Picklable, so worker processes can open their own connection."""

    base_url: str
    api_key: str = field(repr=False)
    cache_dir: Path | None = None
    label: str | None = None
    """What reports call it instead of the URL (the embedded server's port means nothing)."""

    @property
    def name(self) -> str:
        return self.label or self.base_url

    def client(self) -> GizmoClient:
        return GizmoClient(api_key=self.api_key, base_url=self.base_url, cache_dir=self.cache_dir)


@contextmanager
def local_target() -> Iterator[Target]:
    """The embedded local server seeded with the demo scenes, and a cache that dies with it
    (a stale cached export of an older server build must never be what gets tested)."""
    from gizmo_server.embedded import LocalServer

    with (
        LocalServer(demo=True) as server,
        tempfile.TemporaryDirectory(prefix="gizmo-loadtest-cache-") as cache,
    ):
        yield Target(server.base_url, server.api_key, Path(cache), EMBEDDED)


def select_scenes(
    client: GizmoClient, scene_ids: list[str], match: str | None
) -> list[SceneSummary]:
    """Every scene of the account, or the given ids (in that order), or names containing `match`."""
    chosen: list[SceneSummary] = (
        [client.scenes.get(scene_id) for scene_id in dict.fromkeys(scene_ids)]
        if scene_ids
        else list(client.scenes.iter_all())
    )
    if match:
        chosen = [s for s in chosen if match.lower() in s.name.lower()]
    return chosen


def read_scene_json(path: Path) -> Scene:
    """A saved scene object (what `GET /scenes/{id}` or `gizmo --json scenes show` returns)."""
    hint = "Save it with `gizmo --json scenes show SCENE_ID > scene.json`."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadtestInputError(f"Cannot read the scene file {path}: {exc}", hint=hint) from exc
    except ValueError as exc:
        raise LoadtestInputError(f"{path} is not JSON: {exc}", hint=hint) from exc
    try:
        return Scene.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise LoadtestInputError(
            f"{path} is not a Gizmo scene object: {where}: {first['msg']}", hint=hint
        ) from exc


def detect_format(path: Path) -> str:
    """`isaac_sim_usd` or `mujoco_mjcf`, by suffix, else by the first bytes of the file."""
    suffix = path.suffix.lower()
    if suffix in USD_SUFFIXES:
        return USD
    if suffix in MJCF_SUFFIXES:
        return MJCF
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise LoadtestInputError(f"Cannot read the export {path}: {exc}") from exc
    if head.startswith((b"PXR-USDC", b"#usda")):
        return USD
    if b"<mujoco" in head:
        return MJCF
    raise LoadtestInputError(
        f"Cannot tell whether {path} is USD or MJCF",
        hint="Give the export its own suffix: .usd/.usda/.usdc/.usdz, .xml, or .zip.",
    )


def unpack_export(path: Path, workdir: Path) -> Path:
    """The scene file to check: `path` itself, or the primary file of a ZIP unpacked safely."""
    if not path.is_file():
        raise LoadtestInputError(f"No such export file: {path}")
    if path.suffix.lower() == ".usdz" or not is_zip(path):
        return path
    try:
        files = extract_zip_safely(path, workdir / path.stem)
        return find_primary_file(files, workdir / path.stem, USD_SUFFIXES + MJCF_SUFFIXES)
    except UnsafeArchiveError as exc:
        raise LoadtestInputError(f"{path}: {exc.message}", hint=exc.hint) from exc
