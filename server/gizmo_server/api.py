"""The routes of the Gizmo Scenes API (contract Part A, behaving as Part B fixes it).

Handlers are plain `def`s: FastAPI runs them in its thread pool, so SQLite calls and export
rendering never block the event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Header, Query, Request, Security
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic_core import to_json
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from . import exports
from .artifacts import ExportResult, content_type
from .auth import parse_bearer
from .changes import WAIT_DESCRIPTION, held
from .errors import ApiError, bad_request, forbidden, not_found, unauthorized
from .etags import NOT_MODIFIED, etag, matches, not_modified
from .faults import FAULT_HEADER
from .schemas import (
    AssetCreate,
    AssetList,
    AssetOut,
    ExportLinkOut,
    ExportRequest,
    PlacementCreate,
    SceneCreate,
    SceneList,
    SceneOut,
    error_responses,
)
from .service import Service
from .store import AssetRow, PlacementRow, SceneRow

__all__ = ["router"]

MAX_LIMIT = 100
MAX_OFFSET = 10**12
NAME_FROM_PROMPT = 60  # characters of the prompt an unnamed asset is called by
ORIGIN = (0.0, 0.0, 0.0)
IDENTITY = (0.0, 0.0, 0.0, 1.0)  # scalar-last

router = APIRouter(prefix="/v1")
_bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer <key>`.")
_READ_ERRORS = error_responses(400, 401, 403, 404, 429, 500, 502, 503)
_WRITE_ERRORS = error_responses(400, 401, 403, 404, 429, 500, 502, 503, 507)


def _service(request: Request) -> Service:
    return cast(Service, request.app.state.service)


ServiceDep = Annotated[Service, Depends(_service)]


def _account(
    request: Request,
    service: ServiceDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str:
    """The caller's account; 401 for a missing, malformed or unknown key."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise unauthorized("No API key: send the header `Authorization: Bearer <API key>`.")
    if parse_bearer(authorization) is None:
        raise unauthorized(
            "Malformed Authorization header: expected `Authorization: Bearer <API key>`."
        )
    account = service.accounts.resolve(authorization)
    if account is None:
        raise unauthorized("Unknown API key: check the key and that it belongs to this server.")
    return account


AccountDep = Annotated[str, Depends(_account)]
Limit = Annotated[
    int, Query(ge=1, description=f"Page size; default 20, values above {MAX_LIMIT} are clamped.")
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def _api_base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{router.prefix}"


# -- views --------------------------------------------------------------------------------------


def _json(view: dict[str, Any], status_code: int = 200) -> Response:
    """A JSON answer serialised by pydantic-core, several times faster than validating the view
    against its response model; the models document the shape in the OpenAPI document, and the
    schemathesis tests check every answer against it."""
    return Response(to_json(view), status_code, media_type="application/json")


def _asset_view(asset: AssetRow) -> dict[str, Any]:
    return {
        "id": asset.id,
        "status": asset.status,
        "name": asset.name,
        "prompt": asset.prompt,
        "tags": list(asset.tags),
        "created_at": asset.created_at,
        "export_formats": list(asset.export_formats),
        "error": asset.error,
    }


def _summary_view(scene: SceneRow) -> dict[str, Any]:
    return {
        "id": scene.id,
        "name": scene.name,
        "description": scene.description,
        "created_at": scene.created_at,
    }


def _placement_view(p: PlacementRow) -> dict[str, Any]:
    return {
        "id": p.id,
        "asset_id": p.asset_id,
        "name": p.asset_name,
        "position": dict(zip("xyz", p.position, strict=True)),
        "rotation": dict(zip("xyzw", p.rotation, strict=True)),
        "added_at": p.added_at,
    }


def _scene_view(scene: SceneRow, placements: Sequence[PlacementRow]) -> dict[str, Any]:
    return {**_summary_view(scene), "assets": [_placement_view(p) for p in placements]}


def _link_view(result: ExportResult) -> dict[str, Any]:
    return {
        "download_url": result.download_url,
        "expires_at": result.expires_at,
        "format": result.format,
        "size_bytes": result.size_bytes,
        "sha256": result.sha256,
        "filename": result.filename,
    }


# -- ownership ----------------------------------------------------------------------------------


def _owned_asset(service: Service, account: str, asset_id: str) -> AssetRow:
    asset = service.store.get_asset(asset_id)
    if asset is None:
        raise not_found("asset_not_found", f"No asset {asset_id!r}; asset ids start with ast_.")
    if asset.account_id != account:
        raise forbidden(f"Asset {asset_id!r} belongs to another account.")
    return asset


def _check_owner(owner: str | None, account: str, scene_id: str) -> None:
    """404 if there is no such scene (`owner` None), 403 if another account owns it."""
    if owner is None:
        raise not_found("scene_not_found", f"No scene {scene_id!r}; scene ids start with scn_.")
    if owner != account:
        raise forbidden(f"Scene {scene_id!r} belongs to another account.")


def _owned_scene(
    service: Service, account: str, scene_id: str
) -> tuple[SceneRow, list[PlacementRow]]:
    found = service.store.get_scene_with_placements(scene_id)
    _check_owner(found[0].account_id if found else None, account, scene_id)
    assert found is not None
    return found


def _not_ready(code: str, assets: Sequence[AssetRow], why: str) -> ApiError:
    """400 `asset_not_ready` or `assets_not_ready`, naming the assets (message and `assets`)."""
    named = ", ".join(f"{a.name!r} ({a.id}, {a.status})" for a in assets)
    return bad_request(
        code,
        f"{why}: {named}. Wait until every asset's status is ready, then try again.",
        assets=[{"id": a.id, "name": a.name, "status": a.status} for a in assets],
    )


# -- assets -------------------------------------------------------------------------------------


@router.post(
    "/assets",
    status_code=202,
    response_model=AssetOut,
    responses=_WRITE_ERRORS,
    summary="Generate an asset from a prompt (asynchronous: poll until status is ready)",
)
def create_asset(body: AssetCreate, service: ServiceDep, account: AccountDep) -> Response:
    name = body.name
    if name is None:
        prompt = body.prompt
        name = prompt if len(prompt) <= NAME_FROM_PROMPT else f"{prompt[: NAME_FROM_PROMPT - 1]}…"
    asset = service.store.create_asset(account, name, body.prompt, body.tags or [])
    service.worker.submit(asset.id)
    return _json(_asset_view(asset), 202)


@router.get("/assets", response_model=AssetList, responses=_READ_ERRORS, summary="List assets")
def list_assets(
    service: ServiceDep, account: AccountDep, limit: Limit = 20, offset: Offset = 0
) -> Response:
    limit = min(limit, MAX_LIMIT)
    assets, total = service.store.list_assets(account, limit, offset)
    page = {"assets": [_asset_view(a) for a in assets], "total": total}
    return _json({**page, "limit": limit, "offset": offset})


@router.get(
    "/assets/{asset_id}", response_model=AssetOut, responses=_READ_ERRORS, summary="Get an asset"
)
def get_asset(asset_id: str, service: ServiceDep, account: AccountDep) -> Response:
    return _json(_asset_view(_owned_asset(service, account, asset_id)))


@router.post(
    "/assets/{asset_id}/export",
    response_model=ExportLinkOut,
    responses=_WRITE_ERRORS,
    summary="Export one ready asset in one of its export_formats",
)
def export_asset(
    asset_id: str, body: ExportRequest, request: Request, service: ServiceDep, account: AccountDep
) -> Response:
    asset = _owned_asset(service, account, asset_id)
    if asset.status != "ready":
        raise _not_ready("asset_not_ready", [asset], "This asset is not ready")
    if body.format not in asset.export_formats:
        raise bad_request(
            "unsupported_format",
            f"Asset {asset_id!r} cannot be exported as {body.format!r}; "
            f"its export_formats are {', '.join(asset.export_formats)}.",
        )
    result = service.artifacts.export_asset(account, asset, body.format, _api_base(request))
    return _json(_link_view(result))


# -- scenes -------------------------------------------------------------------------------------


@router.post(
    "/scenes",
    status_code=201,
    response_model=SceneOut,
    responses=_WRITE_ERRORS,
    summary="Create an empty scene",
)
def create_scene(body: SceneCreate, service: ServiceDep, account: AccountDep) -> Response:
    scene = service.store.create_scene(account, body.name, body.description)
    return _json(_scene_view(scene, []), 201)


@router.get("/scenes", response_model=SceneList, responses=_READ_ERRORS, summary="List scenes")
def list_scenes(
    service: ServiceDep, account: AccountDep, limit: Limit = 20, offset: Offset = 0
) -> Response:
    limit = min(limit, MAX_LIMIT)
    scenes, total = service.store.list_scenes(account, limit, offset)
    page = {"scenes": [_summary_view(s) for s in scenes], "total": total}
    return _json({**page, "limit": limit, "offset": offset})


@router.get(
    "/scenes/{scene_id}",
    response_model=SceneOut,
    responses={**_READ_ERRORS, **NOT_MODIFIED},
    summary="Get a scene with all its placed assets (ETag; If-None-Match answers 304; "
    "Prefer: wait holds it until a change)",
    description="The scene and its placements, with an `ETag`; `If-None-Match` holding it "
    "answers 304 with no body." + WAIT_DESCRIPTION,
)
async def get_scene(
    scene_id: str,
    service: ServiceDep,
    account: AccountDep,
    if_none_match: Annotated[str | None, Header()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    def answer() -> Response:
        fingerprint = service.store.scene_fingerprint(scene_id)
        _check_owner(fingerprint[0] if fingerprint else None, account, scene_id)
        assert fingerprint is not None
        tag = etag(scene_id, fingerprint[1])
        if matches(if_none_match, tag):
            return not_modified(tag)
        response = _json(_scene_view(*_owned_scene(service, account, scene_id)))
        response.headers["ETag"] = tag
        return response

    return await held(service.store.changes, scene_id, if_none_match, prefer, answer)


@router.post(
    "/scenes/{scene_id}/assets",
    response_model=SceneOut,
    responses=_WRITE_ERRORS,
    summary="Place a ready asset in the scene (position defaults to the origin, rotation to "
    "identity); `Prefer: return=minimal` answers only the new placement",
)
def add_asset(
    scene_id: str,
    body: PlacementCreate,
    service: ServiceDep,
    account: AccountDep,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    scene = service.store.get_scene(scene_id)
    _check_owner(scene.account_id if scene else None, account, scene_id)
    asset = _owned_asset(service, account, body.asset_id)
    if asset.status != "ready":
        raise _not_ready("asset_not_ready", [asset], "Only ready assets can be placed")
    position = (body.position.x, body.position.y, body.position.z) if body.position else ORIGIN
    rotation = body.rotation.normalised().to_xyzw() if body.rotation else IDENTITY
    placement_id = service.store.add_placement(scene_id, asset.id, position, rotation)
    if prefer is not None and "return=minimal" in prefer.replace(" ", "").lower():
        # A big scene's whole body (1 MB at 5,000 placements) is what most callers throw away.
        placement = service.store.get_placement(placement_id)
        assert placement is not None
        answer = _json(_placement_view(placement))
        answer.headers["Preference-Applied"] = "return=minimal"
        return answer
    return _json(_scene_view(*_owned_scene(service, account, scene_id)))


@router.post(
    "/scenes/{scene_id}/export",
    response_model=ExportLinkOut,
    responses=_WRITE_ERRORS,
    summary="Export the whole scene as one file (every placed asset must be ready)",
)
def export_scene(
    scene_id: str, body: ExportRequest, request: Request, service: ServiceDep, account: AccountDep
) -> Response:
    scene, placements = _owned_scene(service, account, scene_id)
    if body.format not in exports.SCENE_FORMATS:
        raise bad_request(
            "unsupported_format",
            f"Scenes export as {' or '.join(exports.SCENE_FORMATS)}, not {body.format!r}.",
        )
    assets = service.store.get_assets(sorted({p.asset_id for p in placements}))
    waiting = [a for a in assets if a.status != "ready"]
    if waiting:
        raise _not_ready("assets_not_ready", waiting, "Some of the scene's assets are not ready")
    fault = service.faults.draw("export") if assets else None
    if fault == "export_not_ready":
        error = _not_ready(
            "assets_not_ready",
            [dataclasses.replace(a, status="processing") for a in assets],
            "Some of the scene's assets are not ready (fault injected by gizmo-server: "
            "export_not_ready)",
        )
        error.headers[FAULT_HEADER] = "export_not_ready"
        raise error
    result = service.artifacts.export_scene(
        account, scene, placements, body.format, _api_base(request), fault
    )
    answer = _json(_link_view(result))
    if fault is not None:
        answer.headers[FAULT_HEADER] = fault
    return answer


# -- downloads ----------------------------------------------------------------------------------


class _Download(FileResponse):
    """A file answer whose Range refusals are enveloped (Starlette answers them in plain text)."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader as exc:
            raise bad_request(
                "invalid_range",
                f"Malformed Range header ({exc.content.rstrip('.')}): send e.g. "
                "`Range: bytes=0-1023`, or no Range for the whole file.",
            ) from None
        except RangeNotSatisfiable:
            raise ApiError(
                416,
                "invalid_request",
                "range_not_satisfiable",
                f"The Range starts beyond the file's {file_size} bytes; ask for bytes "
                f"0-{file_size - 1} at most.",
                headers={"Content-Range": f"bytes */{file_size}"},
            ) from None


@router.get(
    "/downloads/{token}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The exported file."},
        **error_responses(400, 403, 404, 416, 429, 500, 502, 503),
    },
    summary="Download an export (pre-signed link: no Authorization header)",
)
def download(
    token: str,
    service: ServiceDep,
    expires: Annotated[str | None, Query(description="Unix time the link expires.")] = None,
    signature: Annotated[str | None, Query(description="HMAC-SHA256 signature.")] = None,
) -> FileResponse:
    service.artifacts.links.verify(token, expires, signature)
    found = service.artifacts.download(token)
    if found is None:
        raise not_found("download_not_found", "No such export; export again for a fresh link.")
    row, path = found
    return _Download(
        path,
        media_type=content_type(row.filename),
        filename=row.filename,
        headers={"ETag": f'"{row.sha256}"', "Cache-Control": "private, no-transform"},
    )
