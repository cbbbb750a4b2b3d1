"""The OpenAPI documents: one per API generation, and the combined one at `/v1/openapi.json`.

Both generations share paths and methods with different bodies, chosen by the key (`gzk_...`
alpha, `gzm_k1_...` jobs), which OpenAPI cannot express per operation. The combined document
therefore holds every operation once: an operation both generations answer takes `oneOf` the two
request bodies and, per status, `oneOf` the two response bodies, with its parameters and security
schemes united; `x-gizmo-generations` says which generations answer it. The single-generation
documents (`/v1/openapi-alpha.json`, `/v1/openapi-jobs.json`) are for tools that speak one
generation, and for fuzzing each exactly.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["alpha_document", "combined_document", "jobs_document"]

Document = dict[str, Any]
_SERVICE_TOKEN = {"type": "apiKey", "in": "header", "name": "x-gizmo-service-token"}
_JOBS_SECURITY: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"JobsServiceToken": []}]
_EXPORT_REFUSALS = {
    "503": "The export queue is full (`export_queue_full`): retry after `Retry-After` seconds.",
    "500": "The export's worker process died (`export_worker_lost`): retry.",
}
_JOBS_NOTE = (
    "\n\nThe jobs generation (contract Part C) answers requests whose key starts `gzm_k1_`: "
    "wrapped successes `{ok: true, ...}`, nested errors `{error: {code, message, status}}`, "
    "epoch-second timestamps, jobs with Server-Sent Events, ZIP exports."
)


def alpha_document(app: FastAPI) -> Document:
    """The alpha generation, without the 422 answers FastAPI adds (this generation answers 400)."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path in doc["paths"].values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        doc.get("components", {}).get("schemas", {}).pop(name, None)
    return _mark(doc, "alpha")


def jobs_document(app: FastAPI, version: str) -> Document:
    doc = get_openapi(
        title="Gizmo jobs generation (local stand-in)",
        version=version,
        description=_JOBS_NOTE.strip(),
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemes = components.setdefault("securitySchemes", {})
    schemes["HTTPBearer"] = {"type": "http", "scheme": "bearer"}
    schemes["JobsServiceToken"] = _SERVICE_TOKEN
    for path in doc["paths"].values():
        for operation in path.values():
            operation["security"] = copy.deepcopy(_JOBS_SECURITY)
    return _mark(doc, "jobs")


def _mark(doc: Document, generation: str) -> Document:
    """Tags each operation with its generation; exports also say how the export pool refuses."""
    for name, path in doc["paths"].items():
        for operation in path.values():
            operation["x-gizmo-generations"] = [generation]
            operation["tags"] = [f"{generation} generation"]
            if name.endswith("/export"):
                responses = operation.setdefault("responses", {})
                for status, text in _EXPORT_REFUSALS.items():
                    responses.setdefault(status, {"description": text})
    return doc


def combined_document(alpha: Document, jobs: Document) -> Document:
    doc = copy.deepcopy(alpha)
    doc["info"]["description"] += _JOBS_NOTE
    for path, operations in jobs["paths"].items():
        target = doc["paths"].setdefault(path, {})
        for method, operation in operations.items():
            target[method] = (
                _merge(target[method], operation) if method in target else copy.deepcopy(operation)
            )
    components = doc.setdefault("components", {})
    for section, entries in jobs.get("components", {}).items():
        components.setdefault(section, {}).update(copy.deepcopy(entries))
    return doc


def _one_of(a: Any, b: Any) -> Any:
    return a if a == b else {"oneOf": [a, b]}


def _merge(a: Document, b: Document) -> Document:
    """One operation answered by both generations."""
    merged = copy.deepcopy(a)
    merged["summary"] = f"{a.get('summary', '')} | jobs: {b.get('summary', '')}"
    merged["operationId"] = f"{a['operationId']}_or_{b['operationId']}"
    merged["x-gizmo-generations"] = ["alpha", "jobs"]
    merged["tags"] = ["alpha generation", "jobs generation"]
    params = {(p["name"], p["in"]): p for p in a.get("parameters", [])}
    for p in b.get("parameters", []):
        params.setdefault((p["name"], p["in"]), copy.deepcopy(p))
    if params:
        merged["parameters"] = list(params.values())
    if "requestBody" in a or "requestBody" in b:
        bodies = [x["requestBody"] for x in (a, b) if "requestBody" in x]
        content: Document = {}
        for body in bodies:
            for media, entry in body["content"].items():
                if media in content:
                    content[media] = {"schema": _one_of(content[media]["schema"], entry["schema"])}
                else:
                    content[media] = copy.deepcopy(entry)
        required = len(bodies) == 2 and all(body.get("required", False) for body in bodies)
        merged["requestBody"] = {"content": content, "required": required}
    responses = merged.setdefault("responses", {})
    for status, entry in b.get("responses", {}).items():
        if status not in responses:
            responses[status] = copy.deepcopy(entry)
            continue
        mine = responses[status].setdefault("content", {})
        for media, value in entry.get("content", {}).items():
            if media in mine and "schema" in mine[media] and "schema" in value:
                mine[media] = {"schema": _one_of(mine[media]["schema"], value["schema"])}
            else:
                mine.setdefault(media, copy.deepcopy(value))
    security = list(merged.get("security", []))
    merged["security"] = security + [s for s in _JOBS_SECURITY if s not in security]
    return merged
