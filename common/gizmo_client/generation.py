"""Which generation of the Gizmo API a service speaks: `alpha` (Parts A/B of the contract: flat
bodies, export links) or `jobs` (Part C: `{"ok": true}` envelopes, generation jobs, ZIP exports).

The user may force it (argument `api_generation=`, env `GIZMO_API_GENERATION`, the config file's
`api_generation`; `auto` or unset means detect). Detection is lazy, one `GET /whoami` (2xx only on
the jobs generation), and cached per (base URL, key) for the life of the process.
"""

from __future__ import annotations

import logging
import threading
from enum import Enum

from .errors import APIStatusError, AuthenticationError, ConfigurationError, WrongGenerationError
from .transport import Transport

__all__ = ["ENV_VAR", "ApiGeneration", "GenerationResolver", "parse_generation"]

logger = logging.getLogger("gizmo_client")

ENV_VAR = "GIZMO_API_GENERATION"


class ApiGeneration(str, Enum):
    ALPHA = "alpha"
    JOBS = "jobs"


def parse_generation(value: str | ApiGeneration | None, source: str) -> ApiGeneration | None:
    """`None` for auto-detection; a clear `ConfigurationError` naming `source` for a bad value."""
    if isinstance(value, ApiGeneration):
        return value
    if value is None or not value.strip() or value.strip().lower() == "auto":
        return None
    try:
        return ApiGeneration(value.strip().lower())
    except ValueError:
        raise ConfigurationError(
            f"{source} is {value!r}, which is not an API generation.",
            hint="Use 'alpha', 'jobs' or 'auto' (detect from the service).",
        ) from None


_detected: dict[tuple[str, str], ApiGeneration] = {}
_detected_lock = threading.Lock()


def _detect(transport: Transport) -> ApiGeneration:
    """Ask the service once: `GET /whoami` answers 2xx only on the jobs generation."""
    key = (transport.base_url, transport.key_digest())
    with _detected_lock:
        if key in _detected:
            return _detected[key]
    try:
        transport.request("GET", "/whoami")
        found = ApiGeneration.JOBS
    except AuthenticationError:
        raise  # a refused key says nothing about the generation; never cache it
    except APIStatusError as exc:
        if exc.status >= 500:
            raise
        found = ApiGeneration.ALPHA
    logger.debug("%s speaks the %s API generation", transport.base_url, found.value)
    with _detected_lock:
        _detected[key] = found
    return found


class GenerationResolver:
    """The generation of one client, forced or detected on first use."""

    def __init__(self, transport: Transport, forced: ApiGeneration | None) -> None:
        self._transport = transport
        self._value = forced

    @property
    def value(self) -> ApiGeneration:
        if self._value is None:
            self._value = _detect(self._transport)
        return self._value

    def require(self, generation: ApiGeneration, call: str, instead: str) -> None:
        """Raise `WrongGenerationError` unless the service speaks `generation`."""
        actual = self.value
        if actual is generation:
            return
        raise WrongGenerationError(
            f"{call} belongs to the {generation.value} API generation, but "
            f"{self._transport.base_url} speaks {actual.value}.",
            hint=f"Call {instead} instead, or force api_generation='{generation.value}' "
            f"(env GIZMO_API_GENERATION) if the detection is wrong.",
        )
