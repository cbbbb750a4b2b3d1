"""schemathesis against each generation's OpenAPI document: no input makes a 5xx, and every error
is that generation's envelope; the combined /v1/openapi.json describes both.

The schema is loaded from the running server inside each test (schemathesis' lazy
`from_fixture` does not work with this pytest), one test per operation and generation mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from gizmo_server.embedded import LocalServer

MAX_EXAMPLES = 60
OPERATIONS = (
    "POST /v1/assets",
    "GET /v1/assets",
    "GET /v1/assets/{asset_id}",
    "POST /v1/assets/{asset_id}/export",
    "POST /v1/scenes",
    "GET /v1/scenes",
    "GET /v1/scenes/{scene_id}",
    "POST /v1/scenes/{scene_id}/assets",
    "POST /v1/scenes/{scene_id}/export",
    "GET /v1/downloads/{token}",
)

# A schema cannot say "unit norm": most schema-valid quaternions are rightly refused.
EXCLUDED = {"POST /v1/scenes/{scene_id}/assets": [schemathesis.checks.positive_data_acceptance]}


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[LocalServer]:
    # Credits without end: a 402 would be a schema-valid request refused.
    with LocalServer(
        demo=True, generation_delay=0.0, job_seconds=0.0, gen2_credits=10**9
    ) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: LocalServer) -> Any:
    return schemathesis.openapi.from_url(fuzzed_server.base_url + "/openapi-alpha.json")


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    found = {result.ok().label for result in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors_and_every_error_is_an_envelope(
    fuzzed_server: LocalServer, api_schema: Any, label: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema.find_operation_by_label(label)
    origin = fuzzed_server.base_url.removesuffix("/v1")
    auth = {"Authorization": f"Bearer {fuzzed_server.api_key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        # A negative case may leave the key out on purpose (to check the 401); otherwise send it.
        headers = None if api_schema.is_security_param_negated(case) else auth
        response = case.call_and_validate(
            base_url=origin, headers=headers, excluded_checks=EXCLUDED.get(label, [])
        )
        assert response.status_code < 500, response.text
        assert response.headers["x-request-id"][0].startswith("req_")
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body, dict) and {"error", "code", "message"} <= set(body), body
            assert all(isinstance(body[k], str) and body[k] for k in ("error", "code", "message"))

    check()


JOBS_OPERATIONS = (
    "GET /v1/whoami",
    "GET /v1/usage",
    "POST /v1/scenes",
    "GET /v1/scenes",
    "GET /v1/scenes/{scene_id}",
    "PATCH /v1/scenes/{scene_id}",
    "DELETE /v1/scenes/{scene_id}",
    "GET /v1/scenes/{scene_id}/status",
    "POST /v1/scenes/{scene_id}/edit",
    "POST /v1/scenes/{scene_id}/export",
    "POST /v1/assets",
    "GET /v1/assets",
    "GET /v1/assets/{asset_id}",
    "DELETE /v1/assets/{asset_id}",
    "POST /v1/assets/{asset_id}/export",
    "GET /v1/jobs/{job_id}",
    "POST /v1/jobs/{job_id}/cancel",
    "GET /v1/jobs/{job_id}/events",
    "GET /v1/catalog",
    "GET /v1/catalog/categories",
    "GET /v1/catalog/{slug}",
)
JOBS_MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def jobs_schema(fuzzed_server: LocalServer) -> Any:
    return schemathesis.openapi.from_url(fuzzed_server.base_url + "/openapi-jobs.json")


def test_the_combined_document_describes_both_generations(fuzzed_server: LocalServer) -> None:
    doc = requests.get(fuzzed_server.base_url + "/openapi.json", timeout=10).json()
    labels = {f"{m.upper()} {p}": op for p, ops in doc["paths"].items() for m, op in ops.items()}
    assert set(labels) == set(OPERATIONS) | set(JOBS_OPERATIONS)
    both = labels["POST /v1/scenes"]
    assert both["x-gizmo-generations"] == ["alpha", "jobs"]
    bodies = both["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {b["$ref"].rsplit("/", 1)[1] for b in bodies} == {"SceneCreate", "SceneGenerate"}
    assert {"201", "202"} <= set(both["responses"])
    assert labels["GET /v1/whoami"]["x-gizmo-generations"] == ["jobs"]
    assert "JobsServiceToken" in doc["components"]["securitySchemes"]
    combined = schemathesis.openapi.from_url(fuzzed_server.base_url + "/openapi.json")
    parsed = [result.ok().label for result in combined.get_all_operations()]  # ok() raises
    assert sorted(parsed) == sorted(labels)


def test_every_jobs_operation_is_fuzzed(jobs_schema: Any) -> None:
    found = {result.ok().label for result in jobs_schema.get_all_operations()}
    assert found == set(JOBS_OPERATIONS)


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
@pytest.mark.parametrize("label", JOBS_OPERATIONS)
def test_jobs_generation_has_no_server_errors_and_nested_envelopes(
    fuzzed_server: LocalServer, jobs_schema: Any, label: str, mode: schemathesis.GenerationMode
) -> None:
    operation = jobs_schema.find_operation_by_label(label)
    origin = fuzzed_server.base_url.removesuffix("/v1")
    auth = {"Authorization": f"Bearer {fuzzed_server.gen2_api_key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=JOBS_MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        # Without a key a request belongs to the alpha generation (404 for /whoami), so the
        # "ignored auth" probe does not apply to this generation's document.
        response = case.call_and_validate(
            base_url=origin, headers=auth, excluded_checks=[schemathesis.checks.ignored_auth]
        )
        assert response.status_code < 500, response.text
        assert "x-ratelimit-reset" in response.headers
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["status"] == response.status_code and error["code"] and error["message"]

    check()
