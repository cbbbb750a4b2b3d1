"""The panel's connection settings: base URL and API key.

Both live under Kit's `persistent` settings, so they survive restarts, and the environment
variables `GIZMO_BASE_URL` / `GIZMO_API_KEY` win over them. When neither gives a key, the client
still looks in the config file `gizmo login` writes. The key is never put in a repr or a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "API_KEY_SETTING",
    "BASE_URL_SETTING",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "EXT_NAME",
    "POLL_INTERVAL_SETTING",
    "ConnectionSettings",
    "SettingsStore",
    "resolve",
    "save",
]

EXT_NAME = "gizmo.scenes"
BASE_URL_SETTING = f"/persistent/exts/{EXT_NAME}/base_url"
API_KEY_SETTING = f"/persistent/exts/{EXT_NAME}/api_key"
POLL_INTERVAL_SETTING = f"/exts/{EXT_NAME}/poll_interval"
ENV_BASE_URL = "GIZMO_BASE_URL"
ENV_API_KEY = "GIZMO_API_KEY"

FROM_ENV = "environment"
FROM_SETTINGS = "Kit settings"
FROM_CLIENT = "client default"


class SettingsStore(Protocol):
    """What the panel needs of `carb.settings.get_settings()`."""

    def get(self, path: str) -> Any: ...

    def set(self, path: str, value: Any) -> None: ...


@dataclass(frozen=True)
class ConnectionSettings:
    """Resolved settings; `None` leaves the choice to the client (its config file or default)."""

    base_url: str | None
    api_key: str | None = field(repr=False)
    base_url_source: str
    api_key_source: str


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _pick(env_value: str | None, stored: Any) -> tuple[str | None, str]:
    env = _text(env_value)
    if env is not None:
        return env, FROM_ENV
    kept = _text(stored)
    if kept is not None:
        return kept, FROM_SETTINGS
    return None, FROM_CLIENT


def resolve(store: SettingsStore, environ: Mapping[str, str]) -> ConnectionSettings:
    """Environment first, then Kit's persistent settings, then whatever the client resolves."""
    base_url, url_source = _pick(environ.get(ENV_BASE_URL), store.get(BASE_URL_SETTING))
    api_key, key_source = _pick(environ.get(ENV_API_KEY), store.get(API_KEY_SETTING))
    return ConnectionSettings(
        base_url=base_url.rstrip("/") if base_url else None,
        api_key=api_key,
        base_url_source=url_source,
        api_key_source=key_source,
    )


def save(store: SettingsStore, *, base_url: str, api_key: str | None) -> None:
    """Store what the user typed; `api_key=None` keeps the stored key, `""` forgets it."""
    store.set(BASE_URL_SETTING, base_url.strip())
    if api_key is not None:
        store.set(API_KEY_SETTING, api_key.strip())
