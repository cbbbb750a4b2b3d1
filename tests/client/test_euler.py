"""Roll/pitch/yaw read back from quaternions: exact round trips everywhere, gimbal lock included.

The shown angles are fed back by users (`--rpy`), so `from_euler_degrees(*q.to_euler_degrees())`
must rebuild `q` for every rotation, and at pitch ±90° the angles a user typed must come back.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gizmo_client.models import Quaternion

ROUND_TRIP_RAD = 1e-9


def _random_quaternions(count: int, seed: int) -> list[Quaternion]:
    rng = np.random.default_rng(seed)
    comps = rng.normal(size=(count, 4))
    return [Quaternion(x=c[0], y=c[1], z=c[2], w=c[3]) for c in comps]


def test_random_rotations_round_trip_through_the_shown_angles() -> None:
    for q in _random_quaternions(5000, seed=7):
        rpy = q.to_euler_degrees()
        assert q.angle_to(Quaternion.from_euler_degrees(*rpy)) < ROUND_TRIP_RAD, (q, rpy)
        roll, pitch, yaw = rpy
        assert -180.0 < roll <= 180.0 and -90.0 <= pitch <= 90.0 and -180.0 < yaw <= 180.0


@pytest.mark.parametrize("pitch", [90.0, -90.0])
@pytest.mark.parametrize(("roll", "yaw"), [(0.0, 30.0), (0.0, -150.0), (0.0, 180.0), (0.0, 0.0)])
def test_at_the_singularity_typed_angles_come_back(roll: float, pitch: float, yaw: float) -> None:
    shown = Quaternion.from_euler_degrees(roll, pitch, yaw).to_euler_degrees()
    assert shown == pytest.approx((roll, pitch, yaw), abs=1e-9)


def test_the_demo_gripper_shows_the_angles_it_was_made_with() -> None:
    """Found from outside: rpy (0, 90, 30) was shown as (0, 90, 90), a pose 60° away."""
    q = Quaternion.from_euler_degrees(0.0, 90.0, 30.0)
    assert q.to_euler_degrees() == pytest.approx((0.0, 90.0, 30.0), abs=1e-9)
    wrong = Quaternion.from_euler_degrees(0.0, 90.0, 90.0)
    assert math.degrees(q.angle_to(wrong)) == pytest.approx(60.0)


@pytest.mark.parametrize("pitch", [90.0, -90.0])
def test_at_the_singularity_roll_folds_into_yaw(pitch: float) -> None:
    # At pitch +90 only yaw - roll matters, at -90 only yaw + roll: roll is shown as 0.
    q = Quaternion.from_euler_degrees(40.0, pitch, 10.0)
    roll, shown_pitch, yaw = q.to_euler_degrees()
    assert (roll, shown_pitch) == (0.0, pitch)
    assert yaw == pytest.approx(10.0 - 40.0 if pitch > 0 else 10.0 + 40.0, abs=1e-9)
    assert q.angle_to(Quaternion.from_euler_degrees(roll, shown_pitch, yaw)) < ROUND_TRIP_RAD


@pytest.mark.parametrize("offset", [1e-3, 1e-5, 1e-7, 1e-9, 1e-12])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_just_off_the_singularity_still_round_trips(offset: float, sign: float) -> None:
    q = Quaternion.from_euler_degrees(25.0, sign * (90.0 - offset), -70.0)
    assert q.angle_to(Quaternion.from_euler_degrees(*q.to_euler_degrees())) < 1e-8


@pytest.mark.parametrize(
    "q",
    [
        Quaternion.identity(),
        Quaternion(x=0.0, y=0.0, z=-0.0, w=1.0),
        Quaternion(x=-0.0, y=-0.0, z=-0.0, w=-1.0),
        Quaternion(x=0.0, y=0.0, z=1.0, w=0.0),
        Quaternion(x=1.0, y=0.0, z=0.0, w=0.0),
        Quaternion(x=0.0, y=1.0, z=0.0, w=0.0),
    ],
)
def test_no_negative_zero_and_half_turns_are_positive(q: Quaternion) -> None:
    angles = q.to_euler_degrees()
    assert all(math.copysign(1.0, a) > 0 for a in angles if a == 0.0), angles
    assert all(a != -180.0 for a in angles), angles
    assert q.angle_to(Quaternion.from_euler_degrees(*angles)) < ROUND_TRIP_RAD


@pytest.mark.parametrize("angle", [1e-10, 1e-6, 0.5, math.pi - 1e-6])
def test_angle_to_is_exact_for_tiny_and_large_angles(angle: float) -> None:
    q = Quaternion(x=math.sin(angle / 2), y=0.0, z=0.0, w=math.cos(angle / 2))
    assert q.angle_to(Quaternion.identity()) == pytest.approx(angle, rel=1e-9)
    assert q.angle_to(Quaternion(x=-q.x, y=-q.y, z=-q.z, w=-q.w)) == 0.0
