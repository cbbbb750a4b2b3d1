"""The `physics_validation` stage: the layout is clear, and its MJCF compiles and settles.

Each object must keep clear of the walls and of the others; then the scene is rendered by the
MJCF writer exactly as an export would be, compiled by MuJoCo and stepped for half a simulated
second from rest, and every coordinate must stay finite and every free body near its start (an
object that explodes or falls through the floor fails the job with its name).
"""

from __future__ import annotations

import mujoco
import numpy as np

from gizmo_server import exports
from gizmo_server.rotation import Quaternion

from .planner import Layout

__all__ = ["SETTLE_STEPS", "physics_problem"]

SETTLE_STEPS = 250  # 0.5 s at the writer's 2 ms step
MAX_DRIFT = 0.5  # metres a free body may move while settling


def physics_problem(layout: Layout) -> str | None:
    """Why the layout is not physically sound, or None."""
    for item in layout.items:
        others = [o for o in layout.items if o.name != item.name]
        if not layout.fits(item, others, gap=0.0):
            return f"{item.name} overlaps a wall or another object."
    if not layout.items:
        return None
    placements = [
        exports.PlacementInput(
            placement_id=item.name,
            asset_id=item.name,
            asset_name=item.label,
            prompt=item.prompt,
            position=item.position,
            rotation=Quaternion.identity(),
        )
        for item in layout.items
    ]
    xml = exports.render_scene("validation", "validation", placements, exports.MUJOCO_MJCF).data
    try:
        model = mujoco.MjModel.from_xml_string(xml.decode("utf-8"))
    except ValueError as exc:
        return f"MuJoCo does not compile the scene: {exc}"
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    start = data.xpos.copy()
    for _ in range(SETTLE_STEPS):
        mujoco.mj_step(model, data)
    if not (np.all(np.isfinite(data.qpos)) and np.all(np.isfinite(data.xpos))):
        return "The simulation diverged while the scene settled."
    drift = np.linalg.norm(data.xpos - start, axis=1)
    for body in range(1, model.nbody):
        if model.body_parentid[body] == 0 and drift[body] > MAX_DRIFT:
            return f"{model.body(body).name} moved {drift[body]:.2f} m while the scene settled."
    return None
