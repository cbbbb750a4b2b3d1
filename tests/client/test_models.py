"""Models: quaternion conventions, validation, unknown fields, timestamps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from gizmo_client.models import Asset, ExportLink, PlacedAsset, Quaternion, Scene, Vector3

# A 90° yaw then 30° pitch then 20° roll: no component is zero, no angle is special.
RPY = (20.0, 30.0, 90.0)


def _axis_angle(axis: tuple[float, float, float], degrees: float) -> Quaternion:
    half = math.radians(degrees) / 2
    n = math.sqrt(sum(a * a for a in axis))
    x, y, z = (a / n * math.sin(half) for a in axis)
    return Quaternion(x=x, y=y, z=z, w=math.cos(half))


def test_wire_order_is_scalar_last_and_to_wxyz_reorders() -> None:
    q = Quaternion.model_validate({"x": 0.1, "y": 0.2, "z": 0.3, "w": 0.9})
    n = math.sqrt(0.01 + 0.04 + 0.09 + 0.81)
    assert q.to_xyzw() == pytest.approx((0.1 / n, 0.2 / n, 0.3 / n, 0.9 / n))
    assert q.to_wxyz() == pytest.approx((0.9 / n, 0.1 / n, 0.2 / n, 0.3 / n))
    back = Quaternion.from_wxyz(*q.to_wxyz())
    assert back.to_xyzw() == pytest.approx(q.to_xyzw())


def test_matrix_matches_axis_angle_rotation_of_a_vector() -> None:
    # 123° about a skew axis: rotate a vector with the matrix and with Rodrigues' formula.
    axis = np.array([1.0, -2.0, 0.5]) / np.linalg.norm([1.0, -2.0, 0.5])
    angle = math.radians(123.0)
    q = _axis_angle(tuple(axis), 123.0)
    v = np.array([0.3, 0.7, -1.1])
    rodrigues = (
        v * math.cos(angle)
        + np.cross(axis, v) * math.sin(angle)
        + axis * np.dot(axis, v) * (1 - math.cos(angle))
    )
    assert np.array(q.to_matrix()) @ v == pytest.approx(rodrigues, abs=1e-12)


def test_yaw_of_90_degrees_is_not_a_roll() -> None:
    """The classic silent bug: reading {x,y,z,w} as (w,x,y,z) turns a 90° yaw into a 180° turn."""
    yaw = Quaternion(x=0.0, y=0.0, z=math.sqrt(0.5), w=math.sqrt(0.5))
    assert yaw.to_euler_degrees() == pytest.approx((0.0, 0.0, 90.0), abs=1e-9)
    misread = Quaternion.from_wxyz(*yaw.to_xyzw())  # the bug, done on purpose
    assert misread.angle_to(Quaternion.identity()) == pytest.approx(math.pi)
    assert misread.angle_to(yaw) == pytest.approx(math.radians(120.0))


def test_euler_round_trip_and_matrix_agree() -> None:
    q = Quaternion.from_euler_degrees(*RPY)
    assert q.to_euler_degrees() == pytest.approx(RPY, abs=1e-9)
    roll, pitch, yaw = (math.radians(a) for a in RPY)
    rz = np.array(
        [[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]]
    )
    ry = np.array(
        [[math.cos(pitch), 0, math.sin(pitch)], [0, 1, 0], [-math.sin(pitch), 0, math.cos(pitch)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(roll), -math.sin(roll)], [0, math.sin(roll), math.cos(roll)]]
    )
    assert np.array(q.to_matrix()) == pytest.approx(rz @ ry @ rx, abs=1e-12)


def test_quaternion_is_normalised_and_validated() -> None:
    q = Quaternion(x=0.0, y=0.0, z=0.0, w=2.0)
    assert q.to_xyzw() == (0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValidationError, match="zero norm"):
        Quaternion(x=0.0, y=0.0, z=0.0, w=0.0)
    with pytest.raises(ValidationError, match="finite"):
        Quaternion(x=math.nan, y=0.0, z=0.0, w=1.0)
    with pytest.raises(ValidationError, match="finite"):
        Vector3(x=0.0, y=math.inf, z=0.0)


def test_angle_to_treats_q_and_minus_q_as_the_same_rotation() -> None:
    q = _axis_angle((0.2, 0.3, 0.9), 75.0)
    minus = Quaternion(x=-q.x, y=-q.y, z=-q.z, w=-q.w)
    assert q.angle_to(minus) == pytest.approx(0.0, abs=1e-7)
    assert q.angle_to(_axis_angle((0.2, 0.3, 0.9), 85.0)) == pytest.approx(math.radians(10))


def test_placement_defaults_unknown_fields_and_aware_timestamps() -> None:
    placed = PlacedAsset.model_validate({"asset_id": "ast_1", "colour": "red"})
    assert placed.position.as_tuple() == (0.0, 0.0, 0.0)
    assert placed.rotation.to_xyzw() == (0.0, 0.0, 0.0, 1.0)
    assert placed.model_extra == {"colour": "red"}
    asset = Asset.model_validate(
        {"id": "ast_1", "status": "ready", "created_at": "2024-11-12T10:15:00Z", "new": 1}
    )
    assert asset.created_at is not None and asset.created_at.utcoffset() is not None
    with pytest.raises(ValidationError, match="timezone"):
        ExportLink.model_validate(
            {"download_url": "http://x/y", "expires_at": "2024-11-12T10:15:00"}
        )


def test_fingerprint_changes_when_a_placement_moves_or_is_added() -> None:
    base = {"id": "scn_1", "name": "s", "assets": [{"id": "pla_1", "asset_id": "ast_1"}]}
    fp = Scene.model_validate(base).fingerprint()
    assert Scene.model_validate({**base, "name": "renamed"}).fingerprint() == fp
    moved = {**base, "assets": [{"id": "pla_1", "asset_id": "ast_1", "position": {"x": 1e-6}}]}
    assert Scene.model_validate(moved).fingerprint() != fp
    added = {**base, "assets": [*base["assets"], {"id": "pla_2", "asset_id": "ast_1"}]}
    assert Scene.model_validate(added).fingerprint() != fp
