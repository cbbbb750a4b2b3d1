"""Load-test throughput: scenes per minute for 50 scenes of 10 placements, 1 worker vs 2 workers.

The baseline is the 1-worker run, measured in the same process on the same machine; the printed
ratio (2 workers / 1 worker) is what to compare across machines. Every run covers the whole
per-scene pipeline as `gizmo loadtest` runs it against the embedded local server: export both
formats (the server renders them), download, check USD and MJCF (500 steps), cross-check, and
render the MuJoCo thumbnail. Three configurations: the CLI default (empty cache, thumbnails on),
thumbnails off, and a warm cache with thumbnails off (the checks alone, no server work). Cold
runs each get an empty export cache, so none reuses another's downloads. Scenes hold every demo
asset kind at seeded random poses with skew rotations. Rounds alternate 1 and 2 workers and keep
each one's best, which damps the noise of a shared machine.

Run: .venv/bin/python bench/bench_loadtest.py [--scenes 50] [--placements 10] [--repeat 2]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from gizmo_client import GizmoClient
from gizmo_client.models import Quaternion, Vector3
from gizmo_loadtest.fetch import Target
from gizmo_loadtest.options import CheckOptions
from gizmo_loadtest.runner import run
from gizmo_server.embedded import LocalServer


def make_scenes(client: GizmoClient, scenes: int, placements: int) -> list[str]:
    """`scenes` new scenes of `placements` ready demo assets each, 3 m apart, skew rotations."""
    rng = random.Random(6)
    assets = [a.id for a in client.assets.iter_all() if a.status.value == "ready"]
    ids = []
    for s in range(scenes):
        scene = client.scenes.create(f"bench {s:03d}")
        for p in range(placements):
            q = [rng.gauss(0.0, 1.0) for _ in range(4)]
            client.scenes.add_asset(
                scene.id,
                assets[(s + p) % len(assets)],
                Vector3(x=3.0 * (p % 4), y=3.0 * (p // 4), z=rng.uniform(0.0, 0.5)),
                Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]),
            )
        ids.append(scene.id)
    return ids


def throughput(target: Target, ids: list[str], workers: int, thumbnails: bool) -> float:
    """Scenes per minute; a run with a failing case stops the benchmark (its rate is void)."""
    with tempfile.TemporaryDirectory(prefix="bench-loadtest-art-") as artifacts:
        report = run(target, ids, CheckOptions(thumbnails=thumbnails), workers, Path(artifacts))
    failed = [str(f) for _, r in report.cases() for f in r.findings]
    if failed:
        raise SystemExit(f"error: {len(failed)} finding(s), first: {failed[0]}")
    return report.scenes_per_minute


CONFIGS = (
    ("cold cache, thumbnails on (the CLI default)", False, True),
    ("cold cache, thumbnails off", False, False),
    ("warm cache, thumbnails off (the checks alone)", True, False),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--placements", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2, help="alternating rounds; best is kept")
    args = parser.parse_args()
    with (
        LocalServer(demo=True) as server,
        server.client() as client,
        tempfile.TemporaryDirectory(prefix="bench-loadtest-warm-") as warm,
    ):
        ids = make_scenes(client, args.scenes, args.placements)
        print(f"{len(ids)} scenes x {args.placements} placements, both formats, 500 steps")
        warm_target = Target(server.base_url, server.api_key, Path(warm))
        throughput(warm_target, ids, 1, False)  # fills the warm cache, untimed
        for label, use_warm, thumbnails in CONFIGS:
            best = {1: 0.0, 2: 0.0}
            for _ in range(args.repeat):
                for workers in best:
                    with tempfile.TemporaryDirectory(prefix="bench-loadtest-cold-") as cold:
                        cache = Path(warm) if use_warm else Path(cold)
                        target = Target(server.base_url, server.api_key, cache)
                        rate = throughput(target, ids, workers, thumbnails)
                    best[workers] = max(best[workers], rate)
            print(
                f"{label}:\n  1 worker (baseline) {best[1]:7.1f} scenes/min, "
                f"2 workers {best[2]:7.1f} scenes/min, ratio 2w/1w {best[2] / best[1]:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
