"""Typed models for every object of the Gizmo Scenes API.

Unknown fields are kept (the hosted service may add some); timestamps must be timezone-aware.
`Quaternion` is scalar-last like the wire; `to_wxyz`/`from_wxyz` are the only place where
components are reordered for scalar-first consumers (MuJoCo, USD).
"""

from __future__ import annotations

import hashlib
import json
import math
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Asset",
    "AssetStatus",
    "ExportFormat",
    "ExportLink",
    "Page",
    "PlacedAsset",
    "Quaternion",
    "Scene",
    "SceneSummary",
    "Vector3",
]

Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _require_finite(values: dict[str, Any], names: str) -> None:
    for name in names:
        value = values.get(name)
        if isinstance(value, (int, float)) and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")


class Vector3(_Model):
    """A position in metres, in the scene frame (Z up)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _finite(cls, data: Any) -> Any:
        if isinstance(data, dict):
            _require_finite(data, "xyz")
        return data

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.x, self.y, self.z)


# Below this cos(pitch) (pitch within ~6e-6° of ±90°) roll and yaw are not separable in
# double precision; the rotation is then reported as a pure yaw about the locked axis.
_GIMBAL_LOCK_COS = 1e-7


def _tidy_degrees(angle: float) -> float:
    """An angle in (-180, 180], with values within 1e-9° of a whole number snapped to it."""
    snapped = round(angle)
    if abs(angle - snapped) < 1e-9:
        angle = float(snapped)
    if angle <= -180.0:
        angle += 360.0
    return angle + 0.0  # turns -0.0 into 0.0


class Quaternion(_Model):
    """A unit rotation quaternion, scalar-last `{x, y, z, w}` as on the wire.

    Validation rejects non-finite components and a zero norm, and normalises the rest, so every
    consumer can rely on a unit quaternion.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        _require_finite(data, "xyzw")
        try:
            comps = [float(data.get(k, 1.0 if k == "w" else 0.0)) for k in "xyzw"]
        except (TypeError, ValueError):
            return data  # let field validation report the bad type
        norm = math.sqrt(sum(c * c for c in comps))
        if norm == 0.0:
            raise ValueError("quaternion has zero norm; identity is {x: 0, y: 0, z: 0, w: 1}")
        return {**data, **dict(zip("xyzw", (c / norm for c in comps), strict=True))}

    @classmethod
    def identity(cls) -> Quaternion:
        return cls(x=0.0, y=0.0, z=0.0, w=1.0)

    @classmethod
    def from_wxyz(cls, w: float, x: float, y: float, z: float) -> Quaternion:
        """Build from scalar-first components (MuJoCo `quat`, USD `Gf.Quatd(w, (x, y, z))`)."""
        return cls(x=x, y=y, z=z, w=w)

    def to_wxyz(self) -> tuple[float, float, float, float]:
        """Scalar-first components for MuJoCo and USD."""
        return (self.w, self.x, self.y, self.z)

    def to_xyzw(self) -> tuple[float, float, float, float]:
        """Scalar-last components, the wire order."""
        return (self.x, self.y, self.z, self.w)

    def to_matrix(self) -> Matrix3:
        """The 3x3 rotation matrix (row-major) that maps body-frame vectors to the scene frame."""
        x, y, z, w = self.x, self.y, self.z, self.w
        return (
            (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
            (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
            (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)),
        )

    def to_euler_degrees(self) -> tuple[float, float, float]:
        """Roll, pitch, yaw in degrees (intrinsic Z-Y'-X'', i.e. yaw then pitch then roll).

        Read from the rotation matrix, so pitch stays exact near ±90°. There (gimbal lock) only
        yaw ∓ roll is defined: roll is reported as 0 and the whole turn as yaw, so the angles
        shown always rebuild the same rotation. Angles lie in (-180, 180]; no `-0.0`.
        """
        m = self.to_matrix()
        cos_pitch = math.hypot(m[0][0], m[1][0])
        pitch = math.atan2(-m[2][0], cos_pitch)
        if cos_pitch < _GIMBAL_LOCK_COS:
            roll, yaw = 0.0, math.atan2(-m[0][1], m[1][1])
        else:
            roll, yaw = math.atan2(m[2][1], m[2][2]), math.atan2(m[1][0], m[0][0])
        roll_d, pitch_d, yaw_d = (_tidy_degrees(math.degrees(a)) for a in (roll, pitch, yaw))
        return (roll_d, pitch_d, yaw_d)

    @classmethod
    def from_euler_degrees(cls, roll: float, pitch: float, yaw: float) -> Quaternion:
        """Inverse of `to_euler_degrees`."""
        cr, sr = math.cos(math.radians(roll) / 2), math.sin(math.radians(roll) / 2)
        cp, sp = math.cos(math.radians(pitch) / 2), math.sin(math.radians(pitch) / 2)
        cy, sy = math.cos(math.radians(yaw) / 2), math.sin(math.radians(yaw) / 2)
        return cls(
            x=sr * cp * cy - cr * sp * sy,
            y=cr * sp * cy + sr * cp * sy,
            z=cr * cp * sy - sr * sp * cy,
            w=cr * cp * cy + sr * sp * sy,
        )

    def angle_to(self, other: Quaternion) -> float:
        """The rotation angle in radians between two orientations (q and -q are the same)."""
        a, b = self.to_xyzw(), other.to_xyzw()
        if sum(p * q for p, q in zip(a, b, strict=True)) < 0.0:
            b = (-b[0], -b[1], -b[2], -b[3])
        # 4·atan2(|a-b|, |a+b|) instead of 2·acos(a·b): exact for tiny angles too.
        gap = math.dist(a, b)
        span = math.hypot(*(p + q for p, q in zip(a, b, strict=True)))
        return 4.0 * math.atan2(gap, span)


class AssetStatus(str, Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ExportFormat(str, Enum):
    ISAAC_SIM_USD = "isaac_sim_usd"
    ISAAC_SIM_URDF = "isaac_sim_urdf"
    MUJOCO_MJCF = "mujoco_mjcf"


class Asset(_Model):
    id: str
    status: AssetStatus
    name: str | None = None
    prompt: str | None = None
    created_at: AwareDatetime | None = None
    export_formats: list[str] | None = None
    tags: list[str] | None = None
    error: str | None = None


class PlacedAsset(_Model):
    """One asset placed in a scene: the pose of the asset's root frame in the scene frame."""

    asset_id: str
    position: Vector3 = Field(default_factory=Vector3)
    rotation: Quaternion = Field(default_factory=Quaternion.identity)
    id: str | None = None
    name: str | None = None
    added_at: AwareDatetime | None = None


class SceneSummary(_Model):
    id: str
    name: str
    description: str | None = None
    created_at: AwareDatetime | None = None


class Scene(SceneSummary):
    assets: list[PlacedAsset] = Field(default_factory=list)

    def fingerprint(self) -> str:
        """SHA-256 over the placements: changes when one is added or moved, nothing else."""
        canonical = [
            [p.id, p.asset_id, list(p.position.as_tuple()), list(p.rotation.to_xyzw())]
            for p in self.assets
        ]
        blob = json.dumps([self.id, canonical], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


class ExportLink(_Model):
    download_url: str
    expires_at: AwareDatetime
    format: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    filename: str | None = None


T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a list endpoint; `total` counts the whole account."""

    items: list[T]
    total: int
    limit: int
    offset: int
