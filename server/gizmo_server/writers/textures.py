"""Procedural PBR textures (base colour, normal, roughness) as PNG bytes, tileable, deterministic.

Each surface kind is one height field: periodic value noise over a few octaves, stretched along
U by ``streak`` (brushed metal, wood grain, cardboard fibre). The base colour is the part's
colour shaded by the height, the normal map is the height's gradient (tangent space, OpenGL +Y)
and the roughness follows the height. The random numbers are seeded from the inputs, so the
same look always gives the same bytes, and textures wrap at the edges (UVs are metres, tiled).

A furnished scene reuses a few looks: each PNG is made once per process (``texture_png`` is
memoised by its inputs; at 1024 px a map is about 1-3 MB, and 16 looks are kept).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatArray = npt.NDArray[np.float64]


class TextureRole(StrEnum):
    BASE_COLOR = "baseColor"
    NORMAL = "normal"
    ROUGHNESS = "roughness"


@dataclass(frozen=True)
class Surface:
    """How a kind of surface looks: PBR constants and the character of its relief."""

    kind: str  # metal, wood, plastic, rubber, cardboard (OmniPBR's nonvisual base too)
    roughness: float
    metallic: float
    relief: float  # 0..1, how strongly the height field shows
    streak: float  # >= 1: how much longer the pattern runs along U than along V


@lru_cache(maxsize=16)
def texture_pngs(
    rgb: tuple[float, float, float], surface: Surface, size: int
) -> dict[TextureRole, bytes]:
    """Every map of a look as PNG bytes (8-bit RGB, or grey for roughness)."""
    height = _height(surface, size, _seed(rgb, surface))
    shade = 1.0 - surface.relief * 0.5 + surface.relief * height
    strength = 4.0 * surface.relief
    du = (np.roll(height, -1, axis=1) - np.roll(height, 1, axis=1)) * strength
    dv = (np.roll(height, -1, axis=0) - np.roll(height, 1, axis=0)) * strength
    normal = np.stack([-du, dv, np.ones_like(height)], axis=-1)
    maps = {
        TextureRole.BASE_COLOR: np.clip(shade[..., None] * np.asarray(rgb), 0.0, 1.0),
        TextureRole.NORMAL: 0.5 + 0.5 * normal / np.linalg.norm(normal, axis=-1, keepdims=True),
        TextureRole.ROUGHNESS: np.clip(
            surface.roughness + 0.3 * surface.relief * (height - 0.5), 0.0, 1.0
        ),
    }
    return {role: _png(pixels) for role, pixels in maps.items()}


def _png(pixels: FloatArray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.round(pixels * 255.0).astype(np.uint8)).save(
        out, format="PNG", compress_level=1
    )
    return out.getvalue()


def _seed(rgb: tuple[float, float, float], surface: Surface) -> int:
    digest = hashlib.sha256(repr((rgb, surface)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _height(surface: Surface, size: int, seed: int) -> FloatArray:
    """A tileable height field in 0..1: octaves of periodic value noise plus a per-texel grain
    (the grain is what real scanned textures have, and what makes their PNGs megabytes)."""
    rng = np.random.default_rng(seed)
    total = np.zeros((size, size))
    weight_sum = 0.0
    cells, weight = 4, 1.0
    while cells <= size // 8:
        across = max(1, round(cells / surface.streak))
        grid = rng.random((cells, across))  # rows along V, columns along U
        total += weight * _upsample(_upsample(grid, size).T, size).T
        weight_sum += weight
        cells, weight = cells * 2, weight * 0.6
    grain = 0.08 * (rng.random((size, size)) - 0.5)
    result: FloatArray = np.clip(total / weight_sum + grain, 0.0, 1.0)
    return result


def _upsample(grid: FloatArray, size: int) -> FloatArray:
    """Smooth, wrapping interpolation of ``grid``'s columns to ``size`` columns."""
    cols = grid.shape[1]
    x = np.arange(size) * cols / size
    i0 = np.floor(x).astype(np.int64)
    t = x - i0
    t = t * t * (3.0 - 2.0 * t)
    result: FloatArray = grid[:, i0 % cols] * (1 - t) + grid[:, (i0 + 1) % cols] * t
    return result
