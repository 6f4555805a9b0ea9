"""The engine on its own: hand-worked numbers, graph structure, bad input, backward semantics."""

from __future__ import annotations

import gc
import math
import re
import tracemalloc

import pytest

from tinygrad_edu import (
    GradcheckError,
    Value,
    backward_order,
    backward_steps,
    gradcheck,
    is_grad_enabled,
    linear,
    local_derivatives,
    no_grad,
)

# ---------------------------------------------------------------------------------------------
# Construction and structure
# ---------------------------------------------------------------------------------------------


def test_leaf_holds_float_data_and_zero_grad():
    a = Value(3, label="a")
    assert a.data == 3.0 and isinstance(a.data, float)
    assert a.grad == 0.0 and isinstance(a.grad, float)
    assert a.label == "a" and a.op == "" and a.children == ()


def test_label_is_settable():
    a = Value(1.0)
    a.label = "x"
    assert a.label == "x"


def test_ops_record_op_and_children():
    a, b = Value(2.0), Value(3.0)
    cases = {
        "+": a + b, "-": a - b, "*": a * b, "/": a / b,
    }
    for op, out in cases.items():
        assert out.op == op
        assert out.children == (a, b)
    for op, out in {"neg": -a, "exp": a.exp(), "log": a.log(), "tanh": a.tanh(),
                    "relu": a.relu(), "sigmoid": a.sigmoid(), "**": a**2}.items():
        assert out.op == op
        assert out.children == (a,)


def test_numbers_on_either_side():
    a = Value(4.0)
    assert (2 + a).data == 6.0 and (a + 2).data == 6.0
    assert (1 - a).data == -3.0 and (a - 1).data == 3.0
    assert (2 * a).data == 8.0 and (a * 2).data == 8.0
    assert (3 / a).data == 0.75 and (a / 2).data == 2.0
    assert (a**0.5).data == 2.0 and (a**2).data == 16.0
    assert (2**a).data == 16.0
    # the number becomes a constant leaf child, on the side it was written
    c = 1 - a
    assert c.children[1] is a and c.children[0].data == 1.0 and c.children[0].op == ""


def test_repr_shows_data_and_grad():
    a = Value(1.5, label="a")
    a.grad = -2.0
    r = repr(a)
    assert "1.5" in r and "-2" in r and "'a'" in r


def test_equality_is_identity_so_nodes_are_dict_keys():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a: 1, b: 2}) == 2


# ---------------------------------------------------------------------------------------------
# Hand-worked expectations
# ---------------------------------------------------------------------------------------------


def test_neuron_worked_on_paper():
    # o = tanh(x1*w1 + x2*w2 + b) with x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432
    # n = 2*(-3) + 0*1 + b = 0.8813735870195432, tanh(n) = 0.7071067811865476 (= 1/sqrt(2))
    # do/dn = 1 - o^2 = 0.5; do/dw1 = 0.5*x1 = 1; do/dx1 = 0.5*w1 = -1.5; do/dw2 = 0.5*x2 = 0;
    # do/dx2 = 0.5*w2 = 0.5; do/db = 0.5
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2), abs=1e-15)
    assert w1.grad == pytest.approx(1.0, abs=1e-12)
    assert x1.grad == pytest.approx(-1.5, abs=1e-12)
    assert w2.grad == pytest.approx(0.0, abs=1e-12)
    assert x2.grad == pytest.approx(0.5, abs=1e-12)
    assert b.grad == pytest.approx(0.5, abs=1e-12)


def test_small_expression_by_hand():
    # L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: e=-6, d=4, L=-8
    # dL/dd = f = -2, dL/df = d = 4, dL/dc = -2, dL/da = -2*b = 6, dL/db = -2*a = -4
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    d = a * b + c
    L = d * f
    L.backward()
    assert L.data == -8.0
    assert (a.grad, b.grad, c.grad, f.grad, d.grad, L.grad) == (6.0, -4.0, -2.0, 4.0, -2.0, 1.0)


def test_each_local_derivative_by_hand():
    x = Value(0.5)
    for make, expected in [
        (lambda v: v.exp(), math.exp(0.5)),
        (lambda v: v.log(), 2.0),
        (lambda v: v.tanh(), 1 - math.tanh(0.5) ** 2),
        (lambda v: v.sigmoid(), (1 / (1 + math.exp(-0.5))) * (1 - 1 / (1 + math.exp(-0.5)))),
        (lambda v: v.relu(), 1.0),
        (lambda v: v**3, 3 * 0.25),
        (lambda v: -v, -1.0),
        (lambda v: 1 / v, -4.0),
        (lambda v: 2**v, 2**0.5 * math.log(2)),
    ]:
        x.grad = 0.0
        make(x).backward()
        assert x.grad == pytest.approx(expected, rel=1e-15)


def test_relu_derivative_is_zero_at_and_below_zero():
    for v in (0.0, -1.0):
        x = Value(v)
        x.relu().backward()
        assert x.grad == 0.0


def test_division_derivatives():
    a, b = Value(3.0), Value(-2.0)
    (a / b).backward()
    assert a.grad == -0.5  # 1/b
    assert b.grad == -0.75  # -a/b^2


def test_division_by_a_tiny_number_has_the_right_gradient():
    # d(a/b)/db = -a/b^2 = -3e200 for a = 3, b = 1e-100; b*b = 1e-200 is still a float, but
    # for b = 1e-200 it is not (1e-400 underflows to 0), while a/b^2 = 1e400 overflows.
    a, b = Value(3.0), Value(1e-100)
    (a / b).backward()
    assert a.grad == pytest.approx(1e100, rel=1e-15)
    assert b.grad == pytest.approx(-3e200, rel=1e-15)
    tiny = Value(1e-200)
    q = 1.0 / tiny  # 1e200 is fine ...
    with pytest.raises(OverflowError, match=r"'/' of \(1.0, 1e-200\).*-inf.*too large"):
        q.backward()  # ... but its derivative -1e400 is not a float
    assert tiny.grad == 0.0 and q.grad == 0.0  # nothing changed


def test_power_gradient_that_overflows_is_a_clear_error():
    x = Value(1e-300)
    y = x**-1  # 1e300
    with pytest.raises(OverflowError, match=r"'\*\*' of \(1e-300, -1.0\).*-inf.*too large"):
        y.backward()  # d/dx x^-1 = -x^-2 = -1e600
    assert x.grad == 0.0


def test_tanh_and_sigmoid_are_stable_at_extremes():
    for x, t, s in [(1000.0, 1.0, 1.0), (-1000.0, -1.0, 0.0), (40.0, 1.0, 1.0)]:
        a = Value(x)
        ta, sa = a.tanh(), a.sigmoid()
        assert ta.data == t and sa.data == s
        (ta + sa).backward()
        # the outputs are exactly +-1 / 0 / 1 in floats, so both local derivatives are exactly 0
        # (1 - t^2 and s(1 - s)), as in PyTorch: no inf, no NaN
        assert a.grad == 0.0
    assert Value(-1000.0).sigmoid().data == 0.0


# ---------------------------------------------------------------------------------------------
# Backward semantics
# ---------------------------------------------------------------------------------------------


def test_reused_node_gradients_add_up():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0

    a = Value(3.0)
    (a * a * a).backward()
    assert a.grad == 27.0  # 3a^2

    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0


def test_backward_twice_accumulates_leaves_and_recomputes_inner_nodes():
    # micrograd gives 36 on the second call: the inner node's stale grad is counted again.
    x = Value(3.0)
    y = x * x
    L = y * 2
    L.backward()
    assert x.grad == 12.0 and y.grad == 2.0
    L.backward()
    assert x.grad == 24.0  # leaf: the same amount again
    assert y.grad == 2.0  # inner node: recomputed, not doubled
    assert L.grad == 1.0


def test_backward_on_a_leaf_accumulates():
    a = Value(1.0)
    a.backward()
    a.backward()
    assert a.grad == 2.0


def test_deep_chain_of_a_million_nodes():
    x = Value(0.5)
    v = x
    for _ in range(1_000_000):
        v = v + 1.0
    v.backward()
    assert x.grad == 1.0
    assert v.data == 1_000_000.5


def test_no_grad_records_nothing():
    a = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        b = a * 3 + 1
        c = b.tanh()
    assert is_grad_enabled()
    assert b.data == 7.0 and b.children == () and b.op == ""
    assert c.children == ()
    c.backward()
    assert a.grad == 0.0


def test_no_grad_restores_state_after_an_error():
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


def test_backward_steps_visits_each_node_once_with_final_grads():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    d = c + a  # a is used twice: its grad is final only after both uses are processed
    e = d.tanh()
    seen = []
    for node in backward_steps(e):
        seen.append(node)
        # a yielded node's grad must already be final: compare with a fresh full backward later
    assert len(seen) == len(set(seen)) == 5
    assert seen[0] is e
    steps_grads = {n.label or n.op: n.grad for n in seen}

    a2, b2 = Value(2.0, "a"), Value(-3.0, "b")
    e2 = ((a2 * b2) + a2).tanh()
    e2.backward()
    assert (a.grad, b.grad) == (a2.grad, b2.grad)
    assert steps_grads["a"] == a2.grad


def test_backward_steps_grad_is_final_when_yielded():
    a = Value(0.3)
    b = a * a
    c = b + a
    d = c * b
    expected = {}
    d.backward()
    for n in backward_order(d):
        expected[n] = n.grad
    a.grad = 0.0
    for node in backward_steps(d):
        assert node.grad == expected[node]
    assert a.grad == expected[a]


def test_backward_order_is_topological():
    a = Value(1.0)
    b = a * 2
    c = a + b
    d = c * b
    order = backward_order(d)
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for child in n.children:
            assert pos[n] < pos[child]


def test_graph_is_freed_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        x = Value(1.0)
        v = x
        for _ in range(50_000):
            v = (v * 1.0001).tanh() + 0.5
        v.backward()
        grown = tracemalloc.get_traced_memory()[0] - base
        del v
        left = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    finally:
        gc.enable()
    assert grown > 15_000_000  # 150,000 nodes were alive
    # ... and are gone as soon as the root is dropped. What stays is CPython's free lists
    # (up to 2,000 spare tuples of each length, ~0.2 MB), not graph nodes.
    assert left < 400_000


# ---------------------------------------------------------------------------------------------
# The fused neuron node
# ---------------------------------------------------------------------------------------------


def test_linear_matches_op_by_op_exactly():
    ws = [Value(v) for v in (0.1, -0.7, 0.3333)]
    xs = [Value(v) for v in (1.5, 2.25, -0.6)]
    b = Value(0.05)
    fused = linear(ws, xs, b).tanh()
    fused.backward()
    g_fused = [v.grad for v in (*ws, *xs, b)]
    for v in (*ws, *xs, b):
        v.grad = 0.0
    acc = b
    for w, x in zip(ws, xs):
        acc = acc + w * x
    plain = acc.tanh()
    plain.backward()
    assert fused.data == plain.data
    assert g_fused == [v.grad for v in (*ws, *xs, b)]


def test_linear_accepts_numbers_and_checks_lengths():
    w = [Value(2.0), Value(3.0)]
    out = linear(w, [1, 2], Value(1.0))
    assert out.data == 9.0 and out.op == "linear" and len(out.children) == 5
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        linear(w, [1], Value(0.0))


@pytest.mark.parametrize("b0", [0.5, -3.0, -0.25 - 0.5 * 2.0 + 0.75 * 1.0])  # fires; not; z = 0
def test_linear_relu_is_relu_of_linear_as_one_node_by_hand(b0):
    """relu(b + w0 x0 + w1 x1), w = (0.5, 0.75), x = (2, 1): z = b + 1.75; the node's rule
    gives linear's local derivatives (1, x0, x1, w0, w1) where z > 0, and 0 for each where
    not (z = 0 included, as PyTorch's relu)."""
    ws, xs, b = [Value(0.5), Value(0.75)], [Value(2.0), Value(1.0)], Value(b0)
    out = linear(ws, xs, b, relu=True)
    z = b0 + 0.5 * 2.0 + 0.75 * 1.0
    assert out.op == "linear+relu" and out.children == (b, *ws, *xs)
    assert out.data == max(z, 0.0)
    fired = 1.0 if z > 0 else 0.0
    assert list(local_derivatives(out)) == [fired * d for d in (1.0, 2.0, 1.0, 0.5, 0.75)]
    out.backward(gradient=3.0)
    assert [v.grad for v in (b, *ws, *xs)] == [3.0 * fired * d for d in (1.0, 2.0, 1.0, 0.5, 0.75)]
    two = linear(ws, xs, b).relu()  # the same as two nodes, bit for bit
    assert two.data == out.data


def test_linear_relu_matches_pytorch_float64_and_finite_differences():
    torch = pytest.importorskip("torch")
    import random

    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(1, 6)
        wd = [rng.uniform(-2, 2) for _ in range(n)]
        xd = [rng.uniform(-2, 2) for _ in range(n)]
        bd = rng.uniform(-1, 1)
        ws, xs, b = [Value(v) for v in wd], [Value(v) for v in xd], Value(bd)
        out = linear(ws, xs, b, relu=True)
        (out * out).backward()  # a root above the node, so its grad is not 1
        tw, tx = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (wd, xd))
        tb = torch.tensor(bd, dtype=torch.float64, requires_grad=True)
        t = torch.relu(tb + (tw * tx).sum())
        (t * t).backward()
        assert out.data == pytest.approx(t.item(), rel=1e-14, abs=1e-300)
        assert [v.grad for v in ws] == pytest.approx(tw.grad.tolist(), rel=1e-12, abs=1e-300)
        assert [v.grad for v in xs] == pytest.approx(tx.grad.tolist(), rel=1e-12, abs=1e-300)
        assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12, abs=1e-300)
        gradcheck(lambda *v, n=n: linear(v[:n], v[n:2 * n], v[2 * n], relu=True), [*wd, *xd, bd])


def test_linear_relu_reports_an_overflowed_sum_relu_would_hide():
    """z = -inf (or nan) would come out of relu as 0: the sum is reported, as linear's."""
    with pytest.raises(OverflowError, match="'linear' of"):
        linear([Value(-1e300)], [Value(1e10)], Value(0.0), relu=True)
    with pytest.raises(ArithmeticError, match="'linear'.*nan"):
        linear([Value(1e300), Value(-1e300)], [1e10, 1e10], Value(0.0), relu=True)
    with no_grad(), pytest.raises(OverflowError, match="'linear' of"):  # (no graph kept)
        linear([Value(-1e300)], [Value(1e10)], Value(0.0), relu=True)


# ---------------------------------------------------------------------------------------------
# Bad input: clear errors, never a silent NaN or inf
# ---------------------------------------------------------------------------------------------


def test_ints_too_long_for_str_are_named_by_their_digits():
    """str() refuses ints of over 4300 digits: the messages count them without it."""
    with pytest.raises(ValueError, match="got an int of 5001 digits"):
        Value(10**5000)
    with pytest.raises(ValueError, match="eps is too large for a float: got an int of 5001 d"):
        gradcheck(lambda a: a * 2.0, [1.0], eps=10**5000)


@pytest.mark.parametrize("bad", ["abc", None, [1.0], (1,), True, False, {"a": 1}, 1j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="real number"):
        Value(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_value_rejects_nan_and_inf(bad):
    with pytest.raises(ValueError, match="finite"):
        Value(bad)


def test_an_int_too_large_for_a_float_is_a_clear_error():
    message = r"Value\(data\) must be a finite number, got an int of 401 digits"
    with pytest.raises(ValueError, match=message):
        Value(10**400)
    with pytest.raises(ValueError, match="finite number"):
        Value(1.0) + 10**400
    with pytest.raises(ValueError, match=r"exponent of \*\* must be a finite number"):
        Value(1.0) ** 10**400


def test_value_of_a_value_is_an_error():
    with pytest.raises(TypeError, match="already a Value"):
        Value(Value(1.0))


def test_label_must_be_text():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive(x):
    with pytest.raises(ValueError, match="positive"):
        Value(x).log()


def test_division_by_zero_value_or_number():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        1 / Value(0.0)


def test_negative_base_to_fractional_power():
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0  # integer powers of negatives are fine


def test_zero_to_negative_power_and_infinite_gradient():
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
    z = Value(0.0)
    r = z**0.5
    with pytest.raises(ZeroDivisionError, match="infinite"):
        r.backward()


@pytest.mark.parametrize("k", ["2", None, [2], True])
def test_exponent_must_be_a_number(k):
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** k


def test_exponent_may_not_be_a_value():
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)


@pytest.mark.parametrize("other", ["x", None, [1]])
def test_combining_with_non_numbers(other):
    a = Value(1.0)
    for op in (lambda: a + other, lambda: other + a, lambda: a * other, lambda: a - other,
               lambda: other / a):
        with pytest.raises(TypeError, match="Value combines with numbers"):
            op()


def test_overflow_is_an_error_not_inf():
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()
    big = Value(1e200)
    with pytest.raises(OverflowError, match="too large"):
        big * big
    with pytest.raises(OverflowError, match="too large"):
        Value(1e308) + 1e308
    with pytest.raises(OverflowError, match="too large"):
        Value(10.0) ** 400


def test_nan_put_into_data_by_hand_is_named_not_called_an_overflow():
    a = Value(1.0)
    a.data = math.nan  # bypasses Value()'s check, as an assignment can
    with pytest.raises(ValueError, match=r"'\+' of \(nan, 2.0\) is nan.*set to NaN"):
        a + 2.0


def test_rpow_needs_positive_base():
    with pytest.raises(ValueError, match="positive"):
        (-2) ** Value(0.5)


# ---------------------------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------------------------


def test_gradcheck_passes_for_correct_gradients():
    assert gradcheck(lambda a, b: (a * b + a.exp()).tanh() / (b**2 + 1), [0.3, -1.2])
    x = Value(0.7, "x")
    x.grad = 5.0
    assert gradcheck(lambda v: v.sigmoid() * v.log(), [x])
    assert x.grad == 5.0  # restored


def test_gradcheck_names_the_input_and_both_numbers():
    def f(a, b):
        out = a * b
        out._rule = Value._d_add  # the rule of +: a wrong local derivative
        return out

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [Value(2.0, "a"), Value(3.0, "b")])
    msg = str(info.value)
    assert "'a'" in msg and "backward() gives 1.0" in msg and "finite differences give" in msg
    numeric = float(re.search(r"finite differences give ([-0-9.e]+)", msg).group(1))
    assert numeric == pytest.approx(3.0, abs=1e-6)  # d(ab)/da = b = 3


def test_gradcheck_rejects_bad_arguments():
    with pytest.raises(TypeError, match="return a Value"):
        gradcheck(lambda a: 1.0, [1.0])
    with pytest.raises(TypeError, match="non-empty list"):
        gradcheck(lambda a: a, [])
    with pytest.raises(TypeError, match="function"):
        gradcheck(3, [1.0])
    with pytest.raises(ValueError, match="eps must be a real number .* got str '1e-6'"):
        gradcheck(lambda a: a, [1.0], eps="1e-6")
    for name in ("eps", "atol", "rtol"):  # not Python's bare "int too large to convert"
        with pytest.raises(ValueError, match=f"{name} is too large for a float: got an int of "
                                             "401 digits"):
            gradcheck(lambda a: a, [1.0], **{name: 10**400})
    with pytest.raises(ValueError, match="rtol must be a finite number, got inf"):
        gradcheck(lambda a: a, [1.0], rtol=math.inf)
    with pytest.raises(ValueError, match="eps must be positive"):
        gradcheck(lambda a: a, [1.0], eps=0.0)
    with pytest.raises(ValueError, match="atol must be a number >= 0"):
        gradcheck(lambda a: a, [1.0], atol=-1.0)
