"""Settings of a load-test run, and the one option table that both `gizmo loadtest` and the
pytest plugin expose (the plugin prefixes every name with ``gizmo-loadtest-``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .findings import FORMATS

__all__ = [
    "CheckOptions",
    "Tolerances",
    "add_options",
    "artifacts_dir",
    "check_options",
    "ray_address",
    "target_filters",
    "worker_count",
]

DEFAULT_STEPS = 500


@dataclass(frozen=True)
class Tolerances:
    """How far an export may stray from the API. Joint frames use float32 in USD, hence looser."""

    position: float = 1e-6
    """metres, placement root frames"""
    rotation: float = 1e-6
    """radians, placement root frames"""
    joint_position: float = 1e-4
    """metres, the two sides of a USD joint frame"""
    joint_rotation: float = 1e-3
    """radians, the two sides of a USD joint frame"""


@dataclass(frozen=True)
class CheckOptions:
    """What to check per scene."""

    formats: tuple[str, ...] = FORMATS
    steps: int = DEFAULT_STEPS
    tolerances: Tolerances = Tolerances()
    thumbnails: bool = True

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "formats": list(self.formats)}


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


_FORMAT_CHOICES = {"both": FORMATS, "mjcf": FORMATS[:1], "usd": FORMATS[1:]}
_FORMAT_CHOICES.update({name: (name,) for name in FORMATS})

_DEFAULT_TOL = Tolerances()

# name -> add_argument keyword arguments; `dest` is the name with dashes as underscores.
_OPTIONS: dict[str, dict[str, Any]] = {
    "scene": {"action": "append", "metavar": "ID", "help": "check this scene (repeatable)"},
    "match": {"metavar": "TEXT", "help": "check scenes whose name contains TEXT (any case)"},
    "format": {
        "choices": sorted(_FORMAT_CHOICES),
        "default": "both",
        "help": "export format(s) to check (default: both)",
    },
    "workers": {
        "type": _int_at_least(1),
        "default": 1,
        "metavar": "N",
        "help": "check scenes in N local processes (default: 1, this process); with "
        "--ray local, the local Ray instance's CPUs",
    },
    "ray": {
        "metavar": "ADDRESS",
        "help": "check scenes as Ray tasks on the cluster at ADDRESS (auto or HOST:PORT), or on a "
        "local one started for the run (local); needs `pip install 'gizmo-sim[distributed]'`",
    },
    "steps": {
        "type": _int_at_least(0),
        "default": DEFAULT_STEPS,
        "metavar": "N",
        "help": f"MuJoCo steps that must stay finite and stable (default: {DEFAULT_STEPS})",
    },
    "position-tol": {
        "type": _tolerance,
        "default": _DEFAULT_TOL.position,
        "metavar": "M",
        "help": f"placement position tolerance in metres (default: {_DEFAULT_TOL.position:g})",
    },
    "rotation-tol": {
        "type": _tolerance,
        "default": _DEFAULT_TOL.rotation,
        "metavar": "RAD",
        "help": f"placement rotation tolerance in radians (default: {_DEFAULT_TOL.rotation:g})",
    },
    "joint-position-tol": {
        "type": _tolerance,
        "default": _DEFAULT_TOL.joint_position,
        "metavar": "M",
        "help": f"USD joint frame agreement, metres (default: {_DEFAULT_TOL.joint_position:g})",
    },
    "joint-rotation-tol": {
        "type": _tolerance,
        "default": _DEFAULT_TOL.joint_rotation,
        "metavar": "RAD",
        "help": f"USD joint frame agreement, radians (default: {_DEFAULT_TOL.joint_rotation:g})",
    },
    "artifacts": {
        "type": Path,
        "metavar": "DIR",
        "help": "where report.json, report.html and thumbnails go "
        "(default: $GIZMO_ARTIFACTS_DIR/loadtest, else ./artifacts/loadtest)",
    },
    "no-thumbnails": {
        "action": "store_true",
        "help": "skip the HTML report's thumbnails (MJCF and USD, both drawn by MuJoCo's "
        "renderer; about 0.1 s each on software GL)",
    },
}


def add_options(add: Callable[..., object], prefix: str = "") -> None:
    """Declare every option through `add` (argparse `add_argument` or pytest `addoption`)."""
    for name, kwargs in _OPTIONS.items():
        full = prefix + name
        add(f"--{full}", dest=full.replace("-", "_"), **kwargs)


def _get(values: argparse.Namespace, prefix: str, name: str) -> Any:
    return getattr(values, (prefix + name).replace("-", "_"))


def check_options(values: argparse.Namespace, prefix: str = "") -> CheckOptions:
    """The `CheckOptions` that the parsed options describe."""
    return CheckOptions(
        formats=_FORMAT_CHOICES[_get(values, prefix, "format")],
        steps=_get(values, prefix, "steps"),
        tolerances=Tolerances(
            position=_get(values, prefix, "position-tol"),
            rotation=_get(values, prefix, "rotation-tol"),
            joint_position=_get(values, prefix, "joint-position-tol"),
            joint_rotation=_get(values, prefix, "joint-rotation-tol"),
        ),
        thumbnails=not _get(values, prefix, "no-thumbnails"),
    )


def target_filters(values: argparse.Namespace, prefix: str = "") -> tuple[list[str], str | None]:
    """The `--scene` ids and the `--match` text."""
    return list(_get(values, prefix, "scene") or []), _get(values, prefix, "match")


def worker_count(values: argparse.Namespace, prefix: str = "") -> int:
    value: int = _get(values, prefix, "workers")
    return value


def ray_address(values: argparse.Namespace, prefix: str = "") -> str | None:
    """The `--ray` address (`auto`, `local`, HOST:PORT), None to run on this machine only."""
    value: str | None = _get(values, prefix, "ray")
    return value


def artifacts_dir(values: argparse.Namespace, prefix: str = "") -> Path:
    """Where reports go: the option, else `$GIZMO_ARTIFACTS_DIR/loadtest`, else ./artifacts."""
    explicit: Path | None = _get(values, prefix, "artifacts")
    if explicit is not None:
        return explicit
    return Path(os.environ.get("GIZMO_ARTIFACTS_DIR") or "artifacts") / "loadtest"
