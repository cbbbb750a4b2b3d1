"""Readable export names (shared/gizmo-api.md Part B, "Names in exports"), one rule for all writers.

A placement is named after its asset and its 1-based ordinal among the scene's placements whose
asset names read the same: ``Parallel Gripper`` placed twice gives ``Parallel_Gripper_1`` and
``Parallel_Gripper_2``. Names keep to ``[A-Za-z0-9_]``, never start with a digit and never contain
``__``, which is the separator of a placement's sub-elements (``Parallel_Gripper_2__finger_left``).
Since the ordinal is always the last ``_<digits>``, two placements never share a name, and adding
placements never renames the earlier ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

SEPARATOR = "__"
_ILLEGAL = re.compile(r"[^A-Za-z0-9]+")


def base_name(asset_name: str) -> str:
    """``asset_name`` as an identifier: accents dropped, other characters as single ``_``."""
    ascii_name = unicodedata.normalize("NFKD", asset_name).encode("ascii", "ignore").decode()
    name = _ILLEGAL.sub("_", ascii_name).strip("_") or "Asset"
    return f"_{name}" if name[0].isdigit() else name


def placement_names(asset_names: Iterable[str]) -> list[str]:
    """The readable name of each placement, given their asset names in scene order."""
    seen: Counter[str] = Counter()
    names = []
    for asset_name in asset_names:
        base = base_name(asset_name)
        seen[base] += 1
        names.append(f"{base}_{seen[base]}")
    return names
