"""`gizmo-mujoco`: view a Gizmo scene or a local MJCF in MuJoCo, live, or run it headless.

Exit status: 0 done, 1 the scene could not be loaded (or an API error), 2 bad usage,
3 no viewer possible here (no display).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoError

from .display import display_problem, require_display
from .errors import ViewerUnavailableError
from .headless import run_headless
from .sources import FileSource, SceneSource, Source
from .viewer import run_managed, run_passive
from .watcher import ReloadEvent, SceneWatcher

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_DISPLAY = 0, 1, 2, 3
_FILE_SUFFIXES = (".xml", ".zip", ".mjcf")
_DEFAULT_STEPS = 1000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gizmo-mujoco",
        description="Gizmo scenes in MuJoCo: live reload with the simulation state kept.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
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
    view.add_argument("--poll", type=float, default=1.0, help="seconds between checks (1.0)")
    view.add_argument(
        "--backend",
        choices=("passive", "managed"),
        default="passive",
        help="passive: reloads appear by themselves (default); managed: press Ctrl+L to reload",
    )
    view.add_argument(
        "--out", type=Path, default=Path("gizmo-demo"), help="demo pictures (./gizmo-demo)"
    )
    view.add_argument("--reloads", type=int, default=3, help="headless demo: reloads (3)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return _view(parser, args)
    except ViewerUnavailableError as exc:
        print(f"gizmo-mujoco: {exc}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    except (GizmoError, OSError) as exc:  # OSError: unwritable picture, demo timeout...
        print(f"gizmo-mujoco: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _view(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.poll <= 0:
        parser.error("--poll must be a positive number of seconds")
    if (args.steps is not None and args.steps < 0) or args.reloads < 1:
        parser.error("--steps must be 0 or more and --reloads 1 or more")
    if args.demo:
        if args.target:
            parser.error("give either a TARGET or --demo, not both")
        return _demo(args)
    if not args.target:
        parser.error("give a scene id, a .xml or .zip file, or --demo")
    if not args.headless and (args.render or args.steps is not None):
        parser.error("--steps and --render go with --headless")
    size = _size(parser, args.size)
    if not args.headless:
        require_display()  # before anything slow, and before MuJoCo could end the process
    with _open_source(args.target) as source:
        watcher = SceneWatcher(source, poll_interval=args.poll)
        watcher.load()
        if args.headless:
            summary = run_headless(
                watcher.model, watcher.data, label=source.label,
                steps=_DEFAULT_STEPS if args.steps is None else args.steps,
                render=args.render, size=size,
            )  # fmt: skip
            print("\n".join(summary.lines()))
            return EXIT_OK
        if args.backend == "managed":
            print(f"Viewing {source.label}; press Ctrl+L in the window to load the latest version.")
            run_managed(watcher, on_event=_print_event)
        else:
            print(
                f"Viewing {source.label}; it reloads when it changes (checks every {args.poll:g} s)"
            )
            print("In the window: Tab and Shift+Tab show the side panels (joints, controls).")
            run_passive(watcher, on_event=_print_event)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo_headless, run_demo_viewer

    if args.headless or display_problem() is not None:
        if not args.headless:
            print("No display found: running the headless demo (pictures instead of a window).")
        return run_demo_headless(args.out, reloads=args.reloads, poll=min(args.poll, 0.5))
    return run_demo_viewer(poll=args.poll)


@contextmanager
def _open_source(target: str) -> Iterator[Source]:
    """A local file when TARGET names one, else a scene of the API (with its client)."""
    path = Path(target)
    if path.exists() or path.suffix.lower() in _FILE_SUFFIXES:
        yield FileSource(path)
        return
    with GizmoClient() as client:
        yield SceneSource(client, target)


def _size(parser: argparse.ArgumentParser, text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        parser.error(f"--size wants WIDTHxHEIGHT like 640x480, got {text!r}")
    if not (0 < width <= 8192 and 0 < height <= 8192):
        parser.error(f"--size must be between 1x1 and 8192x8192, got {text!r}")
    return width, height


def _print_event(event: ReloadEvent) -> None:
    print(event.message(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
