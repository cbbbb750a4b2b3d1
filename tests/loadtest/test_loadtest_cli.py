"""`gizmo loadtest` end to end: the demo account passes (HTML report kept as a CI artifact), the
offline check fails on a broken file, and bad input gets a clear error and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import loadtest_exports as damage
import pytest
from loadtest_exports import Workcell

from gizmo_client.cli import main
from gizmo_server.embedded import LocalServer

REPO = Path(__file__).resolve().parents[2]


def _artifacts() -> Path:
    """The CI artifacts directory (kept after the run): $GIZMO_ARTIFACTS_DIR, else ./artifacts."""
    return Path(os.environ.get("GIZMO_ARTIFACTS_DIR") or REPO / "artifacts").resolve()


def test_demo_account_passes_end_to_end_with_two_workers(tmp_path: Path) -> None:
    """The installed `gizmo` script, its default target (the embedded demo server), 2 processes."""
    artifacts = _artifacts()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    env |= {"GIZMO_ARTIFACTS_DIR": str(artifacts), "GIZMO_CONFIG": str(tmp_path / "none.json")}
    gizmo = Path(sys.executable).with_name("gizmo")
    done = subprocess.run(
        [str(gizmo), "loadtest", "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.splitlines()[0] == "Target: embedded demo server"
    assert "9 passed, 0 failed, 0 skipped" in done.stdout
    report = json.loads((artifacts / "loadtest" / "report.json").read_text())
    assert report["passed"] is True
    assert report["target"] == "embedded demo server"
    assert report["workers"] == 2 and report["scenes_per_minute"] > 0
    assert {s["name"] for s in report["scenes"]} == {
        "Warehouse Workcell Alpha",
        "Pick Station Beta",
        "Mobile Inspection Cell",
    }
    html = (artifacts / "loadtest" / "report.html").read_text()
    assert "all cases passed" in html
    assert html.count('src="data:image/png;base64,') == 6  # per scene: MJCF and USD drawn
    assert html.count('title="the USD stage, drawn by MuJoCo"') == 3
    assert "{'" not in html and "formats MJCF and USD; 500 MuJoCo steps" in html


def _scene_json(workcell: Workcell, tmp_path: Path) -> Path:
    path = tmp_path / "scene.json"
    path.write_text(workcell.scene.model_dump_json())
    return path


def test_offline_check_of_a_broken_export_exits_1_and_names_the_placement(
    workcell: Workcell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crate = workcell.placement("Shipping Crate")
    broken = damage.usd_wire_order_quaternion(workcell.usd, tmp_path / "broken.usd", crate)
    code = main(
        [
            "loadtest",
            "--file",
            str(broken),
            "--scene-json",
            str(_scene_json(workcell, tmp_path)),
            "--artifacts",
            str(tmp_path / "art"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert f"usd.pose: placement {crate.id} (Shipping Crate)" in out
    report = json.loads((tmp_path / "art" / "report.json").read_text())
    assert report["passed"] is False and report["summary"]["failed_cases"] == 1
    assert report["settings"]["formats"] == ["isaac_sim_usd"]


def test_offline_check_accepts_a_zip_and_checks_both_formats(
    workcell: Workcell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(workcell.mjcf, "scene/scene.xml")
    usd_copy = shutil.copy(workcell.usd, tmp_path / "scene.usd")
    code = main(
        [
            "--json",
            "loadtest",
            "--file",
            str(archive),
            "--file",
            str(usd_copy),
            "--scene-json",
            str(_scene_json(workcell, tmp_path)),
            "--artifacts",
            str(tmp_path / "art"),
            "--no-thumbnails",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    (scene,) = report["scenes"]
    assert set(scene["results"]) == {"mujoco_mjcf", "isaac_sim_usd", "cross_format"}
    assert all(r["passed"] for r in scene["results"].values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scene-json", "{json}"], "--scene-json needs the export to check: give --file"),
        (["--file", "{tmp}/nope.usd", "--scene-json", "{json}"], "No such export file"),
        (["--file", "{usd}", "--scene-json", "{tmp}/bad.json"], "is not a Gizmo scene object"),
        (["--file", "{usd}", "--scene-json", "{json}", "--scene", "scn_x"], "cannot be combined"),
        (["--file", "{usd}", "--file", "{usd}", "--scene-json", "{json}"], "Two isaac_sim_usd"),
    ],
    ids=["no-file", "missing-file", "not-a-scene", "mixed-modes", "two-usd"],
)
def test_bad_offline_input_exits_2_with_a_clear_error(
    argv: list[str],
    message: str,
    workcell: Workcell,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad.json").write_text('{"id": "scn_1", "assets": []}')
    values = {"usd": workcell.usd, "json": _scene_json(workcell, tmp_path), "tmp": tmp_path}
    filled = [a.format(**values) for a in argv]
    code = main(["loadtest", *filled, "--artifacts", str(tmp_path / "art")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "art").exists()  # nothing half-written


def test_hosted_account_with_match_format_and_global_options(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gizmo --api-key K --base-url U --json loadtest --match beta --format mjcf`."""
    code = main(
        [
            "--api-key",
            local_server.api_key,
            "--base-url",
            local_server.base_url,
            "--json",
            "loadtest",
            "--match",
            "BETA",
            "--format",
            "mjcf",
            "--no-thumbnails",
            "--artifacts",
            str(tmp_path / "art"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert report["target"] == local_server.base_url
    assert local_server.api_key not in out
    (scene,) = report["scenes"]
    assert scene["name"] == "Pick Station Beta"
    assert list(scene["results"]) == ["mujoco_mjcf"]


def test_unknown_scene_and_empty_match_fail(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--api-key", local_server.api_key, "--base-url", local_server.base_url]
    art = ["--artifacts", str(tmp_path / "art")]
    assert main(["loadtest", *target, "--scene", "scn_doesnotexist", *art]) == 4  # not found
    assert main(["loadtest", *target, "--match", "no such scene name", *art]) == 1
    assert "nothing to check: no scene name contains" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "abc"], "argument --steps: must be a whole number, got 'abc'"),
        (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["--position-tol", "-1"], "argument --position-tol: must be a positive finite number"),
        (["--rotation-tol", "nan"], "argument --rotation-tol: must be a positive finite number"),
        (["--format", "urdf"], "argument --format: invalid choice: 'urdf'"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["loadtest", *argv]) == 2
    assert message in capsys.readouterr().err


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    env["GIZMO_CONFIG"] = str(tmp_path / "none.json")
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )


def test_help_does_not_import_ray(tmp_path: Path) -> None:
    done = _python(
        "import sys\n"
        "from gizmo_client.cli import main\n"
        "for argv in (['--help'], ['loadtest', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('RAY LOADED' if 'ray' in sys.modules else 'no ray')\n",
        tmp_path,
    )
    assert done.stdout.strip().endswith("no ray"), done.stdout + done.stderr
    assert "--ray ADDRESS" in done.stdout


def test_ray_option_without_ray_installed_is_one_clear_line(tmp_path: Path) -> None:
    """`sys.modules['ray'] = None` makes `import ray` fail as if it were not installed."""
    done = _python(
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "from gizmo_client.cli import main\n"
        "sys.exit(main(['loadtest', '--ray', 'local', '--no-thumbnails']))\n",
        tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "--ray needs Ray, which is not installed here" in done.stderr
    assert "pip install 'gizmo-sim[distributed]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_environments_jobs_account_is_tested_and_named_first(
    local_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13.2: GIZMO_BASE_URL/GIZMO_API_KEY exported with the jobs demo key, no --hosted:
    that account's newer-generation scene is checked, not a private embedded server's."""
    monkeypatch.setenv("GIZMO_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setenv("GIZMO_BASE_URL", local_server.base_url)
    monkeypatch.setenv("GIZMO_API_KEY", local_server.gen2_api_key)
    with local_server.client(api_key=local_server.gen2_api_key, cache_dir=tmp_path) as client:
        scene = next(iter(client.scenes.iter_all()))
    art = tmp_path / "art"
    code = main(["loadtest", "--scene", scene.id, "--no-thumbnails", "--artifacts", str(art)])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    first = captured.err.splitlines()[0]
    assert first == f"Target: {local_server.base_url} (jobs API generation)"
    assert local_server.gen2_api_key not in captured.out + captured.err
    report = json.loads((art / "report.json").read_text())
    assert report["target"] == local_server.base_url
    assert [s["name"] for s in report["scenes"]] == [scene.name]
    assert report["passed"] is True


def test_ctrl_c_leaves_a_partial_report_marked_as_such(tmp_path: Path) -> None:
    """Issue 13.9: Ctrl-C after the first scene: exit 130, and the report of the finished scenes
    is written and says it is partial (in the JSON, the HTML and the console)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    env |= {"GIZMO_CONFIG": str(tmp_path / "none.json")}
    gizmo = Path(sys.executable).with_name("gizmo")
    art = tmp_path / "art"
    run = subprocess.Popen(
        [str(gizmo), "loadtest", "--steps", "20000", "--no-thumbnails", "--artifacts", str(art)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    for line in run.stderr:
        if line.startswith("[1/3]"):
            run.send_signal(signal.SIGINT)
            break
    _, rest = run.communicate(timeout=120)
    assert run.returncode == 130, rest
    assert rest.strip().splitlines()[-1] == "interrupted", rest
    assert "Traceback" not in rest and "Partial reports:" in rest
    report = json.loads((art / "report.json").read_text())
    assert report["partial"] is True and 1 <= len(report["scenes"]) < 3
    assert "PARTIAL report: the run was interrupted" in (art / "report.html").read_text()
