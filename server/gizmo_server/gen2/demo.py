"""The demo account of the generation: a fixed key and two finished prompt-generated scenes.

Seeding runs the real jobs (planner, stages, events) with no waiting, under fixed ids, and is
idempotent: a seeded data directory keeps its scenes.
"""

from __future__ import annotations

from .ids import stable_id
from .runtime import Gen2Runtime

__all__ = ["GEN2_DEMO_API_KEY", "GEN2_DEMO_PROMPTS", "seed_gen2_demo"]

GEN2_DEMO_API_KEY = "gzm_k1_demo_local_development_key_not_secret"
GEN2_DEMO_PROMPTS = (
    "a robotics lab with two workbenches and a mobile manipulator",
    "a warehouse aisle with shelves, a conveyor and three crates",
)


def seed_gen2_demo(runtime: Gen2Runtime) -> str:
    """Register the demo key and generate its scenes once; returns the account id."""
    account = runtime.accounts.register(GEN2_DEMO_API_KEY)
    for prompt in GEN2_DEMO_PROMPTS:
        scene_id = stable_id(f"demo/scene/{prompt}")
        if runtime.store.get("scene", scene_id) is None:
            job_id = f"job_{stable_id(f'demo/job/{prompt}')}"
            runtime.jobs.submit_scene(
                account, prompt, scene_id=scene_id, job_id=job_id, instant=True
            )
    return account
