"""The FastAPI application: routes, error envelopes and the middleware stack.

A request whose key starts `gzm_k1_` goes to the newer generation's app (`gen2.app`); the rest
pass, outermost first: request id and last-resort 500 -> body guard (size, JSON) ->
fault injection -> write rate limit -> idempotency replay -> routes. Faults sit outside
idempotency so that an answer "lost" after the handler committed is replayed on retry.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from . import __version__
from .api import router
from .errors import ApiError, bad_request, export_failed, not_found
from .export_pool import ExportQueueFull, ExportWorkerLost
from .faults import FaultMiddleware
from .gen2.app import create_gen2_app
from .gen2.dispatch import GenerationDispatch
from .idempotency import IdempotencyMiddleware
from .middleware import BodyGuard, RequestContext
from .openapi import alpha_document, combined_document, jobs_document
from .ratelimit import RateLimitMiddleware
from .service import Service

__all__ = ["create_app"]

_DESCRIPTION = """\
A local, offline stand-in for the Gizmo Scenes API (Antim Labs), speaking the same contract over
real HTTP. It is not the real Gizmo: assets are built by a deterministic parametric generator, not
by an AI. Authenticate with `Authorization: Bearer <API key>`; errors are always
`{"error", "code", "message"}`.
"""


def _validation_error(exc: RequestValidationError) -> ApiError:
    """Map FastAPI's 422 to the contract's 400 codes."""
    errors: list[dict[str, Any]] = list(exc.errors())
    details = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors[:5]
    )
    if any(e["type"] == "invalid_rotation" for e in errors):
        return bad_request("invalid_rotation", f"Invalid rotation: {details}.")
    if any(e["loc"][0] == "query" for e in errors):
        return bad_request(
            "invalid_pagination",
            f"Invalid pagination: {details}. Use limit >= 1 (at most 100 are returned) and "
            "offset >= 0.",
        )
    if any(len(e["loc"]) == 1 or e["type"] == "json_invalid" for e in errors):
        return bad_request("invalid_body", f"The request body must be a JSON object: {details}.")
    return bad_request("invalid_field", f"Invalid request: {details}.")


def _http_error(exc: HTTPException, request: Request) -> ApiError:
    if exc.status_code == 404:
        return not_found("route_not_found", "No such route; every API path starts with /v1/.")
    if exc.status_code == 405:
        # The contract has no 405: a method a path does not answer is an unknown route (there is
        # no DELETE in the alpha API). `Allow` still says what the path answers.
        allowed = ", ".join(_methods_for(request))
        return ApiError(
            404,
            "not_found",
            "route_not_found",
            f"No such route: {request.method} is not answered here; this path answers {allowed}.",
            headers={"Allow": allowed},
        )
    return ApiError(exc.status_code, "invalid_request", "http_error", str(exc.detail))


def _methods_for(request: Request) -> list[str]:
    """Every method some route answers at this path (Starlette's Allow names only one route's)."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods.update(route.methods or ())
    return sorted(methods)


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="Gizmo Scenes API (local stand-in)",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        redirect_slashes=False,
    )
    app.state.service = service
    app.include_router(router)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_error(exc).response()

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _http_error(exc, request).response()

    async def on_export_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ExportQueueFull | ExportWorkerLost)
        return export_failed(exc).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(ExportQueueFull, on_export_error)
    app.add_exception_handler(ExportWorkerLost, on_export_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)

    jobs_app = create_gen2_app(service.gen2, service.settings.max_body_bytes)
    documents: dict[str, dict[str, Any]] = {}

    def document(name: str) -> dict[str, Any]:
        """The OpenAPI documents (see `openapi`), built once on first use."""
        if not documents:
            documents["alpha"] = alpha_document(app)
            documents["jobs"] = jobs_document(jobs_app, app.version)
            documents["combined"] = combined_document(documents["alpha"], documents["jobs"])
        return documents[name]

    def openapi() -> dict[str, Any]:
        return document("combined")

    @app.get("/v1/openapi-alpha.json", include_in_schema=False)
    def alpha_openapi() -> JSONResponse:
        return JSONResponse(document("alpha"))

    @app.get("/v1/openapi-jobs.json", include_in_schema=False)
    def jobs_openapi() -> JSONResponse:
        return JSONResponse(document("jobs"))

    app.openapi = openapi  # type: ignore[method-assign]

    # add_middleware puts each one outside the previous: this list runs bottom to top.
    app.add_middleware(IdempotencyMiddleware, store=service.store, accounts=service.accounts)
    app.add_middleware(RateLimitMiddleware, accounts=service.accounts, buckets=service.buckets)
    app.add_middleware(FaultMiddleware, faults=service.faults)
    app.add_middleware(BodyGuard, max_bytes=service.settings.max_body_bytes)
    app.add_middleware(RequestContext)
    app.add_middleware(GenerationDispatch, gen2=jobs_app)
    return app
