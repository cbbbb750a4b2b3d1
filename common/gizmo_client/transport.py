"""HTTP transport: one session, timeouts on every call, retries with backoff and full jitter.

What is retried: connection errors and timeouts (not TLS or URL errors: they never pass), 429
(honouring `Retry-After`, else waiting until `X-RateLimit-Reset`), 502/503/504, and 500 for
reads and keyed writes. A write is retried only when it carries an
`Idempotency-Key` (by default every POST gets a fresh one per logical call, so the server replays
instead of creating a second resource); a write without one is retried only where it provably
never ran (429, connect timeout). A keyed write whose answer was lost after it was sent (dropped
connection, read timeout, a gateway's 502/504) may have taken effect: only a replay of its key
can tell, so it gets the longer budget `max_recovery_retries` rather than reporting a failure
that was in fact a success.
Reads may be conditional (`get_parsed`): a resource answered with an `ETag` is asked for again
with `If-None-Match`, and a 304 returns the object parsed last time (cheap polling). Such a read
may also ask to be held until the resource changes (`Prefer: wait=N`, RFC 7240); whether the
service held it (`Preference-Applied`) is kept in `holds_waits`.
The API key is attached per request to the API base URL only. Success bodies in the newer
generation's `{"ok": true, ...}` envelope are unwrapped here, the one place that sees them all.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import math
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import urllib3

from ._version import __version__
from .errors import (
    APIStatusError,
    GizmoConnectionError,
    GizmoError,
    GizmoTimeoutError,
    ServerError,
    error_for_response,
)
from .redaction import install_log_redaction

__all__ = ["USER_AGENT", "RetryPolicy", "Transport", "unwrap"]

logger = logging.getLogger("gizmo_client")

T = TypeVar("T")
#: How many conditional answers (ETag and parsed object) a transport remembers, least recent out.
CONDITIONAL_ENTRIES = 256
#: Seconds a held read may take beyond its `wait` before it counts as timed out.
WAIT_MARGIN = 10.0

USER_AGENT = f"gizmo-sim/{__version__} (python-requests/{requests.__version__})"
Timeout = tuple[float, float]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait: exponential backoff with full jitter."""

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_after: float = 60.0
    #: Retries of a keyed write whose answer was lost (it may have run; a replay recovers it).
    max_recovery_retries: int = 16

    def budget(self, outcome_unknown: bool) -> int:
        """How many retries a call gets; `max_retries=0` (no retries) is honoured always."""
        if outcome_unknown and self.max_retries > 0:
            return max(self.max_retries, self.max_recovery_retries)
        return self.max_retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0.0, min(self.backoff_cap, self.backoff_base * 2**attempt))


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_rate_limit_reset(value: str | None) -> float | None:
    """Seconds until `X-RateLimit-Reset`: epoch seconds, or (if small) a delta in seconds."""
    if not value:
        return None
    try:
        reset = float(value)
    except ValueError:
        return None
    if reset > 1e9:
        reset -= time.time()
    return max(0.0, reset)


def unwrap(body: Any) -> Any:
    """The newer generation's success body without its `ok` flag; any other body unchanged."""
    if isinstance(body, dict) and body.get("ok") is True:
        return {key: value for key, value in body.items() if key != "ok"}
    return body


_PERMANENT_FAILURES = (
    requests.exceptions.SSLError,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidURL,
)


def _retryable_status(status: int, replay_safe: bool) -> bool:
    return status == 429 or (replay_safe and status in (500, 502, 503, 504))


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request provably never reached the server (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    causes: list[object] = [exc, *exc.args]
    causes += [getattr(c, "reason", None) for c in causes]
    return any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes)


class Transport:
    """Sends API requests; raises the typed errors of `gizmo_client.errors`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeout = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        install_log_redaction()
        self._validators: OrderedDict[tuple[str, str], tuple[str, object]] = OrderedDict()
        self._validators_lock = threading.Lock()
        #: Whether the last read that asked to be held was (`Preference-Applied: wait`); None
        #: before any asked. The hosted service does not hold reads: callers poll on their own.
        self.holds_waits: bool | None = None

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key='***')"

    def key_digest(self) -> str:
        """SHA-256 of the key: tells keys apart (in-process caches) without holding one."""
        return hashlib.sha256(self._api_key.encode()).hexdigest()

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one logical API call (with retries) and return the decoded JSON body.

        `idempotent=False` sends a write without an `Idempotency-Key`, and so never retries it
        where it may have run."""
        response = self.open(
            method, path, json_body=json_body, params=params, idempotent=idempotent
        )
        with response:
            return self._decode(response, method, path)

    def get_parsed(
        self,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, Any] | None = None,
        wait: float = 0.0,
    ) -> T:
        """GET `path` and `parse` its body; conditional when an earlier answer had an `ETag`:
        then a 304 returns that earlier parsed object itself (unparsed; treat it as read-only).
        A service without ETags gets plain GETs. A conditional GET with `wait` (seconds) asks
        to be held until the resource changes or `wait` passes (`holds_waits` says if it was)."""
        key = (path, f"{getattr(parse, '__qualname__', parse)} {sorted((params or {}).items())}")
        with self._validators_lock:
            known = self._validators.get(key)
        headers = {"If-None-Match": known[0]} if known is not None else {}
        timeout = None
        if wait > 0 and known is not None:
            headers["Prefer"] = f"wait={math.ceil(wait)}"
            timeout = (self.timeout[0], max(self.timeout[1], math.ceil(wait) + WAIT_MARGIN))
        response = self.open("GET", path, params=params, headers=headers, timeout=timeout)
        if "Prefer" in headers:
            applied = response.headers.get("Preference-Applied", "").split(",")
            self.holds_waits = any(p.split("=")[0].strip().lower() == "wait" for p in applied)
        with response:
            if response.status_code == 304 and known is not None:
                with self._validators_lock:
                    self._validators[key] = known
                    self._validators.move_to_end(key)
                return known[1]  # type: ignore[return-value]  # stored by this call's `parse`
            parsed = parse(self._decode(response, "GET", path))
            etag = response.headers.get("ETag")
        with self._validators_lock:
            if etag:
                self._validators[key] = (etag, parsed)
                self._validators.move_to_end(key)
                while len(self._validators) > CONDITIONAL_ENTRIES:
                    self._validators.popitem(last=False)
            else:
                self._validators.pop(key, None)
        return parsed

    def open(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        stream: bool = False,
        timeout: Timeout | None = None,
    ) -> requests.Response:
        """Send one logical API call with retries and return its 2xx response, to be closed by
        the caller (`stream=True` leaves the body unread: ZIP exports, event streams)."""
        url = f"{self.base_url}{path}"
        sent_headers = {**(headers or {}), "Authorization": f"Bearer {self._api_key}"}
        replay_safe = method in ("GET", "HEAD")
        keyed = not replay_safe and idempotent
        if keyed:
            sent_headers["Idempotency-Key"] = f"gz-{uuid.uuid4().hex}"
            replay_safe = True
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    json=dict(json_body) if json_body is not None else None,
                    params=dict(params) if params else None,
                    headers=sent_headers,
                    timeout=timeout or self.timeout,
                    stream=stream,
                )
            except requests.Timeout as exc:
                error: GizmoError = GizmoTimeoutError(
                    f"{method} {path} timed out after {attempt + 1} attempt(s) "
                    f"({type(exc).__name__})"
                )
                retry_after = None
                unknown = not isinstance(exc, requests.ConnectTimeout)
                if not replay_safe and unknown:
                    raise error from exc
            except _PERMANENT_FAILURES as exc:
                # A TLS mismatch or a malformed URL fails the same way every time: no retries.
                raise GizmoConnectionError(
                    f"{method} {path} cannot reach {self.base_url}: {type(exc).__name__}"
                ) from exc
            except requests.RequestException as exc:
                error = GizmoConnectionError(
                    f"{method} {path} could not reach {self.base_url} after {attempt + 1} "
                    f"attempt(s): {type(exc).__name__}"
                )
                retry_after = None
                unknown = not _never_sent(exc)
                if not replay_safe:
                    raise error from exc
            else:
                request_id = response.headers.get("X-Request-Id")
                logger.debug(
                    "%s %s -> %s in %.0f ms [%s]",
                    method,
                    path,
                    response.status_code,
                    1000 * (time.monotonic() - started),
                    request_id,
                )
                if response.ok:
                    return response
                with response:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if retry_after is None and response.status_code == 429:
                        retry_after = parse_rate_limit_reset(
                            response.headers.get("X-RateLimit-Reset")
                        )
                    error = error_for_response(
                        status=response.status_code,
                        body=self._error_body(response),
                        request_id=request_id,
                        method=method,
                        path=path,
                        retry_after=retry_after,
                    )
                if not _retryable_status(response.status_code, replay_safe):
                    raise error
                unknown = response.status_code in (502, 504)  # a gateway lost the answer
            if attempt >= self.retry.budget(keyed and unknown):
                if keyed and unknown:
                    logger.warning(
                        "%s %s: every answer was lost; it may have taken effect", method, path
                    )
                raise error
            wait = self.retry.delay(attempt, retry_after)
            status = error.status if isinstance(error, APIStatusError) else type(error).__name__
            logger.warning(
                "%s %s failed (%s); retry %d of %d in %.2f s",
                method,
                path,
                status,
                attempt + 1,
                self.retry.budget(keyed and unknown),
                wait,
            )
            self._sleep(wait)
            attempt += 1

    @staticmethod
    def _error_body(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {"message": response.text[:200] or response.reason}
        return body if isinstance(body, dict) else {}

    @staticmethod
    def _decode(response: requests.Response, method: str, path: str) -> Any:
        if not response.content:
            return {}  # 204 No Content (a delete)
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError(
                status=response.status_code,
                code="invalid_json",
                api_message="the API answered with a body that is not JSON",
                request_id=response.headers.get("X-Request-Id"),
                method=method,
                path=path,
            ) from exc
        if isinstance(body, dict) and body.get("ok") is False:
            nested = body.get("error")
            status = nested.get("status") if isinstance(nested, dict) else None
            raise error_for_response(
                status=status if isinstance(status, int) and status >= 400 else 500,
                body=body,
                request_id=response.headers.get("X-Request-Id"),
                method=method,
                path=path,
            )
        return unwrap(body)
