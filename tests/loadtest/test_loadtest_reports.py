"""Issue 13.9: what the reports say when things go wrong: a scene whose exports could not be
fetched is named and not called "0 placement(s)", a repeated error is shown once, hints show
their commands as code, settings read as words, a run too short to time has no throughput."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_loadtest.fetch import Target
from gizmo_loadtest.findings import MJCF, USD
from gizmo_loadtest.options import CheckOptions
from gizmo_loadtest.report_html import render_html
from gizmo_loadtest.report_text import summary
from gizmo_loadtest.runner import new_report, run, write_reports
from gizmo_server.demo import DEMO_SCENE_NAME
from gizmo_server.embedded import LocalServer

OPTIONS = CheckOptions(steps=10, thumbnails=False)


@pytest.fixture(scope="module")
def failing_exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, str]]:
    """A server whose every scene export answers 400 `assets_not_ready` (a fault of its own)."""
    with LocalServer(demo=True, faults="export_not_ready:1.0") as server:
        target = Target(server.base_url, server.api_key, tmp_path_factory.mktemp("cache"))
        with target.client() as client:
            scene = next(s for s in client.scenes.iter_all() if s.name == DEMO_SCENE_NAME)
        yield target, scene.id


def test_a_scene_whose_fetches_failed_is_named_and_its_error_shown_once(
    failing_exports: tuple[Target, str], tmp_path: Path
) -> None:
    target, scene_id = failing_exports
    report = run(target, [scene_id], OPTIONS)
    (scene,) = report.scenes
    assert scene.scene_name == DEMO_SCENE_NAME  # not its id
    assert [f.check for f in scene.results[MJCF].findings] == ["fetch"]
    assert [f.check for f in scene.results[USD].findings] == ["fetch"]

    html = render_html(report)
    assert "0 placement(s)" not in html and "no export could be checked" in html
    assert html.count(scene.results[MJCF].findings[0].message[:40]) == 1
    assert "the same as for mujoco_mjcf" in html
    assert "Findings by kind: <code>fetch</code> &times;2" in html
    assert "`" not in html  # the CLI's `command` quoting becomes <code>
    json_path, _ = write_reports(report, tmp_path)
    assert json.loads(json_path.read_text())["scenes"][0]["name"] == DEMO_SCENE_NAME


def test_settings_read_as_words_and_a_zero_second_run_has_no_throughput() -> None:
    report = new_report("embedded demo server", OPTIONS)
    assert report.scenes_per_minute is None
    assert report.to_json()["scenes_per_minute"] is None
    text = summary(report)
    assert "too short to time" in text and "scenes/min" not in text
    html = render_html(report)
    assert "scenes per minute" not in html and "too short to time" in html
    assert "formats MJCF and USD; 10 MuJoCo steps; tolerances 1e-06 m / 1e-06 rad" in html
    assert "thumbnails off; checked in this process" in html
    assert "{'" not in html and "thumbnails=False" not in html
    assert "Target <code>embedded demo server</code>" in html
