"""Scene export time at 1, 10, 100 and 1000 placements, against baselines measured in the same run.

For each format, ``render_scene`` (generator + writer, the whole server-side cost of an export) is
timed over scenes that cycle through every asset kind at random poses. Each is compared with a
minimal write of the same amount of content in the same format, measured here on the same machine:

- USD baseline: the same number of prims as the export, each a bare ``def Xform`` with one double3
  attribute, authored with Sdf in one change block and exported to a binary crate.
- MJCF baseline: the same number of bodies, each ``<body name pos><geom/></body>``, joined into
  one string.

Printed: times (best of the repeats), the ratio to the baseline (machine-noise-robust), and the
scaling ratio t(1000)/t(100) (10 is linear; target at most 15). Also printed once: building the
same MJCF with MjSpec and ``to_xml`` instead of text, the alternative the writer does not take.
Exits 1 if a format's scaling ratio exceeds 15.

``--against DIR`` also times the USD export at N = 1000 by another source tree (``DIR/server`` and
``DIR/common``, e.g. ``git archive <commit> server common | tar -x -C DIR``), alternating fresh
processes of both trees and keeping each one's fastest CPU time, so that load from other
processes on a shared machine hits both alike; exits 1 if this tree is more than
``--max-slowdown`` times slower.

Run: .venv/bin/python bench/bench_export.py [--repeat 5] [--against DIR [--rounds 4]]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import mujoco
from pxr import Sdf, Usd

from gizmo_server.description import AXIS_VECTOR, Box, JointType, Sphere
from gizmo_server.exports import PlacementInput, render_scene
from gizmo_server.generator import generate

try:
    from gizmo_server.rotation import Quaternion
except ImportError:  # a tree from before the server had its own (timed with --against)
    from gizmo_client.models import Quaternion  # type: ignore[assignment]

PROMPTS = [
    "a 6-DOF industrial arm",
    "parallel-jaw gripper",
    "roller conveyor",
    "packing table",
    "warehouse shelf",
    "picking bin",
    "wooden crate",
    "wheeled mobile base",
]
SIZES = (1, 10, 100, 1000)
TARGET_SCALING = 15.0


def placements(count: int) -> list[PlacementInput]:
    rng = random.Random(count)
    out = []
    for i in range(count):
        q = [rng.gauss(0.0, 1.0) for _ in range(4)]
        position = (rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(0, 3))
        out.append(
            PlacementInput(
                f"pla_{i}",
                f"ast_{i % len(PROMPTS)}",
                f"asset {i}",
                PROMPTS[i % len(PROMPTS)],
                position,
                Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]),
            )
        )
    return out


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def usd_prim_count(scene: list[PlacementInput]) -> int:
    """Prims in the export: the placement, its bodies, geoms, the joints scope and joints."""
    per_asset = 0
    for p in scene:
        asset = generate(p.prompt)
        per_asset += (
            2
            + len(asset.bodies)
            + sum(len(b.geoms) for b in asset.bodies)
            + len(asset.joints)
            + asset.fixed_base
        )
    return per_asset


def usd_baseline(prims: int) -> None:
    layer = Sdf.Layer.CreateAnonymous("baseline.usd")
    with Sdf.ChangeBlock():
        world = Sdf.PrimSpec(layer, "World", Sdf.SpecifierDef, "Xform")
        for i in range(prims):
            prim = Sdf.PrimSpec(world, f"p{i}", Sdf.SpecifierDef, "Xform")
            Sdf.AttributeSpec(prim, "xformOp:translate", Sdf.ValueTypeNames.Double3).default = (
                float(i),
                0.0,
                0.0,
            )
    with tempfile.TemporaryDirectory() as tmp:
        layer.Export(str(Path(tmp) / "baseline.usd"))


def mjcf_baseline(bodies: int) -> None:
    "".join(
        f'<body name="b{i}" pos="{float(i)!r} 0.0 0.0"><geom size="0.1"/></body>\n'
        for i in range(bodies)
    ).encode()


def mjcf_via_mjspec(scene: list[PlacementInput]) -> None:
    """The same bodies, joints, geoms and actuators built with MjSpec, then ``to_xml``."""
    spec = mujoco.MjSpec()
    spec.compiler.degree = False
    for p in scene:
        asset, prefix = generate(p.prompt), p.placement_id + "/"
        made = {}
        for body in asset.bodies:
            if body is asset.root:
                made[body.name] = spec.worldbody.add_body(
                    name=prefix + body.name, pos=list(p.position), quat=list(p.rotation.to_wxyz())
                )
            else:
                joint = asset.joint_to(body.name)
                parent = asset.body(joint.parent)
                made[body.name] = made[joint.parent].add_body(
                    name=prefix + body.name,
                    pos=[c - q for c, q in zip(body.origin, parent.origin, strict=True)],
                )
                made[body.name].add_joint(
                    name=prefix + joint.name,
                    axis=list(AXIS_VECTOR[joint.axis]),
                    type=mujoco.mjtJoint.mjJNT_HINGE
                    if joint.type is JointType.REVOLUTE
                    else mujoco.mjtJoint.mjJNT_SLIDE,
                )
            for geom in body.geoms:
                kind = (
                    mujoco.mjtGeom.mjGEOM_BOX
                    if isinstance(geom.shape, Box)
                    else mujoco.mjtGeom.mjGEOM_SPHERE
                    if isinstance(geom.shape, Sphere)
                    else mujoco.mjtGeom.mjGEOM_CYLINDER
                )
                made[body.name].add_geom(
                    name=prefix + geom.name, type=kind, size=[0.1, 0.1, 0.1], pos=list(geom.pos)
                )
        for act in asset.actuators:
            spec.add_actuator(
                name=prefix + act.name, target=prefix + act.joint, trntype=mujoco.mjtTrn.mjTRN_JOINT
            )
    spec.to_xml()


def usd_cpu_seconds(count: int, repeat: int) -> float:
    """Fastest CPU time of the USD export of ``count`` placements in this process."""
    scene = placements(count)
    render_scene("scn_warm", "warm", scene, "isaac_sim_usd")
    times = []
    for _ in range(repeat):
        start = time.process_time()
        render_scene("scn", "bench", scene, "isaac_sim_usd")
        times.append(time.process_time() - start)
    return min(times)


def _timed_in(tree: Path | None, count: int, repeat: int) -> float:
    """``usd_cpu_seconds`` in a fresh process importing the server from ``tree`` (None: this)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "server"), str(tree / "common")])
    done = subprocess.run(
        [sys.executable, __file__, "--time-usd", str(count), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(done.stdout.split()[-1])


def compare_trees(against: Path, rounds: int, repeat: int, max_slowdown: float) -> bool:
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_timed_in(None, 1000, repeat))
        theirs.append(_timed_in(against, 1000, repeat))
    ratio = min(ours) / min(theirs)
    print(
        f"isaac_sim_usd N=1000 CPU s, best of {rounds}x{repeat}: this tree {min(ours):.3f}, "
        f"{against} {min(theirs):.3f}, ratio {ratio:.2f} (target <= {max_slowdown:g})"
    )
    print(f"  every round, this tree: {' '.join(f'{t:.3f}' for t in ours)}")
    print(f"  every round, {against}: {' '.join(f'{t:.3f}' for t in theirs)}")
    return ratio <= max_slowdown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another source tree to time USD against")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-slowdown", type=float, default=1.10)
    parser.add_argument("--time-usd", type=int, help=argparse.SUPPRESS)  # one child's timing
    args = parser.parse_args()
    if args.time_usd is not None:
        print(f"{usd_cpu_seconds(args.time_usd, args.repeat):.6f}")
        return 0
    if args.against is not None:
        return 0 if compare_trees(args.against, args.rounds, args.repeat, args.max_slowdown) else 1
    Usd.Stage.CreateInMemory()  # load the USD plugins before timing anything
    scenes = {n: placements(n) for n in SIZES}
    results: dict[str, dict[int, tuple[float, float]]] = {"isaac_sim_usd": {}, "mujoco_mjcf": {}}
    print(f"{'format':<14} {'N':>5} {'export s':>10} {'baseline s':>11} {'ratio':>7}")
    for fmt, results_of in results.items():
        render_scene("scn_warm", "warm", scenes[10], fmt)  # warm caches and imports
        for n in SIZES:
            scene = scenes[n]
            export = best_of(args.repeat, partial(render_scene, "scn", "bench", scene, fmt))
            if fmt == "isaac_sim_usd":
                prims = usd_prim_count(scene)
                base = best_of(args.repeat, partial(usd_baseline, prims))
            else:
                bodies = sum(len(generate(p.prompt).bodies) for p in scene)
                base = best_of(args.repeat, partial(mjcf_baseline, bodies))
            results_of[n] = (export, base)
            print(f"{fmt:<14} {n:>5} {export:>10.4f} {base:>11.4f} {export / base:>7.1f}")
    failed = False
    for fmt, results_of in results.items():
        scaling = results_of[1000][0] / results_of[100][0]
        base_scaling = results_of[1000][1] / results_of[100][1]
        failed |= scaling > TARGET_SCALING
        print(
            f"{fmt}: t(1000)/t(100) = {scaling:.1f} (baseline {base_scaling:.1f}; "
            f"target <= {TARGET_SCALING:.0f})"
        )
    for n in (100, 1000):
        spec = best_of(1, partial(mjcf_via_mjspec, scenes[n]))
        text = results["mujoco_mjcf"][n][0]
        print(
            f"mjcf at N={n}: MjSpec + to_xml {spec:.3f} s vs generated text {text:.4f} s "
            f"({spec / text:.0f}x)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
