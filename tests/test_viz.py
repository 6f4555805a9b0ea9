"""Pictures of computation graphs and networks (tinygrad_edu.viz)."""

from __future__ import annotations

import importlib
import math
import re
import sys

import pytest

graphviz = pytest.importorskip("graphviz")

from tinygrad_edu import Value, backward_order, backward_steps, linear  # noqa: E402
from tinygrad_edu.nn import MLP, Layer, Neuron, Sequential  # noqa: E402
from tinygrad_edu.viz import (  # noqa: E402
    Diagram,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    draw_graph,
    draw_network,
    graphviz_available,
)

needs_dot = pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed")


def lecture_neuron():
    """micrograd's lecture neuron: o = tanh(x1*w1 + x2*w2 + b), with every node labelled."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "x1*w1": x1w1,
               "x2*w2": x2w2, "s": s, "n": n, "o": o}


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
    """The text of every operation node, in order."""
    found = re.findall(r'^\s*v\d+_op \[label=("[^"]*"|\S+)', source, re.M)
    return [text.strip('"') for text in found]


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of every edge line."""
    out = []
    for line in source.splitlines():
        m = re.match(r"\s*(\S+) -> (\S+)(?: \[(.*)\])?$", line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3) or ""))
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
    expected = {
        "o": ("0.7071", "1.0000"),
        "n": ("0.8814", "0.5000"),
        "b": ("6.8814", "0.5000"),
        "s": ("-6.0000", "0.5000"),
        "x1*w1": ("-6.0000", "0.5000"),
        "x2*w2": ("0.0000", "0.5000"),
        "x1": ("2.0000", "-1.5000"),
        "w1": ("-3.0000", "1.0000"),
        "x2": ("0.0000", "0.5000"),
        "w2": ("1.0000", "0.0000"),
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
    assert 'label="**2"' in src
    assert 'label="2**x"' in src
    assert 'label="a − b"' in src and 'label="a / b"' in src
    lines = node_lines(src)
    ids = {label: re.match(r"\s*(\S+) ", line).group(1) for label, line in lines.items()}
    # the edges into '-' and '/' say which input is a and which is b
    es = edges(src)
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
    assert 'label="b + Σ w·x"' in src
    lines = node_lines(src)
    assert "data -5.2500" in lines["z"]  # 0.25 + 0.5*1 - 2*3
    assert "grad 3.0000" in lines["w1"] and "grad -2.0000" in lines["x1"]
    ids = {label: re.match(r"\s*(\S+) ", line).group(1) for label, line in lines.items()}
    op = f"{ids['z']}_op"
    es = edges(src)
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
    assert "grad 6.000e+06" in lines["big"]  # huge and tiny numbers in scientific notation
    assert "grad 1.000e-07" in lines["tiny"]
    assert "grad 0.0000" in lines["zero"]


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
                assert f"<td>grad {other.grad:.4f}</td>" in line, (step, names[other])
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
    assert 'label="*"' in src and 'label=tanh' in src


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
    for text in ("x1", "w2", "data 0.7071", "grad 0.5000", "tanh"):
        assert text in svg
    png = dot.pipe(format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    out = dot.render(outfile=tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text().count("<svg") == 1
    assert out.endswith("g.svg")
    bundle = dot._repr_mimebundle_()
    assert "data 0.7071" in bundle["image/svg+xml"]
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
    monkeypatch.delitem(sys.modules, "tinygrad_edu.viz")
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
    monkeypatch.delitem(sys.modules, "tinygrad_edu.viz")
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
    assert "label=x1" in src and "label=x2" in src
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
    assert f"{w.data:.2f}<br/>∂ {w.grad:.2f}" in line
    expected = "#1f5fbf" if w.data >= 0 else "#d62728"
    assert f"color=\"{expected}\"" in line
    b = model.layers[1].neurons[0].b
    assert f"b={b.data:.2f}" in src
    plain = draw_network(model).source
    assert "∂" not in plain and "b=" not in plain


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
    assert "label=hours" in src and "label=sleep" in src
    with pytest.raises(ValueError, match="input_labels"):
        draw_network(MLP(2, [1], seed=0), input_labels=["only one"])


def test_color_by_grad_default_keeps_a_healthy_grad_white():
    a = Value(2.0, "a")
    root = a * 1.0
    root.label = "root"
    root.backward()  # a.grad = root.grad = 1: neither vanishing nor exploding
    lines = node_lines(draw_graph(root, color_by_grad=True).source)
    assert 'bgcolor="#ffffff"' in lines["a"] and 'bgcolor="#ffffff"' in lines["root"]
