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

import pickle
from collections.abc import Generator, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .findings import CROSS
from .options import (
    add_options,
    artifacts_dir,
    check_options,
    ray_address,
    target_filters,
    worker_count,
)

if TYPE_CHECKING:
    from .engines import Checks
    from .fetch import Target
    from .findings import FormatResult, Report

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


_TARGET_KEY = "gizmo_loadtest_target"
_RESULTS_KEY = "gizmo_loadtest_results"


class _State:
    """One enabled session: the target, the checks, and the report being built.

    Under pytest-xdist the controller starts the one local server (so every worker collects the
    same scene ids) and hands its address to the workers; each worker checks the scenes of the
    cases it is given, in its own process, and sends its results back for the one report the
    controller writes.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.options = check_options(config.option, _DEST_PREFIX)
        self.artifacts = artifacts_dir(config.option, _DEST_PREFIX)
        self.worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
        self.controller = self.worker_input is None and _xdist_distributes(config)
        self._stack = ExitStack()
        self.checks: Checks | None = None
        self.report: Report | None = None
        self.report_paths: tuple[Path, Path] | None = None
        self.target: Target | None = None

    def resolve_target(self) -> Target:
        """The account under test; the embedded demo server is started here on first use."""
        if self.target is not None:
            return self.target
        from gizmo_client.config import resolve_settings
        from gizmo_client.errors import GizmoError

        from .fetch import Target, local_target

        if self.worker_input is not None:
            given = self.worker_input[_TARGET_KEY]
            cache = Path(given["cache_dir"]) if given["cache_dir"] else None
            self.target = Target(given["base_url"], given["api_key"], cache, given["label"])
        elif self.config.getoption("gizmo_loadtest_hosted"):
            try:
                settings = resolve_settings()
            except GizmoError as exc:
                raise pytest.UsageError(f"gizmo loadtest: {exc}") from exc
            self.target = Target(settings.base_url, settings.api_key, settings.cache_dir)
        else:
            self.target = self._stack.enter_context(local_target())
        return self.target

    def worker_target(self) -> dict[str, Any]:
        """What an xdist worker needs to reach the same account (and cache) as the controller."""
        target = self.resolve_target()
        cache = str(target.cache_dir) if target.cache_dir is not None else None
        return {
            "base_url": target.base_url,
            "api_key": target.api_key,
            "cache_dir": cache,
            "label": target.label,
        }

    def collect(self, session: pytest.Session) -> list[pytest.Item]:
        from gizmo_client.errors import GizmoError

        from .engines import Checks, make_engine
        from .fetch import select_scenes
        from .runner import new_report

        scene_ids, match = target_filters(self.config.option, _DEST_PREFIX)
        target = self.resolve_target()
        try:
            with target.client() as client:
                scenes = select_scenes(client, scene_ids, match)
            engine = make_engine(
                target,
                self.options,
                self.artifacts,
                worker_count(self.config.option, _DEST_PREFIX),
                ray_address(self.config.option, _DEST_PREFIX),
            )
        except GizmoError as exc:
            raise pytest.UsageError(f"gizmo loadtest: {exc}") from exc
        self.checks = self._stack.enter_context(Checks(engine, self.options.formats))
        self.report = new_report(target.name, self.options, engine.workers, engine.description)
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
        """Start every selected scene at once; an xdist worker instead checks each scene when
        its first case arrives (it does not know which cases it will be given)."""
        if self.checks is not None and self.worker_input is None:
            ids = [i.scene_id for i in items if isinstance(i, LoadtestCase)]
            self.checks.submit(ids)

    def result(self, scene_id: str, fmt: str) -> FormatResult | None:
        assert self.checks is not None, "cases run only after collection"
        result = self.checks.result(scene_id)
        if self.worker_input is not None:
            result.node = str(self.worker_input.get("workerid", result.node))
        return result.results.get(fmt)

    def finish(self, items: Iterable[pytest.Item]) -> None:
        if self.checks is None or self.report is None:
            return
        ran = [i.scene_id for i in items if isinstance(i, LoadtestCase) and i.ran]
        self.report.scenes = [self.checks.result(s) for s in dict.fromkeys(ran)]
        self.report.elapsed_seconds = self.checks.elapsed()
        if self.worker_input is not None:
            output = {"scenes": self.report.scenes, "elapsed": self.report.elapsed_seconds}
            self.config.workeroutput[_RESULTS_KEY] = pickle.dumps(output)  # type: ignore[attr-defined]
        else:
            self.write()

    def worker_done(self, output: dict[str, Any]) -> None:
        """The controller files one xdist worker's results."""
        if _RESULTS_KEY not in output:
            return
        given = pickle.loads(output[_RESULTS_KEY])
        if self.report is None:
            from .runner import new_report

            workers = int(self.config.getoption("numprocesses") or 1)
            target = self.resolve_target().name
            self.report = new_report(
                target, self.options, workers, f"pytest-xdist, {workers} workers"
            )
        self.report.scenes += given["scenes"]
        self.report.elapsed_seconds = max(self.report.elapsed_seconds, given["elapsed"])

    def write(self) -> None:
        from .runner import write_reports

        if self.report is not None and self.report.scenes:
            if self.controller:  # workers answer in any order
                self.report.scenes.sort(key=lambda s: (s.scene_name, s.scene_id))
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


def _xdist_distributes(config: pytest.Config) -> bool:
    """True in the controller of a `pytest -n N` run (xdist's `--dist` is set for it)."""
    dist = config.getoption("dist", "no")
    return bool(dist and dist != "no" and not config.getoption("collectonly"))


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("gizmo_loadtest"):
        return
    state = _State(config)
    distributed = state.controller or state.worker_input is not None
    if distributed and (
        worker_count(config.option, _DEST_PREFIX) > 1 or ray_address(config.option, _DEST_PREFIX)
    ):
        raise pytest.UsageError(
            "--gizmo-loadtest: give either pytest-xdist's -n or --gizmo-loadtest-workers / "
            "--gizmo-loadtest-ray, not both (each spreads the scenes over processes)"
        )
    config.stash[_STATE] = state
    if state.controller:
        state.resolve_target()  # one server for every worker, started before they are


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: tell each worker where the account under test is."""
    state = _state(node.config)
    if state is not None:
        node.workerinput[_TARGET_KEY] = state.worker_target()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`-n N` (xdist's `--dist load`): keep a scene's cases on one worker, which checks the
    scene once for all of them. Another `--dist` mode is left as chosen."""
    if _state(config) is None or config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    return LoadScopeScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    state = _state(node.config)
    if state is not None:
        state.worker_done(getattr(node, "workeroutput", {}))


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
    if state is None:
        return
    if state.controller:
        state.write()
    else:
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
