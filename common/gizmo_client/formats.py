"""Export format names of both API generations, mapped both ways here and nowhere else.

The alpha generation names formats by target (`mujoco_mjcf`, `isaac_sim_usd`, `isaac_sim_urdf`),
the jobs generation by file type (`mjcf`, `usd`, `sdf`). Every public call accepts either name
and this module turns it into the one the service in use speaks.
"""

from __future__ import annotations

from enum import Enum

from .errors import UnsupportedFormatError
from .generation import ApiGeneration
from .models import ExportFormat

__all__ = ["SUFFIXES", "JobsFormat", "suffixes_for", "wire_format"]


class JobsFormat(str, Enum):
    MJCF = "mjcf"
    USD = "usd"
    SDF = "sdf"


_ALPHA_TO_JOBS: dict[ExportFormat, JobsFormat] = {
    ExportFormat.MUJOCO_MJCF: JobsFormat.MJCF,
    ExportFormat.ISAAC_SIM_USD: JobsFormat.USD,
}
_JOBS_TO_ALPHA = {jobs: alpha for alpha, jobs in _ALPHA_TO_JOBS.items()}

#: Suffixes of each format's primary file, most usual first, under either generation's name.
SUFFIXES: dict[str, tuple[str, ...]] = {
    JobsFormat.USD.value: (".usd", ".usdc", ".usda", ".usdz"),
    JobsFormat.MJCF.value: (".xml", ".mjcf"),
    JobsFormat.SDF.value: (".sdf",),
    ExportFormat.ISAAC_SIM_URDF.value: (".urdf",),
}
SUFFIXES.update({alpha.value: SUFFIXES[jobs.value] for alpha, jobs in _ALPHA_TO_JOBS.items()})


def _parse(value: ExportFormat | JobsFormat | str) -> ExportFormat | JobsFormat:
    if isinstance(value, ExportFormat | JobsFormat):
        return value
    name = str(value).strip().lower()
    for enum in (ExportFormat, JobsFormat):
        try:
            return enum(name)
        except ValueError:
            continue
    raise UnsupportedFormatError(f"Unknown export format {value!r}")


def wire_format(value: ExportFormat | JobsFormat | str, generation: ApiGeneration) -> str:
    """The name `generation` uses for `value` (either generation's name is accepted)."""
    fmt = _parse(value)
    if generation is ApiGeneration.JOBS:
        mapped: ExportFormat | JobsFormat | None = (
            _ALPHA_TO_JOBS.get(fmt) if isinstance(fmt, ExportFormat) else fmt
        )
    else:
        mapped = _JOBS_TO_ALPHA.get(fmt) if isinstance(fmt, JobsFormat) else fmt
    if mapped is None:
        raise UnsupportedFormatError(
            f"Export format {fmt.value!r} does not exist in the {generation.value} API generation"
        )
    return str(mapped.value)


def suffixes_for(value: ExportFormat | JobsFormat | str) -> tuple[str, ...]:
    """File suffixes of a format's primary file, most usual first."""
    return SUFFIXES[_parse(value).value]
