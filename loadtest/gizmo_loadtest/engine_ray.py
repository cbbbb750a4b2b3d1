"""The Ray engine: each scene is one Ray task on an existing cluster, or on a local one.

Imported only when `--ray` is given (Ray is the optional `distributed` extra). Each task fetches
through the client cache on its node and renders its thumbnail there; the picture travels back
with the result and is written to the artifacts here, so the report works whatever the nodes'
disks hold. Retries are `Checks`' (Ray's own are off), so every engine retries alike.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError, TaskCancelledError

from gizmo_client.errors import GizmoConnectionError

from .engines import Lost, crashed
from .fetch import LoadtestInputError, Target
from .findings import SceneResult
from .options import CheckOptions

__all__ = ["RayEngine"]

LOCAL = "local"


def _check_on_node(
    target: Target, scene_id: str, options: CheckOptions, thumbnail: bool
) -> tuple[SceneResult, dict[str, bytes]]:
    """The task: check one scene on whichever node Ray picked; thumbnails come back as bytes."""
    from .runner import check_scene

    with tempfile.TemporaryDirectory(prefix="gizmo-loadtest-node-") as scratch:
        result = check_scene(target, scene_id, options, Path(scratch) if thumbnail else None)
        pngs = {fmt: Path(png).read_bytes() for fmt, png in result.thumbnails.items()}
    result.thumbnails = {}
    result.node = ray.get_runtime_context().get_node_id()
    return result, pngs


def connect(address: str, cpus: int | None) -> bool:
    """Join the cluster at `address` (`auto`, HOST:PORT) or start a local one (`local`, on
    127.0.0.1 only, with `cpus` CPUs). False when this process was connected already (then
    the caller's `ray.init`, with its runtime_env, stands and is left open)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address == LOCAL:
            ray.init(
                address=LOCAL,
                num_cpus=cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                **quiet,
            )
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GizmoConnectionError(
            f"Cannot join the Ray cluster at {address!r}: {first}",
            hint="Start one with `ray start --head`, give its HOST:PORT, or use --ray local.",
        ) from exc
    return True


class RayEngine:
    """Scenes as Ray tasks of one CPU each; `ray.wait` streams them back as they finish."""

    def __init__(
        self,
        target: Target,
        options: CheckOptions,
        artifacts: Path | None,
        address: str,
        workers: int,
    ) -> None:
        if address != LOCAL and workers > 1:
            raise LoadtestInputError(
                "--workers applies to this machine or to --ray local; a cluster's CPUs decide "
                "how many scenes it checks at once",
                hint="Drop --workers, or give --ray local --workers N.",
            )
        self._owned = connect(address, workers if workers > 1 else None)
        self._target = target
        self._options = options
        self._artifacts = artifacts
        self._task = ray.remote(num_cpus=1, max_retries=0)(_check_on_node)
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
        self.workers = int(resources.get("CPU", 1))
        self.description = f"ray {address} ({len(nodes)} node(s))"

    def submit(self, scene_id: str) -> ray.ObjectRef[Any]:
        thumbnail = self._options.thumbnails and self._artifacts is not None
        ref: ray.ObjectRef[Any] = self._task.remote(
            self._target, scene_id, self._options, thumbnail
        )
        return ref

    def wait(self, handles: Collection[ray.ObjectRef[Any]]) -> ray.ObjectRef[Any]:
        ready, _ = ray.wait(list(handles), num_returns=1)
        return ready[0]

    def result(self, handle: ray.ObjectRef[Any], scene_id: str) -> SceneResult:
        try:
            result, pngs = ray.get(handle)
        except RayTaskError as exc:  # the task itself raised: not the node's fault, no retry
            return crashed(scene_id, self._options.formats, f"the Ray task failed: {exc}")
        except TaskCancelledError:
            raise
        except RayError as exc:  # the worker or its node died, or the object was lost
            first = str(exc).strip().splitlines()[0]
            raise Lost(f"{type(exc).__name__}: {first}") from exc
        if self._artifacts is not None:
            from .runner import thumbnail_path

            for fmt, png in pngs.items():
                path = thumbnail_path(self._artifacts, result.scene_id, fmt)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png)
                result.thumbnails[fmt] = str(path)
        scene_result: SceneResult = result
        return scene_result

    def cancel(self, handles: Collection[ray.ObjectRef[Any]]) -> None:
        for handle in handles:
            ray.cancel(handle)

    def close(self) -> None:
        if self._owned:
            ray.shutdown()
