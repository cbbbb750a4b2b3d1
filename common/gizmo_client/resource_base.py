"""What every resource shares: the transport, the generation, list pages, ZIP exports."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from .archive import check_zip_integrity, unpack_verified
from .downloads import Downloader, ProgressFn
from .formats import JobsFormat, wire_format
from .generation import ApiGeneration, GenerationResolver
from .models import ExportFormat, ExportLink, Page
from .transport import Transport

__all__ = ["PAGE_SIZE", "Resource", "quote_id"]

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100


def quote_id(value: str) -> str:
    return quote(value, safe="")


class Resource:
    #: The list key of the alpha generation (`{"scenes": [...]}`); the jobs generation may also
    #: answer `{"items": [...]}` or a bare array.
    plural: str
    #: Extra keys a list answer may hold its items under.
    list_keys: tuple[str, ...] = ("items",)

    def __init__(
        self, transport: Transport, generation: GenerationResolver, downloader: Downloader
    ) -> None:
        self._t = transport
        self._gen = generation
        self._downloader = downloader

    @property
    def generation(self) -> ApiGeneration:
        return self._gen.value

    def _require(self, generation: ApiGeneration, call: str, instead: str) -> None:
        self._gen.require(generation, f"{self.plural}.{call}", instead)

    def _page(
        self,
        model: type[M],
        limit: int,
        offset: int,
        params: Mapping[str, Any] | None = None,
    ) -> Page[M]:
        query = {**(params or {}), "limit": limit, "offset": offset}
        body = self._t.request("GET", f"/{self.plural}", params=query)
        if isinstance(body, list):
            raw, body = body, {}
        else:
            keys = (self.plural, *self.list_keys)
            raw = next((body[key] for key in keys if isinstance(body.get(key), list)), [])
        items = [model.model_validate(item) for item in raw]
        # A bare array tells no total: assume more while pages come back full.
        more = 1 if len(items) >= limit else 0
        return Page[M](
            items=items,
            total=int(body.get("total", offset + len(items) + more)),
            limit=int(body.get("limit", limit)),
            offset=int(body.get("offset", offset)),
        )

    def _iter_all(self, model: type[M], params: Mapping[str, Any] | None = None) -> Iterator[M]:
        """Walk every page of 100, yielding each id once even if the list shifts meanwhile; a
        page with nothing new ends the walk (a service that ignores `offset` cannot loop it)."""
        seen: set[str] = set()
        offset = 0
        while True:
            page = self._page(model, PAGE_SIZE, offset, params)
            fresh = 0
            for item in page.items:
                item_id = str(getattr(item, "id", ""))
                if item_id not in seen:
                    seen.add(item_id)
                    fresh += 1
                    yield item
            offset += len(page.items)
            if not fresh or offset >= page.total:
                return

    def _export_link(self, path: str, fmt: ExportFormat | JobsFormat | str) -> ExportLink:
        """The alpha export: a pre-signed link to the file."""
        body = {"format": wire_format(fmt, ApiGeneration.ALPHA)}
        return ExportLink.model_validate(self._t.request("POST", path, json_body=body))

    def _save_zip(
        self,
        path: str,
        dest: Path,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        on_progress: ProgressFn | None = None,
        unpack_to: Path | None = None,
    ) -> Path:
        """POST an export that answers with the ZIP itself; write it to `dest`, verified: by a
        CRC pass, or, with `unpack_to`, by unpacking it there (the unpack checks every CRC, so
        the bytes are read once). A damaged ZIP is downloaded again, as a cut-off one is."""

        def check(part: Path) -> None:
            if unpack_to is None:
                check_zip_integrity(part)
            else:
                unpack_verified(part, unpack_to)

        return self._downloader.save(
            lambda: self._t.open("POST", path, json_body=json_body, params=params, stream=True),
            path,
            dest,
            on_progress=on_progress,
            check=check,
        )
