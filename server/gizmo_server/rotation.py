"""The server's one rotation type: a unit quaternion, scalar-last like the wire.

The server shares no code with the client, so it keeps its own small quaternion. `to_wxyz` is the
only place that reorders components (MuJoCo and USD are scalar-first); `to_matrix` and
`from_euler_degrees` are the only conversions to and from other rotation forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Matrix3", "Quaternion"]

Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


@dataclass(frozen=True)
class Quaternion:
    """A rotation `{x, y, z, w}`; construction normalises and refuses a zero or non-finite norm."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0

    def __post_init__(self) -> None:
        norm = math.hypot(self.x, self.y, self.z, self.w)
        if not math.isfinite(norm) or norm == 0.0:
            raise ValueError(
                f"quaternion ({self.x}, {self.y}, {self.z}, {self.w}) has no unit direction; "
                "identity is {x: 0, y: 0, z: 0, w: 1}"
            )
        for name in "xyzw":
            object.__setattr__(self, name, getattr(self, name) / norm)

    @classmethod
    def identity(cls) -> Quaternion:
        return cls()

    @classmethod
    def from_xyzw(cls, xyzw: tuple[float, float, float, float]) -> Quaternion:
        x, y, z, w = xyzw
        return cls(x, y, z, w)

    @classmethod
    def from_euler_degrees(cls, roll: float, pitch: float, yaw: float) -> Quaternion:
        """Roll, pitch, yaw in degrees, applied yaw first (intrinsic Z-Y'-X'')."""
        cr, sr = math.cos(math.radians(roll) / 2), math.sin(math.radians(roll) / 2)
        cp, sp = math.cos(math.radians(pitch) / 2), math.sin(math.radians(pitch) / 2)
        cy, sy = math.cos(math.radians(yaw) / 2), math.sin(math.radians(yaw) / 2)
        return cls(
            x=sr * cp * cy - cr * sp * sy,
            y=cr * sp * cy + sr * cp * sy,
            z=cr * cp * sy - sr * sp * cy,
            w=cr * cp * cy + sr * sp * sy,
        )

    def to_xyzw(self) -> tuple[float, float, float, float]:
        """Scalar-last components, the wire order."""
        return (self.x, self.y, self.z, self.w)

    def to_wxyz(self) -> tuple[float, float, float, float]:
        """Scalar-first components for MuJoCo (`quat`) and USD (`Gf.Quatd(w, ...)`)."""
        return (self.w, self.x, self.y, self.z)

    def to_matrix(self) -> Matrix3:
        """The row-major 3x3 matrix mapping body-frame vectors to the parent frame."""
        x, y, z, w = self.x, self.y, self.z, self.w
        return (
            (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
            (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
            (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)),
        )
