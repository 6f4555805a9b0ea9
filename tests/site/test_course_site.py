"""The browser course (build/site, `make site`): notebooks run in JupyterLite, offline.

Each notebook is opened in JupyterLab (JupyterLite) in headless Chromium, its saved outputs are
cleared and every cell is run, as a learner would with Run > Run All Cells. Then: no cell
failed; the graph pictures were drawn in the page (viz.js: an SVG image that loaded); the
stepper shows and steps; and no request left 127.0.0.1, except, for a notebook that plots, the
documented requests to Pyodide's CDN for matplotlib and NumPy, which fail here (no internet),
so the notebook must say what it skipped and run the rest.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect
from site_tools import BUILD, SHOTS, Offline, serve

SITE = BUILD / "site"
RUN_TIMEOUT_S = 240
# The one place outside the site a notebook may fetch from: Pyodide's CDN, for the packages
# that are not on the site (NumPy, matplotlib, ...), at the kernel's Pyodide version.
CDN = "https://cdn.jsdelivr.net/pyodide/v"

# notebook -> (needs the CDN, graph pictures it draws at least, has a stepper)
NOTEBOOKS = {
    "01_derivatives_by_nudging.ipynb": (True, 2, False),
    "02_backprop_by_hand_then_automatically.ipynb": (True, 3, True),
    "03_neuron_layer_network.ipynb": (True, 2, True),  # the network animation is a player
    "exercises/E2_your_own_engine.ipynb": (False, 0, False),
}

# Everything about the open notebook, read from JupyterLab's model.
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code').map(c => ({
    count: c.model.executionCount,
    outputs: c.model.outputs.toJSON(),
  }));
  return {status: kernel ? kernel.status : 'none', cells: cells};
}"""


@pytest.fixture(scope="module")
def site_url():
    yield from serve(SITE)


def run_all(page, timeout_s: float = RUN_TIMEOUT_S) -> list[dict]:
    """Clear the outputs, run every cell, wait until the kernel is done; the code cells."""
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const s = w && w.sessionContext && w.sessionContext.session;"
        " return s && s.kernel && s.kernel.status === 'idle'; }", timeout=timeout_s * 1000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        state = page.evaluate(CELLS_JS)
        done = all(c["count"] is not None for c in state["cells"])
        failed = any(o["output_type"] == "error" for c in state["cells"] for o in c["outputs"])
        if state["status"] == "idle" and (done or failed):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 1.5:  # still idle: not between two cells
                return state["cells"]
        else:
            idle_since = None
        time.sleep(0.5)
    pytest.fail(f"the notebook did not finish within {timeout_s} s")


def text_of(output: dict) -> str:
    if output["output_type"] == "stream":
        text = output["text"]
    elif output["output_type"] == "error":
        text = f"{output['ename']}: {output['evalue']}"
    else:
        text = output.get("data", {}).get("text/plain", "")
    return text if isinstance(text, str) else "".join(text)


@pytest.fixture(scope="module", params=list(NOTEBOOKS), ids=lambda n: n.split("/")[-1][:3])
def ran(request, browser, site_url):
    """Open a notebook, run it all; what the tests below look at."""
    name = request.param
    offline = Offline(browser, site_url)
    page = offline.context.new_page()
    page.goto(f"{site_url}/lab/index.html?path={name}")
    cells = run_all(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"course-{name.replace('/', '-')}.png"
    yield {"name": name, "page": page, "cells": cells, "elsewhere": offline.elsewhere,
           "shot": shot}
    offline.close()


def test_every_cell_runs_without_an_error(ran):
    errors = [text_of(o) for c in ran["cells"] for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{ran['name']}: {errors}"
    assert all(c["count"] is not None for c in ran["cells"])
    first = "".join(text_of(o) for o in ran["cells"][0]["outputs"])
    assert first.startswith("Ready: Python runs in this page, and pictures draw with viz.js.")


def test_no_request_leaves_the_site_but_the_documented_cdn(ran):
    needs_cdn = NOTEBOOKS[ran["name"]][0]
    outside = [u for u in ran["elsewhere"] if not u.startswith(CDN)]
    assert outside == [], f"{ran['name']} asked the network for {outside}"
    if not needs_cdn:
        assert ran["elsewhere"] == [], f"{ran['name']} needs no CDN but asked {ran['elsewhere']}"


def test_what_needs_the_cdn_is_skipped_and_said(ran):
    needs_cdn = NOTEBOOKS[ran["name"]][0]
    texts = [text_of(o) for c in ran["cells"] for o in c["outputs"]]
    skipped = [t for t in texts if t.startswith("Skipped in the browser:")]
    if not needs_cdn:
        assert skipped == []
        return
    # here the CDN cannot be reached: the first cell says so, and every plot says it skipped
    assert "matplotlib: missing (matplotlib loads from Pyodide's CDN" in texts[0]
    assert skipped and all("matplotlib" in t or "PyTorch" in t for t in skipped)
    assert any(u.startswith(CDN) and "matplotlib" in u for u in ran["elsewhere"])


def test_graph_pictures_are_drawn_in_the_page(ran):
    wanted = NOTEBOOKS[ran["name"]][1]
    svgs = [o for c in ran["cells"] for o in c["outputs"]
            if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) >= wanted
    for out in svgs:
        svg = out["data"]["image/svg+xml"]
        svg = svg if isinstance(svg, str) else "".join(svg)
        assert "<svg" in svg and "class=\"node\"" in svg  # Graphviz's drawing of the nodes
        assert "image/png" not in out["data"]  # no dot program here: no PNG copy
    page = ran["page"]
    if wanted:
        # shown as <img>s of the SVG that the browser decoded (naturalWidth > 0)
        sizes = page.evaluate("() => Array.from(document.querySelectorAll("
                              "'.jp-OutputArea-output img[src^=\"data:image/svg+xml\"]'))"
                              ".map(i => i.naturalWidth)")
        assert len(sizes) >= wanted and all(w > 50 for w in sizes), sizes
        picture = page.locator(".jp-OutputArea-output img[src^='data:image/svg+xml']").first
        picture.scroll_into_view_if_needed()
        time.sleep(0.5)
    page.screenshot(path=str(ran["shot"]))


def test_the_stepper_shows_and_steps(ran):
    page = ran["page"]
    steppers = page.locator(".jp-OutputArea-output .widget-vbox").filter(
        has=page.locator("button", has_text="Next"))
    if not NOTEBOOKS[ran["name"]][2]:
        assert steppers.count() == 0
        return
    widget = steppers.first
    widget.scroll_into_view_if_needed()
    # JupyterLab renders cells lazily as they scroll into view: wait for the text, not once
    count = widget.get_by_text(re.compile(r"^step \d+ of \d+$"))
    expect(count).to_have_text(re.compile(r"^step 1 of \d+$"), timeout=10_000)
    assert widget.locator("svg").count() >= 1
    widget.locator("button", has_text="Next").click()
    expect(count).to_have_text(re.compile(r"^step 2 of \d+$"), timeout=10_000)
    time.sleep(0.3)
    page.screenshot(path=str(ran["shot"].with_name(ran["shot"].stem + "-stepper.png")))


def test_the_site_holds_its_packages():
    """Pyodide comes from the site at the kernel's version; the lock puts our packages there."""
    settings = json.loads((SITE / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = settings["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert kernel["disablePyPIFallback"] is True
    lock = json.loads((SITE / kernel["loadPyodideOptions"]["lockFileURL"]).read_text())
    lock_dir = SITE / "static" / "pyodide-lock"
    for name in ("tinygrad-edu", "graphviz", "ipywidgets", "ipython", "comm", "micropip",
                 "pyodide-kernel", "ipykernel"):
        spec = lock["packages"][name]
        assert "://" not in spec["file_name"], (name, spec["file_name"])
        assert (lock_dir / spec["file_name"]).is_file(), (name, spec["file_name"])
    assert lock["packages"]["numpy"]["file_name"].startswith(CDN)
    assert (SITE / "static" / "viz-js" / "viz.js").stat().st_size > 1_000_000
