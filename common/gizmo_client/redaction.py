"""Secrets out of log records: pre-signed links' signatures and tokens, bearer keys.

urllib3 logs every request line at DEBUG, query string included, so `gizmo -v` (or any caller's
DEBUG logging) would print the signature that lets anyone download until the link expires. A
filter on the loggers the client's requests pass through rewrites such records before any
handler sees them. (A logger's filter sees only records made by that logger, not its children's,
so it goes on every `urllib3.*` logger, not only on `urllib3`.)
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "SecretRedactingFilter", "install_log_redaction", "redact"]

REDACTED = "REDACTED"
#: Query parameters whose values are credentials: S3 (`X-Amz-*`), GCS (`X-Goog-*`), Azure (`sig`),
#: the local server and most signers (`signature`, `token`, `expires` is harmless and kept).
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:signature|sig|token|access_token|api_key|key|x-amz-[a-z0-9-]*|"
    r"x-goog-[a-z0-9-]*)=)[^&;\s\"'#]*"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_LOGGER_ROOTS = ("urllib3", "requests", "gizmo_client")


def redact(text: str) -> str:
    """`text` with secret query values and bearer tokens replaced by `REDACTED`."""
    if "=" not in text and "earer" not in text:
        return text  # the usual record: nothing to rewrite, no regex run
    text = _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)
    return _BEARER.sub(rf"\g<1>{REDACTED}", text)


class SecretRedactingFilter(logging.Filter):
    """Rewrites a record's message (formatted once, here) when it holds a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it the usual way
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = SecretRedactingFilter()


def install_log_redaction() -> None:
    """Put the filter on the client's, requests' and every urllib3 logger (idempotent; called
    whenever a transport is made, so loggers created since are covered too)."""
    names = [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.split(".", 1)[0] in _LOGGER_ROOTS
    ]
    for name in {*_LOGGER_ROOTS, "urllib3.connectionpool", *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
