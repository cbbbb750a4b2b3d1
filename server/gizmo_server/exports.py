"""Export entry points used by the HTTP app: scenes and single assets rendered to bytes.

The app hands over placements (ids, asset ids, prompts, poses); this module turns each prompt into
the neutral description (``generator``, a deterministic stand-in for Gizmo's AI) and lets one
writer per format serialise the lot.

A single-asset export in USD or MJCF is a one-placement scene: the asset at the origin with
identity rotation, its asset id in the placement id's role (``/World/<asset id>``, names prefixed
``<asset id>/``), so tools that read scene exports read asset exports too. URDF is per asset by
nature and carries no prefix (see ``writers.urdf``). Every kind offers all three formats.

Looks: every export draws its parts with meshes and materials; with ``textures=True`` the
materials are textured too and the PNGs come back in ``RenderedFile.files`` (a ZIP's worth: the
caller packs them beside the primary file), at ``writers.materials.configured_texture_size()``.

Bad input raises ``ValueError`` with a message naming the bad value and what to send instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gizmo_server.description import Placement
from gizmo_server.generator import generate
from gizmo_server.rotation import Quaternion
from gizmo_server.writers.materials import configured_texture_size, scene_looks, texture_files
from gizmo_server.writers.mjcf import write_mjcf
from gizmo_server.writers.urdf import write_urdf
from gizmo_server.writers.usd import write_usd

ISAAC_SIM_USD = "isaac_sim_usd"
ISAAC_SIM_URDF = "isaac_sim_urdf"
MUJOCO_MJCF = "mujoco_mjcf"
SCENE_FORMATS = (ISAAC_SIM_USD, MUJOCO_MJCF)
ASSET_FORMATS = (ISAAC_SIM_USD, ISAAC_SIM_URDF, MUJOCO_MJCF)

# Ids become USD prim names and MJCF name prefixes: keep to what both accept.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    """A rendered export: the bytes to serve, the file name to offer and the files it names
    (``textures/*.png``, by path relative to it; empty when it stands alone)."""

    data: bytes
    filename: str
    files: Mapping[str, bytes] = field(default_factory=dict)


class _SceneWriter(Protocol):
    def __call__(
        self,
        scene_id: str,
        scene_name: str,
        placements: Sequence[Placement],
        *,
        texture_size: int | None = None,
    ) -> bytes: ...


_SCENE_WRITERS: dict[str, tuple[_SceneWriter, str]] = {
    ISAAC_SIM_USD: (write_usd, "usd"),
    MUJOCO_MJCF: (write_mjcf, "xml"),
}


def asset_export_formats(prompt: str) -> list[str]:
    """The formats a single asset generated from ``prompt`` offers: all of them, for every kind."""
    return list(ASSET_FORMATS)


def render_scene(
    scene_id: str,
    scene_name: str,
    placements: Sequence[PlacementInput],
    fmt: str,
    *,
    textures: bool = False,
) -> RenderedFile:
    """Render a whole scene (``isaac_sim_usd`` or ``mujoco_mjcf``), textured if asked."""
    writer, suffix = _scene_writer(fmt, SCENE_FORMATS)
    seen: set[str] = set()
    placed = []
    for p in placements:
        _check_identifier("placement id", p.placement_id)
        if p.placement_id in seen:
            raise ValueError(f"placement id {p.placement_id!r} appears twice; ids must be unique")
        seen.add(p.placement_id)
        if len(p.position) != 3 or not all(math.isfinite(c) for c in p.position):
            raise ValueError(
                f"placement {p.placement_id!r} has position {p.position!r}; "
                "send three finite numbers"
            )
        placed.append(
            Placement(
                p.placement_id, p.asset_id, p.asset_name, generate(p.prompt), p.position, p.rotation
            )
        )
    return _rendered(writer, scene_id, scene_name, placed, f"scene.{suffix}", textures)


def render_asset(
    asset_id: str, asset_name: str, prompt: str, fmt: str, *, textures: bool = False
) -> RenderedFile:
    """Render one asset at the origin (``isaac_sim_usd``, ``isaac_sim_urdf`` or ``mujoco_mjcf``)."""
    _check_identifier("asset id", asset_id)
    if fmt == ISAAC_SIM_URDF:
        return RenderedFile(write_urdf(asset_id, generate(prompt)), "asset.urdf")
    writer, suffix = _scene_writer(fmt, ASSET_FORMATS)
    at_origin = Placement(
        asset_id, asset_id, asset_name, generate(prompt), (0.0, 0.0, 0.0), Quaternion.identity()
    )
    return _rendered(writer, asset_id, asset_name, [at_origin], f"asset.{suffix}", textures)


def _rendered(
    writer: _SceneWriter,
    scene_id: str,
    name: str,
    placements: Sequence[Placement],
    filename: str,
    textures: bool,
) -> RenderedFile:
    size = configured_texture_size() if textures else None
    data = writer(scene_id, name, placements, texture_size=size)
    if size is None:
        return RenderedFile(data, filename)
    looks = scene_looks(list({id(p.asset): p.asset for p in placements}.values()))
    return RenderedFile(data, filename, texture_files(looks, size))


def _scene_writer(fmt: str, allowed: tuple[str, ...]) -> tuple[_SceneWriter, str]:
    if fmt not in allowed:
        raise ValueError(f"unsupported export format {fmt!r}; use one of {', '.join(allowed)}")
    return _SCENE_WRITERS[fmt]


def _check_identifier(what: str, value: str) -> None:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} cannot name a USD prim or MJCF prefix; use letters, "
            "digits and '_', not starting with a digit"
        )
