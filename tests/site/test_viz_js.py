"""viz.js (what draws the pictures in the browser course) draws what Graphviz's `dot` draws.

The DOT text our pictures make is rendered both ways: by the `dot` program and by viz.js, the
npm package the site serves, run here with Node.js. The two Graphviz versions measure text a
little differently, so positions may differ by a few points; what is drawn may not: the same
nodes, edges and texts in the SVG, and the same objects and edges, at about the same size, in
the JSON layout the stepper reads.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
from site_tools import ROOT

from tinygrad_edu import Value, dot_backend
from tinygrad_edu.nn import MLP

VIZ_JS = ROOT / "node_modules" / "@viz-js" / "viz" / "dist" / "viz.js"
RENDER_JS = """
import { instance } from %s;
import { readFileSync } from "fs";
const viz = await instance();
const result = viz.render(readFileSync(0, "utf8"), { format: process.argv[1] });
if (result.status !== "success") { console.error(JSON.stringify(result.errors)); process.exit(1); }
process.stdout.write(result.output);
"""


def viz_js(source: str, format: str) -> str:
    node = shutil.which("node")
    if node is None or not VIZ_JS.is_file():
        pytest.fail("needs Node.js and node_modules/@viz-js/viz: run `npm ci` (make site does)")
    script = RENDER_JS % json.dumps(VIZ_JS.as_uri())
    done = subprocess.run([node, "--input-type=module", "-e", script, format], input=source,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def neuron() -> Value:
    x1, x2, w1, w2 = Value(2.0, "x1"), Value(0.0, "x2"), Value(-3.0, "w1"), Value(1.0, "w2")
    o = (x1 * w1 + x2 * w2 + Value(6.8814, "b")).tanh()
    o.backward()
    return o


def picture_sources() -> dict[str, tuple[str, str]]:
    """name -> (DOT text, format) of every picture kind, as the pictures code renders them."""
    from tinygrad_edu.viz import draw_graph, draw_network, step_through

    seen: list[tuple[str, str]] = []
    real = dot_backend.render_many  # (render() calls it too: every picture goes through it)

    def record(sources: list[str], format: str = "svg", **kwargs: object) -> object:
        seen.extend((source, format) for source in sources)
        return real(sources, format, **kwargs)

    dot_backend.render_many = record
    try:
        step_through(neuron()).html()  # lays the graph out once, as JSON, then draws it
    finally:
        dot_backend.render_many = real
    layouts = [s for s in seen if s[1] == "json"]
    assert layouts, "step_through did not lay its graph out through dot_backend"
    return {"graph": (draw_graph(neuron()).source, "svg"),
            "network": (draw_network(MLP(2, [3, 1], seed=0), show_weights=True).source, "svg"),
            "stepper layout": layouts[0]}


SOURCES = picture_sources()


def svg_parts(svg: str) -> tuple[list[str], list[str]]:
    # node and edge titles (not the anonymous graph's "%3", which only older Graphviz writes)
    titles = sorted(html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg)
                    if not t.startswith("%"))
    texts = sorted(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg))
    return titles, texts


@pytest.mark.parametrize("name", list(SOURCES))
def test_viz_js_draws_what_dot_draws(name):
    source, format = SOURCES[name]
    ours, theirs = dot_backend.render(source, format), viz_js(source, format)
    assert dot_backend.backend() == "dot"
    if format == "svg":
        assert svg_parts(theirs) == svg_parts(ours)
        assert svg_parts(ours)[0]  # something was drawn
        return
    a, b = json.loads(ours), json.loads(theirs)
    names = lambda layout: sorted(o["name"] for o in layout["objects"] if "pos" in o)  # noqa: E731
    assert names(a) == names(b)
    edges = lambda layout: sorted(  # noqa: E731
        (layout["objects"][e["tail"]]["name"], layout["objects"][e["head"]]["name"])
        for e in layout["edges"])
    assert edges(a) == edges(b)
    for layout in (a, b):  # what the stepper reads is there
        assert all(any(op["op"] == "b" for op in e["_draw_"]) for e in layout["edges"])
    width = lambda layout: float(layout["bb"].split(",")[2])  # noqa: E731
    assert width(b) == pytest.approx(width(a), rel=0.2)
