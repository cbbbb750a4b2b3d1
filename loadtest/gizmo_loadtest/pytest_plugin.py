"""pytest plugin: one test case per scene and format. Inert unless ``--gizmo-loadtest`` is given.

The entry point loads this module in every pytest run of any project that installs the package,
so importing it must stay cheap (no pxr or mujoco here) and every hook must do nothing by default.

Enabled, the session collects no test files: it holds one case per scene and format
(``gizmo-loadtest/<scene id>::<format>``, plus ``::cross_format`` when both formats are
checked), so JUnit XML
(``--junitxml``) and ``-k`` (scene id, scene name or format) work as usual. Reports go to the
artifacts directory like ``gizmo loadtest``'s.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .findings import CROSS
from .options import add_options, artifacts_dir, check_options, target_filters, worker_count

if TYPE_CHECKING:
    from .findings import FormatResult, Report
    from .runner import Scheduler

PREFIX = "gizmo-loadtest-"
_DEST_PREFIX = PREFIX.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gizmo-loadtest", "Gizmo headless scene load tests")
    group.addoption(
        "--gizmo-loadtest",
        action="store_true",
        default=False,
        help="run one load test per Gizmo scene and export format instead of the test files",
    )
    group.addoption(
        "--gizmo-loadtest-hosted",
        action="store_true",
        default=False,
        help="test the account of $GIZMO_API_KEY/$GIZMO_BASE_URL (or `gizmo login`) instead of "
        "the embedded local server with the demo scenes",
    )
    add_options(group.addoption, PREFIX)


class FindingsFailure(Exception):
    """A case failed with findings (shown one per line instead of a traceback)."""


class _State:
    """One enabled session: the target, the scheduler, and the report being built."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.options = check_options(config.option, _DEST_PREFIX)
        self.artifacts = artifacts_dir(config.option, _DEST_PREFIX)
        self._stack = ExitStack()
        self.scheduler: Scheduler | None = None
        self.report: Report | None = None
        self.report_paths: tuple[Path, Path] | None = None

    def collect(self, session: pytest.Session) -> list[pytest.Item]:
        from gizmo_client.config import resolve_settings
        from gizmo_client.errors import GizmoError

        from .fetch import Target, local_target, select_scenes
        from .runner import Scheduler, new_report

        scene_ids, match = target_filters(self.config.option, _DEST_PREFIX)
        try:
            if self.config.getoption("gizmo_loadtest_hosted"):
                settings = resolve_settings()
                target = Target(settings.base_url, settings.api_key, settings.cache_dir)
            else:
                target = self._stack.enter_context(local_target())
            with target.client() as client:
                scenes = select_scenes(client, scene_ids, match)
        except GizmoError as exc:
            raise pytest.UsageError(f"gizmo loadtest: {exc}") from exc
        workers = worker_count(self.config.option, _DEST_PREFIX)
        self.scheduler = self._stack.enter_context(
            Scheduler(target, self.options, workers, self.artifacts)
        )
        self.report = new_report(target.base_url, workers, self.options)
        formats = list(self.options.formats)
        if len(formats) > 1:
            formats.append(CROSS)
        items: list[pytest.Item] = []
        for scene in scenes:
            collector = SceneCollector.from_parent(
                session,
                name=scene.id,
                nodeid=f"gizmo-loadtest/{scene.id}",
                scene_name=scene.name,
                formats=formats,
                state=self,
            )
            items += collector.collect()
        return items

    def start(self, items: Iterable[pytest.Item]) -> None:
        if self.scheduler is not None:
            ids = [i.scene_id for i in items if isinstance(i, LoadtestCase)]
            self.scheduler.submit(list(dict.fromkeys(ids)))

    def result(self, scene_id: str, fmt: str) -> FormatResult | None:
        assert self.scheduler is not None, "cases run only after collection"
        return self.scheduler.result(scene_id).results.get(fmt)

    def finish(self, items: Iterable[pytest.Item]) -> None:
        from .runner import write_reports

        if self.scheduler is None or self.report is None:
            return
        ran = [i.scene_id for i in items if isinstance(i, LoadtestCase) and i.ran]
        self.report.scenes = [self.scheduler.result(s) for s in dict.fromkeys(ran)]
        self.report.elapsed_seconds = self.scheduler.elapsed()
        if self.report.scenes:
            self.report_paths = write_reports(self.report, self.artifacts)

    def close(self) -> None:
        self._stack.close()


_STATE = pytest.StashKey[_State]()


class SceneCollector(pytest.Collector):
    """A scene: its node id is the scene id (JUnit's classname), its cases are its formats."""

    def __init__(
        self, *, scene_name: str, formats: list[str], state: _State, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scene_name = scene_name
        self.formats = formats
        self.state = state

    def collect(self) -> list[LoadtestCase]:
        return [
            LoadtestCase.from_parent(
                self, name=fmt, scene_id=self.name, scene_name=self.scene_name, state=self.state
            )
            for fmt in self.formats
        ]


class LoadtestCase(pytest.Item):
    """One scene in one format: passes when the checks found nothing."""

    def __init__(self, *, scene_id: str, scene_name: str, state: _State, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scene_id = scene_id
        self.scene_name = scene_name
        self.state = state
        self.ran = False
        self.extra_keyword_matches.update({scene_name, scene_id})

    def runtest(self) -> None:
        self.ran = True
        result = self.state.result(self.scene_id, self.name)
        if result is None:
            raise FindingsFailure(f"the {self.name} case produced no result")
        if result.skipped:
            pytest.skip(result.skipped)
        if result.findings:
            raise FindingsFailure("\n".join(str(f) for f in result.findings))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, FindingsFailure):
            return f"{self.scene_name} ({self.scene_id}) [{self.name}]:\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.scene_name} [{self.name}]"


def _state(config: pytest.Config) -> _State | None:
    return config.stash.get(_STATE, None)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("gizmo_loadtest"):
        return
    if hasattr(config, "workerinput") or config.getoption("numprocesses", None):
        raise pytest.UsageError(
            "--gizmo-loadtest runs scenes in parallel itself: use --gizmo-loadtest-workers N "
            "instead of pytest-xdist's -n"
        )
    config.stash[_STATE] = _State(config)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Enabled, the session holds only the load-test cases, whatever test files lie around."""
    return True if _state(config) is not None else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # tryfirst: the cases must exist before -k and -m deselect among them
    state = _state(config)
    if state is not None:
        items[:] = state.collect(session)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    state = _state(session.config)
    if state is not None:
        state.start(session.items)
    return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None:
        state.finish(session.items)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or state.report is None or not state.report.scenes:
        return
    from .report_text import summary

    terminalreporter.section("gizmo loadtest")
    terminalreporter.write_line(summary(state.report))
    if state.report_paths:
        json_path, html_path = state.report_paths
        terminalreporter.write_line(f"Reports: {json_path} and {html_path}")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is not None:
        state.close()
