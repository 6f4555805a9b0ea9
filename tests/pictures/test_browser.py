"""The pictures and players in a real browser: Debian's Chromium driven by Playwright.

Never `playwright install`: the tests use the system's /usr/bin/chromium (CI installs it with
apt-get, as it does graphviz). Without it these tests are skipped locally; with CI=true the
conftest turns the skip into a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("graphviz")
sync_api = pytest.importorskip("playwright.sync_api")

from picture_helpers import chain, fork_graph, lecture_neuron  # noqa: E402

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


def watch(page) -> list[str]:
    """Console errors and warnings, page errors, and any request that leaves the page."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
            else problems.append(r.url))
    return problems


NO_HORIZONTAL_SCROLL = ("document.documentElement.scrollWidth <= "
                        "document.documentElement.clientWidth")
BOXES = """() => Array.from(document.querySelectorAll('.tge-picture svg g.node'))
    .map(g => { const b = g.getBBox(); return [b.x, b.y, b.width, b.height]; })"""
GRADS = """() => Array.from(document.querySelectorAll('.tge-picture svg g.node text'))
    .map(t => t.textContent).filter(t => t.startsWith('grad '))"""
PICTURE_TOP = "document.querySelector('.tge-picture').getBoundingClientRect().top"


# ---------------------------------------------------------------------------------------------
# The stepper's saved HTML, clicked through
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [1000, 1400])
def test_save_html_walk_through_of_a_tanh_neuron(browser, tmp_path, width):
    stepper = step_through(tanh_neuron(), fold_leaves=False)
    path = stepper.save_html(tmp_path / "walk.html")
    expected = [explain(node) for node in backward_steps(tanh_neuron())]

    page = browser.new_page(viewport={"width": width, "height": 900})
    problems = watch(page)
    page.goto(path.as_uri())
    caption, count = page.locator(".tge-caption"), page.locator(".tge-count")
    nxt = page.get_by_role("button", name="Next", exact=True)
    prev = page.get_by_role("button", name="Previous", exact=True)
    layout = page.evaluate(BOXES)
    assert len(layout) == 10 + 5  # 10 Values, 5 operations
    top = page.evaluate(PICTURE_TOP)

    for i, text in enumerate(expected):
        assert caption.inner_text() == text, i
        assert count.inner_text() == f"step {i + 1} of {len(expected)}"
        assert page.evaluate(BOXES) == layout  # nothing moves
        assert page.evaluate(PICTURE_TOP) == top  # the caption area keeps its height
        # the grads that no step has reached yet read "grad ?", the others their number
        unknown = sum(1 for g in page.evaluate(GRADS) if g == "grad ?")
        assert unknown == 10 - len(stepper.frames[i].look.grads)
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
    svg_width = page.evaluate("document.querySelector('.tge-picture svg')"
                              ".getBoundingClientRect().width")
    assert svg_width <= width
    assert problems == []
    page.close()


def test_grads_appear_and_stay(browser, tmp_path):
    """The fork graph: once a grad has a number it keeps one, 'so far' until final."""
    w, _ = fork_graph()
    path = step_through(w).save_html(tmp_path / "fork.html")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    problems = watch(page)
    page.goto(path.as_uri())
    seen = []
    for _ in range(3):
        seen.append(page.evaluate(GRADS))
        page.get_by_role("button", name="Next", exact=True).click()
    assert "grad 1 so far" in seen[0] and "grad 3 so far" in seen[1]
    assert "grad 6" in seen[2] and not any("so far" in g for g in seen[2])
    for before, after in zip(seen, seen[1:]):
        known = [k for k, g in enumerate(before) if g != "grad ?"]
        assert all(after[k] != "grad ?" for k in known)
    assert problems == []
    page.close()


def test_play_at_the_last_frame_starts_again(browser, tmp_path):
    path = step_through(tanh_neuron(), interval_ms=50).save_html(tmp_path / "walk.html")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    problems = watch(page)
    page.goto(path.as_uri())
    count = page.locator(".tge-count")
    assert count.inner_text() == "step 1 of 5"  # it opens at the first step
    page.locator(".tge-slider").fill("4")
    assert count.inner_text() == "step 5 of 5"
    play = page.get_by_role("button", name="Play", exact=True)
    play.click()
    page.wait_for_function("document.querySelector('.tge-play').textContent === 'Play'")
    assert count.inner_text() == "step 5 of 5"  # played from step 1 through to the end
    assert problems == []
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
    assert re.match(r"\S+ = ", page.locator(".tge-caption").inner_text())
    page.close()


# ---------------------------------------------------------------------------------------------
# Pictures in an exported notebook
# ---------------------------------------------------------------------------------------------
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


def test_pictures_fit_a_1000_px_notebook_page(browser, tmp_path):
    pytest.importorskip("PIL")
    digits = MLP(64, [16, 10], seed=0)
    pictures = [
        draw_graph(tanh_neuron()),  # 10 Values, left to right
        draw_graph(chain(19)),  # 39 Values: too wide left to right, drawn top to bottom
        draw_graph(MLP(2, [3, 1], seed=0)([1.0, 2.0])),  # a whole small MLP
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
    assert caption == step_through(tanh_neuron()).frames[1].caption
    page.close()


# ---------------------------------------------------------------------------------------------
# The training recorder: the same player with PNG frames
# ---------------------------------------------------------------------------------------------
def recorder():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu.losses import binary_cross_entropy
    from tinygrad_edu.optim import SGD
    from tinygrad_edu.plot import TrainingRecorder
    from tinygrad_edu.train import fit

    X = [[2.0, 1.0], [1.0, 3.0], [3.0, 2.0], [4.0, 4.0], [8.0, 7.0], [7.0, 9.0], [9.0, 6.0],
         [6.0, 8.0]]
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    rec = TrainingRecorder(X, y, every=5, resolution=8, fps=20)
    fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=12,
        progress=False, callbacks=[rec])
    return rec


def test_recorder_html_plays_offline(browser, tmp_path):
    """The saved training player: starts at epoch 0, Next/Previous/arrow keys, Play from the
    last frame starts again, no network, no console error."""
    rec = recorder()
    rec.save_html(tmp_path / "run.html")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    problems = watch(page)
    page.goto((tmp_path / "run.html").as_uri())
    title, count = page.locator(".tge-title"), page.locator(".tge-count")
    epochs = [f"epoch {e}" for e, _ in rec.frames]
    assert title.text_content() == epochs[0] and count.text_content() == "frame 1 of 4"
    page.get_by_role("button", name="Next", exact=True).click()
    assert title.text_content() == epochs[1]
    page.locator(".tge-player").focus()
    page.keyboard.press("ArrowLeft")
    assert title.text_content() == epochs[0]
    page.locator(".tge-slider").fill("3")
    page.get_by_role("button", name="Play", exact=True).click()  # at the end: from the start
    page.wait_for_function("document.querySelector('.tge-play').textContent === 'Play'")
    assert title.text_content() == epochs[-1]
    src = page.locator(".tge-picture img").get_attribute("src")
    assert src.startswith("data:image/png;base64,")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert problems == []
    page.close()


def test_recorder_output_starts_at_the_first_frame_where_jupyterlab_puts_it(browser, tmp_path):
    """JupyterLab shows a text/html output by setting innerHTML and then running its scripts,
    maybe twice for one output (a re-render). The player opens on epoch 0 and Play plays."""
    rec = recorder()
    bundle, _ = rec._repr_mimebundle_()
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    problems = watch(page)
    page.set_content("<html><body><div id='out'></div></body></html>")
    page.evaluate("""html => {
        for (let k = 0; k < 2; k++) {  // rendered twice, as a re-render would
            const out = document.getElementById('out');
            out.innerHTML = html;
            for (const old of out.querySelectorAll('script')) {
                if (old.type === 'application/json') continue;
                const s = document.createElement('script');
                s.textContent = old.textContent;
                old.replaceWith(s);
            }
        }
    }""", bundle["text/html"])
    assert page.locator(".tge-still").count() == 0  # the script replaced the still
    title = page.locator(".tge-title")
    assert title.text_content() == "epoch 0"
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("document.querySelector('.tge-play').textContent === 'Play'")
    assert title.text_content() == f"epoch {rec.frames[-1][0]}"
    assert problems == []
    page.close()
