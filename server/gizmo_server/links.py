"""Pre-signed download links: `/v1/downloads/<token>?expires=<unix>&signature=<hmac>`.

The signature is HMAC-SHA256 over the token and the expiry with a secret kept in the data
directory, so a link needs no Authorization header, cannot be extended or re-pointed, and stays
valid across a server restart until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import forbidden

__all__ = ["LinkSigner", "SignedLink"]


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires: int  # unix seconds


class LinkSigner:
    def __init__(self, secret: bytes, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError(f"the link lifetime must be positive, got {ttl} s")
        self._secret = secret
        self.ttl = ttl

    def _signature(self, token: str, expires: int) -> str:
        message = f"{token}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, token: str) -> SignedLink:
        """A link to `token` under `base_url` (`http://host:port/v1`), valid for the TTL."""
        expires = math.ceil(time.time() + self.ttl)
        query = urlencode({"expires": expires, "signature": self._signature(token, expires)})
        return SignedLink(f"{base_url.rstrip('/')}/downloads/{token}?{query}", expires)

    def verify(self, token: str, expires: str | None, signature: str | None) -> None:
        """Raise 403 `invalid_signature` for a tampered link, 403 `url_expired` for an old one."""
        if (
            expires is None
            or signature is None
            or not (expires.isascii() and expires.isdigit())
            or len(expires) > 12
        ):
            raise forbidden(
                "This download link is not validly signed; use the download_url of an export "
                "answer exactly as given.",
                code="invalid_signature",
            )
        if not hmac.compare_digest(
            signature.encode(), self._signature(token, int(expires)).encode()
        ):
            raise forbidden(
                "This download link's signature does not match; use the download_url of an "
                "export answer exactly as given.",
                code="invalid_signature",
            )
        if int(expires) < time.time():
            raise forbidden(
                "This download link has expired; export again to get a fresh link and download "
                "it promptly.",
                code="url_expired",
            )
