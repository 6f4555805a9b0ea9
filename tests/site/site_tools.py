"""Helpers for the tests of the browser course and the documentation site (`make test-site`).

The sites are built by `make site` and `make docs` (`make test-site` builds both first); these
tests serve them on 127.0.0.1 and drive Debian's Chromium with Playwright. A request that
leaves 127.0.0.1 is answered with a network error, as a browser without internet would see,
and recorded, so each test can say which (if any) it allows.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SHOTS = BUILD / "site-test"  # screenshots of what the tests saw, for people to look at
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript",
                      ".js": "text/javascript", ".whl": "application/octet-stream"}

    def log_message(self, *args: object) -> None:
        pass


def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) while the generator is open; yield its URL."""
    if not (folder / "index.html").is_file():
        pytest.fail(f"{folder.relative_to(ROOT)} is not built: run `make test-site` (it builds "
                    "the sites first), or `make site` / `make docs`")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Offline:
    """A browser context whose requests to anywhere but ``base`` fail (and are recorded)."""

    def __init__(self, browser, base: str, width: int = 1300, height: int = 900) -> None:
        self.base = base
        self.elsewhere: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           service_workers="allow")
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base + "/") or url == self.base:
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort("internetdisconnected")

    def close(self) -> None:
        self.context.close()
