"""Export entry points used by the HTTP app: scenes and single assets rendered to bytes.

The app hands over placements (ids, asset ids, prompts, poses); this module turns each prompt into
the neutral description (``generator``) and lets one writer per format serialise the lot.
Every function raises ``ValueError`` with a message naming the bad value and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gizmo_client.models import Quaternion


@dataclass(frozen=True)
class PlacementInput:
    """One placed asset as the store knows it; ``rotation`` is the wire (scalar-last) quaternion."""

    placement_id: str
    asset_id: str
    asset_name: str
    prompt: str
    position: tuple[float, float, float]
    rotation: Quaternion


@dataclass(frozen=True)
class RenderedFile:
    """A rendered export: the bytes to serve and the file name to offer."""

    data: bytes
    filename: str


def asset_export_formats(prompt: str) -> list[str]:
    """The formats a single asset generated from ``prompt`` can be exported in."""
    raise NotImplementedError("interim: writers land in the next commits")


def render_scene(
    scene_id: str, scene_name: str, placements: Sequence[PlacementInput], fmt: str
) -> RenderedFile:
    """Render a whole scene as one self-contained file (``isaac_sim_usd`` or ``mujoco_mjcf``)."""
    raise NotImplementedError("interim: writers land in the next commits")


def render_asset(asset_id: str, asset_name: str, prompt: str, fmt: str) -> RenderedFile:
    """Render one asset at the origin (``isaac_sim_usd``, ``isaac_sim_urdf`` or ``mujoco_mjcf``)."""
    raise NotImplementedError("interim: writers land in the next commits")
