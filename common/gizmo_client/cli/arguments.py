"""Argument types and option groups shared by the subcommands, checked before any request.

Global options (`--api-key`, `--base-url`, `--api-generation`, `--json`, `-v`) are accepted
before or after the subcommand: every subparser repeats them with a suppressed default, so a
value given at either place wins and an absent one leaves the top-level default alone.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from ..models import Quaternion
from .failures import EXIT_USAGE, CliError
from .output import note

__all__ = [
    "ASSET_FORMATS",
    "SCENE_FORMATS",
    "Parser",
    "add_global_options",
    "add_pagination",
    "export_format",
    "finite_float",
    "int_in",
    "positive_seconds",
    "prompt_text",
    "rotation_from",
]

#: Format names the CLI accepts, each with the name the client is given for it (the client maps
#: `mjcf`/`usd`/`sdf` to the service's generation; `sdf` exists on the jobs generation only,
#: URDF on the alpha one). The alpha generation's own names are accepted too.
SCENE_FORMATS = {"mjcf": "mjcf", "usd": "usd", "sdf": "sdf"}
ASSET_FORMATS = {**SCENE_FORMATS, "urdf": "isaac_sim_urdf"}
_ALPHA_NAMES = {"mujoco_mjcf": "mjcf", "isaac_sim_usd": "usd", "isaac_sim_urdf": "urdf"}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach `main` (one line, JSON with --json, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(EXIT_USAGE, message, f"See `{self.prog} --help`.")


def add_global_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The options every command takes; on subparsers their default is suppressed. An option
    the parser already defines (a plugin's own --api-key) is left to it."""
    default = {} if top else {"default": argparse.SUPPRESS}
    flags = {"default": False} if top else {"default": argparse.SUPPRESS}
    options: list[tuple[tuple[str, ...], dict[str, object]]] = [
        (
            ("--api-key",),
            {"metavar": "KEY", "help": "API key (default: $GIZMO_API_KEY, then `gizmo login`)"},
        ),
        (
            ("--base-url",),
            {
                "metavar": "URL",
                "help": "API base URL, ending in /v1 "
                "(default: $GIZMO_BASE_URL, then `gizmo login`)",
            },
        ),
        (
            ("--api-generation",),
            {
                "choices": ("auto", "alpha", "jobs"),
                "help": "the API generation the service speaks "
                "(default: $GIZMO_API_GENERATION, else detected once)",
            },
        ),
        (("--json",), {"action": "store_true", "help": "machine-readable output", **flags}),
        (
            ("-v", "--verbose"),
            {"action": "store_true", "help": "log the client's requests to stderr", **flags},
        ),
    ]
    for names, kwargs in options:
        try:
            parser.add_argument(*names, **{**default, **kwargs})  # type: ignore[arg-type]
        except argparse.ArgumentError:
            continue  # the parser defines it itself


def export_format(formats: dict[str, str]) -> Callable[[str], str]:
    """An argument type taking the names in `formats` (or the alpha names for them)."""

    def parse(text: str) -> str:
        name = text.strip().lower()
        short = _ALPHA_NAMES.get(name, name)
        if short not in formats:
            raise argparse.ArgumentTypeError(
                f"unsupported format {text!r} here (choose from {' | '.join(formats)})"
            )
        return formats[short]

    return parse


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
    return value


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    return parse


def rotation_from(values: list[float]) -> Quaternion:
    """`--rotation X Y Z W` (scalar-last): a zero norm is refused; any other norm is normalised,
    with a note on stderr when it was not already unit."""
    norm = math.sqrt(sum(v * v for v in values))
    if norm == 0.0:
        raise CliError(
            EXIT_USAGE,
            "--rotation 0 0 0 0 is not a rotation (zero norm)",
            "Give a unit quaternion X Y Z W, scalar last; the identity is 0 0 0 1.",
        )
    x, y, z, w = values
    rotation = Quaternion(x=x, y=y, z=z, w=w)  # normalises
    if abs(norm - 1.0) > 1e-9:
        unit = " ".join(f"{c:.6g}" for c in rotation.to_xyzw())
        note(f"note: --rotation had norm {norm:.6g}; normalised to {unit}")
    return rotation


def add_pagination(parser: argparse.ArgumentParser, noun: str, *, walk: bool = True) -> None:
    """`--limit`/`--offset` (checked here, before any request) and, with `walk`, `--all`."""
    parser.add_argument(
        "--limit",
        metavar="N",
        type=int_in(1, 100),
        default=20,
        help=f"{noun} per page, 1-100 (default: 20)",
    )
    parser.add_argument(
        "--offset", metavar="N", type=int_in(0), default=0, help=f"{noun} to skip (default: 0)"
    )
    if walk:
        parser.add_argument("--all", action="store_true", help="walk every page")


def prompt_text(text: str) -> str:
    """A generation prompt: refused here when empty (the service would answer 422)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the prompt is empty: say what to generate")
    return text
