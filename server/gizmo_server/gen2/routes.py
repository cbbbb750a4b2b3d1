"""The routes of the generation (contract Part C): scenes, assets, jobs, events, exports, catalog.

Successes are `{"ok": true, ...}`; errors are raised as `Gen2Error` and rendered nested by `app`.
Another account's scene, asset or job is 403 `forbidden`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from gizmo_server.changes import WAIT_DESCRIPTION, held
from gizmo_server.etags import NOT_MODIFIED, etag, matches, not_modified
from gizmo_server.faults import FAULT_HEADER
from gizmo_server.zips import ZIP_FAULTS

from . import archives, catalog
from .accounts import SCOPES, SERVICE_TOKEN_HEADER, presented_key
from .errors import Gen2Error, conflict, forbidden, not_found, validation_error
from .events import EventStream
from .jobs import COSTS
from .responses import (
    Accepted,
    AssetEnvelope,
    AssetPage,
    Deleted,
    JobEnvelope,
    SceneEnvelope,
    ScenePage,
    SceneStatus,
    WhoAmI,
)
from .runtime import Gen2Runtime
from .schemas import (
    ERROR_RESPONSES,
    AssetGenerate,
    SceneEdit,
    SceneExport,
    SceneGenerate,
    ScenePatch,
)
from .store import Account, Doc, Kind
from .views import asset_view, job_view, scene_view, status_view

__all__ = ["router"]

MAX_LIMIT = 100


def _single_valued_query(request: Request) -> None:
    """Every query parameter here takes one value: a repeated one is refused, not silently read
    as its last value (`?category=a&category=b` would otherwise filter by `b` alone)."""
    keys = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        details = [{"loc": ["query", key], "msg": "given more than once"} for key in repeated]
        raise validation_error(f"Query parameter {repeated[0]!r} is given more than once.", details)


router = APIRouter(
    prefix="/v1", responses=ERROR_RESPONSES, dependencies=[Depends(_single_valued_query)]
)


def _runtime(request: Request) -> Gen2Runtime:
    return cast(Gen2Runtime, request.app.state.gen2)


RuntimeDep = Annotated[Gen2Runtime, Depends(_runtime)]


def _key(request: Request) -> str:
    key = presented_key(
        request.headers.get("authorization"), request.headers.get(SERVICE_TOKEN_HEADER)
    )
    if key is None:  # the dispatcher only sends keyed requests here
        raise Gen2Error(401, "authentication_required", "Send your key as a Bearer token.")
    return key


def _account(request: Request, runtime: RuntimeDep) -> Account:
    account = runtime.accounts.resolve(_key(request))
    if account is None:
        raise Gen2Error(
            401,
            "authentication_required",
            "Unknown API key: check the key and that it belongs to this server "
            "(send it as `Authorization: Bearer <key>` or `x-gizmo-service-token`).",
        )
    return account


AccountDep = Annotated[Account, Depends(_account)]
Limit = Annotated[
    int, Query(ge=1, description=f"Page size; default 20, above {MAX_LIMIT} clamped.")
]
Offset = Annotated[int, Query(ge=0, le=10**12)]
# A scene filter is a scene id or absent: an empty or malformed one is refused (422), never read
# as "no filter".
SceneFilter = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9]{15}$")]
CategoryFilter = Annotated[str | None, Query(min_length=1, max_length=64)]

_NOT_FOUND = {"scene": "scene_not_found", "asset": "asset_not_found", "job": "job_not_found"}


def _ok(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"ok": True, **body}, status_code=status, headers=headers)


def _check_owner(owner: str | None, account: Account, kind: Kind, doc_id: str) -> None:
    """404 if there is no such document (`owner` None), 403 if another account owns it."""
    if owner is None:
        raise not_found(_NOT_FOUND[kind], f"No {kind} {doc_id!r} in this account.")
    if owner != account.id:
        raise forbidden(f"The {kind} {doc_id!r} belongs to another account.")


def _owned(runtime: Gen2Runtime, account: Account, kind: Kind, doc_id: str) -> Doc:
    found = runtime.store.get(kind, doc_id)
    _check_owner(found[0] if found else None, account, kind, doc_id)
    assert found is not None
    return found[1]


def _spend(runtime: Gen2Runtime, account: Account, mode: str) -> None:
    if runtime.store.spend(account.id, COSTS[mode]) is None:
        raise Gen2Error(
            402,
            "insufficient_credits",
            f"A {mode} job costs {COSTS[mode]} credits and this account has fewer left; "
            "the local server's balance is set with --gen2-credits.",
        )


def _ready_scene(runtime: Gen2Runtime, account: Account, scene_id: str) -> Doc:
    scene = _owned(runtime, account, "scene", scene_id)
    if scene["status"] != "ready":
        raise conflict(
            f"Scene {scene_id!r} is {scene['status']} (pipeline {scene['pipeline_status']}); "
            "wait for its generation job to succeed."
        )
    return scene


def _page(limit: int) -> int:
    return min(limit, MAX_LIMIT)


# -- account ------------------------------------------------------------------------------------


@router.get(
    "/whoami",
    response_model=WhoAmI,
    summary="Verify the key (answers 2xx only for this generation's keys)",
)
def whoami(runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    return _ok(
        {
            "user": {"id": account.id, "credits": runtime.store.credits(account.id)},
            "key": {
                "prefix": account.key_prefix,
                "scopes": list(SCOPES),
                "rate_limit_per_minute": runtime.accounts.rate_limit,
            },
        }
    )


@router.get("/usage", summary="Per-key request counts, credits and rate configuration")
def usage(request: Request, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    key = _key(request)
    return _ok(
        {
            "key": {"prefix": account.key_prefix},
            "usage": runtime.accounts.usage(key),
            "credits": runtime.store.credits(account.id),
            "rate_limit": {"limit_per_minute": runtime.accounts.rate_limit, "window_seconds": 60},
        }
    )


# -- scenes -------------------------------------------------------------------------------------


@router.post(
    "/scenes",
    status_code=202,
    response_model=Accepted,
    summary="Generate a scene from a prompt (a job)",
)
def generate_scene(body: SceneGenerate, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    _spend(runtime, account, "scene")
    scene_id, job_id = runtime.jobs.submit_scene(account.id, body.prompt, model=body.model)
    return _ok({"scene_id": scene_id, "job_id": job_id, "status": "queued"}, 202)


@router.get("/scenes", response_model=ScenePage, summary="List scenes, newest first")
def list_scenes(
    runtime: RuntimeDep, account: AccountDep, limit: Limit = 20, offset: Offset = 0
) -> JSONResponse:
    scenes, total = runtime.store.page("scene", account.id, _page(limit), offset)
    page = {"scenes": [scene_view(s) for s in scenes], "total": total}
    return _ok(page | {"limit": _page(limit), "offset": offset})


@router.get(
    "/scenes/{scene_id}",
    response_model=SceneEnvelope,
    responses=NOT_MODIFIED,
    summary="Get a scene (include_record adds its objects; ETag, If-None-Match answers 304; "
    "Prefer: wait holds it until a change)",
    description="The scene (with `include_record`, its objects too), with an `ETag`; "
    "`If-None-Match` holding it answers 304 with no body." + WAIT_DESCRIPTION,
)
async def get_scene(
    scene_id: str,
    runtime: RuntimeDep,
    account: AccountDep,
    include_record: bool = False,
    if_none_match: Annotated[str | None, Header()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    def answer() -> Response:
        found = runtime.store.fingerprint("scene", scene_id)
        _check_owner(found[0] if found else None, account, "scene", scene_id)
        assert found is not None
        tag = etag(scene_id, found[1], "record" if include_record else "")
        if matches(if_none_match, tag):
            return not_modified(tag)
        scene = _owned(runtime, account, "scene", scene_id)
        return _ok({"scene": scene_view(scene, include_record)}, headers={"ETag": tag})

    return await held(runtime.store.changes, scene_id, if_none_match, prefer, answer)


@router.get(
    "/scenes/{scene_id}/status",
    response_model=SceneStatus,
    summary="The scene's pipeline status and stages",
)
def scene_status(scene_id: str, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    return _ok(status_view(_owned(runtime, account, "scene", scene_id)))


@router.patch(
    "/scenes/{scene_id}", response_model=SceneEnvelope, summary="Rename or describe a scene"
)
def patch_scene(
    scene_id: str, body: ScenePatch, runtime: RuntimeDep, account: AccountDep
) -> JSONResponse:
    _owned(runtime, account, "scene", scene_id)
    fields = body.changes()
    scene = runtime.store.update("scene", scene_id, lambda s: s | fields)
    if scene is None:
        raise not_found("scene_not_found", f"No scene {scene_id!r} in this account.")
    return _ok({"scene": scene_view(scene)})


@router.delete(
    "/scenes/{scene_id}", response_model=Deleted, summary="Delete a scene (its assets stay)"
)
def delete_scene(scene_id: str, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    _owned(runtime, account, "scene", scene_id)
    runtime.store.delete("scene", scene_id)
    return _ok({"deleted": True, "id": scene_id})


@router.post(
    "/scenes/{scene_id}/edit",
    status_code=202,
    response_model=Accepted,
    summary="Edit a scene by prompt (a job)",
)
def edit_scene(
    scene_id: str, body: SceneEdit, runtime: RuntimeDep, account: AccountDep
) -> JSONResponse:
    _ready_scene(runtime, account, scene_id)
    _spend(runtime, account, "edit")
    job_id = runtime.jobs.submit_edit(account.id, scene_id, body.prompt, body.model)
    return _ok({"scene_id": scene_id, "job_id": job_id, "status": "queued"}, 202)


def _zip(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/scenes/{scene_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP itself."}},
    summary="Export the scene as a ZIP (mjcf, usd or sdf)",
)
def export_scene(
    scene_id: str, body: SceneExport, runtime: RuntimeDep, account: AccountDep
) -> Response:
    scene = _ready_scene(runtime, account, scene_id)
    fault = runtime.faults.draw("export")
    fault = fault if fault in ZIP_FAULTS else None
    data = archives.scene_zip(
        scene_id, scene["name"], scene["record"], body.format, body.robot_profile, fault
    )
    answer = _zip(data, f"scene-{scene_id}-v{scene['version']}-{body.format}.zip")
    if fault is not None:
        answer.headers[FAULT_HEADER] = fault
    return answer


# -- assets -------------------------------------------------------------------------------------


@router.post(
    "/assets",
    status_code=202,
    response_model=Accepted,
    summary="Generate an asset, into a scene if given (a job)",
)
def generate_asset(body: AssetGenerate, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    if body.scene_id is not None:
        _ready_scene(runtime, account, body.scene_id)
    _spend(runtime, account, "asset")
    job_id = runtime.jobs.submit_asset(account.id, body.prompt, body.scene_id, body.model)
    return _ok({"scene_id": body.scene_id, "job_id": job_id, "status": "queued"}, 202)


@router.get(
    "/assets", response_model=AssetPage, summary="List assets, newest first (scene_id filters)"
)
def list_assets(
    runtime: RuntimeDep,
    account: AccountDep,
    scene_id: SceneFilter = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JSONResponse:
    assets, total = runtime.store.page("asset", account.id, _page(limit), offset, scene_id)
    page = {"assets": [asset_view(a) for a in assets], "total": total}
    return _ok(page | {"limit": _page(limit), "offset": offset})


@router.get("/assets/{asset_id}", response_model=AssetEnvelope, summary="Get an asset")
def get_asset(asset_id: str, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    return _ok({"asset": asset_view(_owned(runtime, account, "asset", asset_id))})


@router.delete(
    "/assets/{asset_id}",
    response_model=Deleted,
    summary="Delete an asset (scenes keep their copies)",
)
def delete_asset(asset_id: str, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    _owned(runtime, account, "asset", asset_id)
    runtime.store.delete("asset", asset_id)
    return _ok({"deleted": True, "id": asset_id})


@router.post(
    "/assets/{asset_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP itself."}},
    summary="Export one asset as a ZIP; the format is in the query",
)
def export_asset(
    asset_id: str,
    runtime: RuntimeDep,
    account: AccountDep,
    format: Annotated[Literal["mjcf", "usd", "sdf"], Query()] = "mjcf",
) -> Response:
    asset = _owned(runtime, account, "asset", asset_id)
    data = archives.asset_zip(asset_id, asset["name"], asset["prompt"], format)
    return _zip(data, f"asset-{asset_id}-{format}.zip")


# -- jobs ---------------------------------------------------------------------------------------


@router.get(
    "/jobs/{job_id}",
    response_model=JobEnvelope,
    summary="Get a job (include_result adds what it made)",
)
def get_job(
    job_id: str, runtime: RuntimeDep, account: AccountDep, include_result: bool = False
) -> JSONResponse:
    return _ok({"job": job_view(_owned(runtime, account, "job", job_id), include_result)})


@router.post(
    "/jobs/{job_id}/cancel", response_model=JobEnvelope, summary="Cancel a queued or running job"
)
def cancel_job(job_id: str, runtime: RuntimeDep, account: AccountDep) -> JSONResponse:
    _owned(runtime, account, "job", job_id)
    return _ok({"job": job_view(runtime.jobs.cancel(account.id, job_id))})


@router.get(
    "/jobs/{job_id}/events",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events."}},
    summary="Follow a job's events (SSE); after / Last-Event-ID resume",
)
def job_events(
    job_id: str,
    request: Request,
    runtime: RuntimeDep,
    account: AccountDep,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    _owned(runtime, account, "job", job_id)
    if after is None and last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise Gen2Error(
                422,
                "validation_error",
                "Last-Event-ID must be an event sequence number.",
                details=[{"loc": ["header", "last-event-id"], "msg": "not a whole number"}],
            )
        after = int(last_event_id)
    drop = 2 if runtime.faults.draw("stream") == "sse_drop" else None
    return EventStream(
        runtime.store, job_id, after or 0, runtime.settings.ping_interval, drop, headers={}
    )


# -- catalog ------------------------------------------------------------------------------------


@router.get("/catalog", summary="Search the premade assets (q, category, pagination)")
def list_catalog(
    account: AccountDep,
    q: str | None = None,
    category: CategoryFilter = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JSONResponse:
    found = [
        e
        for e in catalog.entries()
        if (category is None or e["category"] == category)
        and (not q or q.lower() in f"{e['name']} {e['prompt']} {e['kind']}".lower())
    ]
    items = found[offset : offset + _page(limit)]
    return _ok({"items": items, "total": len(found), "limit": _page(limit), "offset": offset})


@router.get("/catalog/categories", summary="The catalog's categories")
def catalog_categories(account: AccountDep) -> JSONResponse:
    counts = {c: sum(e["category"] == c for e in catalog.entries()) for c in catalog.CATEGORIES}
    return _ok({"categories": [{"slug": c, "count": n} for c, n in counts.items()]})


@router.get("/catalog/{slug}", summary="One catalog entry")
def catalog_entry(slug: str, account: AccountDep) -> JSONResponse:
    for entry in catalog.entries():
        if entry["slug"] == slug:
            return _ok({"item": entry})
    raise not_found("asset_not_found", f"No catalog entry {slug!r}; GET /v1/catalog lists them.")
