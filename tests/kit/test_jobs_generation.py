"""The panel on the jobs API generation: real client, real local server (its `gzm_k1_` demo
account), usd-core. Prompt-generated scenes are listed with prompt, version and status, loaded
from the ZIP export the client unpacks, synced by version, generated and edited from a prompt."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from gizmo.scenes.controller import ErrorKind, PanelController, PanelState, Phase, Status
from gizmo.scenes.data import GeneratedSceneRow, LoadedScene, LoadMode, SceneRow
from gizmo.scenes.usd_ops import FINGERPRINT_ATTR
from kit_support import (
    ControllerFactory,
    PosesCheck,
    assert_assets_resolve,
    isaac_like_stage,
    load_as_reference,
    on_asyncio_loop,
    until,
)
from pxr import Sdf, Usd, UsdGeom, UsdShade

from gizmo_client import GizmoClient
from gizmo_client.models_jobs import GeneratedScene, JobStatus
from gizmo_server.embedded import LocalServer

DEMO_PROMPT = "a robotics lab with two workbenches and a mobile manipulator"


def _record(controller: PanelController) -> list[PanelState]:
    states: list[PanelState] = []
    controller.subscribe(states.append)
    return states


def _fresh_scene(api: GizmoClient, prompt: str) -> GeneratedScene:
    """A scene of its own per test (edits must not change the demo scenes others read)."""
    job = api.jobs.wait(api.scenes.generate(prompt).id)
    assert job.result_scene_id is not None
    scene = api.scenes.get(job.result_scene_id, include_record=True)
    assert isinstance(scene, GeneratedScene)
    return scene


def _load_fresh(
    make_controller: ControllerFactory,
    environ: dict[str, str],
    api: GizmoClient,
    prompt: str,
    mode: LoadMode,
) -> tuple[GeneratedScene, Usd.Stage, PanelController, LoadedScene]:
    """A fresh scene, listed, selected and loaded by a new panel into an Isaac-like stage."""
    scene = _fresh_scene(api, prompt)
    stage = isaac_like_stage()
    controller = make_controller(environ=environ, stage=stage)
    controller.refresh()
    controller.select(scene.id)
    controller.load(mode)
    (entry,) = controller.state.loaded
    assert entry.prim_path is not None and controller.state.error is None, controller.state.error
    return scene, stage, controller, entry


def _one_line(state: PanelState) -> str:
    error = state.error
    assert error is not None, state
    line = f"{error.title}: {error.detail}"
    assert "\n" not in line, line
    return line


def test_rows_show_prompt_version_and_status_and_alpha_stays_as_it_was(
    make_controller: ControllerFactory, jobs_environ: dict[str, str], jobs_api: GizmoClient
) -> None:
    controller = make_controller(environ=jobs_environ)
    controller.refresh()
    state = controller.state
    assert state.error is None and state.api_generation == "jobs"
    assert state.scene_headers == GeneratedSceneRow.HEADERS == ("Scene", "Version", "Status", "Id")
    by_prompt = {r.prompt: r for r in state.scenes if isinstance(r, GeneratedSceneRow)}
    row = by_prompt[DEMO_PROMPT]
    summary = next(s for s in jobs_api.scenes.iter_all() if s.id == row.id)
    assert row.columns() == (summary.name, f"v{summary.version}", "ready", row.id)
    controller.set_filter("workbenches MANIPULATOR")  # words of the prompt
    assert [r.id for r in controller.state.scenes] == [row.id]

    controller.select(row.id)
    record = jobs_api.scenes.get(row.id, include_record=True)
    assert [p.placement_id for p in controller.state.placements] == [p.id for p in record.assets]
    assert len(controller.state.placements) == 3

    alpha = make_controller()
    alpha.refresh()
    assert alpha.state.api_generation == "alpha"
    assert alpha.state.scene_headers == SceneRow.HEADERS == ("Scene", "Id")
    assert all(type(r) is SceneRow for r in alpha.state.scenes)
    alpha.generate("a kitchen")
    assert "alpha" in _one_line(alpha.state).lower()


def test_load_unpacked_zip_export_and_every_asset_path_resolves(
    make_controller: ControllerFactory,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    check_poses: PosesCheck,
    tmp_path: Path,
) -> None:
    scene, stage, _, entry = _load_fresh(
        make_controller,
        jobs_environ,
        jobs_api,
        "a tool room with a workbench and two crates",
        LoadMode.REFERENCE,
    )
    assert entry.fingerprint == scene.fingerprint()
    layer_file = Path(entry.file)
    assert layer_file.is_relative_to(tmp_path / "panel-cache") and "unpacked" in layer_file.parts
    assert_assets_resolve(stage, entry.prim_path, layer_file)
    check_poses(stage, entry.prim_path, scene)


def _png_2x2() -> bytes:
    """A real 2x2 RGB checker PNG (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"\x00\xff\xff\xff\x00\x00\x00" + b"\x00\x00\x00\x00\xff\xff\xff"
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _textured_export(folder: Path) -> Path:
    """A small USD export folder whose material reads a texture by a relative path."""
    (folder / "textures").mkdir(parents=True)
    (folder / "textures" / "checker.png").write_bytes(_png_2x2())
    stage = Usd.Stage.CreateNew(str(folder / "scene.usda"))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    tile = UsdGeom.Mesh.Define(stage, "/World/Tile")
    tile.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)])
    tile.CreateFaceVertexCountsAttr([4])
    tile.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    material = UsdShade.Material.Define(stage, "/World/Looks/Checker")
    surface = UsdShade.Shader.Define(stage, "/World/Looks/Checker/Surface")
    surface.CreateIdAttr("UsdPreviewSurface")
    texture = UsdShade.Shader.Define(stage, "/World/Looks/Checker/Texture")
    texture.CreateIdAttr("UsdUVTexture")
    texture.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("./textures/checker.png")
    rgb = texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
    surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(rgb)
    material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    UsdShade.MaterialBindingAPI.Apply(tile.GetPrim()).Bind(material)
    stage.GetRootLayer().Save()
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.rglob("*")):
            zf.write(file, file.relative_to(folder).as_posix())
    return archive


def test_textured_zip_loads_with_its_texture_resolved_from_the_unpacked_folder(
    make_controller: ControllerFactory, tmp_path: Path
) -> None:
    archive = _textured_export(tmp_path / "textured")
    (tmp_path / "textured" / "textures" / "checker.png").unlink()  # only the ZIP's copy is left
    files_dir = tmp_path / "files"
    stage = isaac_like_stage()
    controller = make_controller(stage=stage, files_dir=files_dir)
    controller.load_file(archive, LoadMode.REFERENCE)
    state = controller.state
    assert state.error is None, state.error
    (entry,) = state.loaded
    assert entry.prim_path == "/World/Gizmo/textured" and entry.scene_id == ""
    layer_file = Path(entry.file)
    assert layer_file.is_relative_to(files_dir) and layer_file.name == "scene.usda"
    (texture,) = assert_assets_resolve(stage, entry.prim_path, layer_file)
    assert texture == layer_file.parent / "textures" / "checker.png"

    again = make_controller(stage=isaac_like_stage(), files_dir=files_dir)
    again.load_file(archive, LoadMode.PAYLOAD)
    assert again.state.loaded[0].file == entry.file, "the same ZIP is unpacked once"
    assert [p.name for p in files_dir.iterdir()] == [layer_file.parent.name]
    controller.sync_now()
    assert controller.state.loaded == (entry,), "a file naming no Gizmo scene is never synced"

    controller.load_file(tmp_path / "missing.zip", LoadMode.REFERENCE)
    assert "missing.zip does not exist" in _one_line(controller.state)


def test_exported_zip_from_disk_is_synced_with_its_scene(
    make_controller: ControllerFactory,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    tmp_path: Path,
) -> None:
    """A ZIP saved by `gizmo export` carries `gizmo:sceneId`: the next sync swaps in the
    scene's current export."""
    scene = _fresh_scene(jobs_api, "a loading bay with one crate")
    archive = jobs_api.scenes.export_zip(scene.id, "usd", tmp_path / "bay.zip")
    stage = isaac_like_stage()
    controller = make_controller(environ=jobs_environ, stage=stage, files_dir=tmp_path / "f")
    controller.load_file(archive, LoadMode.REFERENCE)
    (entry,) = controller.state.loaded
    assert entry.scene_id == scene.id and entry.fingerprint.startswith("file-")
    controller.sync_now()
    (synced,) = controller.state.loaded
    assert synced.fingerprint == scene.fingerprint() and synced.prim_path == entry.prim_path


def test_generate_follows_the_event_stream_and_lists_the_new_scene(
    make_controller: ControllerFactory, jobs_environ: dict[str, str], jobs_api: GizmoClient
) -> None:
    controller = make_controller(environ=jobs_environ)
    controller.refresh()
    before = controller.state.total_scenes
    states = _record(controller)
    controller.generate("  a small kitchen   with a table ")

    jobs = [s.job for s in states if s.job is not None]
    assert jobs, "no progress from the event stream"
    assert jobs[0].prompt == "a small kitchen with a table"
    stages = list(dict.fromkeys(j.stage for j in jobs if j.stage))
    assert stages[0] == "scene_director" and "asset_generation" in stages
    assert jobs[-1].assets_ready >= 1 and jobs[-1].fraction == 1.0
    elapsed = [j.elapsed for j in jobs]
    assert elapsed == sorted(elapsed) and elapsed[-1] > 0
    shown = [s.progress.text for s in states if s.progress and s.progress.phase is Phase.GENERATE]
    assert any("scene director" in t and " s" in t for t in shown)
    assert any("asset ready" in t or "assets ready" in t for t in shown)

    state = controller.state
    assert state.error is None and state.job is None and state.status is Status.IDLE
    made = jobs[0].scene_id
    assert made is not None and state.selected is not None and state.selected.id == made
    assert state.total_scenes == before + 1 and state.scenes[0].id == made
    row = state.scenes[0]
    assert isinstance(row, GeneratedSceneRow) and (row.version, row.status) == (1, "ready")
    assert state.placements and state.message.startswith("Generated ")
    assert jobs_api.scenes.get(made).version == 1


def test_edit_of_a_loaded_scene_offers_sync_which_brings_the_new_version(
    make_controller: ControllerFactory,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    check_poses: PosesCheck,
) -> None:
    scene, stage, controller, entry = _load_fresh(
        make_controller,
        jobs_environ,
        jobs_api,
        "a packing station with a table",
        LoadMode.REFERENCE,
    )

    controller.edit("add a crate next to the table")
    state = controller.state
    assert state.error is None, state.error
    assert state.outdated == (scene.id,) and "Sync now" in state.message
    assert state.loaded == (entry,), "nothing is swapped behind the user's back"
    row = next(r for r in state.scenes if r.id == scene.id)
    assert isinstance(row, GeneratedSceneRow) and row.version == 2
    edited = jobs_api.scenes.get(scene.id, include_record=True)
    assert [p.placement_id for p in state.placements] == [p.id for p in edited.assets]
    assert len(edited.assets) > len(scene.assets)

    controller.sync_now()
    after = jobs_api.scenes.get(scene.id, include_record=True)
    (synced,) = controller.state.loaded
    assert controller.state.outdated == ()
    assert synced.fingerprint == after.fingerprint() != entry.fingerprint
    assert stage.GetPrimAtPath(entry.prim_path).GetAttribute(FINGERPRINT_ATTR).Get() == (
        after.fingerprint()
    )
    check_poses(stage, entry.prim_path, after)
    controller.sync_now()
    assert "0 of 1" in controller.state.message, "the same version is not fetched again"


def test_auto_sync_picks_up_an_edit(
    make_controller: ControllerFactory, jobs_environ: dict[str, str], jobs_api: GizmoClient
) -> None:
    scene = _fresh_scene(jobs_api, "a lab bench with a robot arm")
    stage = isaac_like_stage()

    async def scenario(
        controller: PanelController, _: Callable[[Callable[[], object]], Awaitable[object]]
    ) -> None:
        await load_as_reference(controller, scene.id)
        controller.set_auto_sync(True)
        controller.edit("add a crate")

        def loaded_fingerprint() -> str:
            return controller.state.loaded[0].fingerprint

        await until(controller, lambda: loaded_fingerprint() != scene.fingerprint())
        assert controller.state.error is None
        assert loaded_fingerprint() == jobs_api.scenes.get(scene.id).fingerprint()
        controller.shutdown()

    on_asyncio_loop(lambda **kw: make_controller(environ=jobs_environ, **kw), stage, scenario)


def _credits(api: GizmoClient) -> int:
    return int(api.usage().credits)


@pytest.mark.parametrize("when", ["at_the_first_stage", "while_the_job_is_being_created"])
def test_cancel_stops_following_and_cancels_the_job_on_gizmo(
    make_controller: ControllerFactory,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    when: str,
) -> None:
    controller = make_controller(environ=jobs_environ)
    credits = _credits(jobs_api)
    pressed: list[bool] = []

    def press_cancel(state: PanelState) -> None:
        sending = state.progress is not None and state.progress.text.startswith("Sending ")
        staged = state.job is not None and bool(state.job.stage)
        if not pressed and (sending if when.startswith("while") else staged):
            pressed.append(True)
            controller.cancel()

    controller.subscribe(press_cancel)
    controller.generate("a garage with a workbench")
    assert pressed
    state = controller.state
    assert state.error is None and state.job is None and state.status is Status.IDLE
    assert state.message.startswith("Cancelled (job job_") and state.message.endswith(
        " on Gizmo too)."
    )
    job_id = state.message.split()[2]
    assert jobs_api.jobs.get(job_id).status is JobStatus.CANCELLED
    assert _credits(jobs_api) == credits, "a cancelled job is refunded"


def test_empty_prompt_failed_job_and_no_credits_say_so_in_one_line(
    make_controller: ControllerFactory,
    kit_server: LocalServer,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    tmp_path: Path,
) -> None:
    controller = make_controller(environ=jobs_environ)
    credits = _credits(jobs_api)
    controller.generate("   ")
    assert _one_line(controller.state) == "No prompt: The prompt is empty."
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.PROMPT and not error.can_retry
    assert _credits(jobs_api) == credits, "nothing was sent"

    kit_server.configure_faults("job_failed:1.0")
    try:
        controller.generate("a hangar with a workbench and a crate")
        line = _one_line(controller.state)
        error = controller.state.error
        assert error is not None and error.kind is ErrorKind.JOB_FAILED and error.can_retry
        assert "fault injected" in line and controller.state.job is None
    finally:
        kit_server.configure_faults(None)
    controller.retry()
    assert controller.state.error is None and controller.state.message.startswith("Generated ")

    with LocalServer(demo=True, gen2_credits=5) as poor:
        broke = make_controller(
            environ={"GIZMO_BASE_URL": poor.base_url, "GIZMO_API_KEY": poor.gen2_api_key}
        )
        broke.generate("a warehouse")
        error = broke.state.error
        assert error is not None and error.kind is ErrorKind.CREDITS and error.can_retry
        assert "credits" in _one_line(broke.state)


def test_loading_a_scene_still_generating_waits_for_it(
    make_controller: ControllerFactory, jobs_environ: dict[str, str], jobs_api: GizmoClient
) -> None:
    job = jobs_api.scenes.generate("a storage room with two shelves")
    assert job.scene_id is not None
    controller = make_controller(environ=jobs_environ, not_ready_delays=(0.2, 0.4))
    controller.refresh()
    row = next(r for r in controller.state.scenes if r.id == job.scene_id)
    assert isinstance(row, GeneratedSceneRow) and row.columns()[1:3] == ("v0", "generating")
    states = _record(controller)
    controller.select(job.scene_id)
    controller.load(LoadMode.REFERENCE)
    assert controller.state.error is None, controller.state.error
    progress = [s.progress for s in states if s.progress is not None]
    waits = [p.text for p in progress if p.phase is Phase.WAIT_ASSETS]
    assert waits and "to finish generating" in waits[0]
    (entry,) = controller.state.loaded
    assert entry.fingerprint == jobs_api.scenes.get(job.scene_id).fingerprint()
    row = next(r for r in controller.state.scenes if r.id == job.scene_id)
    assert row.columns()[1:3] == ("v1", "ready"), "the row shows what was loaded"


@pytest.mark.parametrize("prompt", ["", " \n\t "])
def test_edit_needs_a_prompt_and_a_selection(
    make_controller: ControllerFactory, jobs_environ: dict[str, str], prompt: str
) -> None:
    controller = make_controller(environ=jobs_environ)
    controller.edit("add a crate")
    assert _one_line(controller.state).startswith("No scene selected")
    controller.refresh()
    controller.select(controller.state.scenes[0].id)
    controller.edit(prompt)
    error = controller.state.error
    assert error is not None and error.kind is ErrorKind.PROMPT


def test_a_second_prompt_while_one_runs_is_refused_in_one_line(
    make_controller: ControllerFactory, jobs_environ: dict[str, str]
) -> None:
    async def scenario(
        controller: PanelController, _: Callable[[Callable[[], object]], Awaitable[object]]
    ) -> None:
        controller.generate("a lab with a table")
        await until(controller, lambda: controller.state.job is not None)
        controller.generate("a lab with a shelf")
        line = _one_line(controller.state)
        assert line.startswith("A generation is already running: Generating 'a lab with a table'")
        await until(controller, lambda: controller.state.message.startswith("Generated "))
        assert controller.state.selected is not None
        assert controller.state.selected.name == "a lab with a table"
        controller.shutdown()

    on_asyncio_loop(
        lambda **kw: make_controller(environ=jobs_environ, **kw), isaac_like_stage(), scenario
    )


def test_an_edit_made_elsewhere_is_synced_by_version_and_the_row_follows(
    make_controller: ControllerFactory,
    jobs_environ: dict[str, str],
    jobs_api: GizmoClient,
    check_poses: PosesCheck,
) -> None:
    scene, stage, controller, entry = _load_fresh(
        make_controller,
        jobs_environ,
        jobs_api,
        "a robot cell with a robot arm and a table",
        LoadMode.PAYLOAD,
    )

    jobs_api.jobs.wait(jobs_api.scenes.edit(scene.id, "add two crates").id)  # not the panel
    controller.sync_now()
    after = jobs_api.scenes.get(scene.id, include_record=True)
    assert after.version == 2 and "1 of 1" in controller.state.message
    assert controller.state.loaded[0].fingerprint == after.fingerprint()
    row = next(r for r in controller.state.scenes if r.id == scene.id)
    assert isinstance(row, GeneratedSceneRow) and row.version == 2
    assert controller.state.selected == row
    check_poses(stage, entry.prim_path, after)


def test_a_bad_zip_is_one_line_and_leaves_nothing_behind(
    make_controller: ControllerFactory, tmp_path: Path
) -> None:
    no_usd = tmp_path / "notes.zip"
    with zipfile.ZipFile(no_usd, "w") as zf:
        zf.writestr("README.txt", "no scene here")
    climbing = tmp_path / "climbing.zip"
    with zipfile.ZipFile(climbing, "w") as zf:
        zf.writestr("scene.usda", "#usda 1.0\n")
        zf.writestr("../outside.txt", "escape")
    files_dir = tmp_path / "files"
    stage = isaac_like_stage()
    controller = make_controller(stage=stage, files_dir=files_dir)
    for archive, says in ((no_usd, "holds no .usd"), (climbing, "climbs out")):
        controller.load_file(archive, LoadMode.REFERENCE)
        assert says in _one_line(controller.state)
        assert controller.state.loaded == ()
        assert list(files_dir.iterdir()) == [], "no half-unpacked folder stays"
    assert not stage.GetPrimAtPath("/World/Gizmo")
    assert not (tmp_path / "outside.txt").exists()
