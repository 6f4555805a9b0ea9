"""The pictures in a real browser: Debian's Chromium driven by Playwright.

Never `playwright install`: the test uses the system's /usr/bin/chromium (CI installs it with
apt-get, as it does graphviz). Without it these tests are skipped locally; with CI=true the
conftest turns the skip into a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("graphviz")
sync_api = pytest.importorskip("playwright.sync_api")

from test_viz import lecture_neuron  # noqa: E402

from tinygrad_edu import Value, backward_steps  # noqa: E402
from tinygrad_edu.explain import explain  # noqa: E402
from tinygrad_edu.nn import MLP  # noqa: E402
from tinygrad_edu.viz import draw_graph, draw_network, graphviz_available, step_through  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at "
                       f"{CHROMIUM} (apt-get install chromium)"),
    pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def tanh_neuron() -> Value:
    return lecture_neuron()[0]


NO_HORIZONTAL_SCROLL = ("document.documentElement.scrollWidth <= "
                        "document.documentElement.clientWidth")
BOXES = """() => Array.from(document.querySelectorAll('svg.tge-graph g.val, svg.tge-graph g.op'))
    .map(g => { const b = g.getBBox(); return [g.id, b.x, b.y, b.width, b.height]; })"""


def test_save_html_walk_through_of_a_tanh_neuron(browser, tmp_path):
    o = tanh_neuron()
    path = step_through(o).save_html(tmp_path / "walk.html")
    expected = [explain(node) for node in backward_steps(tanh_neuron())]

    page = browser.new_page(viewport={"width": 1000, "height": 800})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(path.as_uri())
    caption = page.locator(".tge-caption")
    count = page.locator(".tge-count")
    nxt = page.get_by_role("button", name="Next", exact=True)
    prev = page.get_by_role("button", name="Previous", exact=True)
    layout = page.evaluate(BOXES)
    assert len(layout) == 10 + 5  # 10 Values, 5 operations

    for i, text in enumerate(expected):
        assert caption.inner_text() == text, i
        assert count.inner_text() == f"step {i + 1} of {len(expected)}"
        assert page.evaluate(BOXES) == layout  # nothing moves
        # grads after this step still read "grad ?"
        shown = page.evaluate("""() => Array.from(document.querySelectorAll('.gq'))
            .filter(t => getComputedStyle(t).display !== 'none').length""")
        assert shown == len(expected) - i - 1
        nxt.click()
    assert caption.inner_text() == expected[-1]  # Next on the last frame stays there

    prev.click()
    assert caption.inner_text() == expected[-2]
    page.keyboard.press("ArrowLeft")
    assert caption.inner_text() == expected[-3]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert caption.inner_text() == expected[-1]

    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    svg_width = page.evaluate("document.querySelector('svg.tge-graph').getBoundingClientRect()"
                              ".width")
    assert svg_width <= 1000
    assert problems == []
    page.close()


def notebook_page(outputs: list[object], tmp_path: Path) -> Path:
    """A notebook whose cells display ``outputs`` (as Jupyter would), exported by nbconvert."""
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    for k, obj in enumerate(outputs):
        data, meta = obj._repr_mimebundle_()
        cell = nbformat.v4.new_code_cell(f"picture_{k}")
        cell.outputs = [nbformat.v4.new_output("execute_result", data=data, metadata=meta,
                                               execution_count=k + 1)]
        nb.cells.append(cell)
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "notebook.html"
    path.write_text(body, encoding="utf-8")
    return path


def chain(n: int) -> Value:
    y = Value(0.5, "x")
    for _ in range(n):
        y = y * 1.1
    return y


def test_pictures_fit_a_1000_px_notebook_page(browser, tmp_path):
    pytest.importorskip("PIL")
    digits = MLP(64, [16, 10], seed=0)
    pictures = [
        draw_graph(tanh_neuron()),  # 10 Values, left to right
        draw_graph(chain(19)),  # 39 Values: too wide left to right, drawn top to bottom
        draw_graph(MLP(2, [3, 1], seed=0)([1.0, 2.0])),  # 22 Values, a whole small MLP
        draw_network(digits, x=[(i % 17) / 16 for i in range(64)], softmax=True),
        step_through(tanh_neuron()),
    ]
    path = notebook_page(pictures, tmp_path)
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(path.as_uri())  # (nbconvert's page also asks CDNs for MathJax: offline here)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    # every Graphviz picture is an <img> of an SVG with 11-pt text: its text size on screen
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jp-OutputArea-output img[src^="data:image/svg+xml"]'))
        .map(img => [img.getBoundingClientRect().width, img.naturalWidth])""")
    assert len(sizes) == 4
    for shown, natural in sizes:
        assert 0 < shown <= natural
        text_px = 11 * 4 / 3 * shown / natural
        assert text_px >= 9, (shown, natural)
    # the stepper works there too (no kernel): its script built the controls
    page.get_by_role("button", name="Next", exact=True).click()
    caption = page.locator(".tge-caption").inner_text()
    assert caption == explain(list(backward_steps(tanh_neuron()))[1])
    page.close()


def test_no_network_requests(browser, tmp_path):
    """save_html works offline: the page asks for nothing but itself."""
    path = step_through(tanh_neuron(), direction="forward").save_html(tmp_path / "f.html")
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_timeout(200)
    assert requests == [path.as_uri()]
    assert re.match(r"\w+ = ", page.locator(".tge-caption").inner_text())
    page.close()
