"""The engine against PyTorch in float64: every op, composite expressions, random graphs."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value, gradcheck

torch = pytest.importorskip("torch")

RTOL = 1e-12
ATOL = 1e-12


def close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def run_both(fn, *xs: float):
    """Apply ``fn`` to Values and to float64 tensors; return (ours, theirs) values and grads."""
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout = fn(*ts)
    tout.backward()
    return (out.data, [v.grad for v in vs]), (tout.item(), [t.grad.item() for t in ts])


UNARY = {
    "exp": (lambda a: a.exp(), [-3.0, 0.0, 0.5, 20.0]),
    "log": (lambda a: a.log(), [1e-3, 0.5, 1.0, 7.0]),
    "tanh": (lambda a: a.tanh(), [-5.0, -0.3, 0.0, 0.7, 30.0, 1000.0, -1000.0]),
    "sigmoid": (lambda a: a.sigmoid(), [-50.0, -0.3, 0.0, 2.0, 1000.0, -1000.0]),
    "relu": (lambda a: a.relu(), [-2.0, 0.0, 1e-9, 3.5]),
    "neg": (lambda a: -a, [-2.0, 0.0, 3.5]),
    "pow2": (lambda a: a**2, [-1.5, 0.0, 3.0]),
    "pow3": (lambda a: a**3, [-1.5, 0.2, 3.0]),
    "pow-1": (lambda a: a**-1, [-1.5, 0.2, 3.0]),
    "pow0.5": (lambda a: a**0.5, [0.01, 2.0, 9.0]),
    "pow-2.5": (lambda a: a**-2.5, [0.3, 4.0]),
    "rpow": (lambda a: 2.5**a, [-2.0, 0.0, 1.7]),
    "radd": (lambda a: 2 + a, [1.0]),
    "rsub": (lambda a: 1 - a, [1.0, -4.0]),
    "rmul": (lambda a: 3 * a, [1.0, -4.0]),
    "rdiv": (lambda a: 3 / a, [0.5, -4.0]),
    "sin": (lambda a: a.sin(), [-7.0, -1.0, 0.0, 0.3, 2.0, 100.0]),
    "cos": (lambda a: a.cos(), [-7.0, -1.0, 0.0, 0.3, 2.0, 100.0]),
    "abs": (lambda a: abs(a), [-2.5, -1e-300, 0.0, 1e-300, 3.0]),  # grad sign(x), 0 at 0
    "abs_neg_zero": (lambda a: abs(-a), [0.0]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_torch(name):
    fn, points = UNARY[name]
    for x in points:
        (v, g), (tv, tg) = run_both(fn, x)
        assert close(v, tv), (name, x, v, tv)
        assert close(g[0], tg[0]), (name, x, g, tg)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a,b", [(2.0, -3.0), (-0.5, 0.25), (1e3, 7.0), (0.0, 1.5)])
def test_binary_ops_match_torch(name, a, b):
    (v, g), (tv, tg) = run_both(BINARY[name], a, b)
    assert close(v, tv)
    assert all(close(x, y) for x, y in zip(g, tg))


def test_division_gradients_are_torchs_floats():
    # The rule returns d/da = 1/b and d/db = -(a/b)/b (no b*b to underflow); the chain rule then
    # multiplies by the output's gradient, so each grad is within a few ulps of PyTorch's
    # (which divides g / b directly), even where b is tiny or huge.
    rng = random.Random(0)
    for _ in range(300):
        a, b = rng.uniform(-10, 10), rng.uniform(-10, 10) * 10 ** rng.uniform(-90, 90)
        g = rng.uniform(-3, 3)
        va, vb = Value(a), Value(b)
        (va / vb * g).backward()
        ta, tb = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (a, b))
        (ta / tb).backward(torch.tensor(g, dtype=torch.float64))
        assert va.grad == pytest.approx(ta.grad.item(), rel=1e-15, abs=0), (a, b, g)
        assert vb.grad == pytest.approx(tb.grad.item(), rel=1e-15, abs=0), (a, b, g)


def micrograd_sanity(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def neuron(x1, x2, w1, w2, b):
    return (x1 * w1 + x2 * w2 + b).tanh()


def softmax_nll(a, b, c):
    m = 2.0  # a fixed shift, as a stable softmax subtracts the max
    ea, eb, ec = (a - m).exp(), (b - m).exp(), (c - m).exp()
    return -(eb / (ea + eb + ec)).log()


def bce(z, y):
    p = z.sigmoid()
    return -(y * p.log() + (1 - y) * (1 - p).log())


def shared_subexpressions(a, b):
    h = (a * b).tanh()
    k = h * h + h.exp() - a / (b * b + 1)
    return (k * h + a.sigmoid() * k).relu() + (h + 2) ** 0.5


@pytest.mark.parametrize(
    "fn,args",
    [
        (micrograd_sanity, (-4.0, 2.0)),
        (neuron, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)),
        (softmax_nll, (1.0, 2.5, -0.3)),
        (bce, (0.7, 1.0)),
        (bce, (-2.0, 0.0)),
        (shared_subexpressions, (0.4, -1.3)),
        (shared_subexpressions, (2.0, 0.5)),
    ],
)
def test_composite_expressions_match_torch(fn, args):
    (v, g), (tv, tg) = run_both(fn, *args)
    assert close(v, tv, rtol=1e-12)
    for x, y in zip(g, tg):
        assert close(x, y, rtol=1e-11, atol=1e-12)


def test_micrograd_sanity_known_numbers():
    # Worked out by PyTorch in float64: g = 24.70408163265306, dg/da = 138.83381924198252,
    # dg/db = 645.5772594752186.
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_sanity(a, b)
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-14)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-13)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-13)


def test_backward_twice_matches_torch_retain_graph():
    x = Value(3.0)
    L = (x * x) * 2
    L.backward()
    L.backward()
    tx = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tL = (tx * tx) * 2
    tL.backward(retain_graph=True)
    tL.backward()
    assert x.grad == tx.grad.item() == 24.0


@pytest.mark.parametrize(
    "fn,args",
    [
        (micrograd_sanity, [-4.0, 2.0]),
        (neuron, [2.0, 0.5, -3.0, 1.0, 0.3]),
        (softmax_nll, [1.0, 2.5, -0.3]),
        (shared_subexpressions, [0.4, -1.3]),
        (lambda a, b: (a / b).log() * 2.5**a, [1.2, 0.7]),
    ],
)
def test_gradcheck_on_composites(fn, args):
    assert gradcheck(fn, args)


# ---------------------------------------------------------------------------------------------
# Random expression graphs (hypothesis): the same program run on Values and on tensors.
# Every op keeps inputs inside its domain, and nodes are reused so the graphs are DAGs.
# ---------------------------------------------------------------------------------------------
OPS = {
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1)),
    "neg": (1, lambda a: -a),
    "square": (1, lambda a: a**2),
    "sqrt": (1, lambda a: (a * a + 0.5) ** 0.5),
    "exp": (1, lambda a: (a.tanh() * 3).exp()),
    "log": (1, lambda a: (a * a + 0.1).log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
    "const": (1, lambda a: 0.5 * a + 1.25),
    "rdiv": (1, lambda a: 1 / (a * a + 1)),
    "sin": (1, lambda a: (a * 3).sin()),
    "cos": (1, lambda a: a.cos() * a),
    "abs": (1, lambda a: abs(a - 0.25)),
}

program_step = st.tuples(
    st.sampled_from(sorted(OPS)), st.integers(0, 10_000), st.integers(0, 10_000)
)


def run_program(leaves, steps):
    nodes = list(leaves)
    for name, i, j in steps:
        arity, fn = OPS[name]
        a = nodes[i % len(nodes)]
        b = nodes[j % len(nodes)]
        out = fn(a) if arity == 1 else fn(a, b)
        nodes.append(out)
    # the root uses the last few nodes so that several branches meet
    root = nodes[-1]
    for extra in nodes[-3:-1]:
        root = root + extra.tanh()
    return root, nodes


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4),
    steps=st.lists(program_step, min_size=1, max_size=25),
)
def test_random_graphs_match_torch(xs, steps):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout, tnodes = run_program(ts, steps)
    if any(not abs(t.item()) < 1e100 for t in tnodes):
        return  # repeated squaring overflowed: our engine raises OverflowError there instead
    vs = [Value(x) for x in xs]
    out, _ = run_program(vs, steps)
    out.backward()
    tout.backward()
    assert close(out.data, tout.item(), rtol=1e-10, atol=1e-10)
    for v, t in zip(vs, ts):
        tg = 0.0 if t.grad is None else t.grad.item()
        assert close(v.grad, tg, rtol=1e-8, atol=1e-9), (v.grad, tg)


# ---------------------------------------------------------------------------------------------
# Python manners: comparisons, float(), format(), backward(gradient=)
# ---------------------------------------------------------------------------------------------
PAIRS = [(1.0, 2.0), (2.0, 1.0), (0.5, 0.5), (-0.0, 0.0), (-3.0, -3.0000000000000004)]


@pytest.mark.parametrize("a,b", PAIRS)
def test_comparisons_match_torch(a, b):
    va, vb = Value(a), Value(b)
    ta, tb = (torch.tensor(x, dtype=torch.float64) for x in (a, b))
    for name, op in [("<", lambda x, y: x < y), ("<=", lambda x, y: x <= y),
                     (">", lambda x, y: x > y), (">=", lambda x, y: x >= y)]:
        expected = bool(op(ta, tb))
        assert op(va, vb) is expected, (name, a, b)  # Value with Value
        assert op(va, b) is expected and op(a, vb) is expected  # with numbers, either side


def test_max_sorted_and_if_work_by_data():
    vs = [Value(x) for x in (0.3, -1.0, 2.5, 0.7)]
    assert max(vs) is vs[2] and min(vs) is vs[1]
    assert [v.data for v in sorted(vs)] == [-1.0, 0.3, 0.7, 2.5]
    assert sorted(vs, reverse=True)[0] is vs[2]
    hits = [v for v in vs if v > 0.5]
    assert hits == [vs[2], vs[3]]


def test_equality_and_hash_stay_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b  # equal numbers ...
    assert a != b and a == a  # ... but different nodes
    assert len({a, b}) == 2 and hash(a) != hash(b)
    assert (a == 1.0) is False  # not compared with numbers either (identity)


def test_comparing_with_a_non_number_is_a_clear_error():
    for bad in ("1", None, [1.0], True):
        with pytest.raises(TypeError, match="a Value combines with numbers"):
            Value(1.0) < bad  # noqa: B015


def test_float_and_format():
    v = Value(2.0 / 3.0, "v")
    assert float(v) == 2.0 / 3.0 and isinstance(float(v), float)
    assert f"{v:.3f}" == "0.667" and format(v, "e") == format(2.0 / 3.0, "e")
    assert f"{v}" == repr(v)
    assert math.isclose(math.sqrt(Value(2.0)), math.sqrt(2.0))  # float() lets math take it


@pytest.mark.parametrize("g", [1.0, -2.5, 1e-3, 3])
def test_backward_gradient_matches_torch(g):
    x = Value(0.7)
    y = (x * x).tanh() + x.sin()
    y.backward(gradient=g)
    tx = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ty = (tx * tx).tanh() + tx.sin()
    ty.backward(gradient=torch.tensor(float(g), dtype=torch.float64))
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-14)
    assert y.grad == g
    leaf = Value(1.0)
    leaf.backward(gradient=g)
    assert leaf.grad == g


@pytest.mark.parametrize("g", ["1", None, math.nan, math.inf, True])
def test_backward_gradient_must_be_a_finite_number(g):
    x = Value(1.0)
    with pytest.raises((TypeError, ValueError), match="backward.gradient"):
        (x * 2).backward(gradient=g)
    assert x.grad == 0.0
