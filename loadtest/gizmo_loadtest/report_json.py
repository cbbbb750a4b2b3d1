"""The machine-readable report, `report.json`, and the atomic write every report goes through."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .findings import Report

__all__ = ["write_atomically", "write_json"]


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file, so no half-written report is left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_json(report: Report, path: Path) -> Path:
    return write_atomically(path, json.dumps(report.to_json(), indent=2) + "\n")
