"""dot_backend: the one place DOT text becomes a picture (dot here; viz.js in a browser).

The viz.js path runs only under Pyodide: tests/site/ drives it in Chromium and compares viz.js
with dot (test_viz_js.py). Here: the dot path, and what each path says when it cannot draw.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tinygrad_edu import dot_backend

GRAPH = 'digraph { a -> b [label="x"]; b -> c; }'


@pytest.fixture
def no_dot(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(dot_backend.shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))


def test_svg_json_and_png_with_dot():
    assert dot_backend.backend() == "dot"
    svg = dot_backend.render(GRAPH, "svg")
    assert svg.count('class="node"') == 3 and svg.count('class="edge"') == 2
    layout = json.loads(dot_backend.render(GRAPH, "json"))
    assert sorted(o["name"] for o in layout["objects"]) == ["a", "b", "c"]
    assert [e["label"] for e in layout["edges"] if e.get("label")] == ["x"]
    small, large = (dot_backend.render(GRAPH, "png", dpi=d) for d in (36, 144))
    assert small[:8] == large[:8] == b"\x89PNG\r\n\x1a\n"
    width = lambda png: int.from_bytes(png[16:20], "big")  # noqa: E731
    assert width(large) == pytest.approx(4 * width(small), rel=0.1)


def drawn(svg: str) -> list[str]:
    """What an SVG draws: its node and edge titles and its texts (not the graph's own name,
    which one run of dot numbers graph after graph)."""
    return re.findall(r"<title>([^%].*?)</title>|<text[^>]*>(.*?)</text>", svg)


def test_many_pictures_in_one_run_are_the_same_pictures():
    sources = [GRAPH, "digraph { x }", 'digraph { "é" -> "ü" }']
    together = dot_backend.render_many(sources, "svg")
    assert [drawn(svg) for svg in together] == [drawn(dot_backend.render(s)) for s in sources]
    assert dot_backend.render_many(sources, "json") == [dot_backend.render(s, "json")
                                                        for s in sources]
    pngs = dot_backend.render_many(sources, "png", dpi=50)
    assert [p[:4] for p in pngs] == [b"\x89PNG"] * 3
    assert dot_backend.render_many([], "svg") == []


def test_bad_input_is_named():
    with pytest.raises(dot_backend.RenderError, match=r"syntax error"):
        dot_backend.render("digraph { a -> }")
    with pytest.raises(TypeError, match=r"DOT text \(a str\), got int"):
        dot_backend.render(3)
    with pytest.raises(TypeError, match="list of DOT texts"):
        dot_backend.render_many(GRAPH)
    with pytest.raises(ValueError, match=r"one of 'svg', 'json', 'png', got 'pdf'"):
        dot_backend.render(GRAPH, "pdf")
    with pytest.raises(ValueError, match="dpi= applies to format='png' only"):
        dot_backend.render(GRAPH, "svg", dpi=72)


def test_without_dot_it_says_how_to_get_it(no_dot):
    assert dot_backend.backend() is None
    with pytest.raises(dot_backend.RendererNotFoundError, match="apt-get install graphviz"):
        dot_backend.render(GRAPH)


def test_in_a_browser_pictures_are_svg_and_json_only(no_dot, monkeypatch):
    monkeypatch.setattr(dot_backend, "IN_BROWSER", True)
    assert dot_backend.backend() == "viz.js"
    with pytest.raises(dot_backend.RendererNotFoundError, match=re.escape("render(..., 'svg')")):
        dot_backend.render(GRAPH, "png")


def test_viz_js_url_is_the_site_root_or_the_environment(monkeypatch):
    monkeypatch.setenv("TINYGRAD_EDU_VIZ_JS", "http://127.0.0.1:8000/my/viz.js")
    assert dot_backend.viz_js_url() == "http://127.0.0.1:8000/my/viz.js"


def test_loading_outside_a_browser_does_nothing():
    import asyncio

    assert asyncio.run(dot_backend.load()) is None
