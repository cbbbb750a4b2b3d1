"""pytest plugin: one test case per scene and format. Inert unless ``--gizmo-loadtest`` is given.

The entry point loads this module in every pytest run of any project that installs the package,
so importing it must stay cheap (no pxr or mujoco here) and it must change nothing by default.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gizmo-loadtest", "Gizmo headless scene load tests")
    group.addoption(
        "--gizmo-loadtest",
        action="store_true",
        default=False,
        help="collect one load test per Gizmo scene and export format instead of test files",
    )
