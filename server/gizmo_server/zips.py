"""ZIP packaging of exports (both generations), and the two damages faults inject into it.

`unsafe_zip` adds an entry named `../gizmo-zip-slip.txt` (announced with its true size and
CRC, as a compromised or buggy packager would): a client must refuse to unpack it.
`truncated_zip` delivers the first half of the archive's bytes (its central directory is lost),
announced with that length, so the download itself succeeds and only opening the ZIP fails.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

__all__ = ["ZIP_FAULTS", "pack"]

ZIP_FAULTS = ("unsafe_zip", "truncated_zip")
UNSAFE_ENTRY = "../gizmo-zip-slip.txt"


def pack(files: Mapping[str, bytes], fault: str | None = None) -> bytes:
    """A deflated ZIP of `files` (name -> bytes, in order), damaged as `fault` says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        if fault == "unsafe_zip":
            archive.writestr(UNSAFE_ENTRY, "This entry tries to escape its folder.\n")
    data = buffer.getvalue()
    return data[: len(data) // 2] if fault == "truncated_zip" else data
