"""Pictures of computation graphs and networks (tinygrad_edu.viz)."""

from __future__ import annotations

import base64
import importlib
import math
import re
import sys

import pytest

graphviz = pytest.importorskip("graphviz")

from picture_helpers import chain, lecture_neuron  # noqa: E402

from tinygrad_edu import Value, backward_order, backward_steps, linear  # noqa: E402
from tinygrad_edu.nn import MLP, Layer, Neuron, Sequential  # noqa: E402
from tinygrad_edu.pictures.graph import FIT_WIDTH_PT, svg_size  # noqa: E402
from tinygrad_edu.pictures.style import number  # noqa: E402
from tinygrad_edu.viz import (  # noqa: E402
    Diagram,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    draw_graph,
    draw_network,
    graphviz_available,
    step_through,
)

needs_dot = pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed")


def node_lines(source: str) -> dict[str, str]:
    """Map a Value's label to its node line in the DOT text."""
    out = {}
    for line in source.splitlines():
        m = re.search(r"<td><b>([^<]*)</b></td>", line)
        if m:
            out[html_unescape(m.group(1))] = line
    return out


def html_unescape(s: str) -> str:
    import html

    return html.unescape(s)


def op_nodes(source: str) -> list[str]:
    """The text of every operation node, in order (an HTML label: shown as typed)."""
    return [html_unescape(text) for text in re.findall(r"^\s*v\d+_op \[label=<([^>]*)>",
                                                       source, re.M)]


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of every edge line."""
    out = []
    for line in source.splitlines():
        m = re.match(r"\s*(\S+) -> (\S+)(?: \[(.*)\])?$", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3) or ""))
    return out


def labelled_edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, "label=...") of every edge that has a label."""
    out = []
    for tail, head, attrs in edges(source):
        m = re.search(r'label=("[^"]*"|\S+)', attrs)
        if m:
            out.append((tail, head, f"label={m.group(1)}"))
    return out


# ---------------------------------------------------------------------------------------------
# DOT text of small graphs
# ---------------------------------------------------------------------------------------------
def test_lecture_neuron_boxes_show_label_data_grad():
    o, v = lecture_neuron()
    o.backward()
    dot = draw_graph(o)
    assert isinstance(dot, graphviz.Digraph)
    src = dot.source
    lines = node_lines(src)
    assert set(lines) == set(v)
    # Hand-computed: n = 0.8813735870, o = tanh(n) = 0.7071067812 = 1/sqrt(2),
    # do/dn = 1 - o^2 = 0.5; dn/dw1 = x1 = 2 -> w1.grad = 1.0; x1.grad = w1 * 0.5 = -1.5.
    # numbers as everywhere in the pictures: 4 significant digits, no trailing zeros
    expected = {
        "o": ("0.7071", "1"),
        "n": ("0.8814", "0.5"),
        "b": ("6.881", "0.5"),
        "s": ("-6", "0.5"),
        "x1*w1": ("-6", "0.5"),
        "x2*w2": ("0", "0.5"),
        "x1": ("2", "-1.5"),
        "w1": ("-3", "1"),
        "x2": ("0", "0.5"),
        "w2": ("1", "0"),
    }
    for label, (data, grad) in expected.items():
        assert f"<td>data {data}</td>" in lines[label], label
        assert f"<td>grad {grad}</td>" in lines[label], label
    assert "rankdir=LR" in src
    # One op node per non-leaf Value: two '*', two '+', one 'tanh'; edges in -> op -> out.
    assert sorted(op_nodes(src)) == ["*", "*", "+", "+", "tanh"]
    assert len(edges(src)) == 2 * 2 + 2 * 2 + 1 + 5  # inputs -> ops, plus op -> result
    assert draw_dot is draw_graph


def test_show_grad_false_and_rankdir():
    o, _ = lecture_neuron()
    src = draw_graph(o, show_grad=False, rankdir="TB").source
    assert "grad" not in src
    assert "rankdir=TB" in src
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(o, rankdir="sideways")


def test_op_labels_pow_rpow_linear_sub_div():
    a = Value(3.0, "a")
    sq = a**2
    sq.label = "sq"
    p = 2**a
    p.label = "p"
    q = sq - p
    q.label = "q"
    r = q / a
    r.label = "r"
    src = draw_graph(r).source
    assert sorted(op_nodes(src)) == ["**2", "2**x", "a / b", "a − b"]
    lines = node_lines(src)
    ids = {label: re.match(r"\s*(\S+) ", line).group(1) for label, line in lines.items()}
    # the edges into '-' and '/' say which input is a and which is b
    es = labelled_edges(src)
    assert (ids["sq"], f"{ids['q']}_op", "label=a") in es
    assert (ids["p"], f"{ids['q']}_op", "label=b") in es
    assert (ids["q"], f"{ids['r']}_op", "label=a") in es
    assert (ids["a"], f"{ids['r']}_op", "label=b") in es


def test_fused_linear_is_one_op_node_with_labelled_inputs():
    w = [Value(0.5, "w0"), Value(-2.0, "w1")]
    x = [Value(1.0, "x0"), Value(3.0, "x1")]
    b = Value(0.25, "b")
    out = linear(w, x, b)
    out.label = "z"
    out.backward()
    src = draw_graph(out).source
    assert op_nodes(src) == ["b + Σ w·x"]
    lines = node_lines(src)
    assert "data -5.25<" in lines["z"]  # 0.25 + 0.5*1 - 2*3
    assert "grad 3<" in lines["w1"] and "grad -2<" in lines["x1"]
    ids = {label: re.match(r"\s*(\S+) ", line).group(1) for label, line in lines.items()}
    op = f"{ids['z']}_op"
    es = labelled_edges(src)
    for label, text in [("b", "b"), ("w0", '"w[0]"'), ("w1", '"w[1]"'), ("x0", '"x[0]"'),
                        ("x1", '"x[1]"')]:
        assert (ids[label], op, f"label={text}") in es


def test_parameter_input_constant_intermediate_styles():
    o, v = lecture_neuron()
    c = o * 2  # the 2 becomes an unlabelled constant leaf
    c.label = "c"
    src = draw_graph(c, params=[v["w1"], v["w2"], v["b"]]).source
    lines = node_lines(src)
    assert 'tooltip="param node"' in lines["w1"] and 'tooltip="param node"' in lines["b"]
    assert 'tooltip="input node"' in lines["x1"]
    assert 'tooltip="intermediate node"' in lines["n"]
    assert src.count('tooltip="constant node"') == 1
    fills = {k: re.search(r'bgcolor="(#[0-9a-f]{6})"', lines[k]).group(1)
             for k in ("w1", "x1", "n")}
    assert len(set(fills.values())) == 3  # three different fills
    # the root has a thicker border than everything else
    assert 'border="2"' in lines["c"] and 'border="1"' in lines["n"]


def test_color_by_grad_marks_vanishing_and_exploding():
    big, tiny, zero = Value(3.0, "big"), Value(5.0, "tiny"), Value(2.0, "zero")
    root = big * big * 1e6 + tiny * 1e-7 + zero * 0.0
    root.label = "root"
    root.backward()  # big.grad = 6e6, tiny.grad = 1e-7, zero.grad = 0, root.grad = 1
    src = draw_graph(root, color_by_grad=True, grad_range=(1e-3, 1e3)).source
    lines = node_lines(src)

    def fill(label):
        rgb = re.search(r'bgcolor="#([0-9a-f]{6})"', lines[label]).group(1)
        return tuple(int(rgb[i : i + 2], 16) for i in (0, 2, 4))

    assert fill("big") == (235, 110, 100)  # |grad| >= 1e3: the red end (exploding)
    assert fill("tiny") == fill("zero") == (120, 160, 230)  # <= 1e-3: blue (vanishing)
    assert fill("root") == (255, 255, 255)  # 1 is the middle of 1e-3..1e3 on a log scale
    assert "grad 6e+06" in lines["big"]  # huge and tiny numbers in scientific notation
    assert "grad 1e-07" in lines["tiny"]
    assert "grad 0<" in lines["zero"]


# ---------------------------------------------------------------------------------------------
# Stepping through backward: highlight + pending grads
# ---------------------------------------------------------------------------------------------
def test_highlight_follows_backward_steps():
    o, v = lecture_neuron()
    order = backward_order(o)
    names = {node: label for label, node in v.items()}
    seen = []
    for step, node in enumerate(backward_steps(o)):
        assert node is order[step]
        seen.append(node)
        src = draw_graph(o, highlight=node).source
        lines = node_lines(src)
        for other in order:
            line = lines[names[other]]
            if other in seen:  # final: the real grad is shown
                assert f"<td>grad {number(other.grad)}</td>" in line, (step, names[other])
                assert "grad ?" not in line
            else:  # pending: blank grey cell, no number
                assert "grad ?" in line and "#d9d9d9" in line, (step, names[other])
                assert re.search(r"grad -?\d", line) is None
        # exactly one box is highlighted: this one
        highlighted = [k for k, line in lines.items() if 'color="#d62728"' in line]
        assert highlighted == [names[node]]
        assert 'border="3"' in lines[names[node]]
    # after the last step every grad is final and equals backward()'s
    src = draw_graph(o, highlight=seen[-1]).source
    assert "grad ?" not in src
    assert math.isclose(v["x1"].grad, -1.5)


def test_highlight_must_be_in_the_graph():
    o, _ = lecture_neuron()
    with pytest.raises(ValueError, match="not part of the graph"):
        draw_graph(o, highlight=Value(1.0))
    with pytest.raises(TypeError, match="highlight"):
        draw_graph(o, highlight=3)
    with pytest.raises(TypeError, match="one Value"):
        draw_graph([o])


# ---------------------------------------------------------------------------------------------
# Determinism, deep graphs, big graphs
# ---------------------------------------------------------------------------------------------
def test_same_graph_same_dot_text():
    o1, _ = lecture_neuron()
    o1.backward()
    o2, _ = lecture_neuron()  # built separately: different objects, same structure
    o2.backward()
    assert draw_graph(o1).source == draw_graph(o1).source
    assert draw_graph(o1).source == draw_graph(o2).source
    model = MLP(2, [3, 1], seed=0)
    y1 = model([1.0, -2.0])
    y2 = model([1.0, -2.0])
    assert draw_graph(y1).source == draw_graph(y2).source
    assert draw_network(model).source == draw_network(MLP(2, [3, 1], seed=0)).source


def test_deep_graph_is_drawn_without_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    dot = draw_graph(y, max_nodes=10**5)
    assert len(op_nodes(dot.source)) == 3 * sys.getrecursionlimit()


def test_big_graph_is_refused_with_advice():
    model = MLP(2, [16, 16, 1], seed=0)  # micrograd's demo model: 337 parameters
    out = model([1.0, 2.0])
    with pytest.raises(GraphTooLargeError) as info:
        draw_graph(out)
    assert isinstance(info.value, ValueError)
    n = len(backward_order(out))
    msg = str(info.value)
    assert f"{n} Values" in msg and "max_nodes=300" in msg
    assert f"max_nodes={n}" in msg and "fused=False" in msg and "draw_network" in msg
    assert len(op_nodes(draw_graph(out, max_nodes=n).source)) == sum(
        1 for node in backward_order(out) if node.children
    )
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(out, max_nodes=0)


def test_one_unfused_neuron_fits():
    neuron = Neuron(2, activation="tanh", seed=1, fused=False)
    out = neuron([1.0, -1.0])
    src = draw_graph(out, params=neuron.parameters()).source
    assert src.count('tooltip="param node"') == 3
    assert "*" in op_nodes(src) and "tanh" in op_nodes(src)


# ---------------------------------------------------------------------------------------------
# Rendering with the real dot
# ---------------------------------------------------------------------------------------------
@needs_dot
def test_svg_and_png_rendering(tmp_path):
    o, _ = lecture_neuron()
    o.backward()
    dot = draw_graph(o)
    svg = dot.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("x1", "w2", "data 0.7071", "grad 0.5", "tanh"):
        assert text in svg
    png = dot.pipe(format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    out = dot.render(outfile=tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text().count("<svg") == 1
    assert out.endswith("g.svg")
    bundle, meta = dot._repr_mimebundle_()
    assert "data 0.7071" in bundle["image/svg+xml"]
    # a PNG beside the SVG (JupyterLab shows only PNG for untrusted notebooks), drawn at 2x
    # and displayed at the SVG's size
    shown = base64.b64decode(bundle["image/png"])
    assert shown[:8] == b"\x89PNG\r\n\x1a\n"
    width_px = int.from_bytes(shown[16:20], "big")
    svg_px = int(re.search(r'<svg width="(\d+)px"', bundle["image/svg+xml"]).group(1))
    assert meta["image/png"]["width"] == svg_px and abs(width_px - 2 * svg_px) <= 4
    assert "max-width: 100%" in bundle["image/svg+xml"]  # scales down to the output width
    net = draw_network(MLP(2, [3, 1], seed=0)).pipe(format="svg").decode()
    assert "input layer" in net and "output layer" in net


# ---------------------------------------------------------------------------------------------
# Missing dot / missing graphviz package
# ---------------------------------------------------------------------------------------------
def check_install_message(err: BaseException) -> None:
    msg = str(err)
    assert "Graphviz" in msg and "'dot'" in msg
    assert "apt-get install graphviz" in msg
    assert "brew install graphviz" in msg
    assert "conda install -c conda-forge graphviz" in msg


def test_missing_dot_gives_install_instructions(monkeypatch, tmp_path):
    o, _ = lecture_neuron()
    dot = draw_graph(o)
    net = draw_network(MLP(2, [3, 1], seed=0))
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    assert not graphviz_available()
    calls = [
        lambda: dot.pipe(format="svg"),
        lambda: dot.pipe(),
        lambda: dot.render(outfile=tmp_path / "g.png"),
        lambda: dot._repr_mimebundle_(),
        lambda: dot._repr_image_svg_xml(),
        lambda: net.pipe(format="png"),
    ]
    for call in calls:
        with pytest.raises(GraphvizNotFoundError) as info:
            call()
        check_install_message(info.value)
        # still catchable as graphviz's own error, but not the bare one
        assert isinstance(info.value, graphviz.ExecutableNotFound)
        assert type(info.value) is not graphviz.ExecutableNotFound
    assert isinstance(dot, Diagram)
    assert "digraph" in dot.source  # the DOT text needs no Graphviz


def test_missing_graphviz_package_names_the_viz_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` now fails
    for name in ("tinygrad_edu.viz", "tinygrad_edu.pictures.graph",
                 "tinygrad_edu.pictures.stepper"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module("tinygrad_edu.viz")
    msg = str(info.value)
    assert "pip install 'tinygrad_edu[viz]'" in msg and "graphviz" in msg


def test_missing_graphviz_package_via_import_hook(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name == "graphviz" or name.startswith("graphviz."):
            raise ModuleNotFoundError("No module named 'graphviz'", name="graphviz")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)
    for name in ("tinygrad_edu.viz", "tinygrad_edu.pictures.graph",
                 "tinygrad_edu.pictures.stepper"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError, match=r"'viz' extra"):
        importlib.import_module("tinygrad_edu.viz")


# ---------------------------------------------------------------------------------------------
# Network diagrams
# ---------------------------------------------------------------------------------------------
def network_counts(source: str) -> tuple[int, int]:
    """(neuron circles, visible weight edges) in a draw_network DOT text."""
    circles = len(re.findall(r"shape=circle", source))
    weight_edges = [e for e in edges(source) if "invis" not in e[2] and "dashed" not in e[2]]
    return circles, len(weight_edges)


def test_network_2_3_1_structure():
    model = MLP(2, [3, 1], activation="relu", output_activation="sigmoid", seed=0)
    src = draw_network(model).source
    assert network_counts(src) == (2 + 3 + 1, 2 * 3 + 3 * 1)
    assert "input layer" in src and "hidden layer 1 (ReLU)" in src
    assert "output layer (σ)" in src
    assert "label=<x1>" in src and "label=<x2>" in src
    assert "more" not in src
    # the same network built as Sequential of Layers draws the same structure
    seq = Sequential(Layer(2, 3, seed=0), Layer(3, 1, activation="sigmoid", seed=1))
    assert network_counts(draw_network(seq).source) == (6, 9)


def test_network_of_one_layer_and_one_neuron():
    assert network_counts(draw_network(Layer(4, 3, seed=0)).source) == (4 + 3, 12)
    src = draw_network(Neuron(3, activation="tanh", seed=0)).source
    assert network_counts(src) == (3 + 1, 3)
    assert "output layer (tanh)" in src
    with pytest.raises(TypeError, match="draw_network"):
        draw_network(object())


def test_network_weights_and_grads_on_edges():
    model = MLP(2, [3, 1], seed=0)
    loss = model([1.0, 2.0]) ** 2
    loss.backward()
    src = draw_network(model, show_weights=True, show_grads=True).source
    w = model.layers[0].neurons[1].w[0]
    # both numbers in the one label of that edge (an HTML label on a white box)
    line = next(line for line in src.splitlines() if "in_0 -> L1_1" in line)
    assert f"{number(w.data, 2)}<br/>∂ {number(w.grad, 2)}" in line
    expected = "#c45c00" if w.data >= 0 else "#1f5fbf"  # orange > 0, blue < 0, as the units
    assert f"color=\"{expected}\"" in line
    b = model.layers[1].neurons[0].b
    assert f"b={number(b.data, 2)}" in src
    plain = draw_network(model).source
    assert "∂" not in plain and "b=" not in plain


def test_units_and_edges_share_one_colour_per_sign():
    # orange above 0 and blue below, for a unit's value and an edge's weight or w·x alike:
    # in one picture (the network animation draws both) a colour means one thing
    from tinygrad_edu.pictures.style import NEGATIVE_EDGE, POSITIVE_EDGE, rgb, value_color

    def orange(colour):
        r, g, b = rgb(colour)
        return r > g > b and r - b > 100

    def blue(colour):
        r, g, b = rgb(colour)
        return b > g > r and b - r > 100

    assert orange(value_color(1.0, 1.0)) and orange(POSITIVE_EDGE)
    assert blue(value_color(-1.0, 1.0)) and blue(NEGATIVE_EDGE)
    model = MLP(1, [1], activation="linear", seed=0)
    model.layers[0].neurons[0].w[0].data = -2.0
    src = draw_network(model, x=[3.0], contributions=True).source
    edge = next(line for line in src.splitlines() if "in_0 -> L1_0" in line)
    colour = re.search(r'color="(#[0-9a-f]{6})"', edge).group(1)
    assert blue(colour), colour  # w·x = -6 < 0


def test_large_layers_are_elided():
    model = MLP(100, [50, 1], seed=0)
    src = draw_network(model, max_neurons=12).source
    circles, weight_edges = network_counts(src)
    assert circles == 11 + 11 + 1  # 11 shown + one "…" node in each big column
    assert "89 more" in src and "39 more" in src
    assert weight_edges == 11 * 11 + 11 * 1
    assert len(edges(src)) < 400  # not 100*50 + 50 edges
    with pytest.raises(ValueError, match="max_neurons"):
        draw_network(model, max_neurons=1)


def test_input_labels():
    src = draw_network(MLP(2, [1], seed=0), input_labels=["hours", "sleep"]).source
    assert "label=<hours>" in src and "label=<sleep>" in src
    with pytest.raises(ValueError, match="input_labels"):
        draw_network(MLP(2, [1], seed=0), input_labels=["only one"])


def test_color_by_grad_default_keeps_a_healthy_grad_white():
    a = Value(2.0, "a")
    root = a * 1.0
    root.label = "root"
    root.backward()  # a.grad = root.grad = 1: neither vanishing nor exploding
    lines = node_lines(draw_graph(root, color_by_grad=True).source)
    assert 'bgcolor="#ffffff"' in lines["a"] and 'bgcolor="#ffffff"' in lines["root"]


# ---------------------------------------------------------------------------------------------
# Any label a user can type renders as itself (control characters as their escapes)
# ---------------------------------------------------------------------------------------------
HOSTILE_LABELS = ["]", "]]", "[", "\\N", "\\G", "\n", "\t", "\r", "\r\n", "a\x01b", "\x7f",
                  "x\\", "x\\\\\\", "\\", '"', "<b>", "&amp;", "{}", " ", "", "é ∂ 😀", "\\n",
                  "a\u2028b"]


def svg_texts(svg: str) -> str:
    import html

    return "\n".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


@needs_dot
@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_any_label_renders_as_itself(label):
    from tinygrad_edu.pictures.style import printable

    a = Value(1.0, label)
    root = a * 2
    root.label = label
    svg = draw_graph(root).pipe(format="svg", encoding="utf-8")  # dot accepts it
    shown = printable(label)
    if shown.strip():
        assert shown in svg_texts(svg)
    net = draw_network(MLP(2, [1], seed=0), input_labels=[label, "y"])
    svg = net.pipe(format="svg", encoding="utf-8")
    if shown.strip():
        assert shown in svg_texts(svg)
    assert "y" in svg_texts(svg)


def test_input_labels_must_be_a_list_of_str():
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="not one str"):
        draw_network(model, input_labels="ab")
    with pytest.raises(TypeError, match=r"input_labels\[1\] must be a str"):
        draw_network(model, input_labels=["a", 2])
    with pytest.raises(TypeError, match="list of 2 names"):
        draw_network(model, input_labels=5)
    with pytest.raises(TypeError, match="not one str"):
        draw_network(MLP(2, [2], seed=0), output_labels="no")


# ---------------------------------------------------------------------------------------------
# Forward propagation on the network diagram: draw_network(model, x=...)
# ---------------------------------------------------------------------------------------------
def unit_line(source: str, node_id: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith(f"{node_id} ["))


def fill_rgb(line: str) -> tuple[int, int, int]:
    rgb = re.search(r'fillcolor="#([0-9a-f]{6})"', line).group(1)
    return tuple(int(rgb[i : i + 2], 16) for i in (0, 2, 4))


def test_network_with_an_input_shows_every_value_and_who_fires():
    model = MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    x = [5.0, 4.0]
    src = draw_network(model, x=x, input_labels=["lectures", "marks"]).source
    hidden = [n([Value(v) for v in x]) for n in model.layers[0].neurons]
    out = model(x)
    assert "<b>5</b>" in unit_line(src, "in_0") and "<b>4</b>" in unit_line(src, "in_1")
    fired = 0
    for j, h in enumerate(hidden):
        line = unit_line(src, f"L1_{j}")
        assert f"<b>{number(h.data, 2)}</b>" in line
        r, g, b = fill_rgb(line)
        if h.data > 0:  # a ReLU that fires: orange, stronger for the larger value
            fired += 1
            assert r > g > b
        else:  # exactly 0: grey, it does not fire
            assert (r, g, b) == (0xEE, 0xEE, 0xEE)
    assert 0 < fired < 3  # seed 0 at this input: some neurons fire, some do not
    top = max(range(3), key=lambda j: hidden[j].data)
    assert fill_rgb(unit_line(src, f"L1_{top}")) == (245, 140, 40)  # the largest: full colour
    assert f"<b>{number(out.data, 2)}</b>" in unit_line(src, "L2_0")
    # negative values are blue
    tanh = MLP(2, [2], activation="tanh", output_activation="tanh", seed=3)
    values = [v.data for v in tanh([1.0, -2.0])]
    tsrc = draw_network(tanh, x=[1.0, -2.0]).source
    for j, v in enumerate(values):
        r, _, b = fill_rgb(unit_line(tsrc, f"L1_{j}"))
        assert (b > r) == (v < 0)


def test_network_x_of_the_wrong_length_is_the_models_error():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError) as called:
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError) as drawn:
        draw_network(model, x=[1.0, 2.0, 3.0])
    assert str(drawn.value) == str(called.value)
    with pytest.raises(ValueError, match="needs an input"):
        draw_network(model, softmax=True)


def test_network_softmax_and_contributions():
    model = MLP(3, [4, 3], seed=1)  # linear outputs: logits of 3 classes
    x = [0.5, -1.0, 2.0]
    logits = [z.data for z in model(x)]
    exps = [math.exp(z) for z in logits]
    probs = [e / sum(exps) for e in exps]
    src = draw_network(model, x=x, softmax=True, contributions=True,
                       output_labels=["cat", "dog", "owl"]).source
    assert "output layer (softmax)" in src
    for j, (name, p) in enumerate(zip(["cat", "dog", "owl"], probs)):
        line = unit_line(src, f"L2_{j}")
        assert name in line and f"<b>{number(p, 2)}</b>" in line
    best = max(range(3), key=probs.__getitem__)
    assert "penwidth=3" in unit_line(src, f"L2_{best}")  # the predicted class stands out
    # edge widths follow |w·x|: the largest contribution into layer 1 is the widest edge
    layer = model.layers[0]
    contrib = {(i, j): abs(n.w[i].data * x[i]) for j, n in enumerate(layer.neurons)
               for i in range(3)}
    widest = max(contrib, key=contrib.get)
    line = next(line for line in src.splitlines()
                if f"in_{widest[0]} -> L1_{widest[1]}" in line)
    assert "penwidth=4.00" in line
    with pytest.raises(ValueError, match="output layer is linear"):
        draw_network(MLP(2, [2], output_activation="sigmoid", seed=0), x=[1, 2], softmax=True)


@needs_dot
def test_digits_sized_network_stays_readable():
    model = MLP(64, [16, 10], seed=0)
    x = [(i % 17) / 16 for i in range(64)]
    dot = draw_network(model, x=x, softmax=True, max_neurons=12,
                       output_labels=[str(d) for d in range(10)])
    circles, weight_edges = network_counts(dot.source)
    assert circles == 11 + 11 + 10  # "…" nodes stand for the rest
    assert "53 more" in dot.source and "5 more" in dot.source
    hidden = [v.data for v in model.layers[0]([Value(v) for v in x])]
    shown = set(list(range(6)) + list(range(11, 16)))
    firing = sum(1 for j, v in enumerate(hidden) if j not in shown and v > 0)
    assert f"({firing} firing)" in dot.source
    svg = dot.pipe(format="svg", encoding="utf-8")
    width_pt, _ = svg_size(svg)
    assert width_pt <= FIT_WIDTH_PT  # readable at notebook width


@needs_dot
def test_digits_network_top_to_bottom_fits_a_screen_with_all_ten_outputs():
    # notebook 6: the digit, its network and its ten probabilities in one 1000 x 800 view
    model = MLP(64, [16, 10], seed=0)
    x = [(i % 17) / 16 for i in range(64)]
    dot = draw_network(model, x=x, softmax=True, rankdir="TB", max_neurons=10, digits=1)
    circles, _ = network_counts(dot.source)
    assert circles == 9 + 9 + 10
    assert "hidden layer 1<br/>(ReLU)" in dot.source  # titles: a narrow column on the left
    width_pt, height_pt = svg_size(dot.pipe(format="svg", encoding="utf-8"))
    # at the width of a notebook's output in a 1000-px window (about 820 px) its 10-pt text
    # stays >= 10.5 px, and it is far less tall than the view
    scale = min(1.0, 820 / (width_pt * 4 / 3))
    assert 10 * 4 / 3 * scale >= 10.5 and height_pt * 4 / 3 * scale <= 450


# ---------------------------------------------------------------------------------------------
# Fitting the page
# ---------------------------------------------------------------------------------------------
@needs_dot
def test_wide_graphs_turn_top_to_bottom_and_stay_readable():
    o, _ = lecture_neuron()
    assert 'rankdir=LR' in draw_graph(o).source  # fits left to right
    long = chain(19)  # 39 Values in a row: far too wide left to right
    dot = draw_graph(long)
    assert "rankdir=TB" in dot.source
    assert "rankdir=LR" in draw_graph(long, rankdir="LR").source  # asked for: kept
    for root in (o, long, MLP(2, [3, 1], seed=0)([1.0, 2.0])):
        width_pt, _ = svg_size(draw_graph(root).pipe(format="svg", encoding="utf-8"))
        # 11-pt text stays >= 9 px when the picture is shrunk to an 800-px output
        assert 11 * min(1.0, 800 / (width_pt * 4 / 3)) * 4 / 3 >= 9


@needs_dot
def test_diagram_shows_as_an_img_that_shrinks_to_the_output():
    o, _ = lecture_neuron()
    bundle, _ = draw_graph(o)._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.startswith('<img src="data:image/svg+xml;base64,')
    assert 'style="max-width: 100%; height: auto"' in page and 'alt="computation graph' in page
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1)).decode()
    assert "data 0.7071" in svg
    assert set(bundle) == {"text/html", "image/svg+xml", "image/png", "text/plain"}
    assert draw_graph(o)._repr_mimebundle_(include=["image/png"])[0].keys() == {"image/png"}


def test_bad_options_are_clear_errors():
    o, _ = lecture_neuron()
    model = MLP(2, [1], seed=0)
    for digits in (None, 0.5, 0, -1, 13, True):
        with pytest.raises(ValueError, match="digits must be an int from 1 to 12"):
            draw_graph(o, digits=digits)
        with pytest.raises(ValueError, match="digits must be an int from 1 to 12"):
            draw_network(model, digits=digits)
    for fmt in ([], "jpeg2", None):
        with pytest.raises(ValueError, match="Graphviz output format"):
            draw_graph(o, format=fmt)
    for bad in (None, (1, 0), (0, 1), ("a", 1), 5):
        with pytest.raises(ValueError, match="grad_range"):
            draw_graph(o, grad_range=bad)
    with pytest.raises(TypeError, match="params must be a list of Values"):
        draw_graph(o, params=3)
    with pytest.raises(TypeError, match="params must hold Values only"):
        draw_graph(o, params=[1.0])
    assert draw_graph(o, digits=1, format="PNG").source


# ---------------------------------------------------------------------------------------------
# Graphviz specials outside labels (issue 18 C): op names, Function class names, long labels
# ---------------------------------------------------------------------------------------------
def function_named(name: str):
    """A Function op (2a) whose class is called ``name``: the op's name in the graph."""
    from tinygrad_edu import Function

    def forward(ctx, a):
        return 2.0 * a

    def backward(ctx, grad):
        return 2.0 * grad

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


@needs_dot
@pytest.mark.parametrize("name", ["<b>x</b>", "\\", "a\\b", "\\N", "\\G", "\\L", "a\nb", "]",
                                  "&amp;", '"q"', "{x}", "->"])
def test_function_class_names_are_shown_as_typed(name):
    from tinygrad_edu.pictures.style import printable

    out = function_named(name).apply(Value(1.0, "a"))
    out.label = "out"
    svg = draw_graph(out).pipe(format="svg", encoding="utf-8")  # dot accepts it
    texts = svg_texts(svg).split("\n")
    assert printable(name) in texts  # as typed: not markup, not the node's name (\N)
    assert "v1_op" not in texts and "G" not in texts
    stepper_svg = step_through(out).frame_svg(0)
    assert printable(name) in svg_texts(stepper_svg).split("\n")


@needs_dot
def test_labels_beyond_graphviz_limit_are_shortened_visibly():
    huge = "<" * 5000  # 20,000 characters once escaped: over Graphviz's 16,384
    a = Value(1.0, huge)
    root = a * 2
    root.label = "x" * 20000
    svg = draw_graph(root).pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg).split("\n")
    assert "<" * 59 + "…" in texts and "x" * 59 + "…" in texts  # cut, and says so
    net = draw_network(MLP(2, [1], seed=0), input_labels=[huge, "y"])
    assert "<" * 59 + "…" in svg_texts(net.pipe(format="svg", encoding="utf-8"))
    stepper = step_through(root)
    assert "<" * 59 + "…" in svg_texts(stepper.frame_svg(0))
    assert stepper.png()[:4] == b"\x89PNG"  # the still's caption holds the long names too
    big = function_named("Op" + "<" * 10000).apply(a)
    assert "…" in svg_texts(draw_graph(big).pipe(format="svg", encoding="utf-8"))


def test_unit_size_makes_every_unit_one_fixed_circle_and_is_checked():
    model = MLP(2, [3, 1], seed=0)
    source = draw_network(model, x=[5.0, 4.0], unit_size=0.9).source
    circles = [line for line in source.splitlines() if "shape=circle" in line]
    assert len(circles) == 2 + 3 + 1
    assert all("width=0.900" in c and "fixedsize=true" in c for c in circles)
    assert "fixedsize" not in draw_network(model, x=[5.0, 4.0]).source  # (default: fit labels)
    with pytest.raises(ValueError, match="unit_size must be > 0"):
        draw_network(model, unit_size=0)
    with pytest.raises(TypeError, match="unit_size must be a number"):
        draw_network(model, unit_size="big")
