"""Route MuJoCo's warnings to `logging`, so none lands in `MUJOCO_LOG.TXT` in the user's folder."""

from __future__ import annotations

import logging

import mujoco

logger = logging.getLogger("gizmo_mujoco.mujoco")


def _warn(message: str) -> None:
    logger.warning("MuJoCo: %s", message.strip())


def route_warnings_to_logging() -> None:
    mujoco.set_mju_user_warning(_warn)
