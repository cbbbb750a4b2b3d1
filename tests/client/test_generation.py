"""Which API generation a client speaks: forced (argument, env, config file) or detected once
from the real local server, and the typed error for a call of the other generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.config import resolve_settings, save_config
from gizmo_client.errors import ConfigurationError, UnsupportedFormatError, WrongGenerationError
from gizmo_client.formats import suffixes_for, wire_format
from gizmo_client.generation import ENV_VAR, ApiGeneration
from gizmo_server.embedded import LocalServer

from .conftest import SentRequest


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GIZMO_API_KEY", "GIZMO_BASE_URL", ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIZMO_CONFIG", str(tmp_path / "cfg" / "config.json"))


def test_the_alpha_local_server_is_detected_as_alpha_once(
    tmp_path: Path, sent: list[SentRequest]
) -> None:
    # A key no other test uses, so the process-wide detection cache starts empty for it.
    with LocalServer(demo=True, api_keys=["detect-once-key"]) as server:
        for _ in range(2):
            with GizmoClient("detect-once-key", server.base_url, cache_dir=tmp_path) as client:
                assert client.api_generation is ApiGeneration.ALPHA
                client.scenes.list()
    whoami = [r for r in sent if r.url.endswith("/whoami")]
    assert len(whoami) == 1


def test_a_forced_generation_never_asks(local_server: LocalServer, sent: list[SentRequest]) -> None:
    client = GizmoClient(local_server.api_key, local_server.base_url, api_generation="alpha")
    assert client.api_generation is ApiGeneration.ALPHA
    assert client.scenes.list().total >= 1
    assert not [r for r in sent if r.url.endswith("/whoami")]


def test_precedence_argument_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(api_key="k", base_url="https://file.example/v1", api_generation="jobs")
    assert resolve_settings().api_generation is ApiGeneration.JOBS
    # The file's generation belongs to its URL only.
    assert resolve_settings("k", "https://other.example/v1").api_generation is None
    monkeypatch.setenv(ENV_VAR, "alpha")
    assert resolve_settings().api_generation is ApiGeneration.ALPHA
    assert resolve_settings(api_generation="auto").api_generation is None
    assert resolve_settings(api_generation="JOBS").api_generation is ApiGeneration.JOBS
    save_config(api_key="k", base_url="https://new.example/v1")
    monkeypatch.delenv(ENV_VAR)
    assert resolve_settings().api_generation is None  # not carried over to the new URL


def test_a_bad_generation_says_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "beta")
    with pytest.raises(ConfigurationError, match=f"{ENV_VAR} is 'beta'") as info:
        resolve_settings("k")
    assert "alpha" in str(info.value) and "jobs" in str(info.value)


def test_a_jobs_call_on_the_alpha_server_names_what_to_call_instead(
    local_server: LocalServer, tmp_path: Path
) -> None:
    with GizmoClient(local_server.api_key, local_server.base_url, cache_dir=tmp_path) as client:
        with pytest.raises(WrongGenerationError) as info:
            client.scenes.generate("a warehouse")
        text = str(info.value)
        assert "jobs API generation" in text and "speaks alpha" in text
        assert "scenes.create" in text
        for call in (
            lambda: client.jobs.get("job_x"),
            lambda: client.whoami(),
            lambda: client.catalog.categories(),
            lambda: client.scenes.export_zip("s", "mjcf", tmp_path / "x.zip"),
        ):
            with pytest.raises(WrongGenerationError):
                call()


def test_format_names_map_both_ways_in_one_place() -> None:
    assert wire_format("mujoco_mjcf", ApiGeneration.JOBS) == "mjcf"
    assert wire_format("usd", ApiGeneration.ALPHA) == "isaac_sim_usd"
    assert wire_format("MJCF", ApiGeneration.JOBS) == "mjcf"
    assert wire_format("isaac_sim_urdf", ApiGeneration.ALPHA) == "isaac_sim_urdf"
    assert suffixes_for("usd") == suffixes_for("isaac_sim_usd")
    with pytest.raises(UnsupportedFormatError, match="does not exist in the jobs"):
        wire_format("isaac_sim_urdf", ApiGeneration.JOBS)
    with pytest.raises(UnsupportedFormatError, match="does not exist in the alpha"):
        wire_format("sdf", ApiGeneration.ALPHA)
    with pytest.raises(ValueError, match="Unknown export format 'obj'"):
        wire_format("obj", ApiGeneration.ALPHA)
