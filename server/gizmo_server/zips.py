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


# Already compressed: deflating them again gains under 1 % and cost 0.2 s of a 0.23 s textured
# export (12 MB of PNGs), so they are stored as they are.
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".zip", ".usdz")


def pack(files: Mapping[str, bytes], fault: str | None = None) -> bytes:
    """A ZIP of `files` (name -> bytes, in order), deflated except images already compressed,
    damaged as `fault` says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            stored = name.lower().endswith(_STORED_SUFFIXES)
            archive.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        if fault == "unsafe_zip":
            archive.writestr(UNSAFE_ENTRY, "This entry tries to escape its folder.\n")
    data = buffer.getvalue()
    return data[: len(data) // 2] if fault == "truncated_zip" else data
