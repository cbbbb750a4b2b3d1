"""`gizmo jobs …`: show, watch and cancel generation jobs (jobs generation)."""

from __future__ import annotations

import argparse

from ..client import GizmoClient
from ..generation import ApiGeneration
from ..models_jobs import Job
from .arguments import positive_seconds
from .commands import add_command
from .connection import require_generation
from .output import fmt_time, note, print_json
from .waiting import follow_job

__all__ = ["add_wait_options", "register", "show_job"]

_ALPHA_INSTEAD = "The alpha generation has no jobs: wait for an asset with `gizmo assets wait ID`."


def show_job(job: Job) -> None:
    print(f"{job.id}  {job.status.value}  {job.mode or ''}".rstrip())
    for label, value in (
        ("scene", job.result_scene_id),
        ("asset", job.result_asset_id),
        ("created", fmt_time(job.created_at)),
        ("started", fmt_time(job.started_at)),
        ("finished", fmt_time(job.finished_at)),
    ):
        if value:
            print(f"  {label}: {value}")
    if job.error:
        reason = job.error.get("message") if isinstance(job.error, dict) else job.error
        print(f"  error: {reason}")


def _show(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "jobs show", _ALPHA_INSTEAD)
    job = client.jobs.get(args.job_id, include_result=True)
    print_json(job) if args.json else show_job(job)
    return 0


def _watch(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "jobs watch", _ALPHA_INSTEAD)
    job = follow_job(client, args.job_id, args.timeout, show=not args.json)
    print_json(job) if args.json else show_job(job)
    return 0


def _cancel(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "jobs cancel", _ALPHA_INSTEAD)
    job = client.jobs.cancel(args.job_id)
    if args.json:
        print_json(job)
    else:
        show_job(job)
        if not job.status.terminal:
            note(f"cancelling; follow it with `gizmo jobs watch {job.id}`")
    return 0


def add_wait_options(parser: argparse.ArgumentParser, *, flag: bool = True) -> None:
    """`--wait` (unless the command always waits) and `--timeout SECONDS`."""
    if flag:
        parser.add_argument(
            "--wait", action="store_true", help="follow the job's progress until it ends"
        )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=1800.0,
        help="seconds to follow before giving up; the job goes on (default: 1800)",
    )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(commands, "jobs", "show, watch and cancel generation jobs (jobs API)")
    jc = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(jc, "show", "a job: status, the scene or asset it makes, times", _show)
    p.add_argument("job_id")
    p = add_command(
        jc, "watch", "follow a job's progress live until it ends (stages, assets)", _watch
    )
    p.add_argument("job_id")
    add_wait_options(p, flag=False)
    p = add_command(jc, "cancel", "ask the service to stop a job", _cancel)
    p.add_argument("job_id")
