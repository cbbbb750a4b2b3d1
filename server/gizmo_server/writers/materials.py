"""Visual (render) materials: what a part looks like, as opposed to what it is made of.

A part's look is its physics material's surface (metal, wood, plastic, rubber, cardboard) in its
colour. Both writers name a look the same way (``<physics material>_<rrggbb>``) and point at the
same PNG files, so the USD and MJCF of one scene share a ``textures/`` folder.

Texture size: ``GIZMO_TEXTURE_SIZE`` (pixels per side, a power of two from 16 to 4096; default
1024, the size real exports ship) or 0 for no textures at all, read when an export is rendered.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from gizmo_server.description import AssetDescription, Geom
from gizmo_server.writers.textures import Surface, TextureRole, texture_pngs

TEXTURE_SIZE_ENV = "GIZMO_TEXTURE_SIZE"
DEFAULT_TEXTURE_SIZE = 1024
TEXTURE_DIR = "textures"
_METAL = Surface("metal", roughness=0.35, metallic=1.0, relief=0.15, streak=12.0)
_PLASTIC = Surface("plastic", roughness=0.5, metallic=0.0, relief=0.25, streak=1.0)
_SURFACES = {
    "aluminium": _METAL,
    "steel": _METAL,
    "wood": Surface("wood", roughness=0.7, metallic=0.0, relief=0.6, streak=8.0),
    "hdpe": _PLASTIC,
    "rubber": Surface("rubber", roughness=0.9, metallic=0.0, relief=0.4, streak=1.0),
    "packed_crate": Surface("cardboard", roughness=0.85, metallic=0.0, relief=0.5, streak=3.0),
    "packed_parcel": Surface("cardboard", roughness=0.85, metallic=0.0, relief=0.5, streak=3.0),
}


@dataclass(frozen=True)
class Look:
    """One visual material: a surface kind in one colour."""

    name: str  # an identifier: /World/Looks/<name>, MJCF material <name>
    rgba: tuple[float, float, float, float]
    surface: Surface

    def texture_path(self, role: TextureRole, size: int) -> str:
        """The PNG's path relative to the scene file, named by what its pixels depend on
        (``textures/<surface>_<rrggbb>_<role>_<hash>.png``): looks that would draw the same
        maps (steel and aluminium in one colour) share the files."""
        key = f"{self.rgba[:3]}|{self.surface}|{role}|{size}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        return f"{TEXTURE_DIR}/{self.surface.kind}_{_hex(self.rgba)}_{role}_{digest}.png"


def _hex(rgba: tuple[float, float, float, float]) -> str:
    return "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgba[:3])


def look(geom: Geom) -> Look:
    """The look of a geom: its material's surface in its colour."""
    surface = _SURFACES.get(geom.material.name, _PLASTIC)
    return Look(f"{geom.material.name}_{_hex(geom.rgba)}", geom.rgba, surface)


def scene_looks(assets: Iterable[AssetDescription]) -> list[Look]:
    """The distinct looks of ``assets``' geoms, in order of first use."""
    return list(dict.fromkeys(look(g) for a in assets for b in a.bodies for g in b.geoms))


def texture_files(looks: Iterable[Look], size: int) -> dict[str, bytes]:
    """Every PNG the looks name, by path relative to the scene file."""
    return {
        item.texture_path(role, size): png
        for item in looks
        for role, png in texture_pngs(item.rgba[:3], item.surface, size).items()
    }


def configured_texture_size() -> int | None:
    """The texture size exports use now, or None for none; a bad setting raises ValueError."""
    raw = os.environ.get(TEXTURE_SIZE_ENV, "").strip()
    if not raw:
        return DEFAULT_TEXTURE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size == 0:
        return None
    if not 16 <= size <= 4096 or size & (size - 1):
        raise ValueError(
            f"{TEXTURE_SIZE_ENV}={raw!r} is not a texture size; set a power of two from 16 "
            "to 4096, or 0 for exports without textures"
        )
    return size
