"""`iter_all` walks every page, even while scenes are being created mid-walk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gizmo_client import GizmoClient
from gizmo_server.embedded import LocalServer

KEY = "gz_pagination_test_key"


@pytest.fixture(scope="module")
def paging_client() -> Iterator[GizmoClient]:
    with LocalServer(demo=False, api_keys=(KEY,)) as server:
        with GizmoClient(api_key=KEY, base_url=server.base_url) as client:
            for i in range(230):
                client.scenes.create(f"scene {i:03d}")
            yield client


def test_iter_all_walks_pages_of_100(paging_client: GizmoClient, sent: list[object]) -> None:
    total = paging_client.scenes.list().total
    sent.clear()
    ids = [s.id for s in paging_client.scenes.iter_all()]
    assert len(ids) == len(set(ids)) == total == 230
    assert len(sent) == 3  # 100 + 100 + the remaining 30


def test_scenes_created_mid_walk_cause_no_duplicates_and_no_misses(
    paging_client: GizmoClient,
) -> None:
    before = {s.id for s in paging_client.scenes.iter_all()}
    walked: list[str] = []
    for i, summary in enumerate(paging_client.scenes.iter_all()):
        walked.append(summary.id)
        if i in (10, 150):  # newest-first: each creation shifts every later page by one
            paging_client.scenes.create(f"created mid-walk {i}")
    assert len(walked) == len(set(walked)), "ids are de-duplicated"
    assert before <= set(walked), "no scene that existed before the walk is missed"
