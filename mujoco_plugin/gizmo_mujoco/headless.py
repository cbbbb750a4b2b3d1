"""Headless runs: load, step, summarise, and optionally render a thumbnail (CI, servers)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import mujoco

from .render import render_png

__all__ = ["HeadlessSummary", "run_headless"]


@dataclass(frozen=True)
class HeadlessSummary:
    label: str
    placements: int
    bodies: int
    joints: int
    dofs: int
    actuators: int
    steps: int
    sim_time: float
    wall_seconds: float
    image: Path | None

    @property
    def realtime_factor(self) -> float:
        """Simulated seconds per wall-clock second while stepping."""
        return self.sim_time / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def lines(self) -> list[str]:
        out = [
            f"scene      {self.label}",
            f"model      {self.placements} placements, {self.bodies} bodies, "
            f"{self.joints} joints ({self.dofs} DOF), {self.actuators} actuators",
            f"stepped    {self.steps} steps = {self.sim_time:.3f} s simulated in "
            f"{self.wall_seconds:.3f} s ({self.realtime_factor:.1f}x real time)",
        ]
        if self.image is not None:
            out.append(f"thumbnail  {self.image}")
        return out


def _count_placements(model: mujoco.MjModel) -> int:
    """Top-level bodies: one per placement in a Gizmo export."""
    return sum(1 for body in range(1, model.nbody) if model.body_parentid[body] == 0)


def run_headless(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    *,
    label: str,
    steps: int,
    render: Path | None = None,
    size: tuple[int, int] = (320, 240),
) -> HeadlessSummary:
    """Step `steps` times as fast as possible, then render `render` (PNG) if asked."""
    if steps < 0:
        raise ValueError(f"steps must be 0 or more, got {steps}")
    start_time = data.time
    started = time.perf_counter()
    for _ in range(steps):
        mujoco.mj_step(model, data)
    wall = time.perf_counter() - started
    if render is not None:
        mujoco.mj_forward(model, data)  # positions of the final state, not one step behind
        render_png(model, data, render, width=size[0], height=size[1])
    return HeadlessSummary(
        label=label,
        placements=_count_placements(model),
        bodies=model.nbody - 1,
        joints=model.njnt,
        dofs=model.nv,
        actuators=model.nu,
        steps=steps,
        sim_time=data.time - start_time,
        wall_seconds=wall,
        image=render,
    )
