"""Helpers for the Kit extension's tests: the extension's folder on sys.path, a settings store,
an Isaac-like stage, a controller builder, the pose check every load/sync test ends with, the
asset-path check, and a harness running a controller on a real asyncio loop."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

EXT_ROOT = Path(__file__).resolve().parents[2] / "exts" / "gizmo.scenes"
if str(EXT_ROOT) not in sys.path:
    sys.path.insert(0, str(EXT_ROOT))

from gizmo.scenes.controller import PanelController, Status  # noqa: E402
from gizmo.scenes.data import LoadMode  # noqa: E402
from gizmo.scenes.scheduler import AsyncioScheduler, Scheduler, SyncScheduler  # noqa: E402
from gizmo.scenes.stage_port import UsdStagePort  # noqa: E402
from pxr import Gf, Sdf, Usd, UsdGeom, UsdUtils  # noqa: E402

from gizmo_client import GizmoClient, Quaternion  # noqa: E402
from gizmo_client.models import Scene  # noqa: E402
from gizmo_server.embedded import LocalServer  # noqa: E402

T = TypeVar("T")
ControllerFactory = Callable[..., PanelController]
PosesCheck = Callable[[Usd.Stage, str, Scene], None]


class MemorySettings:
    """Stands in for `carb.settings` (get/set by path); a dict is all Kit's store is to us."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, path: str) -> Any:
        return self.values.get(path)

    def set(self, path: str, value: Any) -> None:
        self.values[path] = value


def isaac_like_stage() -> Usd.Stage:
    """An in-memory stage set up the way Isaac Sim makes new stages: Z up, metres, /World."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    return stage


def assert_at_api_pose(stage: Usd.Stage, prim_path: str, scene: Scene) -> None:
    """Every placement of `scene` sits under `prim_path` at its API pose (1e-6 m, 1e-6 rad)."""
    by_id = {
        str(child.GetAttribute("gizmo:placementId").Get() or child.GetName()): child
        for child in stage.GetPrimAtPath(prim_path).GetChildren()
    }  # exports name placement prims readably and tag them with the id (older ones: by id)
    for placed in scene.assets:
        prim = by_id.get(placed.id)
        assert prim, f"placement {placed.id} ({placed.name}) missing under {prim_path}"
        matrix = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
        offset = matrix.ExtractTranslation() - Gf.Vec3d(*placed.position.as_tuple())
        assert offset.GetLength() < 1e-6, f"{placed.id} is {offset.GetLength():.3g} m off"
        quat = matrix.ExtractRotationQuat()
        got = Quaternion.from_wxyz(quat.GetReal(), *quat.GetImaginary())
        assert got.angle_to(placed.rotation) < 1e-6, (
            f"{placed.id} rotated {got} != {placed.rotation}"
        )


# Kit resolves its core MDLs (`@OmniPBR.mdl@` in real and local exports) from its own library.
KIT_CORE_MDLS = frozenset(
    {"OmniPBR.mdl", "OmniGlass.mdl", "OmniSurface.mdl", "OmniSurfaceBase.mdl"}
)


def assert_assets_resolve(stage: Usd.Stage, prim_path: str, layer_file: Path) -> list[Path]:
    """Every asset path under `prim_path` (composed) and of `layer_file` (and what it pulls in)
    resolves to an existing file, Kit's core MDLs aside; returns the resolved asset files."""
    _, _, unresolved = UsdUtils.ComputeAllDependencies(str(layer_file))
    unresolved = [path for path in unresolved if path not in KIT_CORE_MDLS]
    assert not unresolved, f"{layer_file} has unresolved asset paths: {unresolved}"
    found: list[Path] = []
    for prim in Usd.PrimRange(stage.GetPrimAtPath(prim_path)):
        for attr in prim.GetAttributes():
            if attr.GetTypeName() != Sdf.ValueTypeNames.Asset:
                continue
            value = attr.Get()
            if value is None or not value.path or value.path in KIT_CORE_MDLS:
                continue
            resolved = Path(value.resolvedPath) if value.resolvedPath else None
            assert resolved and resolved.is_file(), f"{attr.GetPath()}: {value.path!r} unresolved"
            found.append(resolved)
    return found


def new_controller(
    server: LocalServer,
    cache_dir: Path,
    *,
    stage: Usd.Stage | None = None,
    port: UsdStagePort | None = None,
    scheduler: Scheduler | None = None,
    environ: dict[str, str] | None = None,
    settings: MemorySettings | None = None,
    **kwargs: Any,
) -> PanelController:
    """A controller on a real client for `server` (through the environment, as users set it),
    an Isaac-like usd-core stage and the synchronous scheduler unless told otherwise. Clients
    do not retry, so failure tests stay fast."""
    return PanelController(
        scheduler=scheduler or SyncScheduler(),
        stage=port or UsdStagePort(stage if stage is not None else isaac_like_stage()),
        settings=settings or MemorySettings(),
        environ=(
            {"GIZMO_BASE_URL": server.base_url, "GIZMO_API_KEY": server.api_key}
            if environ is None
            else environ
        ),
        client_factory=lambda c: GizmoClient(
            api_key=c.api_key, base_url=c.base_url, cache_dir=cache_dir, max_retries=0
        ),
        **kwargs,
    )


async def until(controller: PanelController, check: Callable[[], bool]) -> None:
    """Let the asyncio loop run until `check()` holds (10 s at most)."""
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out; state: {controller.state}")


async def load_as_reference(controller: PanelController, scene_id: str) -> None:
    controller.refresh()
    await until(controller, lambda: controller.state.total_scenes > 0)
    controller.select(scene_id)
    await until(controller, lambda: bool(controller.state.placements))
    controller.load(LoadMode.REFERENCE)
    await until(controller, lambda: controller.state.status is Status.LOADED)


def on_asyncio_loop(
    make_controller: ControllerFactory,
    stage: Usd.Stage,
    body: Callable[[PanelController, Callable[[Callable[[], T]], Awaitable[T]]], Awaitable[None]],
) -> None:
    """Run `body(controller, in_worker)` with Kit's scheduler on a real asyncio loop; `in_worker`
    runs a blocking call on the worker pool, as the panel does."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=2) as pool:
            controller = make_controller(
                stage=stage, scheduler=AsyncioScheduler(loop, pool), poll_interval=0.05
            )

            def in_worker(fn: Callable[[], T]) -> Awaitable[T]:
                return loop.run_in_executor(pool, fn)

            await body(controller, in_worker)

    asyncio.run(main())
