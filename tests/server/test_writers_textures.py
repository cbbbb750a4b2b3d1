"""Procedural PBR textures and the texture-size setting."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gizmo_server.generator import generate
from gizmo_server.writers.materials import (
    TEXTURE_SIZE_ENV,
    Look,
    configured_texture_size,
    scene_looks,
    texture_files,
)
from gizmo_server.writers.textures import TextureRole, texture_pngs

from .test_export_cases import scene_placements


def decoded(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()
    return np.asarray(image, dtype=np.float64) / 255.0


def looks() -> list[Look]:
    return scene_looks(generate(p.prompt) for p in scene_placements())


def test_maps_are_deterministic_sized_and_in_the_looks_colour() -> None:
    item = looks()[0]
    maps = texture_pngs(item.rgba[:3], item.surface, 64)
    texture_pngs.cache_clear()  # made again from nothing: the same bytes
    assert texture_pngs(item.rgba[:3], item.surface, 64) == maps
    base = decoded(maps[TextureRole.BASE_COLOR])
    assert base.shape == (64, 64, 3)
    mean = base.reshape(-1, 3).mean(axis=0)
    assert np.allclose(mean, item.rgba[:3], atol=0.08), (mean, item.rgba)
    assert base.std() > 0.005, "a texture, not a flat colour"
    normal = decoded(maps[TextureRole.NORMAL]) * 2 - 1
    assert np.allclose(np.linalg.norm(normal, axis=-1), 1.0, atol=0.02)
    assert normal[..., 2].min() > 0.3, "tangent-space normals point out of the surface"
    rough = decoded(maps[TextureRole.ROUGHNESS])
    assert rough.ndim == 2 and abs(rough.mean() - item.surface.roughness) < 0.05


def test_distinct_looks_get_distinct_textures_and_paths() -> None:
    files = texture_files(looks(), 32)
    pixels_of = {(item.rgba[:3], item.surface) for item in looks()}
    assert len(files) == 3 * len(pixels_of)  # looks drawn alike share their files
    assert len(set(files.values())) == len(files)
    assert all(path.startswith("textures/") and path.endswith(".png") for path in files)
    assert files.keys().isdisjoint(texture_files(looks(), 64).keys()), "size is in the name"


def test_default_size_is_realistic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEXTURE_SIZE_ENV, raising=False)
    assert configured_texture_size() == 1024
    monkeypatch.setenv(TEXTURE_SIZE_ENV, "0")
    assert configured_texture_size() is None
    monkeypatch.setenv(TEXTURE_SIZE_ENV, "64")
    assert configured_texture_size() == 64


@pytest.mark.parametrize("bad", ["100", "8", "8192", "big", "-64"])
def test_a_bad_size_says_what_to_set(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(TEXTURE_SIZE_ENV, bad)
    with pytest.raises(ValueError, match=f"{TEXTURE_SIZE_ENV}=.*power of two from 16 to 4096"):
        configured_texture_size()
