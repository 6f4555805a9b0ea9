"""Code written the way the micrograd lecture writes it runs on our Value unchanged.

The lecture walks graphs through ``_prev`` and ``_op``, sorts them with a recursive
``build_topo`` and runs backprop by hand: ``o.grad = 1.0`` and then ``node._backward()`` node
by node. ``_backward()`` is one node's own chain-rule step: it adds ``node.grad * local
derivative`` into its inputs' grads. Also here: ``local_derivatives`` for every op, against
finite differences.
"""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Function, Value, linear, no_grad
from tinygrad_edu.engine import local_derivatives


def lecture_neuron():
    """The lecture's neuron, built one op at a time with labels."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2,
                   x1w1x2w2=x1w1x2w2, n=n, o=o)


def trace(root):
    """The lecture's trace: all nodes and edges, walking ``_prev``."""
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def print_graph(root) -> str:
    """A text version of the lecture's draw_dot: one line per node, with its op."""
    nodes, edges = trace(root)
    lines = []
    for v in sorted(nodes, key=lambda v: v.label):
        made_by = f" <- {v._op}({', '.join(c.label for c in v._prev)})" if v._op else ""
        lines.append(f"{v.label} | data {v.data:.4f} | grad {v.grad:.4f}{made_by}")
    return "\n".join(lines)


def test_graph_printer_walks_prev_and_op():
    o, _ = lecture_neuron()
    nodes, edges = trace(o)
    assert len(nodes) == 10 and len(edges) == 9
    assert print_graph(o) == "\n".join([
        "b | data 6.8814 | grad 0.0000",
        "n | data 0.8814 | grad 0.0000 <- +(x1*w1 + x2*w2, b)",
        "o | data 0.7071 | grad 0.0000 <- tanh(n)",
        "w1 | data -3.0000 | grad 0.0000",
        "w2 | data 1.0000 | grad 0.0000",
        "x1 | data 2.0000 | grad 0.0000",
        "x1*w1 | data -6.0000 | grad 0.0000 <- *(x1, w1)",
        "x1*w1 + x2*w2 | data -6.0000 | grad 0.0000 <- +(x1*w1, x2*w2)",
        "x2 | data 0.0000 | grad 0.0000",
        "x2*w2 | data 0.0000 | grad 0.0000 <- *(x2, w2)",
    ])
    assert o._prev == o.children and o._op == o.op == "tanh"
    assert o._prev[0]._prev[1].label == "b"


def test_manual_backward_node_by_node_as_in_the_lecture():
    o, v = lecture_neuron()
    o.grad = 1.0
    o._backward()
    assert v["n"].grad == pytest.approx(0.5)  # 1 - o^2
    v["n"]._backward()
    assert v["x1w1x2w2"].grad == pytest.approx(0.5) and v["b"].grad == pytest.approx(0.5)
    v["b"]._backward()  # a leaf: nothing to do
    v["x1w1x2w2"]._backward()
    v["x2w2"]._backward()
    v["x1w1"]._backward()
    got = {k: v[k].grad for k in ("x1", "w1", "x2", "w2")}
    # the lecture's numbers: x1.grad = w1 * 0.5, w1.grad = x1 * 0.5, ...
    assert got == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0})


def test_backward_step_is_additive_and_reads_the_current_grad():
    a = Value(3.0)
    c = a * a  # a used twice: _backward adds both contributions
    c.grad = 2.0
    c._backward()
    assert a.grad == 2 * (3.0 * 2.0)
    c._backward()  # micrograd's meaning: running it again adds again
    assert a.grad == 4 * (3.0 * 2.0)


def build_topo(root):
    """The lecture's recursive topological sort, verbatim in spirit."""
    topo, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)

    build(root)
    return topo


def micrograd_sanity(a, b):
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g, [a, b, c, d, e, f]


@pytest.mark.parametrize("make", ["neuron", "sanity", "new ops", "fused"])
def test_build_topo_and_reversed_backward_give_the_grads_of_backward(make):
    def build():
        if make == "neuron":
            o, v = lecture_neuron()
            return o, list(v.values())
        if make == "sanity":
            return micrograd_sanity(Value(-4.0), Value(2.0))
        if make == "new ops":
            x, y = Value(0.3), Value(-1.2)
            return (x.sin() * abs(y) + y.cos() / (x * x + 1)).exp(), [x, y]
        w, x, b = [Value(0.5), Value(-0.25)], [Value(2.0), Value(1.5)], Value(0.1)
        return linear(w, x, b).sigmoid() * linear(w, [1.0, 2.0], b), [*w, *x, b]

    manual_root, manual = build()
    topo = build_topo(manual_root)
    manual_root.grad = 1.0
    for node in reversed(topo):
        node._backward()

    auto_root, auto = build()
    auto_root.backward()
    for m, a in zip(manual, auto):
        assert m.grad == pytest.approx(a.grad, rel=1e-13, abs=1e-13)


def test_lecture_sanity_numbers():
    a, b = Value(-4.0), Value(2.0)
    g, _ = micrograd_sanity(a, b)
    topo = build_topo(g)
    g.grad = 1.0
    for node in reversed(topo):
        node._backward()
    # micrograd's test_sanity_check values, from PyTorch
    assert g.data == pytest.approx(24.70408163265306, rel=1e-14)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-13)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-13)


# ---------------------------------------------------------------------------------------------
# local_derivatives: d node / d input for every op, against central finite differences
# ---------------------------------------------------------------------------------------------
class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return math.log1p(math.exp(-abs(x))) + max(x, 0.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_values
        return grad / (1.0 + math.exp(-x))


class Mix(Function):  # a*b + sin(a): two inputs
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b + math.sin(a)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_values
        return grad * (b + math.cos(a)), grad * a


OPS = {
    "+": (lambda a, b: a + b, [0.7, -1.3]),
    "-": (lambda a, b: a - b, [0.7, -1.3]),
    "*": (lambda a, b: a * b, [0.7, -1.3]),
    "/": (lambda a, b: a / b, [0.7, -1.3]),
    "neg": (lambda a: -a, [0.7]),
    "**": (lambda a: a**3.5, [1.3]),
    "c**": (lambda a: 2.5**a, [0.7]),
    "exp": (lambda a: a.exp(), [0.7]),
    "log": (lambda a: a.log(), [0.7]),
    "tanh": (lambda a: a.tanh(), [0.7]),
    "sigmoid": (lambda a: a.sigmoid(), [-0.7]),
    "relu": (lambda a: a.relu(), [0.7]),
    "sin": (lambda a: a.sin(), [0.7]),
    "cos": (lambda a: a.cos(), [0.7]),
    "abs": (lambda a: abs(a), [-0.7]),
    "linear": (lambda b, w0, w1, x0, x1: linear([w0, w1], [x0, x1], b),
               [0.1, 0.5, -2.0, 1.5, 0.25]),
    "Softplus": (lambda a: Softplus.apply(a), [0.4]),
    "Mix": (lambda a, b: Mix.apply(a, b), [0.4, -2.0]),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_local_derivatives_match_finite_differences(op):
    make, xs = OPS[op]
    node = make(*(Value(x) for x in xs))
    assert node.op == op
    locals_ = local_derivatives(node)
    assert len(locals_) == len(node.children) == len(xs)
    eps = 1e-6
    for i in range(len(xs)):
        def f(delta, i=i):
            with no_grad():
                return make(*(Value(x + (delta if j == i else 0.0)) for j, x in enumerate(xs))).data
        numeric = (f(eps) - f(-eps)) / (2 * eps)
        assert locals_[i] == pytest.approx(numeric, rel=1e-6, abs=1e-7), (op, i)


def test_local_derivatives_of_a_leaf_a_reused_input_and_grads_untouched():
    a = Value(3.0)
    assert local_derivatives(a) == ()
    sq = a * a
    assert local_derivatives(sq) == (3.0, 3.0)  # one entry per use
    sq.grad = 7.0
    assert local_derivatives(sq) == (3.0, 3.0) and a.grad == 0.0 and sq.grad == 7.0
    with pytest.raises(TypeError, match="needs a Value"):
        local_derivatives(3.0)
