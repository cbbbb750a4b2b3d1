"""ZIP exports are unpacked safely or not at all."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from gizmo_client.archive import extract_zip_safely, find_primary_file, is_zip
from gizmo_client.errors import UnsafeArchiveError


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_good_zip_unpacks_and_primary_is_the_shallowest_scene_file(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "export.zip",
        {
            "scene.xml": b"<mujoco/>",
            "assets/arm.xml": b"<mujoco/>",
            "meshes/link.obj": b"v 0 0 0\n",
        },
    )
    assert is_zip(archive)
    files = extract_zip_safely(archive, tmp_path / "out")
    assert {f.relative_to(tmp_path / "out").as_posix() for f in files} == {
        "scene.xml",
        "assets/arm.xml",
        "meshes/link.obj",
    }
    assert find_primary_file(files, tmp_path / "out", (".xml",)) == tmp_path / "out" / "scene.xml"


@pytest.mark.parametrize(
    "name", ["../evil.xml", "meshes/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil.xml"]
)
def test_escaping_entries_are_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "bad.zip", {"scene.xml": b"<mujoco/>", name: b"x"})
    with pytest.raises(UnsafeArchiveError):
        extract_zip_safely(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.xml").exists()


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("scene.xml")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_zip_safely(path, tmp_path / "out")


def test_size_and_entry_count_are_bounded(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "big.zip", {"scene.xml": b"0" * 10_000, "b.xml": b"1"})
    with pytest.raises(UnsafeArchiveError, match="bytes"):
        extract_zip_safely(archive, tmp_path / "a", max_total_bytes=5_000)
    with pytest.raises(UnsafeArchiveError, match="entries"):
        extract_zip_safely(archive, tmp_path / "b", max_entries=1)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_zip_without_a_scene_file_is_reported(tmp_path: Path) -> None:
    files = extract_zip_safely(_zip(tmp_path / "m.zip", {"mesh.obj": b"v"}), tmp_path / "o")
    with pytest.raises(UnsafeArchiveError, match=r"no \.usd"):
        find_primary_file(files, tmp_path / "o", (".usd", ".usda"))


def test_a_non_empty_destination_is_refused_and_left_alone(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.zip", {"scene.xml": b"<mujoco/>"})
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "keep.txt").write_text("the user's file")
    with pytest.raises(UnsafeArchiveError, match="not empty"):
        extract_zip_safely(archive, dest)
    assert (dest / "keep.txt").read_text() == "the user's file"


def _raw_zip(path: Path, names: list[str]) -> Path:
    """Entries written under the exact names given (zipfile.writestr would clean some)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(zipfile.ZipInfo(name), b"<mujoco/>")
    return path


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (["a", "a/b.xml"], "both a file and a folder"),
        (["a/b.xml", "a"], "both a file and a folder"),
        (["."], "names no file"),
        (["scene.xml", "./scene.xml"], "appears twice"),
    ],
)
def test_crafted_layouts_are_refused_with_nothing_written(
    tmp_path: Path, names: list[str], reason: str
) -> None:
    """Found from outside: these raised FileExistsError/IsADirectoryError tracebacks."""
    archive = _raw_zip(tmp_path / "crafted.zip", names)
    with pytest.raises(UnsafeArchiveError, match=reason):
        extract_zip_safely(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_nul_in_an_entry_name_is_refused(tmp_path: Path) -> None:
    """zipfile cuts a name at its NUL, so `a\\0b.xml` would have been written as `a`."""
    archive = _raw_zip(tmp_path / "nul.zip", ["aQb.xml"])
    archive.write_bytes(archive.read_bytes().replace(b"aQb.xml", b"a\x00b.xml"))
    with pytest.raises(UnsafeArchiveError, match="NUL"):
        extract_zip_safely(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
