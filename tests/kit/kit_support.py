"""Helpers for the Kit extension's tests: the extension's folder on sys.path, a settings store,
an Isaac-like stage, a controller builder, and the pose check every load/sync test ends with."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXT_ROOT = Path(__file__).resolve().parents[2] / "exts" / "gizmo.scenes"
if str(EXT_ROOT) not in sys.path:
    sys.path.insert(0, str(EXT_ROOT))

from gizmo.scenes.controller import PanelController  # noqa: E402
from gizmo.scenes.scheduler import Scheduler, SyncScheduler  # noqa: E402
from gizmo.scenes.stage_port import UsdStagePort  # noqa: E402
from pxr import Gf, Usd, UsdGeom  # noqa: E402

from gizmo_client import GizmoClient, Quaternion  # noqa: E402
from gizmo_client.models import Scene  # noqa: E402
from gizmo_server.embedded import LocalServer  # noqa: E402

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
