"""Verified, atomic downloads of pre-signed export links.

`Downloader.save` also writes the ZIP bodies that the jobs generation's exports answer with
(opened by the API transport, so with the key, to the API only). Pre-signed downloads use their
own session that never carries the API key: a pre-signed URL needs no
`Authorization`, and it may point at another host (object storage). Bytes stream to a temporary
file beside the target, size and SHA-256 are checked when the export answer gave them, and only a
verified file is renamed into place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .errors import (
    APIStatusError,
    DownloadIntegrityError,
    GizmoConnectionError,
    GizmoError,
    GizmoTimeoutError,
    error_for_response,
)
from .redaction import install_log_redaction
from .transport import USER_AGENT, RetryPolicy, Timeout, parse_retry_after

__all__ = ["Downloader", "ProgressFn"]

logger = logging.getLogger("gizmo_client")

ProgressFn = Callable[[int, int | None], None]
_CHUNK = 1024 * 1024


class Downloader:
    """Downloads pre-signed URLs with retries; raises `LinkExpiredError` for an expired link."""

    def __init__(
        self,
        *,
        timeout: Timeout = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT})
        install_log_redaction()

    def close(self) -> None:
        self._session.close()

    def download(
        self,
        url: str,
        dest: Path,
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
        on_progress: ProgressFn | None = None,
    ) -> Path:
        """Download `url` to `dest` atomically; retry transient and integrity failures."""
        label = urlsplit(url).path  # never log the signature in the query
        return self.save(
            lambda: self._get(url, label),
            label,
            dest,
            expected_size=expected_size,
            expected_sha256=expected_sha256,
            on_progress=on_progress,
            retry_status=True,
        )

    def save(
        self,
        open_response: Callable[[], requests.Response],
        label: str,
        dest: Path,
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
        on_progress: ProgressFn | None = None,
        check: Callable[[Path], None] | None = None,
        retry_status: bool = False,
    ) -> Path:
        """Stream the body of `open_response()` to `dest`: through a temporary file, checked
        against `Content-Length`, the expected size and SHA-256 and `check(tmp)`, then renamed.

        Integrity and connection failures are retried by opening again; error statuses only
        with `retry_status` (an API transport has already retried them itself)."""
        attempt = 0
        while True:
            retry_after = None
            try:
                self._save_once(
                    open_response, label, dest, expected_size, expected_sha256, on_progress, check
                )
                return dest
            except APIStatusError as exc:
                if not retry_status or exc.status not in (429, 500, 502, 503, 504):
                    raise
                error: GizmoError = exc
                retry_after = exc.retry_after
            except (DownloadIntegrityError, GizmoConnectionError, GizmoTimeoutError) as exc:
                error = exc
            if attempt >= self.retry.max_retries:
                raise error
            wait = self.retry.delay(attempt, retry_after)
            logger.warning("download %s failed (%s); retry in %.2f s", label, error.message, wait)
            self._sleep(wait)
            attempt += 1

    def _get(self, url: str, label: str) -> requests.Response:
        try:
            response = self._session.get(url, stream=True, timeout=self.timeout)
        except requests.Timeout as exc:
            raise GizmoTimeoutError(f"download {label} timed out ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise GizmoConnectionError(
                f"download {label} failed to connect: {type(exc).__name__}"
            ) from exc
        if response.ok:
            return response
        with response:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.reason}
            raise error_for_response(
                status=response.status_code,
                body=body if isinstance(body, dict) else {},
                request_id=response.headers.get("X-Request-Id"),
                method="GET",
                path=label,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )

    def _save_once(
        self,
        open_response: Callable[[], requests.Response],
        label: str,
        dest: Path,
        expected_size: int | None,
        expected_sha256: str | None,
        on_progress: ProgressFn | None,
        check: Callable[[Path], None] | None,
    ) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.part"
        try:
            with open_response() as response:
                announced = _content_length(response)
                total = expected_size or announced
                digest = hashlib.sha256() if expected_sha256 is not None else None
                done = 0
                try:
                    with open(part, "wb") as handle:
                        for chunk in response.iter_content(_CHUNK):
                            handle.write(chunk)
                            if digest is not None:
                                digest.update(chunk)
                            done += len(chunk)
                            if on_progress is not None:
                                on_progress(done, total)
                except requests.RequestException as exc:
                    raise DownloadIntegrityError(
                        f"download {label} broke off after {done} bytes: {type(exc).__name__}"
                    ) from exc
            if announced is not None and done != announced:
                raise DownloadIntegrityError(
                    f"download {label} has {done} bytes, Content-Length announced {announced}"
                )
            sha256 = digest.hexdigest() if digest is not None else None
            self._verify(label, done, sha256, expected_size, expected_sha256)
            if check is not None:
                check(part)
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)

    @staticmethod
    def _verify(
        label: str,
        size: int,
        sha256: str | None,
        expected_size: int | None,
        expected_sha256: str | None,
    ) -> None:
        """Size and SHA-256 (hashed only when announced: hashing is not free)."""
        if expected_size is not None and size != expected_size:
            raise DownloadIntegrityError(
                f"download {label} has {size} bytes, the export announced {expected_size}"
            )
        if expected_sha256 is not None and sha256 is not None and sha256 != expected_sha256.lower():
            raise DownloadIntegrityError(
                f"download {label} has SHA-256 {sha256[:12]}…, the export announced "
                f"{expected_sha256[:12]}…"
            )


def _content_length(response: requests.Response) -> int | None:
    """The body's announced length, when it is the length of the bytes we will read."""
    value = response.headers.get("Content-Length")
    if not value or not value.isdigit():
        return None
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None  # the length of the compressed body; iter_content yields it decoded
    return int(value)
