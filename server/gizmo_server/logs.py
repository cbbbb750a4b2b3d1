"""Log redaction: no download token or link signature ever reaches a log line.

A pre-signed link lets anyone holding it download until it expires, and uvicorn's access log
prints every request's path and query. `Redact` rewrites each record's final message: the token
after `/downloads/` and the value of `signature=` become `REDACTED`. It is installed on the
server's loggers by `install` (the runner calls it), whatever handler prints them.
"""

from __future__ import annotations

import logging
import re

__all__ = ["LOGGERS", "Redact", "install", "redact"]

LOGGERS = ("uvicorn.access", "uvicorn.error", "gizmo_server")
_SECRETS = re.compile(r"(/downloads/|signature=)[^\s?&\"'/]+")


def redact(text: str) -> str:
    return _SECRETS.sub(r"\1REDACTED", text)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = Redact()


def install() -> None:
    """Add the filter to the server's loggers (once; adding it again changes nothing)."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
