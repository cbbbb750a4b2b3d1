"""schemathesis against /v1/openapi.json: no input makes a 5xx, and every error is an envelope.

The schema is loaded from the running server inside each test (schemathesis' lazy
`from_fixture` does not work with this pytest), one test per operation and generation mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
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
    with LocalServer(demo=True, generation_delay=0.0) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: LocalServer) -> Any:
    return schemathesis.openapi.from_url(fuzzed_server.base_url + "/openapi.json")


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
