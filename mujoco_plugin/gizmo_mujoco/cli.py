"""`gizmo-mujoco`: view a Gizmo scene or a local MJCF in MuJoCo, live, or run it headless.

Exit status and error lines are the `gizmo` CLI's (`gizmo_client.cli`): 0 done, 1 other (a file
MuJoCo refuses, no display), 2 usage, 3 auth, 4 not found, 5 not ready, 6 network or service,
130 interrupted. Its global options (`--api-key`, `--base-url`, `--json`, `-v`) go before or
after the subcommand.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import mujoco

from gizmo_client import __version__
from gizmo_client.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_connection_options,
    client_from_args,
)
from gizmo_client.cli.arguments import Parser
from gizmo_client.cli.failures import CliError, describe, report
from gizmo_client.errors import GizmoError

from .display import display_problem, require_display
from .errors import KeyframeNotFoundError
from .headless import run_headless
from .loading import reset_to_keyframe
from .sources import FileSource, SceneSource, Source
from .viewer import run_managed, run_passive
from .watcher import ReloadEvent, SceneWatcher

__all__ = ["main"]

_FILE_SUFFIXES = (".xml", ".zip", ".mjcf", ".usd", ".usda", ".usdc", ".usdz", ".png", ".jpg")
_DEFAULT_STEPS = 1000


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gizmo-mujoco",
        description="Gizmo scenes in MuJoCo: live reload with the simulation state kept.",
    )
    parser.add_argument(
        "--version", action="version",
        version=f"gizmo-mujoco {__version__} (mujoco {mujoco.__version__})",
    )  # fmt: skip
    add_connection_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True)
    view = commands.add_parser(
        "view",
        help="open a scene in the viewer (or --headless) and reload it whenever it changes",
        description="TARGET is a scene id (scn_...), a local .xml or .zip; or use --demo.",
    )
    view.add_argument("target", nargs="?", help="scene id, scene.xml or scene.zip")
    view.add_argument("--demo", action="store_true", help="run the built-in demo on a local server")
    view.add_argument("--headless", action="store_true", help="no window: load, step, summarise")
    view.add_argument("--steps", type=int, help=f"steps to run headless ({_DEFAULT_STEPS})")
    view.add_argument("--render", type=Path, metavar="PNG", help="headless: write a thumbnail")
    view.add_argument("--size", default="320x240", help="thumbnail size WIDTHxHEIGHT (320x240)")
    view.add_argument(
        "--poll",
        type=float,
        default=1.0,
        help="seconds between checks of a service that does not hold them until a change (1.0)",
    )
    view.add_argument(
        "--backend",
        choices=("passive", "managed"),
        default="passive",
        help="passive: reloads appear by themselves (default); managed: press Ctrl+L to reload",
    )
    view.add_argument(
        "--out",
        type=Path,
        default=Path("gizmo-demo"),
        help="demo: a picture of each reload goes here (./gizmo-demo)",
    )
    view.add_argument("--reloads", type=int, default=3, help="headless demo: reloads (3)")
    view.add_argument("--keyframe", metavar="NAME", help="start from the scene's keyframe NAME")
    view.add_argument(
        "--edit",
        metavar="PROMPT",
        help="jobs generation: edit the scene by PROMPT once loaded, reload when the job succeeds",
    )
    add_connection_options(view)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json, base_url = "--json" in argv, os.environ.get("GIZMO_BASE_URL")
    try:
        args = _parser().parse_args(argv)
        as_json, base_url = args.json, args.base_url or base_url
        _configure_logging(args.verbose)
        return _view(args)
    except KeyframeNotFoundError as exc:  # the user named it: a usage error, like a bad option
        return report(describe(CliError(EXIT_USAGE, exc.message, exc.hint)), as_json=as_json)
    except (CliError, GizmoError, OSError) as exc:  # OSError: unwritable picture, timeout...
        return report(describe(exc, base_url), as_json=as_json)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _configure_logging(verbose: bool) -> None:
    """Our reload and contact lines always; the client's retry chatter only with -v (a failed
    poll is reported once by the watcher, not as four retry warnings per poll)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("gizmo_client").setLevel(logging.ERROR)


def _usage(message: str) -> CliError:
    return CliError(EXIT_USAGE, message, "See `gizmo-mujoco view --help`.")


def _view(args: argparse.Namespace) -> int:
    if args.poll <= 0:
        raise _usage("--poll must be a positive number of seconds")
    if (args.steps is not None and args.steps < 0) or args.reloads < 1:
        raise _usage("--steps must be 0 or more and --reloads 1 or more")
    if args.demo:
        if args.target:
            raise _usage("give either a TARGET or --demo, not both")
        return _demo(args)
    if not args.target:
        raise _usage("give a scene id, a .xml or .zip file, or --demo")
    if not args.headless and (args.render or args.steps is not None):
        raise _usage("--steps and --render go with --headless")
    size = _size(args.size)
    if args.edit is not None and not args.edit.strip():
        raise _usage("--edit wants a prompt, e.g. --edit 'add a crate by the door'")
    if not args.headless:
        require_display()  # before anything slow, and before MuJoCo could end the process
    with _open_source(args) as source:
        if args.edit is not None and not isinstance(source, SceneSource):
            raise _usage("--edit needs a scene id: a local file has no edit jobs")
        watcher = SceneWatcher(source, poll_interval=args.poll)
        watcher.load()
        if args.keyframe is not None:
            reset_to_keyframe(watcher.model, watcher.data, args.keyframe)
        job_id = None if args.edit is None else _start_edit(source, args.edit)
        if args.headless:
            if job_id is not None:
                _reload_after(watcher, job_id)
            summary = run_headless(
                watcher.model, watcher.data, label=source.label,
                steps=_DEFAULT_STEPS if args.steps is None else args.steps,
                render=args.render, size=size,
            )  # fmt: skip
            print("\n".join(summary.lines()))
            return EXIT_OK
        if args.backend == "managed":
            print(f"Viewing {source.label}; press Ctrl+L in the window to load the latest version.")
            if job_id is not None:
                print("The edit runs on the service: press Ctrl+L once it is done.")
            run_managed(watcher, on_event=_print_event)
        else:
            print(
                f"Viewing {source.label}; it reloads when it changes (checks every {args.poll:g} s)"
            )
            print("In the window: drag to orbit, right-drag to pan, scroll to zoom, Esc to close.")
            if job_id is not None:
                watcher.follow_in_background(job_id)
            run_passive(watcher, on_event=_print_event)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo_headless, run_demo_viewer

    if args.headless or display_problem() is not None:
        if not args.headless:
            print("No display found: running the headless demo (pictures instead of a window).")
        return run_demo_headless(args.out, reloads=args.reloads, poll=min(args.poll, 0.5))
    return run_demo_viewer(out_dir=args.out, poll=args.poll)


@contextmanager
def _open_source(args: argparse.Namespace) -> Iterator[Source]:
    """A local file when TARGET names one, else a scene of the API (with its client)."""
    path = Path(args.target)
    if path.exists() or path.suffix.lower() in _FILE_SUFFIXES:
        yield FileSource(path)
        return
    with client_from_args(args) as client:
        yield SceneSource(client, args.target)


def _start_edit(source: Source, prompt: str) -> str:
    """Submit the edit job; `view` follows it (the reload starts when it succeeds)."""
    assert isinstance(source, SceneSource)  # checked before loading
    job = source.client.scenes.edit(source.scene_id, prompt)
    print(f"Editing {source.label} ({job.id}): {prompt}", flush=True)
    return job.id


def _reload_after(watcher: SceneWatcher, job_id: str) -> None:
    """Headless: wait for the job (a failed one raises, so the exit code says so), reload."""
    assert isinstance(watcher.source, SceneSource)
    watcher.source.wait_for_job(job_id)
    event = watcher.reload()
    if event.error is not None:
        raise event.error
    _print_event(event)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise _usage(f"--size wants WIDTHxHEIGHT like 640x480, got {text!r}") from None
    if not (0 < width <= 8192 and 0 < height <= 8192):
        raise _usage(f"--size must be between 1x1 and 8192x8192, got {text!r}")
    return width, height


def _print_event(event: ReloadEvent) -> None:
    print(event.message(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
