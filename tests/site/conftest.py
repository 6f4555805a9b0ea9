"""The browser course and the documentation site, as a reader gets them (`make test-site`).

The sites are built by `make site` and `make docs` (`make test-site` builds both first); the
tests serve them on 127.0.0.1 and drive Debian's Chromium with Playwright (site_tools.py).
"""

from __future__ import annotations

import pytest
from site_tools import CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
