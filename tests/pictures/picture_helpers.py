"""Graphs the picture tests share (imported as a module: tests/pictures is on sys.path)."""

from __future__ import annotations

from tinygrad_edu import Value


def lecture_neuron() -> tuple[Value, dict[str, Value]]:
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


def chain(n: int) -> Value:
    """x multiplied by 1.1, n times: 2n + 1 Values in a row."""
    y = Value(0.5, "x")
    for _ in range(n):
        y = y * 1.1
    return y


def big_graph() -> Value:
    """Exactly 100 Values: x, then 33 times (v * w_i).tanh()."""
    v = Value(0.5, "x")
    for i in range(33):
        v = (v * Value(0.1 * (i % 7) - 0.3, f"w{i}")).tanh()
    v.label = "out"
    return v


def fork_graph() -> tuple[Value, dict[str, Value]]:
    """u = x + 1 used twice: v = u * x, w = v + u (dw/dx = 2x + 2 = 6 at x = 2)."""
    x = Value(2.0, "x")
    u = x + 1
    u.label = "u"
    v = u * x
    v.label = "v"
    w = v + u
    w.label = "w"
    return w, {"x": x, "u": u, "v": v, "w": w}
