"""`gizmo scenes generate|edit|status|rename|delete`: scenes made from prompts by generation
jobs (jobs API generation), followed live with --wait."""

from __future__ import annotations

import argparse

from ..client import GizmoClient
from ..generation import ApiGeneration
from ..models_jobs import Job
from .arguments import prompt_text
from .commands import add_command
from .connection import require_generation
from .failures import EXIT_USAGE, CliError
from .jobs import add_wait_options
from .output import note, print_json, table
from .waiting import follow_job

__all__ = ["register"]

_ALPHA_INSTEAD = (
    "On the alpha generation compose scenes with `gizmo scenes create` and `add-asset`."
)


def _started(args: argparse.Namespace, client: GizmoClient, job: Job) -> int:
    """Report a started job; with --wait, follow it to its end first."""
    if args.wait:
        job = follow_job(client, job.id, args.timeout, show=not args.json)
    scene_id = job.result_scene_id
    if args.json:
        print_json(job)
        return 0
    print(scene_id or job.id)
    if not args.wait:
        note(f"job {job.id} started; follow it with `gizmo jobs watch {job.id}`")
    elif scene_id:
        note(f"scene {scene_id} is ready; fetch it with `gizmo scenes fetch {scene_id}`")
    return 0


def _generate(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "scenes generate", _ALPHA_INSTEAD)
    job = client.scenes.generate(
        args.prompt, asset_pipeline=args.pipeline, model=args.model, persist=not args.no_persist
    )
    return _started(args, client, job)


def _edit(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "scenes edit", _ALPHA_INSTEAD)
    return _started(args, client, client.scenes.edit(args.scene_id, args.prompt, model=args.model))


def _status(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "scenes status", "Use `gizmo scenes show`.")
    status = client.scenes.status(args.scene_id)
    if args.json:
        print_json(status)
        return 0
    print(f"{args.scene_id}  {status.pipeline_status or 'unknown'}")
    stages = [s if isinstance(s, dict) else {"name": s} for s in status.pipeline_stages]
    if stages:
        table(
            ["STAGE", "STATUS"],
            [[s.get("name") or s.get("stage") or "?", s.get("status", "")] for s in stages],
        )
    if status.error:
        reason = status.error.get("message") if isinstance(status.error, dict) else status.error
        print(f"  error: {reason}")
    return 0


def _rename(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "scenes rename", _ALPHA_INSTEAD)
    if args.name is None and args.description is None:
        raise CliError(EXIT_USAGE, "give --name NAME, --description TEXT or both")
    scene = client.scenes.update(args.scene_id, name=args.name, description=args.description)
    print_json(scene) if args.json else print(f"{scene.id}  {scene.name}")
    return 0


def _delete(args: argparse.Namespace, client: GizmoClient) -> int:
    require_generation(client, ApiGeneration.JOBS, "scenes delete", "Alpha scenes stay.")
    client.scenes.delete(args.scene_id)
    print_json({"deleted": args.scene_id}) if args.json else note(f"deleted {args.scene_id}")
    return 0


def register(sc: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sc, "generate", "generate a scene from a text prompt (jobs API)", _generate)
    p.add_argument(
        "prompt",
        type=prompt_text,
        help='what the scene holds, e.g. "a workcell with an arm and a table"',
    )
    p.add_argument(
        "--pipeline",
        choices=("auto", "gizmo", "cad"),
        default="auto",
        help="asset pipeline (default: auto)",
    )
    p.add_argument("--model", help="generation model (default: the service's)")
    p.add_argument("--no-persist", action="store_true", help="do not keep the scene")
    add_wait_options(p)

    p = add_command(sc, "edit", "change a generated scene with a prompt (jobs API)", _edit)
    p.add_argument("scene_id")
    p.add_argument(
        "prompt", type=prompt_text, help='the change, e.g. "add a conveyor along the north wall"'
    )
    p.add_argument("--model", help="generation model (default: the service's)")
    add_wait_options(p)

    p = add_command(sc, "status", "a generated scene's pipeline stages (jobs API)", _status)
    p.add_argument("scene_id")

    p = add_command(sc, "rename", "change a scene's name or description (jobs API)", _rename)
    p.add_argument("scene_id")
    p.add_argument("--name")
    p.add_argument("--description")

    p = add_command(sc, "delete", "delete a scene (jobs API)", _delete)
    p.add_argument("scene_id")
