"""`gizmo loadtest`: found by the `gizmo` CLI through the `gizmo.cli_plugins` entry point.

Exit codes: 0 every case passed; 1 at least one finding (or nothing to check); 2 bad options or
input files; the `gizmo` CLI's own codes for API failures (no key, not found, network...).
"""

from __future__ import annotations

# The checks (and with them pxr and mujoco) are imported only when `gizmo loadtest` runs, so
# every other `gizmo` command starts fast and works where the simulators are not installed.
import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gizmo_client import GizmoClient
from gizmo_client.config import resolve_settings
from gizmo_client.models import Scene

from .fetch import LoadtestInputError, Target, local_target, read_scene_json, select_scenes
from .findings import FORMATS, Report, SceneResult
from .options import (
    CheckOptions,
    add_options,
    artifacts_dir,
    check_options,
    ray_address,
    target_filters,
    worker_count,
)
from .report_text import outcome, summary

__all__ = ["register"]

EXIT_PASSED, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

_DESCRIPTION = """\
Prove that scenes load in MuJoCo and as USD stages for Isaac Sim, headless, with every placement
where the API says it is. By default the embedded local server with the demo scenes is tested;
give --api-key/--base-url (or --hosted to use $GIZMO_API_KEY or `gizmo login`) for an account.
Offline: --file EXPORT (USD, MJCF or a ZIP of one; repeat for both formats) --scene-json SCENE.json.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `loadtest` to the `gizmo` command line."""
    parser = subparsers.add_parser(
        "loadtest",
        help="check that scenes load in MuJoCo and as USD, poses checked",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_argument_group("target (default: the local demo server)")
    # SUPPRESS keeps the global `gizmo --api-key/--base-url` values when these are not given here.
    target.add_argument("--api-key", default=argparse.SUPPRESS, help="API key of the account")
    target.add_argument("--base-url", default=argparse.SUPPRESS, help="API base URL")
    target.add_argument(
        "--hosted",
        action="store_true",
        help="test the account configured by $GIZMO_API_KEY/$GIZMO_BASE_URL or `gizmo login`",
    )
    offline = parser.add_argument_group("offline check of downloaded exports")
    offline.add_argument(
        "--file",
        action="append",
        type=Path,
        metavar="EXPORT",
        help="a downloaded export: .usd/.usda/.usdc/.usdz, .xml, or a .zip of one (repeatable)",
    )
    offline.add_argument(
        "--scene-json",
        type=Path,
        metavar="SCENE.json",
        help="the scene object the export must match (what GET /scenes/{id} returns)",
    )
    add_options(parser.add_argument)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        options = check_options(args)
        report = _offline(args, options) if args.file or args.scene_json else _online(args, options)
    except LoadtestInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if report is None:
        return EXIT_FINDINGS
    directory = artifacts_dir(args)
    from .runner import write_reports

    json_path, html_path = write_reports(report, directory)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(summary(report))
    print(f"Reports: {json_path} and {html_path}", file=sys.stderr)
    return EXIT_PASSED if report.passed else EXIT_FINDINGS


def _offline(args: argparse.Namespace, options: CheckOptions) -> Report:
    scene_ids, match = target_filters(args)
    if not args.file:
        raise LoadtestInputError(
            "--scene-json needs the export to check: give --file EXPORT (once per format)"
        )
    if scene_ids or match or _hosted(args) or ray_address(args):
        raise LoadtestInputError(
            "--file checks downloaded exports; it cannot be combined with "
            "--scene, --match, --hosted, --api-key, --base-url or --ray"
        )
    # Without the scene object there are no API placements: the files are checked on their own
    # terms (they load, resolve, step stably, and agree with each other object by object).
    name = args.file[0].stem
    scene = read_scene_json(args.scene_json) if args.scene_json else Scene(id=name, name=name)
    from .runner import check_files, new_report

    report = new_report("offline: " + ", ".join(str(f) for f in args.file), options)
    with tempfile.TemporaryDirectory(prefix="gizmo-loadtest-") as workdir:
        result = check_files(args.file, scene, options, artifacts_dir(args), Path(workdir))
    report.scenes.append(result)
    report.settings["formats"] = [f for f in result.results if f in FORMATS]  # the files decide
    report.elapsed_seconds = result.seconds
    _progress(args, 1, 1, result)
    return report


def _hosted(args: argparse.Namespace) -> bool:
    """An account was named: by option, or by the environment (the embedded demo server is
    only the default when nothing points anywhere)."""
    given = (getattr(args, "api_key", None), getattr(args, "base_url", None))
    from_env = (os.environ.get("GIZMO_API_KEY"), os.environ.get("GIZMO_BASE_URL"))
    return bool(args.hosted or any(given) or any(from_env))


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    if not _hosted(args):
        with local_target() as target:
            yield target
        return
    settings = resolve_settings(getattr(args, "api_key", None), getattr(args, "base_url", None))
    yield Target(settings.base_url, settings.api_key, settings.cache_dir)


def _online(args: argparse.Namespace, options: CheckOptions) -> Report | None:
    from .runner import RunInterrupted, run

    scene_ids, match = target_filters(args)
    with _target(args) as target:
        with target.client() as client:
            _print_target(args, target, client)
            scenes = select_scenes(client, scene_ids, match)
        if not scenes:
            what = f"no scene name contains {match!r}" if match else "the account has no scenes"
            print(f"error: nothing to check: {what}", file=sys.stderr)
            return None
        ids = [s.id for s in scenes]
        finished: list[str] = []

        def progress(result: SceneResult) -> None:
            finished.append(result.scene_id)
            _progress(args, len(finished), len(ids), result)

        try:
            return run(
                target,
                ids,
                options,
                worker_count(args),
                artifacts_dir(args),
                on_result=progress,
                ray=ray_address(args),
            )
        except RunInterrupted as stopped:
            from .runner import write_reports

            paths = write_reports(stopped.report, artifacts_dir(args))
            print(f"Partial reports: {paths[0]} and {paths[1]}", file=sys.stderr)
            raise  # the gizmo CLI says "interrupted" and exits 130


def _print_target(args: argparse.Namespace, target: Target, client: GizmoClient) -> None:
    """Say first what is being tested, so a run against the wrong account is seen at once."""
    if args.json:
        return
    if target.label is not None:
        print(f"Target: {target.label}", file=sys.stderr)
        return
    generation = client.api_generation.value
    print(f"Target: {target.base_url} ({generation} API generation)", file=sys.stderr)


def _progress(args: argparse.Namespace, done: int, total: int, result: SceneResult) -> None:
    """One line per finished scene (in the order they finish), with the node on a cluster."""
    if args.json:
        return
    cases = ", ".join(f"{r.format} {outcome(r)}" for r in result.results.values())
    where = f" on node {result.node}" if ray_address(args) else ""
    print(
        f"[{done}/{total}] {result.scene_id} {result.scene_name}: {cases} "
        f"({result.seconds:.2f} s{where})",
        file=sys.stderr,
    )
