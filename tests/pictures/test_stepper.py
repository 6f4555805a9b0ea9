"""step_through: one fixed layout, one frame per chain-rule step, grads shown as they add up."""

from __future__ import annotations

import base64
import html
import math
import re

import pytest

pytest.importorskip("graphviz")

from picture_helpers import big_graph, fork_graph, lecture_neuron  # noqa: E402

from tinygrad_edu import Value, backward_order, backward_steps  # noqa: E402
from tinygrad_edu.explain import Names, explain, explain_forward  # noqa: E402
from tinygrad_edu.viz import (  # noqa: E402
    GraphTooLargeError,
    Stepper,
    draw_graph,
    graphviz_available,
    step_through,
)

pytestmark = pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed")


def tanh_neuron():
    """micrograd's lecture neuron o = tanh(x1*w1 + x2*w2 + b), and its parameters."""
    o, v = lecture_neuron()
    return o, [v["w1"], v["w2"], v["b"]]


def readme_neuron():
    """The same neuron with no labels inside: o = (x1*w1 + x2*w2 + b).tanh()."""
    x1, x2, w1, w2 = Value(2.0, "x1"), Value(0.0, "x2"), Value(-3.0, "w1"), Value(1.0, "w2")
    return (x1 * w1 + x2 * w2 + Value(6.8813735870195432, "b")).tanh()


def box_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


# ---------------------------------------------------------------------------------------------
# Frames: one per chain-rule step, leaves folded in
# ---------------------------------------------------------------------------------------------
def test_one_frame_per_step_with_explain_as_caption():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params, fold_leaves=False)
    assert isinstance(stepper, Stepper)
    o2, _ = tanh_neuron()  # the same walk by hand, on a second copy of the graph
    expected = [(node.label, explain(node)) for node in backward_steps(o2)]
    assert len(stepper) == len(expected) == 10
    assert [(f.node.label, f.caption) for f in stepper.frames] == expected
    assert [f.node for f in stepper.frames] == backward_order(o)
    assert stepper.frames[0].caption == "n.grad += o.grad × (1 - o·o) = 1 × 0.5 = 0.5"
    assert stepper.frames[0].title == "o.grad = 1 is final: backward starts here, ∂o/∂o = 1"
    assert stepper.frames[-1].title == "x1.grad = -1.5 is final"
    assert "leaf" in stepper.frames[-1].caption


def test_leaf_steps_are_folded_into_the_step_that_fills_them():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    # only the 5 nodes that pass something on: o, n, s, x2*w2, x1*w1 (the lecture's order)
    assert len(stepper) == 5
    assert [f.node.label for f in stepper.frames] == ["o", "n", "s", "x2*w2", "x1*w1"]
    assert all(f.node.children for f in stepper.frames)
    n_step = stepper.frames[1].caption.split("\n")
    assert n_step == ["s.grad += n.grad × 1 = 0.5 × 1 = 0.5",
                      "b.grad += n.grad × 1 = 0.5 × 1 = 0.5",
                      "b.grad = 0.5 is final: a leaf passes nothing on"]
    last = stepper.frames[-1].caption.split("\n")
    assert last[-1] == "x1.grad = -1.5 and w1.grad = 1 are final: leaves pass nothing on"
    # a graph that is one leaf keeps its one frame
    lone = step_through(Value(3.0, "x"))
    assert len(lone) == 1 and "leaf" in lone.frames[0].caption


def test_grads_show_their_value_so_far_from_the_first_contribution():
    """w = v + u with v = u*x, u = x + 1, at x = 2: u gets 1 from w, then 2 from v (x = 2):
    3; x gets 3 from v (u = 3), then 3 from u: 6 (dw/dx = 2x + 2)."""
    w, v = fork_graph()
    stepper = step_through(w)
    assert [f.node.label for f in stepper.frames] == ["w", "v", "u"]
    looks = [f.look for f in stepper.frames]
    x, u, vv = v["x"], v["u"], v["v"]
    # step 1 (w): v is final at 1; u has 1 so far; x nothing yet
    assert looks[0].grads[vv] == 1 and looks[0].grads[u] == 1 and x not in looks[0].grads
    assert looks[0].so_far == {u} and looks[0].changed == {vv, u}
    # step 2 (v): u = 1 + x = 3, final now; x = u = 3 so far
    assert looks[1].grads[u] == 3 and looks[1].grads[x] == 3
    assert looks[1].so_far == {x} and looks[1].changed == {u, x}
    # step 3 (u): x = 3 + 3 = 6, final (and the leaf's step is folded in here)
    assert looks[2].grads[x] == 6 and looks[2].so_far == frozenset()
    assert stepper.frames[2].caption.endswith("x.grad = 6 is final: a leaf passes nothing on")
    # the pictures say it: a grad once shown stays, "so far" until final
    texts = [box_texts(stepper.frame_svg(i)) for i in range(3)]
    assert "grad 1 so far" in texts[0] and "grad ?" in texts[0]
    assert "grad 3 so far" in texts[1] and "grad 3" in texts[1]
    assert "grad 6" in texts[2] and "grad ?" not in texts[2]
    assert not any("so far" in t for t in texts[2])
    # and the walk ends with backward()'s grads
    w2, v2 = fork_graph()
    w2.backward()
    assert v2["x"].grad == 6.0 == looks[2].grads[x]


def test_grads_never_disappear_once_shown():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    shown: set = set()
    for f in stepper.frames:
        assert shown <= set(f.look.grads)  # every grad shown before is still shown
        shown |= set(f.look.grads)
        assert f.node in f.look.grads and f.node not in f.look.so_far  # the step's own: final
    assert shown == set(backward_order(o))


def test_unlabelled_nodes_get_readable_names_in_boxes_and_captions():
    stepper = step_through(readme_neuron())
    captions = "\n".join(f.caption for f in stepper.frames)
    assert "…" not in captions
    assert "(x1·w1).grad += (x1·w1 + x2·w2).grad × 1 = 0.5 × 1 = 0.5" in captions
    assert stepper.frames[0].caption == "n.grad += tanh(n).grad × (1 - tanh(n)·tanh(n)) = " \
                                        "1 × 0.5 = 0.5"
    texts = box_texts(stepper.frame_svg(0))
    for name in ("x1·w1", "x2·w2", "x1·w1 + x2·w2", "n", "tanh(n)"):
        assert name in texts, name  # a made-up name is the box's first row
    assert repr(stepper) == "<Stepper: backward, 5 steps through the graph of tanh(n)>"


def test_steps_are_numbered_from_1_and_numbers_written_one_way():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    text = str(stepper)
    assert text.startswith("step 1 of 5: o.grad = 1 is final")
    assert "step 5 of 5: x1*w1.grad" not in text  # a label with an operator is grouped
    assert "step 5 of 5: (x1*w1).grad = 0.5 is final" in text
    assert "step 0" not in text and "1.0 " not in text and "-1.5000" not in text
    texts = box_texts(stepper.frame_svg(4))
    assert "grad -1.5" in texts and "grad 1" in texts  # -1.5, not -1.5000; 1, not 1.0
    assert "data -6" in texts and "data 6.881" in texts


def test_grads_are_left_as_they_were():
    o, params = tanh_neuron()
    o.backward()
    o.backward()  # leaves hold twice the gradient now
    before = [(node, node.grad) for node in backward_order(o)]
    stepper = step_through(o)
    assert [(node, node.grad) for node in backward_order(o)] == before
    # the picture shows this walk's gradients, not the accumulated ones
    w1 = params[0]
    assert "grad 1" in box_texts(stepper.frame_svg(len(stepper) - 1))
    assert math.isclose(w1.grad, 2.0)


def test_forward_frames_go_inputs_to_output():
    o, _ = tanh_neuron()
    stepper = step_through(o, direction="forward")
    nodes = [f.node for f in stepper.frames]
    assert len(stepper) == 5 and nodes[-1] is o  # the 5 computed values; leaves are given
    for i, node in enumerate(nodes):  # every input is computed before the node that uses it
        assert all(nodes.index(c) < i for c in node.children if c.children)
    assert [f.caption for f in stepper.frames] == [explain_forward(n) for n in nodes]
    n = next(f for f in stepper.frames if f.node.label == "n")
    assert n.caption == "n = s + b = -6 + 6.881 = 0.8814"
    first = box_texts(stepper.frame_svg(0))
    assert "grad" not in " ".join(first)  # forward shows values only
    assert first.count("data ?") == 4 and "data 2" in first  # leaves known, results not yet
    assert len(step_through(o, direction="forward", fold_leaves=False)) == 10


def test_both_directions_in_one_player():
    o, _ = tanh_neuron()
    stepper = step_through(o, direction="both")
    forward, backward = stepper.frames[:5], stepper.frames[5:]
    assert len(stepper) == 10
    assert all(f.title.startswith("forward: ") for f in forward)
    assert all(f.title.startswith("backward: ") for f in backward)
    assert forward[-1].node is o and backward[0].node is o
    texts = box_texts(stepper.frame_svg(2))
    assert "grad ?" in texts and "data ?" in texts  # forward: grads all still to come
    assert "data ?" not in box_texts(stepper.frame_svg(5))  # backward: every value known
    assert "step 6 of 10: backward: o.grad = 1 is final" in str(stepper)


# ---------------------------------------------------------------------------------------------
# One layout: frames differ only in what the boxes say and which are marked
# ---------------------------------------------------------------------------------------------
def shapes(svg: str) -> list[str]:
    """Every coordinate of a shape (boxes, cells, ellipses, edges) in document order."""
    return re.findall(r'<(?:polygon|path|ellipse|polyline)[^>]*?\b(?:points|d|cx|cy)="[^"]*"',
                      svg)


def geometry(tag: str) -> str:
    return " ".join(re.findall(r'\b(?:points|d|cx|cy|rx|ry)="[^"]*"', tag))


@pytest.mark.parametrize("direction", ["backward", "forward", "both"])
def test_every_frame_has_the_same_layout(direction):
    o, params = tanh_neuron()
    stepper = step_through(o, direction=direction, params=params)
    frames = [stepper.frame_svg(i) for i in range(len(stepper))]
    base = [geometry(tag) for tag in shapes(frames[0])]
    size = re.search(r'<svg width="[^"]*" height="[^"]*"', frames[0]).group(0)
    for svg in frames:
        assert [geometry(tag) for tag in shapes(svg)] == base  # nothing moves
        assert svg.count("\n") == frames[0].count("\n")
        assert re.search(r'<svg width="[^"]*" height="[^"]*"', svg).group(0) == size
    assert len(set(frames)) == len(frames)  # and every frame shows something new


def edge_strokes(svg: str) -> dict[str, tuple[str, str]]:
    """Each edge's colour and path, by its id (Graphviz numbers the edges of a DOT text
    alike)."""
    found = re.findall(r'<g id="(edge\d+)" class="edge">\n(?:<title>[^<]*</title>\n)?'
                       r'<path fill="none" stroke="([^"]*)"[^>]* d="([^"]*)"', svg)
    return {edge: (stroke, d) for edge, stroke, d in found}


@pytest.mark.parametrize("graph", ["lecture", "readme", "fork", "square"])
def test_frames_are_drawn_where_graphviz_lays_them_out(graph):
    """Frames are drawn once laid out (every node and edge pinned, pieces reused): the red
    edges are the ones Graphviz's own layout of that frame draws red."""
    from tinygrad_edu.pictures.graph import run_graphviz

    x = Value(3.0, "x")
    root = {"lecture": lambda: tanh_neuron()[0], "readme": readme_neuron,
            "fork": lambda: fork_graph()[0], "square": lambda: x * x - x / x}[graph]()
    stepper = step_through(root, direction="both")
    sources = [stepper._picture.diagram(f.look).source for f in stepper.frames]
    for i, svg in enumerate(run_graphviz(sources, "svg")):
        expected = edge_strokes(svg.decode())
        assert len(expected) == sum(len(n.children) + 1 for n in stepper._picture.nodes
                                    if n.children)
        drawn = edge_strokes(stepper.frame_svg(i))
        assert drawn.keys() == expected.keys()
        for edge, (stroke, path) in expected.items():  # the same colour, the same curve
            assert drawn[edge][0] == stroke, (i, edge)
            numbers = [float(v) for v in re.findall(r"-?[\d.]+", path)]
            assert drawn[edge][1][0] == "M" and [float(v) for v in re.findall(
                r"-?[\d.]+", drawn[edge][1])] == pytest.approx(numbers, abs=0.05), (i, edge)


def test_the_current_step_and_its_edges_are_marked():
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    for i, f in enumerate(stepper.frames):
        source = stepper._picture.diagram(f.look).source
        orange = [line.split()[0] for line in source.splitlines() if "#ffb366" in line]
        nid = stepper._picture.ids[f.node]
        assert orange == [nid, f"{nid}_op"]  # its box and its op node are orange, no other
        used = len(set(f.node.children)) + 1  # every input -> op, op -> node
        assert source.count("color=\"#d62728\" penwidth=2.2") == used, i


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
    with pytest.raises(TypeError, match="fold_leaves must be True or False"):
        step_through(big, fold_leaves="no")
    with pytest.raises(ValueError, match="interval_ms"):
        step_through(big, interval_ms=10**29)
    o, _ = tanh_neuron()
    stepper = step_through(o)
    with pytest.raises(IndexError, match="5 frames"):
        stepper.frame_svg(5)
    with pytest.raises(ValueError, match="interval_ms must be an int from 20 to 60000"):
        stepper.save_gif("never.gif", interval_ms=10**29)


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
    for name, css in (("Previous", "tge-prev"), ("Next", "tge-next"), ("Play", "tge-play")):
        assert f'<button type="button" class="{css}">{name}</button>' in text
    # nothing fetched from anywhere: no src/href attributes, no URLs but the SVG namespaces
    assert not re.search(r"\b(src|href)=", text)
    assert set(re.findall(r"https?://[^\s\"'<>\\]+", text)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "n.grad += o.grad × (1 - o·o) = 1 × 0.5 = 0.5" in text
    assert text.count("<svg") == 2  # the first frame in the page, once more in the payload


def test_html_of_a_100_value_graph_is_under_1_mb():
    root = big_graph()
    stepper = step_through(root)
    assert len(stepper) == 66  # a step per product and per tanh; the 34 leaves are folded
    html = stepper.html(standalone=True)
    assert len(html.encode("utf-8")) <= 1_000_000
    assert html.count("<svg") == 2  # later frames travel as the lines they change


def test_png_frames_still_and_gif(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    o, params = tanh_neuron()
    stepper = step_through(o, params=params)
    still = stepper.png()
    assert still[:8] == b"\x89PNG\r\n\x1a\n"
    frame = stepper.png(3)
    assert frame != still and frame[:8] == b"\x89PNG\r\n\x1a\n"
    gif = stepper.save_gif(tmp_path / "walk.gif", interval_ms=500)
    with PIL.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == len(stepper)
        sizes = set()
        for k in range(image.n_frames):
            image.seek(k)
            sizes.add(image.size)
        assert len(sizes) == 1  # every frame the same size: the picture does not jump


def test_mimebundle_without_a_kernel_has_html_and_a_png_still():
    o, _ = tanh_neuron()
    stepper = step_through(o)
    data, meta = stepper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in data  # no kernel here
    assert data["text/plain"] == "<Stepper: backward, 5 steps through the graph of o>"
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
    assert (prev.description, nxt.description, play.description) == ("Previous", "Next", "Play")
    assert picture.value == stepper.frame_svg(0) and count.value == "step 1 of 5"
    height = caption.layout.height  # one height for every caption: nothing below jumps
    assert height.endswith("em") and float(height[:-2]) >= 3 * 1.35
    nxt.click()
    nxt.click()
    assert slider.value == 2 and picture.value == stepper.frame_svg(2)
    assert stepper.frames[2].caption.replace(">", "&gt;") in caption.value
    prev.click()
    assert slider.value == 1 and count.value == "step 2 of 5"
    assert caption.layout.height == height
    slider.value = 4
    nxt.click()  # stays on the last frame
    assert slider.value == 4 and play.max == 4
    assert stepper.widget() is box  # one widget, updated in place


def test_names_are_shared_by_boxes_and_captions():
    """explain with the stepper's names gives the stepper's captions."""
    root = readme_neuron()
    stepper = step_through(root, fold_leaves=False)
    names = Names(root)
    root.backward()  # (the stepper left the grads as they were: 0)
    for f in stepper.frames:
        assert f.caption == explain(f.node, names)
