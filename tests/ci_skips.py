"""With ``CI=true`` a skipped test fails the run: CI must not pass by skipping (the Docker
and hostile-sandbox suites are the security core, and skip where Docker is missing).  The
skip's reason is kept in the failure; an expected failure (xfail) is not a skip."""
from __future__ import annotations

import os

import pytest


def ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if ci() and report.skipped and not hasattr(report, "wasxfail"):
        _path, line, reason = report.longrepr if isinstance(report.longrepr, tuple) \
            else ("", None, str(report.longrepr))
        report.outcome = "failed"
        report.longrepr = f"skipped with CI=true, which counts as a failure: {reason}"
