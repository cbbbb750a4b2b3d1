"""Every resource call against the real local server over loopback HTTP."""

from __future__ import annotations

import math

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import (
    AssetGenerationFailedError,
    AssetsNotReadyError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from gizmo_client.models import AssetStatus, ExportFormat, Quaternion, Vector3
from gizmo_server.embedded import LocalServer

TILT = Quaternion.from_euler_degrees(12.0, -35.0, 140.0)


def test_scene_lifecycle(client: GizmoClient) -> None:
    scene = client.scenes.create("Client Test Cell", description="made by a test")
    assert scene.id.startswith("scn_") and scene.assets == []
    assert scene.created_at is not None and scene.created_at.utcoffset() is not None
    asset = client.assets.generate("a 4-DOF robot arm", name="Test Arm", tags=["test"])
    assert asset.status in (AssetStatus.PENDING, AssetStatus.PROCESSING)
    ready = client.assets.wait_until_ready(asset.id, timeout=30, initial_interval=0.05)
    assert ready.status is AssetStatus.READY and ready.export_formats
    placed = client.scenes.add_asset(scene.id, asset.id, Vector3(x=1.5, y=-0.25, z=0.1), TILT)
    default = client.scenes.add_asset(scene.id, asset.id)
    assert [p.asset_id for p in default.assets] == [asset.id, asset.id]
    first, second = client.scenes.get(scene.id).assets
    assert first.position.as_tuple() == pytest.approx((1.5, -0.25, 0.1), abs=1e-12)
    assert first.rotation.angle_to(TILT) < 1e-9
    assert second.position.as_tuple() == (0.0, 0.0, 0.0)
    assert second.rotation.to_xyzw() == (0.0, 0.0, 0.0, 1.0)
    assert placed.fingerprint() != client.scenes.create("empty").fingerprint()
    link = client.scenes.export(scene.id, ExportFormat.MUJOCO_MJCF)
    assert link.size_bytes and link.sha256 and link.expires_at.utcoffset() is not None


def test_lists_are_pages_newest_first(client: GizmoClient) -> None:
    made = [client.scenes.create(f"page test {i}").id for i in range(3)]
    page = client.scenes.list(limit=2)
    assert page.limit == 2 and page.offset == 0 and page.total >= 3
    assert [s.id for s in page.items] == made[::-1][:2]
    assert client.scenes.list(limit=500).limit == 100
    assets = client.assets.list(limit=5)
    assert assets.total >= 1 and all(a.id.startswith("ast_") for a in assets.items)
    assert {a.id for a in client.assets.iter_all()} >= {a.id for a in assets.items}


def test_asset_export_in_every_offered_format(client: GizmoClient) -> None:
    asset = client.assets.generate("a parallel-jaw gripper")
    ready = client.assets.wait_until_ready(asset.id, timeout=30, initial_interval=0.05)
    assert ready.export_formats is not None
    for fmt in ready.export_formats:
        assert client.assets.export(asset.id, fmt).size_bytes


def test_errors_are_typed_and_say_what_to_do(
    client: GizmoClient, local_server: LocalServer
) -> None:
    with pytest.raises(NotFoundError) as info:
        client.scenes.get("scn_does_not_exist")
    assert info.value.status == 404 and info.value.request_id
    assert "scn_does_not_exist" in str(info.value) and "Hint:" in str(info.value)
    with pytest.raises(BadRequestError) as bad:
        client.scenes.list(limit=0)
    assert bad.value.status == 400
    with GizmoClient(api_key="gz_wrong", base_url=local_server.base_url) as stranger:
        with pytest.raises(AuthenticationError, match="GIZMO_API_KEY"):
            stranger.scenes.list()


def test_another_accounts_scene_is_forbidden(tmp_path: object) -> None:
    with LocalServer(demo=False, api_keys=("gz_alice_key_0001", "gz_bob_key_00002")) as server:
        alice = GizmoClient(api_key="gz_alice_key_0001", base_url=server.base_url)
        bob = GizmoClient(api_key="gz_bob_key_00002", base_url=server.base_url)
        scene = alice.scenes.create("alice's")
        with pytest.raises(PermissionDeniedError):
            bob.scenes.get(scene.id)
        assert bob.scenes.list().total == 0


def test_polling_ends_in_failure_with_the_reason() -> None:
    with LocalServer(demo=False, generation_delay=0.05, faults="generation_failed:1.0") as server:
        with server.client() as client:
            asset = client.assets.generate("a conveyor belt")
            with pytest.raises(AssetGenerationFailedError, match=asset.id):
                client.assets.wait_until_ready(asset.id, timeout=30, initial_interval=0.05)


def test_waiting_reports_progress_until_ready(client: GizmoClient) -> None:
    seen: list[AssetStatus] = []
    asset = client.assets.generate("a wheeled mobile base")
    client.assets.wait_until_ready(
        asset.id, timeout=30, on_progress=lambda a: seen.append(a.status), initial_interval=0.02
    )
    assert seen[-1] is AssetStatus.READY and len(seen) >= 1


def test_export_of_a_scene_with_unready_assets_names_them() -> None:
    with LocalServer(demo=True, faults="export_not_ready:1.0") as server:
        with server.client() as client:
            scene = next(
                s for s in client.scenes.iter_all() if s.name == "Warehouse Workcell Alpha"
            )
            with pytest.raises(AssetsNotReadyError) as info:
                client.scenes.export(scene.id, "isaac_sim_usd")
    assert info.value.status == 400 and info.value.code == "assets_not_ready"
    assert info.value.asset_names, "the error names the assets that are not ready"


def test_rotation_must_be_a_quaternion_not_zero() -> None:
    with pytest.raises(ValueError, match="zero norm"):
        Quaternion(x=0, y=0, z=0, w=0)
    assert math.isclose(Quaternion(x=0, y=0, z=0, w=5).w, 1.0)
