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

``--looks`` times instead what a jobs-generation export costs now that it looks like the real
service's (meshes, PBR materials, textures at ``GIZMO_TEXTURE_SIZE``, default 1024): the whole ZIP
(``gen2.archives.scene_zip``) at 1, 10, 20 and 100 objects, cold (no texture made yet) and warm
(textures from the per-process cache), against the same ZIP with textures off in the same run,
and its size; then MuJoCo's compile of the textured ZIP as delivered (``MjSpec.from_zip``)
against plain ``MjModel.from_xml_path`` of the same files unpacked.

Run: .venv/bin/python bench/bench_export.py [--repeat 5] [--against DIR [--rounds 4]] [--looks]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
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


LOOK_SIZES = (1, 10, 20, 100)


def scene_record(scene: list[PlacementInput]) -> dict[str, object]:
    """The jobs generation's scene record holding the same objects."""
    return {
        "room": None,
        "objects": [
            {
                "name": p.placement_id,
                "label": p.asset_name,
                "asset_id": p.asset_id,
                "prompt": p.prompt,
                "position": dict(zip("xyz", p.position, strict=True)),
                "rotation": {
                    "x": p.rotation.x,
                    "y": p.rotation.y,
                    "z": p.rotation.z,
                    "w": p.rotation.w,
                },
            }
            for p in scene
        ],
    }


def looks_report(repeat: int) -> None:
    """ZIP export time and size with textures (cold, warm) against no textures; MuJoCo compile."""
    from gizmo_server.gen2.archives import scene_zip
    from gizmo_server.writers.materials import TEXTURE_SIZE_ENV, configured_texture_size
    from gizmo_server.writers.textures import texture_pngs

    size = configured_texture_size()
    print(f"textures {size} px; ZIP = gen2.archives.scene_zip; ratios against textures off")
    print(
        f"{'fmt':<5} {'N':>4} {'cold s':>8} {'warm s':>8} {'plain s':>8} {'warm/plain':>10} "
        f"{'cold/plain':>10} {'ZIP MB':>7} {'plain MB':>8}"
    )
    zips: dict[int, bytes] = {}
    for fmt in ("mjcf", "usd"):
        for n in LOOK_SIZES:
            record = scene_record(placements(n))
            make = partial(scene_zip, "scn_bench", "bench", record, fmt, None)
            texture_pngs.cache_clear()
            start = time.perf_counter()
            data = make()
            cold = time.perf_counter() - start
            warm = best_of(repeat, make)
            previous = os.environ.get(TEXTURE_SIZE_ENV)
            os.environ[TEXTURE_SIZE_ENV] = "0"
            try:
                plain_data = make()
                plain = best_of(repeat, make)
            finally:
                if previous is None:
                    del os.environ[TEXTURE_SIZE_ENV]
                else:
                    os.environ[TEXTURE_SIZE_ENV] = previous
            if fmt == "mjcf":
                zips[n] = data
            print(
                f"{fmt:<5} {n:>4} {cold:>8.3f} {warm:>8.3f} {plain:>8.3f} {warm / plain:>10.1f} "
                f"{cold / plain:>10.1f} {len(data) / 1e6:>7.1f} {len(plain_data) / 1e6:>8.2f}"
            )
    print(f"{'N':>4} {'from_zip s':>10} {'from_xml_path s':>15} {'ratio':>6}")
    for n, data in zips.items():
        with tempfile.TemporaryDirectory(prefix="bench-looks-") as folder:
            zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
            path = str(Path(folder) / "scene.xml")
            from_path = best_of(repeat, partial(mujoco.MjModel.from_xml_path, path))
        from_zip = best_of(
            repeat, lambda data=data: mujoco.MjSpec.from_zip(io.BytesIO(data)).compile()
        )
        print(f"{n:>4} {from_zip:>10.3f} {from_path:>15.3f} {from_zip / from_path:>6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another source tree to time USD against")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-slowdown", type=float, default=1.10)
    parser.add_argument("--time-usd", type=int, help=argparse.SUPPRESS)  # one child's timing
    parser.add_argument("--looks", action="store_true", help="time textured ZIP exports instead")
    args = parser.parse_args()
    if args.looks:
        Usd.Stage.CreateInMemory()
        looks_report(args.repeat)
        return 0
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
