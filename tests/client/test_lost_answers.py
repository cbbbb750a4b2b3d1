"""Creations whose answers are lost after the server committed them (issue 12.2).

The real local server's `reset` and `502` faults run the handler, commit, and then drop the
connection or answer 502. The client keeps replaying the same `Idempotency-Key` until an answer
gets through, so N creations are N successes and N scenes, never a reported failure that in fact
created the scene."""

from __future__ import annotations

import pytest

from gizmo_client import GizmoClient
from gizmo_client.errors import GizmoConnectionError
from gizmo_client.transport import RetryPolicy, Transport
from gizmo_server.embedded import LocalServer

N = 20


@pytest.mark.parametrize("fault", ["reset:0.7", "502:0.7"])
def test_n_creations_under_lost_answers_are_n_successes_and_n_scenes(fault: str) -> None:
    with LocalServer(demo=False, api_keys=("gz_lost_answers_key_0001",)) as server:
        with GizmoClient(
            api_key=server.api_key,
            base_url=server.base_url,
            api_generation="alpha",
            backoff_base=0.005,  # max_retries stays at its default, 4
        ) as client:
            server.configure_faults(fault, seed=3)  # 6 of 20 failed with 5 attempts each
            created = [client.scenes.create(f"lost {i}").id for i in range(N)]
            server.configure_faults(None)
            names = sorted(s.name for s in client.scenes.iter_all())
    assert len(set(created)) == N
    assert names == sorted(f"lost {i}" for i in range(N))


def test_a_server_that_is_not_there_still_fails_after_max_retries() -> None:
    """No connection was ever made, so nothing ran: the short budget, not the recovery one."""
    with LocalServer(demo=False) as server:
        base_url = server.base_url  # the port is free once the server stops
    waits: list[float] = []
    transport = Transport(
        base_url, "gz_key", retry=RetryPolicy(max_retries=2, backoff_base=0.0), sleep=waits.append
    )
    with pytest.raises(GizmoConnectionError):
        transport.request("POST", "/scenes", json_body={"name": "x"})
    assert len(waits) == 2


def test_the_recovery_budget_applies_to_lost_answers_of_keyed_writes_only() -> None:
    policy = RetryPolicy(max_retries=4)
    assert policy.budget(outcome_unknown=True) == policy.max_recovery_retries
    assert policy.budget(outcome_unknown=False) == 4
    assert RetryPolicy(max_retries=0).budget(outcome_unknown=True) == 0
