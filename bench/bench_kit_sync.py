"""The Kit panel's stage work on a 50,000-prim stage: the old full traversal against the index.

Before this change, every auto-sync poll, window show and add walked the whole composed stage on
Kit's main thread to find the panel's prims (`Usd.PrimRange.Stage` pruned at each panel prim),
and every add walked it again for PhysicsScenes. That walk is reproduced here as the baseline,
in the same run, on the same stage:

1. sync round, stage side: list the loaded scenes, then point one at its newer export
   (`replace_file`). Baseline: the old walk + replace; now: the index + replace.
2. add (and remove again) one more scene. Baseline: the old walk to list, the old walk for
   PhysicsScenes, + the same add; now: the add alone (index, top two levels for physics).
3. rescan after File → Open: baseline the old walk; now `find_panel_paths`, which reads only the
   local layers' specs.

Two stages of 50,000 prims, each with 3 scenes the panel added (real exports of the local
server): "referenced", where the prims come through 50 references to a 1,000-prim asset (how
Isaac Sim scenes are usually built), and "local", where all 50,000 are specs of the root layer
(a big flattened file opened as the stage), the worst case for the spec walk.

4. one auto-sync poll of a jobs-generation scene (over loopback HTTP, no stage): by `version`,
   one GET of the scene, as the panel does; baseline: by content, exporting the ZIP and hashing
   it, which is what a scene without `version`/`updated_at` costs (the client's fallback).

Run: .venv/bin/python bench/bench_kit_sync.py [--repeat 5] [--prims 50000]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pxr import Sdf, Usd, UsdGeom, UsdPhysics

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "exts" / "gizmo.scenes"))

from gizmo.scenes import usd_ops  # noqa: E402
from gizmo.scenes.data import LoadedScene, LoadMode  # noqa: E402
from gizmo.scenes.stage_port import UsdStagePort  # noqa: E402

from gizmo_client import FetchedScene, GizmoClient, Vector3  # noqa: E402
from gizmo_server.embedded import LocalServer  # noqa: E402

ASSET_PRIMS = 1_000


def old_walk(stage: Usd.Stage) -> list[LoadedScene]:
    """The baseline: what `usd_ops.list_added` did before the index (a composed walk)."""
    local = set(stage.GetLayerStack(includeSessionLayers=True))
    found = []
    walk = iter(Usd.PrimRange.Stage(stage, Usd.PrimAllPrimsPredicate))
    for prim in walk:
        attr = prim.GetAttribute(usd_ops.MODE_ATTR)
        if attr and any(spec.layer in local for spec in attr.GetPropertyStack()):
            found.append(usd_ops.loaded_at(stage, prim.GetPath()))
            walk.PruneChildren()
    return [e for e in found if e is not None]


def _fill(layer: Sdf.Layer, root: str, count: int) -> None:
    """`count` Xform specs under `root`, 100 per group, in one change block."""
    with Sdf.ChangeBlock():
        for group in range(count // 100):
            parent = Sdf.CreatePrimInLayer(layer, f"{root}/Group_{group}")
            parent.specifier, parent.typeName = Sdf.SpecifierDef, "Xform"
            for index in range(100):
                spec = Sdf.PrimSpec(parent, f"Item_{index}", Sdf.SpecifierDef, "Xform")
                spec.SetInfo("kind", "component")


def build_stage(kind: str, prims: int, folder: Path) -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdGeom.Xform.Define(stage, "/World")
    if kind == "local":
        _fill(stage.GetRootLayer(), "/World/Env", prims)
        return stage
    asset = Sdf.Layer.CreateNew(str(folder / "asset.usda"))
    _fill(asset, "/Asset", ASSET_PRIMS)
    asset.defaultPrim = "Asset"
    asset.Save()
    with Sdf.ChangeBlock():
        for index in range(prims // ASSET_PRIMS):
            spec = Sdf.CreatePrimInLayer(stage.GetRootLayer(), f"/World/Env/Copy_{index}")
            spec.specifier = Sdf.SpecifierDef
            spec.referenceList.Prepend(Sdf.Reference(asset.identifier))
    return stage


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def _exports(folder: Path) -> Iterator[tuple[FetchedScene, FetchedScene]]:
    """A real export of the local server, and the one after a placement was added."""
    with LocalServer(demo=True) as server, server.client(cache_dir=folder / "cache") as client:
        scene = next(s for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha")
        first = client.fetch_scene(scene.id, "isaac_sim_usd")
        asset = client.scenes.get(scene.id).assets[0].asset_id
        client.scenes.add_asset(scene.id, asset, Vector3(x=2.0, y=1.0, z=0.0))
        yield first, client.fetch_scene(scene.id, "isaac_sim_usd")


def measure(
    stage: Usd.Stage, exports: tuple[FetchedScene, FetchedScene], repeat: int
) -> list[tuple[str, float, float]]:
    first, second = exports
    port = UsdStagePort(stage)
    for n in range(3):
        port.add_scene(
            first.path,
            mode=LoadMode.REFERENCE,
            parent="/World/Gizmo",
            name=f"Scene {n}",
            scene_id=first.scene.id,
            fingerprint=first.fingerprint,
        )
    assert old_walk(stage) == port.list_added() == port.rescan()
    target = str(port.list_added()[0].prim_path)
    files = [second, first]

    def replace() -> None:
        export = files.pop(0)
        files.append(export)
        usd_ops.replace_file(stage, target, export.path, export.fingerprint)

    def sync_old() -> None:
        old_walk(stage)
        replace()

    def sync_new() -> None:
        port.list_added()
        replace()

    def add(old: bool) -> None:
        """Add one more scene (the export already opened, as the worker thread leaves it) and
        remove it again; the old way also walked the stage to list and to find PhysicsScenes."""
        if old:
            old_walk(stage)
            sum(1 for p in stage.Traverse() if p.IsA(UsdPhysics.Scene))
        loaded, _ = port.add_scene(
            export,
            mode=LoadMode.REFERENCE,
            parent="/World/Gizmo",
            name="Extra",
            scene_id=first.scene.id,
            fingerprint=first.fingerprint,
        )
        port.remove(str(loaded.prim_path))

    export = usd_ops.check_export(first.path)
    return [
        ("sync", _median(sync_old, repeat), _median(sync_new, repeat)),
        ("add", _median(lambda: add(True), repeat), _median(lambda: add(False), repeat)),
        (
            "rescan",
            _median(lambda: old_walk(stage), repeat),
            _median(lambda: usd_ops.find_panel_paths(stage), repeat),
        ),
    ]


def measure_poll(folder: Path, repeat: int) -> tuple[float, float]:
    """One poll of a generated scene: by content (export + SHA-256) against by version."""
    with (
        LocalServer(demo=True) as server,
        GizmoClient(
            api_key=server.gen2_api_key, base_url=server.base_url, cache_dir=folder / "jobs"
        ) as client,
    ):
        scene = max(client.scenes.iter_all(), key=lambda s: s.name)  # the warehouse aisle
        loaded = client.fetch_scene(scene.id, "usd").fingerprint

        def by_content() -> None:
            archive = client.scenes.export_zip(scene.id, "usd", folder / "poll.zip")
            hashlib.sha256(archive.read_bytes()).hexdigest()

        def by_version() -> None:
            assert client.scenes.get(scene.id).fingerprint() == loaded

        return _median(by_content, repeat), _median(by_version, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--prims", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _exports(Path(tmp)) as exports:
        print(f"{args.prims:,}-prim stages, 3 loaded scenes, median of {args.repeat}")
        print(f"{'stage':<11} {'measure':<8} {'old walk':>10} {'now':>10} {'now/old':>8}")
        for kind in ("referenced", "local"):
            stage = build_stage(kind, args.prims, Path(tmp))
            counted = sum(1 for _ in Usd.PrimRange.Stage(stage, Usd.PrimAllPrimsPredicate))
            assert counted >= args.prims, counted
            for name, old, new in measure(stage, exports, args.repeat):
                print(
                    f"{kind:<11} {name:<8} {old * 1e3:>8.1f}ms {new * 1e3:>8.2f}ms "
                    f"{new / old:>8.4f}"
                )
        content, version = measure_poll(Path(tmp), args.repeat)
        print(f"\njobs-generation poll, one scene, median of {args.repeat}")
        print(f"{'by content':>12} {'by version':>12} {'version/content':>16}")
        print(f"{content * 1e3:>10.2f}ms {version * 1e3:>10.2f}ms {version / content:>16.3f}")


if __name__ == "__main__":
    main()
