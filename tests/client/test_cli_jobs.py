"""The jobs generation from the command line, against the real local server's newer API:
generate and edit with live progress, jobs, catalog, formats, credits, wrong-generation calls."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client.cli import (
    EXIT_CREDITS,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_NOT_READY,
    EXIT_USAGE,
)
from gizmo_server.embedded import LocalServer

from .cli_support import GIZMO, run, run_json, stderr_on_a_tty, subprocess_env, use_server

PROMPT = "a small workcell with an arm and a table"


@pytest.fixture
def jobs_env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, local_server, tmp_path, api_key=local_server.gen2_api_key)


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LocalServer]:
    with LocalServer(demo=True, job_seconds=60.0) as server:
        yield server


@pytest.fixture
def slow_env(slow_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, slow_server, tmp_path, api_key=slow_server.gen2_api_key)


@pytest.mark.usefixtures("jobs_env")
def test_generate_wait_shows_stages_assets_and_time_then_prints_the_scene(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, err = run(capsys, "scenes", "generate", PROMPT, "--wait")
    scene_id = out.strip()
    assert re.fullmatch(r"[a-z0-9]{16}", scene_id), out
    lines = err.strip().splitlines()
    progress = [line for line in lines if line.startswith("job_")]
    assert all(re.match(r"job_\w+ +\d+\.\d s  ", line) for line in progress), progress
    text = "\n".join(progress)
    for stage in ("scene_director", "placement_plan", "physics_validation"):
        assert f"{stage} …" in text and f"{stage} done" in text
    assert re.search(r"asset [a-z0-9]{16} ready", text) and progress[-1].endswith("succeeded")
    assert lines[-1] == f"scene {scene_id} is ready; fetch it with `gizmo scenes fetch {scene_id}`"
    scene = run_json(capsys, "scenes", "show", scene_id)
    assert scene["version"] == 1 and scene["assets"]
    for fmt, suffix in (("mjcf", ".xml"), ("usd", ".usda"), ("sdf", ".sdf")):
        path, _ = run(capsys, "scenes", "fetch", scene_id, "--format", fmt)
        assert Path(path.strip()).suffix == suffix and Path(path.strip()).is_file()
    saved, err = run(
        capsys, "scenes", "export", scene_id, "--format", "usd", "-o", f"{tmp_path}/s.usd"
    )
    assert Path(saved.strip()) == tmp_path / "s" / "scene.usda" and "ZIP archive" in err


@pytest.mark.usefixtures("jobs_env")
def test_edit_then_watch_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    scene_id = run(capsys, "scenes", "generate", PROMPT, "--wait")[0].strip()
    out, err = run(capsys, "scenes", "edit", scene_id, "add a conveyor along the north wall")
    assert out.strip() == scene_id
    job_id = re.search(r"gizmo jobs watch (job_\w+)", err)
    assert job_id
    watched = run_json(capsys, "jobs", "watch", job_id.group(1))
    assert watched["status"] == "succeeded" and watched["result"]["scene_id"] == scene_id
    shown, _ = run(capsys, "jobs", "show", job_id.group(1))
    assert shown.splitlines()[0].split()[:2] == [job_id.group(1), "succeeded"]
    assert f"scene: {scene_id}" in shown
    assert run_json(capsys, "scenes", "show", scene_id)["version"] == 2


@pytest.mark.usefixtures("jobs_env")
def test_whoami_and_usage(local_server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    who = run_json(capsys, "whoami")
    assert who["api_generation"] == "jobs" and who["key"]["prefix"].startswith("gzm_k1_")
    out, _ = run(capsys, "whoami")
    assert "credits:" in out and "requests/min" in out
    assert local_server.gen2_api_key not in out
    assert "credits" in run_json(capsys, "usage")


def test_whoami_on_the_alpha_generation(
    local_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_server(monkeypatch, local_server, tmp_path)
    assert run_json(capsys, "whoami")["api_generation"] == "alpha"
    _, err = run(capsys, "scenes", "generate", PROMPT, code=EXIT_USAGE)
    assert "`gizmo scenes generate` needs the jobs API generation" in err
    assert "GIZMO_API_GENERATION=jobs" in err
    _, err = run(capsys, "jobs", "show", "job_x", code=EXIT_USAGE)
    assert "gizmo assets wait" in err


@pytest.mark.usefixtures("jobs_env")
def test_alpha_commands_on_the_jobs_generation_say_what_to_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, err = run(capsys, "scenes", "create", "x", code=EXIT_USAGE)
    assert "`gizmo scenes generate PROMPT`" in err
    _, err = run(capsys, "assets", "generate", "a crate", code=EXIT_USAGE)
    assert "give --scene ID" in err
    scene_id = run_json(capsys, "scenes", "list")["scenes"][0]["id"]
    _, err = run(
        capsys, "scenes", "export", scene_id, "--format", "mjcf", "--link", code=EXIT_USAGE
    )
    assert "there is no link to print" in err


@pytest.mark.usefixtures("jobs_env")
def test_an_asset_generated_into_a_scene(capsys: pytest.CaptureFixture[str]) -> None:
    scene_id = run_json(capsys, "scenes", "list")["scenes"][0]["id"]
    out, err = run(capsys, "assets", "generate", "a shipping crate", "--scene", scene_id, "--wait")
    asset_id = out.strip()
    assert f"asset {asset_id} ready" in err
    assert run_json(capsys, "assets", "show", asset_id)["id"] == asset_id
    in_scene = run_json(capsys, "assets", "list", "--scene", scene_id, "--all")
    assert asset_id in [a["id"] for a in in_scene["assets"]]
    assert all(a["scene_id"] == scene_id for a in in_scene["assets"])


@pytest.mark.usefixtures("jobs_env")
def test_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    found = run_json(capsys, "catalog", "search", "arm")
    assert found["total"] >= 1 and found["items"]
    slug = found["items"][0]["slug"]
    shown, _ = run(capsys, "catalog", "show", slug)
    assert shown.split()[0] == slug
    categories = run_json(capsys, "catalog", "categories")
    assert any(c["slug"] == found["items"][0]["category"] for c in categories)
    out, err = run(capsys, "catalog", "search", "no such thing at all")
    assert out == "" and "no catalog item matching 'no such thing at all'" in err


@pytest.mark.usefixtures("slow_env")
def test_cancel_a_running_job_and_a_timeout_says_how_to_resume(
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = run_json(capsys, "scenes", "generate", PROMPT)
    _, err = run(capsys, "jobs", "watch", job["id"], "--timeout", "0.5", code=EXIT_NETWORK)
    assert "it goes on on the service" in err and f"`gizmo jobs watch {job['id']}`" in err
    scene_id = job["scene_id"]
    _, err = run(capsys, "scenes", "fetch", scene_id, code=EXIT_NOT_READY)
    assert "its generation is" in err and f"gizmo scenes status {scene_id}" in err
    run(capsys, "jobs", "cancel", job["id"])
    _, err = run(capsys, "jobs", "watch", job["id"], code=EXIT_NOT_READY)
    assert "cancelled" in err


def test_ctrl_c_during_wait_gives_the_watch_command(
    slow_server: LocalServer, tmp_path: Path
) -> None:
    env = subprocess_env(slow_server, tmp_path, GIZMO_API_KEY=slow_server.gen2_api_key)
    with subprocess.Popen(
        [*GIZMO, "scenes", "generate", PROMPT, "--wait"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # "job_…  0.0 s  queued": it follows the job now
        job_id = first.split()[0]
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == EXIT_INTERRUPTED
    assert job_id.startswith("job_")
    assert rest.strip().splitlines()[-1] == (
        f"interrupted: stopped watching; job {job_id} goes on. "
        f"Watch again: gizmo jobs watch {job_id} (or stop it: gizmo jobs cancel {job_id})"
    )


def test_no_credits_has_its_own_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with LocalServer(api_keys=["gzm_k1_broke_account_key_for_tests"], gen2_credits=0) as server:
        use_server(monkeypatch, server, tmp_path, api_key=server.gen2_api_key)
        _, err = run(capsys, "scenes", "generate", PROMPT, code=EXIT_CREDITS)
    assert "insufficient_credits" in err and "HTTP 402" in err


def test_on_a_terminal_generate_wait_draws_a_bar(local_server: LocalServer, tmp_path: Path) -> None:
    env = subprocess_env(local_server, tmp_path, GIZMO_API_KEY=local_server.gen2_api_key)
    shown = stderr_on_a_tty("scenes", "generate", PROMPT, "--wait", env=env)
    assert re.search(r"job_\w+ physics_validation … .*\d+%", shown), shown
    assert "100%" in shown
    assert re.search(r"job_\w+ asset [a-z0-9]{16} ready\r?\n", shown)  # printed above the bar


@pytest.mark.usefixtures("jobs_env")
def test_fetch_wait_waits_for_a_generating_scene(capsys: pytest.CaptureFixture[str]) -> None:
    job = run_json(capsys, "scenes", "generate", PROMPT)
    out, err = run(capsys, "scenes", "fetch", job["scene_id"], "--wait", "--timeout", "60")
    assert Path(out.strip()).suffix == ".xml" and Path(out.strip()).is_file()
    assert re.search(rf"{job['scene_id']}: (queued|running|generating) \(\d+\.\d s\)", err), err


@pytest.mark.usefixtures("jobs_env")
def test_the_generation_can_be_forced(capsys: pytest.CaptureFixture[str]) -> None:
    _, err = run(capsys, "scenes", "generate", "x", "--api-generation", "alpha", code=EXIT_USAGE)
    assert "speaks alpha" in err  # forced, though the service speaks jobs
    assert run_json(capsys, "whoami", "--api-generation", "jobs")["api_generation"] == "jobs"
    _, err = run(capsys, "whoami", "--api-generation", "beta", code=EXIT_USAGE)
    assert "argument --api-generation: invalid choice: 'beta'" in err
