"""Shared test set-up.

With CI=true nothing may be skipped because a tool is missing: the tools are checked when the
session starts, and any skip (of a test or of a whole module at collection) becomes a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# What the test suite needs in CI: Python packages, Graphviz's `dot` program, and Debian's
# Chromium, which the browser test drives with Playwright (`make test` installs them all).
REQUIRED_MODULES = ("torch", "numpy", "hypothesis", "graphviz", "matplotlib", "playwright",
                    "nbformat", "nbclient", "jupytext")
CHROMIUM = "/usr/bin/chromium"


def pytest_sessionstart(session):
    if not IN_CI:
        return
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if shutil.which("dot") is None:
        missing.append("the `dot` program (apt-get install graphviz)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        raise pytest.UsageError(
            "CI=true but these are missing, and CI may not skip their tests: "
            + ", ".join(missing) + ". Run `make test`, which installs them."
        )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium for Playwright (`executable_path=`; never `playwright install`).

    Skips the test when Chromium or Playwright is missing; with CI=true that skip fails.
    """
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                        "(pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
                    "`make test` does it when root)")
    return CHROMIUM


def _fail_skip(report) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true forbids skips): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip(outcome.get_result())
