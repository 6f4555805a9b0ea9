"""step_through: one fixed layout, one frame per node, explain's text as captions."""

from __future__ import annotations

import base64
import math
import re

import pytest

pytest.importorskip("graphviz")

from test_viz import lecture_neuron  # noqa: E402

from tinygrad_edu import Value, backward_order, backward_steps  # noqa: E402
from tinygrad_edu.explain import explain, explain_forward  # noqa: E402
from tinygrad_edu.stepper import Stepper  # noqa: E402
from tinygrad_edu.viz import (  # noqa: E402
    GraphTooLargeError,
    draw_graph,
    graphviz_available,
    step_through,
)

pytestmark = pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed")


def tanh_neuron():
    """micrograd's lecture neuron o = tanh(x1*w1 + x2*w2 + b), and its parameters."""
    o, v = lecture_neuron()
    return o, [v["w1"], v["w2"], v["b"]]


def big_graph() -> Value:
    """Exactly 100 Values: x, then 33 times (v * w_i).tanh()."""
    v = Value(0.5, "x")
    for i in range(33):
        v = (v * Value(0.1 * (i % 7) - 0.3, f"w{i}")).tanh()
    v.label = "out"
    return v


FRAME_STYLE = re.compile(r'<style class="tge-frame">[^<]*</style>')


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------
def test_backward_frames_follow_backward_steps_with_explain_as_caption():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    assert isinstance(stepper, Stepper)
    # the same walk by hand, on a second copy of the graph
    o2, _ = tanh_neuron()
    expected = [(node.label, explain(node)) for node in backward_steps(o2)]
    assert len(stepper) == len(expected) == 10
    assert [(f.node.label, f.caption) for f in stepper.frames] == expected
    assert [f.node for f in stepper.frames] == backward_order(o)
    assert stepper.frames[0].caption == "n.grad += o.grad × (1 - o^2) = 1 × 0.5 = 0.5"
    assert stepper.frames[0].title.startswith("o.grad = 1 is final")
    last = stepper.frames[-1]
    assert last.title == "x1.grad = -1.5 is final"
    assert "leaf" in last.caption


def test_grads_are_left_as_they_were():
    o, params = tanh_neuron()
    o.backward()
    o.backward()  # leaves hold twice the gradient now
    before = [(node, node.grad) for node in backward_order(o)]
    stepper = step_through(o)
    assert [(node, node.grad) for node in backward_order(o)] == before
    # the picture shows this walk's gradients, not the accumulated ones
    w1 = params[0]
    assert "grad 1.0000" in stepper.frame_svg(0) and math.isclose(w1.grad, 2.0)


def test_forward_frames_go_inputs_to_output():
    o, _ = tanh_neuron()
    stepper = step_through(o, direction="forward")
    nodes = [f.node for f in stepper.frames]
    assert len(stepper) == 10 and nodes[-1] is o
    for i, node in enumerate(nodes):  # every input is computed before the node that uses it
        assert all(nodes.index(c) < i for c in node.children)
    assert [f.caption for f in stepper.frames] == [explain_forward(n) for n in nodes]
    n = next(f for f in stepper.frames if f.node.label == "n")
    assert n.caption == "n = s + b = -6 + 6.881 = 0.8814"
    assert "grad" not in stepper.frame_svg(0)  # forward shows values only


def test_pending_and_current_follow_the_step():
    o, _ = tanh_neuron()
    stepper = step_through(o)
    order = [f.node for f in stepper.frames]
    for i, frame in enumerate(stepper.frames):
        css = stepper.frame_css(i)
        pending = set(re.findall(r"#tge\w+-(n\d+) \.gv", css))
        assert pending == set(frame.pending)
        assert len(pending) == len(order) - i - 1  # grads after this step are unknown
        assert f"-{frame.current} .bx{{fill:#ffb366}}" in css  # the current box is orange
        # the edges its step uses: every input -> op, op -> node
        assert len(frame.used_edges) == (len(set(frame.node.children)) + 1
                                         if frame.node.children else 0)


# ---------------------------------------------------------------------------------------------
# One layout: frames differ only in their style
# ---------------------------------------------------------------------------------------------
def positions(svg: str) -> list[str]:
    """Every coordinate attribute in the SVG, in document order."""
    return re.findall(r'\b(?:x|y|x1|y1|x2|y2|cx|cy|rx|ry|width|height|d|points)="[^"]*"', svg)


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_every_frame_has_the_same_layout(direction):
    o, params = tanh_neuron()
    stepper = step_through(o, direction=direction, params=params)
    frames = [stepper.frame_svg(i) for i in range(len(stepper))]
    base = FRAME_STYLE.sub("", frames[0])
    for svg in frames:
        assert FRAME_STYLE.sub("", svg) == base  # only the frame's style block differs
        assert positions(svg) == positions(frames[0])
    assert len({FRAME_STYLE.search(svg).group(0) for svg in frames}) == len(frames)
    # "grad ?" and the number take the same room: the box is as wide as its widest text
    assert "grad -1.5000" in base and "grad ?" in base or direction == "forward"


# ---------------------------------------------------------------------------------------------
# Errors, as draw_graph's
# ---------------------------------------------------------------------------------------------
def test_bad_input_gets_draw_graphs_errors():
    with pytest.raises(TypeError, match="needs one Value"):
        step_through([Value(1.0)])
    with pytest.raises(TypeError, match="needs one Value"):
        draw_graph([Value(1.0)])
    big = big_graph()
    with pytest.raises(GraphTooLargeError, match="100 Values, more than max_nodes=50"):
        step_through(big, max_nodes=50)
    with pytest.raises(ValueError, match="direction"):
        step_through(big, direction="sideways")
    with pytest.raises(ValueError, match="rankdir"):
        step_through(big, rankdir="diagonal")
    o, _ = tanh_neuron()
    stepper = step_through(o)
    with pytest.raises(IndexError, match="10 frames"):
        stepper.frame_svg(10)


def test_unwritable_path_is_an_oserror_naming_it_and_leaves_nothing(tmp_path):
    o, _ = tanh_neuron()
    stepper = step_through(o)
    missing = tmp_path / "no such folder" / "walk.html"
    with pytest.raises(FileNotFoundError, match="no such folder"):
        stepper.save_html(missing)
    folder = tmp_path / "a folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="a folder"):
        stepper.save_html(folder)
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    with pytest.raises(NotADirectoryError, match="file.txt"):
        stepper.save_gif(not_a_dir / "walk.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a folder", "file.txt"]
    assert list(folder.iterdir()) == []  # no temporary file left behind


# ---------------------------------------------------------------------------------------------
# HTML, PNG, GIF
# ---------------------------------------------------------------------------------------------
def test_save_html_is_one_offline_file(tmp_path):
    o, params = tanh_neuron()
    path = step_through(o, params=params).save_html(tmp_path / "walk.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<button type="button" class="tge-prev">Previous</button>' in text
    assert '<button type="button" class="tge-next">Next</button>' in text
    # nothing fetched from anywhere: no src/href attributes, no URLs but the SVG namespace
    assert not re.search(r"\b(src|href)=", text)
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert "n.grad += o.grad × (1 - o^2) = 1 × 0.5 = 0.5" in text
    assert text.count("<svg") == 1  # one picture, restyled per frame


def test_html_of_a_100_value_graph_is_under_1_mb():
    root = big_graph()
    stepper = step_through(root)
    assert len(stepper) == 100
    html = stepper.html(standalone=True)
    assert len(html.encode("utf-8")) <= 1_000_000
    assert html.count("<svg") == 1


def test_png_still_frames_and_gif(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    still = stepper.png()
    assert still[:8] == b"\x89PNG\r\n\x1a\n"
    frame = stepper.png(3)
    assert frame != still
    gif = stepper.save_gif(tmp_path / "walk.gif", interval_ms=500)
    with PIL.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == len(stepper)
        sizes = set()
        for k in range(image.n_frames):
            image.seek(k)
            sizes.add(image.size)
        assert len(sizes) == 1  # every frame the same size: the picture does not jump


def test_mimebundle_without_a_kernel_has_html_and_a_png_still():
    pytest.importorskip("PIL")
    o, _ = tanh_neuron()
    stepper = step_through(o)
    data, meta = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in data  # no kernel here
    assert data["text/plain"] == "<Stepper: backward through 10 nodes of o>"
    html = data["text/html"]
    # the still is an <img> that the script removes; sanitized HTML keeps only it
    assert '<img class="tge-still"' in html and "data:image/png;base64," in html
    assert "<svg" not in html.split('<script type="application/json"')[0]
    png = base64.b64decode(data["image/png"])
    assert meta["image/png"]["width"] == round(int.from_bytes(png[16:20], "big") / 1.5)


def test_widget_steps_in_place():
    pytest.importorskip("ipywidgets")
    o, _ = tanh_neuron()
    stepper = step_through(o)
    box = stepper.widget()
    bar, title, caption, picture = box.children
    prev, nxt, play, slider, count = bar.children
    assert (prev.description, nxt.description) == ("Previous", "Next")
    assert picture.value == stepper.frame_svg(0) and count.value == "step 1 of 10"
    nxt.click()
    nxt.click()
    assert slider.value == 2 and picture.value == stepper.frame_svg(2)
    assert stepper.frames[2].caption.replace(">", "&gt;") in caption.value
    prev.click()
    assert slider.value == 1 and count.value == "step 2 of 10"
    slider.value = 9
    nxt.click()  # stays on the last frame
    assert slider.value == 9 and play.max == 9
    assert stepper.widget() is box  # one widget, updated in place
