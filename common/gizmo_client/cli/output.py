"""What the CLI prints: results on stdout (tables, or JSON with `--json`), notes on stderr.

stdout holds only the result, so `P=$(gizmo scenes fetch ID)` captures a bare path; everything
said about the result (cache hits, expiry, progress) goes to stderr, redacted of signed URLs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from ..models import Asset, Quaternion, Scene, Vector3
from .failures import redact

__all__ = [
    "clip",
    "download_progress",
    "fmt_rotation",
    "fmt_time",
    "fmt_vector",
    "note",
    "print_json",
    "show_asset",
    "show_scene",
    "table",
]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2))


def note(text: str) -> None:
    """A line for the human, on stderr (never part of the result)."""
    print(redact(text), file=sys.stderr)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def fmt_time(when: datetime | None) -> str:
    """The one timestamp format of the CLI: ISO 8601 in UTC, to the second (`…T12:00:00Z`)."""
    if when is None:
        return ""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_vector(v: Vector3) -> str:
    return f"({v.x:.4g}, {v.y:.4g}, {v.z:.4g})"


def fmt_rotation(q: Quaternion) -> str:
    roll, pitch, yaw = q.to_euler_degrees()
    return f"rpy=({roll:.1f}, {pitch:.1f}, {yaw:.1f})°"


def show_scene(scene: Scene) -> None:
    print(f"{scene.name}  [{scene.id}]")
    if scene.description:
        print(f"  {scene.description}")
    status, version = getattr(scene, "status", None), getattr(scene, "version", None)
    if status or version is not None:  # a generated scene (jobs generation)
        print(f"  {status or 'unknown'}, version {version if version is not None else '-'}")
    print(f"  {len(scene.assets)} placed asset(s), fingerprint {scene.fingerprint()[:12]}")
    if scene.assets:
        print()
        table(
            ["PLACEMENT", "ASSET", "NAME", "POSITION (m)", "ROTATION (deg)"],
            [
                [
                    p.id or "-",
                    p.asset_id,
                    p.name or "",
                    fmt_vector(p.position),
                    fmt_rotation(p.rotation),
                ]
                for p in scene.assets
            ],
        )


def show_asset(asset: Asset) -> None:
    print(f"{asset.id}  {asset.status.value}  {asset.name or ''}".rstrip())
    if asset.prompt and asset.prompt != asset.name:
        print(f"  prompt: {asset.prompt}")
    if asset.export_formats:
        print(f"  formats: {', '.join(asset.export_formats)}")
    if asset.error:
        print(f"  error: {asset.error}")


@contextmanager
def download_progress(desc: str, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A byte progress bar on stderr, made on the first byte (a cache hit shows none); silent
    when stderr is not a terminal or with --json."""
    from tqdm import tqdm

    bars: list[tqdm[Any]] = []
    active = enabled and sys.stderr.isatty()

    def update(done: int, total: int | None) -> None:
        if not active:
            return
        if not bars:
            bars.append(tqdm(desc=desc, unit="B", unit_scale=True, file=sys.stderr, total=total))
        bar = bars[0]
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
