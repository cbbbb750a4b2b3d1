"""Configuration precedence, the login file's permissions, and the missing-key message."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gizmo_client import GizmoClient
from gizmo_client.config import DEFAULT_BASE_URL, resolve_settings, save_config
from gizmo_client.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("GIZMO_API_KEY", "GIZMO_BASE_URL", "GIZMO_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "cfg" / "config.json"
    monkeypatch.setenv("GIZMO_CONFIG", str(config))
    return config


def test_argument_beats_environment_beats_file_beats_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_config(api_key="file-key", base_url="https://file.example/v1")
    assert resolve_settings().api_key == "file-key"
    assert resolve_settings().base_url == "https://file.example/v1"
    monkeypatch.setenv("GIZMO_API_KEY", "env-key")
    monkeypatch.setenv("GIZMO_BASE_URL", "https://env.example/v1/")
    assert resolve_settings().api_key == "env-key"
    assert resolve_settings().base_url == "https://env.example/v1"
    explicit = resolve_settings("arg-key", "https://arg.example/v1")
    assert (explicit.api_key, explicit.base_url) == ("arg-key", "https://arg.example/v1")


def test_default_base_url_is_the_documented_one() -> None:
    assert (
        resolve_settings("k").base_url == DEFAULT_BASE_URL == "https://api.gizmo.antimlabs.com/v1"
    )


def test_saved_config_is_private(_isolated_env: Path) -> None:
    path = save_config(api_key="secret-key", base_url=DEFAULT_BASE_URL)
    assert path == _isolated_env
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["api_key"] == "secret-key"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".config-")]


def test_missing_key_says_how_to_set_one() -> None:
    with pytest.raises(ConfigurationError) as info:
        GizmoClient()
    text = str(info.value)
    assert "GIZMO_API_KEY" in text and "gizmo login" in text


def test_reprs_never_show_the_key() -> None:
    settings = resolve_settings("sk-very-secret")
    with GizmoClient(api_key="sk-very-secret", base_url="http://127.0.0.1:9/v1") as client:
        assert "sk-very-secret" not in repr(client)
    assert "sk-very-secret" not in repr(settings)


def test_the_saved_key_is_never_sent_to_another_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(api_key="hosted-key", base_url="https://api.gizmo.antimlabs.com/v1")
    assert resolve_settings().api_key == "hosted-key"
    monkeypatch.setenv("GIZMO_BASE_URL", "http://127.0.0.1:8000/v1")
    with pytest.raises(ConfigurationError) as info:
        resolve_settings()
    assert "https://api.gizmo.antimlabs.com/v1" in str(info.value)
    assert "gizmo login --base-url http://127.0.0.1:8000/v1" in str(info.value)
    assert "hosted-key" not in str(info.value)
    assert resolve_settings(api_key="local-key").api_key == "local-key"
