"""The documentation site (build/docs, `make docs`) in headless Chromium, offline.

A reader opens the front page, a notebook page and the engine page, and searches: math is
typeset by the site's own MathJax, the notebook's pictures and its HTML stepper work, search
finds the engine page, and no page asks anything of another host.
"""

from __future__ import annotations

import re

import pytest
from site_tools import BUILD, SHOTS, Offline, serve

DOCS = BUILD / "docs"


@pytest.fixture(scope="module")
def docs(browser):
    for url in serve(DOCS):
        offline = Offline(browser, url, width=1280, height=900)
        page = offline.context.new_page()
        yield url, page, offline
        offline.close()


def test_front_page_shows_the_picture_and_the_sections(docs):
    url, page, offline = docs
    page.goto(f"{url}/index.html")
    page.wait_for_load_state("networkidle")
    picture = page.locator("img[src*='step_through']")
    assert picture.evaluate("i => i.complete && i.naturalWidth") > 300
    toc = page.locator(".sidebar-tree").inner_text()
    for section in ("Getting started", "Notebooks", "Exercises", "The engine", "Pictures",
                    "Reliability", "Performance", "API reference"):
        assert section in toc
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "docs-index.png"))
    assert offline.elsewhere == []


def test_a_notebook_page_has_math_pictures_and_a_working_stepper(docs):
    url, page, offline = docs
    page.goto(f"{url}/course/02_backprop_by_hand_then_automatically.html")
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 3",
                           timeout=20_000)  # MathJax typeset the page's formulas
    sizes = page.evaluate("() => Array.from(document.querySelectorAll("
                          "'img[src^=\"data:image/svg+xml\"]')).map(i => i.naturalWidth)")
    assert len(sizes) >= 3 and min(sizes) > 50
    stepper = page.locator(".tge-player").first
    stepper.scroll_into_view_if_needed()
    count = stepper.locator(".tge-count")
    assert re.fullmatch(r"step \d+ of \d+", count.inner_text())
    before = count.inner_text()
    stepper.locator("button.tge-next").click()
    assert count.inner_text() != before
    page.screenshot(path=str(SHOTS / "docs-notebook-02.png"))
    assert offline.elsewhere == []


def test_search_finds_the_engine(docs):
    url, page, offline = docs
    page.goto(f"{url}/index.html")
    box = page.locator("input[name='q']").first
    box.fill("topological")
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q=topological"))
    results = page.locator("ul.search li a")
    results.first.wait_for(timeout=20_000)
    links = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(re.match(r"(api/tinygrad_edu\.)?engine\.html", link) for link in links), links
    page.screenshot(path=str(SHOTS / "docs-search.png"))
    assert offline.elsewhere == []


def test_the_api_reference_is_built_from_the_docstrings(docs):
    url, page, offline = docs
    page.goto(f"{url}/api/tinygrad_edu.engine.html")
    assert page.locator("dt#tinygrad_edu\\.engine\\.Value").count() == 1
    page.goto(f"{url}/api/tinygrad_edu.dot_backend.html")
    assert "viz.js" in page.locator("article").inner_text()
    assert offline.elsewhere == []
