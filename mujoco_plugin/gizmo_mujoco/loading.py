"""Scene file -> compiled MuJoCo model: the materialise and build steps of the reload pipeline.

A single XML is compiled from its own folder, so relative mesh paths resolve as the author meant.
MuJoCo keeps decoded meshes and textures in its asset cache, keyed by file path, so a file
compiled again from the same path reuses them; an export fetched for a new revision lands in a
new folder, so there (`by_content=True`) its assets are handed over in a virtual file system
under their relative names, which MuJoCo's cache keys by name and content: what did not change
between revisions (a texture, a mesh) is not decoded again.
A ZIP (the hosted service may deliver one) is unpacked safely into a private temporary folder that
lives only while MuJoCo compiles; the compiled model holds every mesh and texture itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mujoco

from gizmo_client import GizmoClient
from gizmo_client.archive import extract_zip_safely, find_primary_file, is_zip
from gizmo_client.errors import UnsafeArchiveError

from .errors import KeyframeNotFoundError, MjcfLoadError

__all__ = ["compile_file", "load_file", "load_scene", "new_data", "reset_to_keyframe"]

_NOT_FOUND_HINT = "Check the path; a scene id (scn_...) is fetched from the API instead."
_USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")
_USD_MAGIC = (b"#usda", b"PXR-USDC")
_IMAGE_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image"}
_MJCF_HINT = (
    "Give the scene's MJCF export (.xml, or a .zip holding one): "
    "`gizmo scenes export SCENE_ID --format mjcf`, or pass the scene id itself."
)


def compile_file(path: str | Path, *, by_content: bool = False) -> mujoco.MjModel:
    """Compile an MJCF `.xml` or a `.zip` holding one; every failure is an `MjcfLoadError`.

    `by_content`: the file is a new copy of a revision (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        reason = "it is a folder, not a file" if path.is_dir() else "no such file"
        raise MjcfLoadError(path, reason, hint=_NOT_FOUND_HINT)
    try:
        zipped = is_zip(path)
    except OSError as exc:
        raise MjcfLoadError(path, f"cannot be read ({exc.strerror})", hint=_NOT_FOUND_HINT) from exc
    if zipped:
        return _compile_zip(path)
    _refuse_non_mjcf(path)
    return _compile_xml(path, shown_as=path, by_content=by_content)


def _refuse_non_mjcf(path: Path) -> None:
    """Name what the file is when it cannot be MJCF, before MuJoCo's XML parser says less."""
    with path.open("rb") as file:
        head = file.read(64)
    if path.suffix.lower() in _USD_SUFFIXES or head.startswith(_USD_MAGIC):
        raise MjcfLoadError(path, "it is a USD file; MuJoCo loads MJCF", hint=_MJCF_HINT)
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            raise MjcfLoadError(path, f"it is {kind}, not an MJCF scene", hint=_MJCF_HINT)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise MjcfLoadError(path, "it is not XML (MJCF files start with '<')", hint=_MJCF_HINT)


def _compile_xml(path: Path, *, shown_as: Path, by_content: bool = False) -> mujoco.MjModel:
    try:
        assets = _assets_by_name(path) if by_content else None
        if assets is None:
            return mujoco.MjModel.from_xml_path(str(path))
        return mujoco.MjModel.from_xml_string(path.read_text(encoding="utf-8"), assets)
    except ValueError as exc:
        raise MjcfLoadError.from_mujoco(shown_as, exc) from exc


def _assets_by_name(path: Path) -> dict[str, bytes] | None:
    """The XML's mesh and texture files by their names relative to its folder; None when it has
    none, includes other XML or reaches outside its folder (then it is compiled by path)."""
    folder = path.parent.absolute()
    assets = {}
    try:
        for name in mujoco.mju_getXMLDependencies(str(path)):
            file = Path(name).absolute()
            if file == path.absolute():
                continue
            if file.suffix.lower() in (".xml", ".mjcf") or not file.is_relative_to(folder):
                return None
            assets[file.relative_to(folder).as_posix()] = file.read_bytes()
    except (ValueError, mujoco.FatalError, OSError):  # compiling by path says what is wrong
        return None
    return assets or None


def _compile_zip(path: Path) -> mujoco.MjModel:
    with tempfile.TemporaryDirectory(prefix="gizmo-mujoco-") as tmp:
        root = Path(tmp)
        try:
            files = extract_zip_safely(path, root)
            primary = find_primary_file(files, root, (".xml", ".mjcf"))
        except UnsafeArchiveError as exc:
            raise MjcfLoadError(path, exc.message, hint=exc.hint) from exc
        return _compile_xml(primary, shown_as=path / primary.relative_to(root))


def new_data(model: mujoco.MjModel) -> mujoco.MjData:
    """Fresh data at the model's defaults, with positions computed (poses are valid at t=0)."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return data


def reset_to_keyframe(model: mujoco.MjModel, data: mujoco.MjData, name: str) -> None:
    """Put `data` in the model's keyframe `name` (positions computed); raises
    `KeyframeNotFoundError` listing the model's keyframes when there is none of that name."""
    index = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_KEY, name)
    if index < 0:
        names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_KEY, k) or f"#{k}"
                 for k in range(model.nkey)]  # fmt: skip
        raise KeyframeNotFoundError(name, names)
    mujoco.mj_resetDataKeyframe(model, data, index)
    mujoco.mj_forward(model, data)


def load_file(path: str | Path) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """Load a local `.xml` or `.zip` scene; raises `MjcfLoadError` naming file, line and element."""
    model = compile_file(path)
    return model, new_data(model)


def load_scene(
    scene_id: str, client: GizmoClient | None = None
) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """Fetch a scene's MJCF export (through the client's cache) and load it.

    Without a client, one is made from `GIZMO_API_KEY`/`GIZMO_BASE_URL` or `gizmo login`.
    """
    if client is None:
        with GizmoClient() as own:
            return load_scene(scene_id, own)
    fetched = client.fetch_scene(scene_id)
    return load_file(fetched.path)
