"""Where the API key, base URL and cache directory come from.

Precedence, highest first: explicit argument > environment (`GIZMO_API_KEY`, `GIZMO_BASE_URL`,
`GIZMO_CACHE_DIR`, `GIZMO_API_GENERATION`) > the config file that `gizmo login` writes > the
documented default. The file's key and `api_generation` hold only for the URL saved with them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .errors import ConfigurationError
from .generation import ENV_VAR as GENERATION_ENV_VAR
from .generation import ApiGeneration, parse_generation

__all__ = ["DEFAULT_BASE_URL", "Settings", "config_path", "resolve_settings", "save_config"]

DEFAULT_BASE_URL = "https://api.gizmo.antimlabs.com/v1"
APP_NAME = "gizmo"


def config_path() -> Path:
    """The config file: `GIZMO_CONFIG` if set, else the user config dir's `config.json`."""
    override = os.environ.get("GIZMO_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.json"


def default_cache_dir() -> Path:
    override = os.environ.get("GIZMO_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "exports"


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"Could not read the config file {path}: {exc}",
            hint="Fix or delete the file, then run `gizmo login` again.",
        ) from exc
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings. The key is kept out of the repr."""

    api_key: str
    base_url: str
    cache_dir: Path
    #: Forced API generation; `None` means detect it from the service.
    api_generation: ApiGeneration | None = None

    def __repr__(self) -> str:
        return (
            f"Settings(api_key='***', base_url={self.base_url!r}, "
            f"cache_dir={str(self.cache_dir)!r}, api_generation={self.api_generation!r})"
        )


def resolve_settings(
    api_key: str | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    api_generation: ApiGeneration | str | None = None,
) -> Settings:
    """Resolve by precedence; a missing key raises `ConfigurationError` saying how to set one."""
    file_values = _read_config(config_path())
    saved_url = str(file_values.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    url = str(base_url or os.environ.get("GIZMO_BASE_URL") or saved_url).rstrip("/")
    key = api_key or os.environ.get("GIZMO_API_KEY")
    if not key and file_values.get("api_key"):
        # The saved key belongs to the URL it was saved for: never send it to another host.
        if url != saved_url:
            raise ConfigurationError(
                f"The key saved by `gizmo login` is for {saved_url}, not {url}.",
                hint=f"Set GIZMO_API_KEY for {url}, or run `gizmo login --base-url {url}`.",
            )
        key = file_values["api_key"]
    if not key or not str(key).strip():
        raise ConfigurationError("No Gizmo API key is configured.")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if api_generation is not None:
        generation = parse_generation(api_generation, "api_generation")
    elif os.environ.get(GENERATION_ENV_VAR):
        generation = parse_generation(os.environ[GENERATION_ENV_VAR], GENERATION_ENV_VAR)
    elif url == saved_url:
        saved = file_values.get("api_generation")
        generation = parse_generation(
            str(saved) if saved else None, f"api_generation in {config_path()}"
        )
    else:
        generation = None
    return Settings(
        api_key=str(key).strip(), base_url=url, cache_dir=cache, api_generation=generation
    )


def save_config(
    *, api_key: str, base_url: str, api_generation: ApiGeneration | str | None = None
) -> Path:
    """Write the key, the base URL it belongs to and (if forced) that URL's API generation,
    atomically, with mode 0600. A generation saved for an earlier URL is dropped."""
    generation = parse_generation(api_generation, "api_generation")
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    values = _read_config(path)
    values["api_key"] = api_key
    values["base_url"] = base_url.rstrip("/")
    values.pop("api_generation", None)
    if generation is not None:
        values["api_generation"] = generation.value
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(values, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
