"""An export's own content, whatever the API says: the files it names resolve, its meshes and
textures are valid, its keyframes fit the model.

These hold for every export, and they are all that can be checked of a scene without API
placements (the newer generation, or a file given without its scene object). MJCF is read as a
`MjSpec` before compiling, so a NaN vertex or a short keyframe is named even when MuJoCo refuses
the whole file; USD is read from the composed stage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import mujoco
from PIL import Image, UnidentifiedImageError
from pxr import Sdf, Usd, UsdGeom

from .findings import Finding

__all__ = [
    "KIT_CORE_MDLS",
    "mjcf_asset_findings",
    "mjcf_keyframe_findings",
    "names_core_mdl",
    "usd_asset_findings",
]

KIT_CORE_MDLS = frozenset(
    {
        "OmniPBR.mdl",
        "OmniPBR_ClearCoat.mdl",
        "OmniPBR_ClearCoat_Opacity.mdl",
        "OmniPBR_Opacity.mdl",
        "OmniGlass.mdl",
        "OmniGlass_Opacity.mdl",
        "OmniSurface.mdl",
        "OmniSurfaceBase.mdl",
        "OmniSurfaceBlend.mdl",
        "OmniSurfaceLite.mdl",
        "OmniSurfacePresets.mdl",
        "OmniHair.mdl",
        "OmniHairBase.mdl",
        "OmniEmissive.mdl",
    }
)
"""Kit resolves these from its own MDL library, so a layer names them without a file beside it
(`@OmniPBR.mdl@`). Exactly these bare names count as provided; any other MDL must resolve."""

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_MAX_FINDINGS = 20  # per check: a systematic defect is clear long before the 1000th copy


def _image_problem(path: Path) -> str | None:
    """Why the image at `path` cannot be used, or None when it decodes."""
    try:
        with Image.open(path) as image:
            image.load()
    except FileNotFoundError:
        return "the file does not exist"
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        return f"it does not decode as an image: {exc}"
    return None


def _mesh_problem(points: list[float], faces: list[int], counts: list[int] | None) -> str | None:
    """Why a mesh's geometry is unusable: non-finite coordinates, or faces outside its points."""
    bad = next((i for i, v in enumerate(points) if not math.isfinite(v)), None)
    if bad is not None:
        return f"vertex {bad // 3} has a non-finite coordinate ({points[bad]})"
    vertices = len(points) // 3
    out = next((i for i in faces if not 0 <= i < vertices), None)
    if out is not None:
        return f"a face uses vertex {out}, but the mesh has only {vertices} vertices"
    if counts is not None and sum(counts) != len(faces):
        return f"faceVertexCounts add up to {sum(counts)}, but there are {len(faces)} indices"
    return None


def _capped(check: str, findings: list[Finding]) -> list[Finding]:
    if len(findings) <= _MAX_FINDINGS:
        return findings
    more = len(findings) - _MAX_FINDINGS
    return [*findings[:_MAX_FINDINGS], Finding(check, f"... and {more} more like these")]


def mjcf_asset_findings(spec: mujoco.MjSpec, path: Path) -> list[Finding]:
    """Inline and file meshes and texture files of a parsed (not yet compiled) MJCF."""
    base = path.parent
    meshes: list[Finding] = []
    for mesh in spec.meshes:
        if mesh.file:
            found = base / spec.meshdir / mesh.file
            if not found.is_file():
                meshes.append(
                    Finding("mjcf.mesh", f"mesh file {mesh.file!r} not found", where=mesh.name)
                )
            continue
        problem = _mesh_problem(list(mesh.uservert), list(mesh.userface), None)
        if problem is not None:
            meshes.append(Finding("mjcf.mesh", f"mesh {mesh.name!r}: {problem}", where=mesh.name))
    textures: list[Finding] = []
    for texture in spec.textures:
        if not texture.file:
            continue  # builtin (gradient, checker...)
        problem = _image_problem(base / spec.texturedir / texture.file)
        if problem is not None:
            textures.append(
                Finding(
                    "mjcf.texture",
                    f"texture {texture.name!r} ({texture.file}): {problem}",
                    where=texture.name,
                )
            )
    return _capped("mjcf.mesh", meshes) + _capped("mjcf.texture", textures)


def mjcf_keyframe_findings(spec: mujoco.MjSpec) -> list[Finding]:
    """Keyframes whose qpos does not fit the model (MuJoCo then refuses the whole file).

    The model's size comes from a copy compiled without its keyframes; when even that fails the
    file's other defects are reported instead."""
    if not spec.keys:
        return []
    bare = spec.copy()
    for key in list(bare.keys):
        bare.delete(key)
    try:
        nq = bare.compile().nq
    except ValueError:
        return []
    return [
        Finding(
            "mjcf.keyframe",
            f"keyframe {key.name!r} has {len(key.qpos)} qpos values, the model has {nq}",
            where=key.name or f"key #{index}",
        )
        for index, key in enumerate(spec.keys)
        if len(key.qpos) and len(key.qpos) != nq
    ]


def _asset_values(attr: Usd.Attribute) -> Iterator[Sdf.AssetPath]:
    value = attr.Get()
    if isinstance(value, Sdf.AssetPath):
        yield value
    elif value is not None:  # an asset array
        yield from value


def usd_asset_findings(stage: Usd.Stage) -> list[Finding]:
    """Every image an asset-valued attribute names decodes, and every mesh's points are finite
    with faces inside them."""
    files: list[Finding] = []
    for prim in stage.Traverse():
        for attr in prim.GetAttributes():
            if attr.GetTypeName() not in (Sdf.ValueTypeNames.Asset, Sdf.ValueTypeNames.AssetArray):
                continue
            for asset in _asset_values(attr):
                problem = _usd_asset_problem(asset)
                if problem is not None:
                    where = str(attr.GetPath())
                    files.append(Finding("usd.asset", f"{asset.path!r}: {problem}", where=where))
    meshes: list[Finding] = []
    for prim in stage.Traverse():
        if not prim.IsA(UsdGeom.Mesh):
            continue
        mesh = UsdGeom.Mesh(prim)
        points = [float(c) for p in mesh.GetPointsAttr().Get() or [] for c in p]
        faces = [int(i) for i in mesh.GetFaceVertexIndicesAttr().Get() or []]
        counts = [int(c) for c in mesh.GetFaceVertexCountsAttr().Get() or []]
        problem = _mesh_problem(points, faces, counts)
        if problem is not None:
            meshes.append(Finding("usd.mesh", problem, where=str(prim.GetPath())))
    return _capped("usd.asset", files) + _capped("usd.mesh", meshes)


def _usd_asset_problem(asset: Sdf.AssetPath) -> str | None:
    """Why a resolved image cannot be used (files that do not resolve are `usd.dependencies`)."""
    if not asset.resolvedPath:
        return None
    resolved = Path(asset.resolvedPath)
    if resolved.suffix.lower() in _IMAGE_SUFFIXES:
        return _image_problem(resolved)
    return None


_QUOTED = re.compile(r"'([^']*)'")


def names_core_mdl(message: str) -> bool:
    """Whether a validator's complaint about an unresolvable dependency names one of Kit's core
    MDLs (`pxr.UsdValidation` does not know Kit's MDL search path)."""
    return any(name in KIT_CORE_MDLS for name in _QUOTED.findall(message))
