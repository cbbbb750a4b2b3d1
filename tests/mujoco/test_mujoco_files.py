"""Local scene files: XML and ZIP (with real meshes) loading, error messages, and live watching."""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import pytest
from mujoco_scenes import ARM, CRATE, NEW_ARM, TILTED, scene_xml
from PIL import Image
from real_scenes import HOME_LIFT, write_real_scene

import gizmo_mujoco
from gizmo_mujoco import watcher as watcher_module
from gizmo_mujoco.loading import compile_file, reset_to_keyframe
from gizmo_mujoco.sources import FileSource
from gizmo_mujoco.transfer import TransferReport, transfer_state
from gizmo_mujoco.watcher import SceneWatcher

CUBE_OBJ = """# unit cube
v -0.05 -0.05 -0.05
v 0.05 -0.05 -0.05
v 0.05 0.05 -0.05
v -0.05 0.05 -0.05
v -0.05 -0.05 0.05
v 0.05 -0.05 0.05
v 0.05 0.05 0.05
v -0.05 0.05 0.05
f 1 3 2
f 1 4 3
f 5 6 7
f 5 7 8
f 1 2 6
f 1 6 5
f 2 3 7
f 2 7 6
f 3 4 8
f 3 8 7
f 4 1 5
f 4 5 8
"""


def _tetra_stl() -> bytes:
    """A binary STL tetrahedron (80-byte header, count, 50 bytes per facet)."""
    v = [(0.0, 0.0, 0.0), (0.12, 0.0, 0.0), (0.0, 0.12, 0.0), (0.0, 0.0, 0.12)]
    faces = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
    out = bytearray(b"tetra".ljust(80, b" ")) + struct.pack("<I", len(faces))
    for face in faces:
        out += struct.pack("<3f", 0.0, 0.0, 0.0)
        for index in face:
            out += struct.pack("<3f", *v[index])
        out += b"\0\0"
    return bytes(out)


MESH_SCENE = f"""<mujoco model="meshes">
  <compiler meshdir="meshes"/>
  <asset>
    <mesh name="cube" file="cube.obj"/>
    <mesh name="tetra" file="parts/tetra.stl"/>
  </asset>
  <worldbody>
    <body name="pla_m/box" pos="0.3 -0.1 0.2" quat="{" ".join(map(str, TILTED.to_wxyz()))}">
      <freejoint name="pla_m/float"/>
      <geom name="pla_m/cube" type="mesh" mesh="cube"/>
      <geom name="pla_m/tetra" type="mesh" mesh="tetra" pos="0 0 0.1"/>
    </body>
  </worldbody>
</mujoco>
"""


def _write_zip(path: Path, top: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{top}scene.xml", MESH_SCENE)
        archive.writestr(f"{top}meshes/cube.obj", CUBE_OBJ)
        archive.writestr(f"{top}meshes/parts/tetra.stl", _tetra_stl())
    return path


@pytest.mark.parametrize("top", ["", "export_v2/"])
def test_zip_scene_with_obj_and_stl_meshes_loads(tmp_path: Path, top: str) -> None:
    model, data = gizmo_mujoco.load_file(_write_zip(tmp_path / "scene.zip", top))
    assert model.nmesh == 2 and model.mesh_vertnum.tolist() == [8, 4]
    assert np.allclose(data.body("pla_m/box").xpos, (0.3, -0.1, 0.2))
    assert np.allclose(data.body("pla_m/box").xquat, TILTED.to_wxyz())
    mujoco.mj_step(model, data)
    assert not list(tmp_path.glob("gizmo-mujoco-*")), "the unpacked copy must not be left behind"


def test_xml_with_meshes_beside_it_loads_from_another_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "meshes" / "parts").mkdir(parents=True)
    (tmp_path / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    (tmp_path / "meshes" / "parts" / "tetra.stl").write_bytes(_tetra_stl())
    (tmp_path / "scene.xml").write_text(MESH_SCENE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    model, _ = gizmo_mujoco.load_file(tmp_path / "scene.xml")
    assert model.nmesh == 2


def test_compiling_by_content_matches_by_path_and_sees_changed_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revision in a new folder, its meshes (meshdir) and texture handed over by name."""
    first = write_real_scene(tmp_path / "v1")
    (tmp_path / "m" / "meshes" / "parts").mkdir(parents=True)
    (tmp_path / "m" / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    (tmp_path / "m" / "meshes" / "parts" / "tetra.stl").write_bytes(_tetra_stl())
    (tmp_path / "m" / "scene.xml").write_text(MESH_SCENE)
    monkeypatch.chdir(tmp_path / "m" / "meshes")  # no name may resolve against the cwd
    for path in (first.path, tmp_path / "m" / "scene.xml"):
        by_path, by_content = compile_file(path), compile_file(path, by_content=True)
        assert (by_content.ntex, by_content.nmesh) == (by_path.ntex, by_path.nmesh)
        assert np.array_equal(by_content.tex_data, by_path.tex_data)
        assert np.array_equal(by_content.mesh_vert, by_path.mesh_vert)
    second = write_real_scene(tmp_path / "v2")  # the next revision: same names, new texture
    Image.new("RGB", (64, 64), (0, 200, 0)).save(second.texture, format="PNG")
    changed = compile_file(second.path, by_content=True)
    assert np.array_equal(changed.tex_data, compile_file(second.path).tex_data)
    assert not np.array_equal(changed.tex_data, compile_file(first.path, by_content=True).tex_data)


def test_unsafe_zip_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("scene.xml", MESH_SCENE)
        archive.writestr("../escape.obj", CUBE_OBJ)
    with pytest.raises(gizmo_mujoco.MjcfLoadError, match=r"bad\.zip.*'\.\.'"):
        gizmo_mujoco.load_file(bad)
    assert not (tmp_path.parent / "escape.obj").exists()


@pytest.mark.parametrize(
    ("text", "line", "element", "reason"),
    [
        ("<mujoco>\n<worldbody>\n\n  <body name='b' pos='1 x 2'/>\n</worldbody></mujoco>",
         4, "body", "bad format in attribute 'pos'"),
        ("<mujoco>\n<worldbody>\n  <bodyy/>\n</worldbody></mujoco>",
         3, "bodyy", "Schema violation: unrecognized element"),
        ("<mujoco>\n<worldbody>\n<body>\n</worldbody></mujoco>",
         3, "body", "malformed XML (XML_ERROR_MISMATCHED_ELEMENT)"),
        ("<mujoco>\n<worldbody>\n<geom name='g' size='1' material='nope'/>\n</worldbody></mujoco>",
         3, "g", "material 'nope' not found in geom 0"),
        ("<mujoco>\n<worldbody>\n<body name='a'/>\n<body name='a'/>\n</worldbody></mujoco>",
         4, "body", "repeated name 'a' in body"),
    ],
)  # fmt: skip
def test_mujoco_errors_name_file_line_and_element(
    tmp_path: Path, text: str, line: int, element: str, reason: str
) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(text)
    with pytest.raises(gizmo_mujoco.MjcfLoadError) as caught:
        gizmo_mujoco.load_file(path)
    error = caught.value
    assert (error.file, error.line, error.element, error.reason) == (path, line, element, reason)
    assert str(error).startswith(f"MuJoCo could not load {path}, line {line}, element <{element}>")
    assert "Hint:" in str(error)


def test_missing_file_and_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(gizmo_mujoco.MjcfLoadError, match="no such file"):
        gizmo_mujoco.load_file(tmp_path / "nope.xml")
    with pytest.raises(gizmo_mujoco.MjcfLoadError, match="a folder, not a file"):
        gizmo_mujoco.load_file(tmp_path)


def test_mujoco_warnings_go_to_logging_not_a_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "scene.xml"
    path.write_text(scene_xml([CRATE]))
    model, data = gizmo_mujoco.load_file(path)
    data.qpos[0] = np.nan
    with caplog.at_level(logging.WARNING, logger="gizmo_mujoco"):
        mujoco.mj_step(model, data)
    assert any("Nan, Inf or huge value in QPOS" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()


def _touch_later(path: Path, text: str) -> None:
    """Write and push the mtime forward, so the change shows even on coarse clocks."""
    path.write_text(text)
    stamp = time.time() + 2
    os.utime(path, (stamp, stamp))


def _wait_for_event(watcher: SceneWatcher, timeout: float = 5.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watcher.poll()
        event = watcher.apply()
        if event is not None:
            return event
        time.sleep(0.05)
    raise AssertionError(f"no reload within {timeout}s")


def test_local_file_edits_reload_with_state_and_broken_edits_keep_the_old_model(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scene.xml"
    path.write_text(scene_xml([ARM, CRATE]))
    watcher = SceneWatcher(FileSource(path, debounce=0.1))
    model, data = watcher.load()
    data.ctrl[:] = 0.4
    for _ in range(200):
        mujoco.mj_step(model, data)
    assert watcher.poll() is False and watcher.apply() is None  # nothing changed

    _touch_later(
        path,
        scene_xml([ARM, CRATE]).replace("</worldbody>", "<geom name='oops' size='x'/></worldbody>"),
    )
    failed = _wait_for_event(watcher)
    assert not failed.ok and "scene.xml" in failed.message() and "line" in failed.message()
    assert watcher.model is model and watcher.data is data  # the old model keeps running
    assert watcher.poll() is False  # the same broken bytes are not rebuilt every poll

    shoulder = data.joint("pla_arm/shoulder").qpos.copy()
    _touch_later(path, scene_xml([ARM, CRATE, NEW_ARM]))
    event = _wait_for_event(watcher)
    assert event.ok, event.message()
    assert watcher.model is not model
    assert np.array_equal(watcher.data.joint("pla_arm/shoulder").qpos, shoulder)
    assert watcher.data.joint("pla_new/shoulder").qpos[0] == 0.0
    assert watcher.data.time == data.time


def test_a_changed_mesh_file_triggers_a_reload(tmp_path: Path) -> None:
    (tmp_path / "meshes" / "parts").mkdir(parents=True)
    (tmp_path / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    (tmp_path / "meshes" / "parts" / "tetra.stl").write_bytes(_tetra_stl())
    (tmp_path / "scene.xml").write_text(MESH_SCENE)
    watcher = SceneWatcher(FileSource(tmp_path / "scene.xml", debounce=0.1))
    model, _ = watcher.load()
    for _ in range(3):  # across the debounce: an unchanged scene must never rebuild
        assert watcher.poll() is False
        time.sleep(0.08)
    _touch_later(tmp_path / "meshes" / "cube.obj", CUBE_OBJ.replace("0.05", "0.08"))
    event = _wait_for_event(watcher)
    assert event.ok and watcher.model is not model
    cube_now = watcher.model.mesh_vert[: watcher.model.mesh_vertnum[0]]
    assert np.allclose(np.abs(cube_now), 0.08)  # the new cube, not the old 0.05 one


def test_a_poll_during_the_swap_does_not_build_the_applied_revision_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background thread may poll while `apply()` carries the state over: it must see the
    revision being applied as current, not rebuild and stage it a second time."""
    path = tmp_path / "scene.xml"
    path.write_text(scene_xml([ARM]))
    watcher = SceneWatcher(FileSource(path, debounce=0.0))
    watcher.load()
    _touch_later(path, scene_xml([ARM, CRATE]))
    assert watcher.poll() is True
    polled_meanwhile: list[bool] = []

    def transfer_while_polling(*args: Any) -> TransferReport:
        poller = threading.Thread(target=lambda: polled_meanwhile.append(watcher.poll()))
        poller.start()
        poller.join(timeout=0.3)  # free to finish now, unless apply() holds the poll off
        return transfer_state(*args)

    monkeypatch.setattr(watcher_module, "transfer_state", transfer_while_polling)
    event = watcher.apply()
    assert event is not None and event.ok
    deadline = time.monotonic() + 10
    while not polled_meanwhile and time.monotonic() < deadline:
        time.sleep(0.01)
    assert polled_meanwhile == [False]
    assert watcher.apply() is None


def test_a_malformed_revision_of_a_watched_file_is_reported_once_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The background poller over a file MuJoCo's XML parser rejects (mju_getXMLDependencies
    raised FatalError on every poll): one event, no log traceback, and the old model runs on."""
    path = tmp_path / "scene.xml"
    path.write_text(scene_xml([ARM]))
    watcher = SceneWatcher(FileSource(path, debounce=0.05), poll_interval=0.05)
    model, _ = watcher.load()
    caplog.set_level(logging.DEBUG, logger="gizmo_mujoco")
    with watcher:
        _touch_later(path, "<mujoco><worldbody><geom size='1'></worldbody>")
        time.sleep(1.0)  # about 20 polls
        events = [event for _ in range(3) if (event := watcher.apply()) is not None]
    assert len(events) == 1 and not events[0].ok
    assert "line 1, element <geom>: malformed XML" in events[0].message()
    assert watcher.model is model
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1


def test_a_real_export_loads_steps_and_starts_from_its_keyframes(tmp_path: Path) -> None:
    scene = write_real_scene(tmp_path)
    model, data = gizmo_mujoco.load_file(scene.path)
    assert (model.nmesh, model.ntex, model.nkey) == (3, 2, 2)
    assert model.mat_texid[model.material("mat_3").id].max() >= 0  # the PNG reached the material
    rest = {b: data.body(b).xpos.copy() for b in scene.free_bodies}
    reset_to_keyframe(model, data, "simstudio_home")
    for body in scene.free_bodies:
        assert np.allclose(data.body(body).xpos, rest[body] + (0, 0, HOME_LIFT)), body
    for _ in range(1500):  # 3 s: dropped from the home pose, the free bodies settle
        mujoco.mj_step(model, data)
    assert np.all(np.isfinite(data.qpos)) and np.abs(data.qvel).max() < 0.5
    with pytest.raises(gizmo_mujoco.KeyframeNotFoundError, match="simstudio_home, simstudio_reset"):
        reset_to_keyframe(model, data, "start")
