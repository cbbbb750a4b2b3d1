"""`gizmo` CLI start-up and per-command overhead against the library doing the same in a fresh
Python process, measured in the same run (a CLI command is one process: its start-up is its cost).

1. `gizmo --version` (imports, parser with every subcommand, plugin discovery through the
   `gizmo.cli_plugins` entry points) against `python -c "import gizmo_client"`.
   Target: ratio at most 1.5.
2. `gizmo --json scenes list` against a process that builds a `GizmoClient` and calls
   `scenes.list()` on the same real local server. Target: ratio at most 1.3.

Run: .venv/bin/python bench/bench_cli.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from gizmo_server.embedded import LocalServer


def _medians(
    first: list[str], second: list[str], env: dict[str, str], repeat: int
) -> tuple[float, float]:
    """Median wall times of two commands, run alternately so load drifts hit both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for argv, bucket in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            bucket.append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    python = sys.executable
    gizmo = [python, "-m", "gizmo_client.cli"]
    with LocalServer(demo=True) as server, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GIZMO_API_KEY": server.api_key,
            "GIZMO_BASE_URL": server.base_url,
            "GIZMO_CACHE_DIR": tmp,
            "GIZMO_CONFIG": os.path.join(tmp, "config.json"),
            "GIZMO_API_GENERATION": "alpha",  # both sides skip the detection request
        }
        cases = [
            ("start-up", [*gizmo, "--version"], [python, "-c", "import gizmo_client"], 1.5),
            (
                "scenes list",
                [*gizmo, "--json", "scenes", "list"],
                [
                    python,
                    "-c",
                    "from gizmo_client import GizmoClient; "
                    "import json; c = GizmoClient(); "
                    "print(json.dumps([s.model_dump(mode='json') for s in c.scenes.list().items]))",
                ],
                1.3,
            ),
        ]
        print(f"{'case':<12} {'cli (ms)':>9} {'baseline (ms)':>14} {'ratio':>6} target")
        for name, cli, baseline, target in cases:
            _medians(cli, baseline, env, 1)  # warm the file cache
            ours, base = _medians(cli, baseline, env, repeat)
            ratio = ours / base
            verdict = "ok" if ratio <= target else "OVER"
            row = f"{name:<12} {ours * 1e3:9.0f} {base * 1e3:14.0f} {ratio:6.2f}"
            print(f"{row} <= {target} {verdict}")


if __name__ == "__main__":
    main()
