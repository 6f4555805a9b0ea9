"""tinygrad_edu.compile.trace: generated code gives the eager engine's numbers.

Every check compares against the eager engine run on the same inputs (forward, then
``backward()``): the code performs the same float operations in the same order, so results
are equal bit for bit. ``eager_calls`` counts calls that ran eagerly: the tests assert the
compiled code itself ran.
"""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Function, Value, linear, losses
from tinygrad_edu.compile import Traced, TraceError, trace
from tinygrad_edu.engine import logsumexp


def eager(fn, *inputs):
    """fn on fresh Values, backward(); (value, grads shaped like the inputs)."""
    args = [[Value(v) for v in x] if isinstance(x, list) else Value(x) for x in inputs]
    out = fn(*args)
    out.backward()
    return out.data, [[v.grad for v in a] if isinstance(a, list) else a.grad for a in args]


OPS = {
    "add_sub_mul_div": lambda a, b: (a + b) * (a - b) / (b * b + 1.0),
    "numbers_left": lambda a, b: 2.0 * a - (1.0 - b) + 3.0 / (b * b + 2.0) + (5 + a),
    "neg_pow": lambda a, b: -(a**3) + (b * b + 1.0) ** 0.5 + (b * b + 1.0) ** -1.5 + a**0,
    "rpow": lambda a, b: 2.0**a + 1.5 ** (a * b),
    "exp_log_log1p": lambda a, b: (a.exp() + (b * b + 0.1).log()) * a + (b * b).log1p(),
    "tanh_sigmoid": lambda a, b: a.tanh() * b.sigmoid() + (-a).sigmoid(),
    "softplus": lambda a, b: (a * 30.0).softplus() + (b * -40.0).softplus() * a,
    "relu_both_sides": lambda a, b: (a * b).relu() + (a - b).relu() * a,
    "sin_cos_abs": lambda a, b: a.sin() * b.cos() + abs(a - b) + abs(a * 0.0),
    "reused_node": lambda a, b: (lambda c: c * c + c.tanh() * c)(a * b + a),
    "logsumexp": lambda a, b: logsumexp([a, b * 2.0, a - b]) * a,
    "cross_entropy": lambda a, b: losses.cross_entropy([a, b, a * b], 1),
    "losses": lambda a, b: (losses.hinge_loss([a, b], [1.0, -1.0])
                            + losses.binary_cross_entropy_with_logits([a], [1.0])
                            + losses.mse_loss([a, b], [0.5, 2.0])
                            + losses.binary_cross_entropy([a.sigmoid()], [0.0])),
}
POINTS = [(0.7, -1.3), (-0.4, 2.2), (1.9, 0.3), (-2.5, -0.8), (0.0, 0.0)]


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_gives_the_eager_numbers(name):
    fn = OPS[name]
    traced = trace(fn, 0.7, -1.3)
    assert isinstance(traced, Traced)
    for a, b in POINTS:
        assert traced(a, b) == eager(fn, a, b)
    assert traced.eager_calls == 0


def test_list_inputs_and_the_linear_node():
    def fn(w, x):
        return linear(w[:3], x, w[3]).tanh() + linear(w[:3], x, w[3]).relu()

    traced = trace(fn, [0.1, -0.2, 0.3, 0.05], [1.0, 2.0, -1.0])
    assert "w3 + w0 * x0 + w1 * x1 + w2 * x2" in traced.source  # one line: b + sum(w x)
    for w, x in [([0.1, -0.2, 0.3, 0.05], [1.0, 2.0, -1.0]), ([-0.5, 0.4, 0.9, -0.1],
                                                             [0.3, -2.0, 4.0])]:
        value, grads = traced(w, x)
        assert (value, grads) == eager(fn, w, x)
    assert traced.eager_calls == 0


def bits(x):
    return repr(x)  # (tells -0.0 from 0.0, which == does not)


def test_a_relu_neuron_node_is_compiled_as_its_sum_then_relu():
    """linear(..., relu=True) is one node eagerly; the code computes its sum, then relu of it,
    with the eager floats where it fires and where it does not, under no_grad, made before
    the call (captured), and made by hand (its rule at run time, () read as all 0)."""
    w, b = [Value(0.5, "w0"), Value(-1.5, "w1")], Value(0.25, "b")
    before = linear(w, [Value(2.0), Value(1.0)], b, relu=True)  # captured: 0.25 + 1 - 1.5 < 0

    def fn(x):
        from tinygrad_edu import no_grad

        h = linear(w, x, b, relu=True)
        with no_grad():
            d = linear(w, x, b, relu=True)  # detached: computed, no gradient
        return h * 3.0 + d * h + before * x[0]

    def by_hand(x):
        h = linear(w, x, b, relu=True)
        return Value(h.data, (b, *w, *x), "linear+relu") * 0.5 + h

    def same(traced, f, x):
        for v in (*w, b):
            v.grad = 0.0
        got = traced(x), [v.grad for v in (*w, b)]
        for v in (*w, b):
            v.grad = 0.0
        assert bits(got) == bits((eager(f, x), [v.grad for v in (*w, b)]))

    traced = trace(fn, [1.0, 0.2])
    assert "linear = b + w0 * x0 + w1 * x1" in traced.source
    assert "relu = linear if linear > 0.0 else linear - linear" in traced.source
    for x in ([1.0, 0.2], [-2.0, 0.5], [0.5, 0.5]):  # fires, does not, does not
        same(traced, fn, x)
    assert traced.eager_calls == 0
    for x in ([1.0, 0.2], [-2.0, 0.5]):  # (a hand-made node's number holds at its point)
        traced = trace(by_hand, x)
        assert "made by hand" in traced.source
        same(traced, by_hand, x)
        assert traced.eager_calls == 0


def test_relu_derivative_is_code_not_frozen():
    fn = lambda x: (x * 3.0).relu() * x  # noqa: E731
    traced = trace(fn, 2.0)  # recorded where the relu fires
    assert traced(-1.5) == eager(fn, -1.5) == (0.0, [0.0])
    assert traced(2.5) == eager(fn, 2.5)
    assert "(1.0 if mul > 0.0 else 0.0)" in traced.source  # relu's rule: step(x), as code
    assert traced.eager_calls == 0


def test_cross_entropy_at_huge_and_confident_scores():
    fn = lambda z: losses.cross_entropy(z, 1)  # noqa: E731
    traced = trace(fn, [0.5, 1.0, -0.3])
    # another class on top, huge scores (a frozen max-shift would overflow exp()), a
    # confident prediction whose loss is tiny (logsumexp(z - z_k) keeps it)
    for z in ([800.0, -3.0, 1.0], [-1.0, 900.0, 905.0], [0.5, 1.0, -0.3], [0.0, 40.0, 1.0]):
        assert traced(z) == eager(fn, z)
    assert traced.eager_calls == 0


def test_softmax_inside_a_traced_function():
    fn = lambda z: losses.softmax(z)[2] * 2.0 + losses.softmax(z)[0]  # noqa: E731
    traced = trace(fn, [0.1, 0.2, 0.3])
    for z in ([0.1, 0.2, 0.3], [500.0, -2.0, 499.0]):
        assert traced(z) == eager(fn, z)
    assert traced.eager_calls == 0


def test_captured_values_are_read_live_and_accumulate_like_backward():
    w, b = Value(0.5, "w"), Value(-0.25, "b")
    fn = lambda x: (w * x + b).tanh()  # noqa: E731
    traced = trace(fn, 1.5)
    assert traced.captured == [w, b]
    w.data = -1.25  # a parameter update after tracing is seen by the next call
    w.grad, b.grad = 0.5, 0.25  # and gradients add on, as backward() adds them
    value, (gx,) = traced(2.0)
    w2, b2 = Value(-1.25), Value(-0.25)
    w2.grad, b2.grad = 0.5, 0.25
    x = Value(2.0)
    out = (w2 * x + b2).tanh()
    out.backward()
    assert (value, gx, w.grad, b.grad) == (out.data, x.grad, w2.grad, b2.grad)


def test_a_value_computed_before_the_call_is_read_and_backpropagated_through():
    w = Value(0.5, "w")
    h = w * 3.0  # made before trace: its number is read, its rule runs on every call
    traced = trace(lambda x: h * x, 2.0)
    value, (gx,) = traced(4.0)
    assert (value, gx, w.grad, h.grad) == (6.0, 1.5, 12.0, 4.0)
    value, (gx,) = traced(1.0)  # leaves add up, inner nodes start again (as backward())
    assert (value, w.grad, h.grad) == (1.5, 15.0, 1.0)


class Erf(Function):  # d/dx erf(x) = 2/sqrt(pi) e^(-x^2)
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return math.erf(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.0 / math.sqrt(math.pi) * math.exp(-ctx.x * ctx.x)


class Mul3(Function):  # a None gradient: "no gradient" for that input
    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b, c)
        return a * b * c

    @staticmethod
    def backward(ctx, g):
        a, b, c = ctx.saved_values
        return g * b * c, None, g * a * b


def test_function_ops_run_their_own_forward_and_backward():
    calls = []

    class Traced3(Function):
        @staticmethod
        def forward(ctx, x):
            calls.append("forward")
            return x * 3.0

        @staticmethod
        def backward(ctx, g):
            calls.append("backward")
            return g * 3.0

    fn = lambda x, y: Erf.apply(x * y) + Mul3.apply(x, y, x + 1.0) + Traced3.apply(y)  # noqa: E731
    traced = trace(fn, 0.5, -1.5)
    assert "_function_forward(" in traced.source and "# 'Erf'.apply" in traced.source
    for a, b in [(0.5, -1.5), (2.0, 3.0), (-1.0, 0.2)]:
        calls.clear()
        got = traced(a, b)
        assert calls == ["forward", "backward"]  # its own code, on every call
        assert got == eager(fn, a, b)
    assert traced.eager_calls == 0


def test_source_reads_like_backward_unrolled():
    def L_of(a, b, c, f):
        e = a * b
        e.label = "e"
        d = e + c
        d.label = "d"
        L = d * f
        L.label = "L"
        return L

    src = trace(L_of, 3.0, -2.0, 5.0, -1.5).source
    assert src.startswith("def L_of(_X, _C, _G):")
    for line in ("a, b, c, f = _X", "e = a * b", "d = e + c",
                 "L = d * f", "g_L = 1.0", "g_d = g_L * f", "g_f += g_L * d", "g_e = g_d",
                 "g_c += g_d", "g_a += g_e * b", "g_b += g_e * a"):
        assert f"    {line}" in src, line
    assert src.index("g_d = g_L * f") < src.index("g_e = g_d") < src.index("g_a += g_e * b")
    compile(src, "<test>", "exec")  # the source is the code that runs: valid Python


def test_overflow_and_math_errors_are_the_eager_ones():
    fn = lambda x: (x * 1e200 * x).relu() + x  # noqa: E731
    traced = trace(fn, 1.0)
    with pytest.raises(OverflowError, match="too large"):  # relu(-inf) would hide it
        traced(-1e120)
    assert traced.eager_calls == 1
    assert traced(2.0) == eager(fn, 2.0)  # and the next call is compiled again
    with pytest.raises(ValueError, match="log"):
        trace(lambda x: (x - 2.0).log(), 3.0)(1.0)  # the engine's log-of-a-negative error
    big = trace(lambda x: (x * x).exp(), 1.0)
    with pytest.raises(OverflowError):
        big(30.0)


def test_inputs_numbers_arrays_and_errors():
    np = pytest.importorskip("numpy")
    traced = trace(lambda a, xs: a * xs[0] + xs[1], np.float64(2.0), np.array([1.0, 3.0]))
    assert traced(np.array(2.0), [1.0, 3.0]) == (5.0, [1.0, [2.0, 1.0]])
    with pytest.raises(TypeError, match="expected 2 inputs"):
        traced(1.0)
    with pytest.raises(ValueError, match="list of 2 numbers"):
        traced(1.0, [1.0])
    with pytest.raises(ValueError, match="finite number, got an int of 401 digits"):
        traced(10**400, [1.0, 2.0])
    with pytest.raises(TypeError, match="must be a real number"):
        traced("2", [1.0, 2.0])
    with pytest.raises(TypeError, match="give example inputs"):
        trace(lambda a: a)
    with pytest.raises(TypeError, match="must be a function"):
        trace(3, 1.0)


def test_fn_must_return_one_value():
    with pytest.raises(TraceError, match="one Value"):
        trace(lambda x: [x, x * 2], 1.0)
    with pytest.raises(TraceError, match="one Value"):
        trace(lambda a, b: a.data, 1.0, 2.0)
    assert issubclass(TraceError, ValueError)


def test_an_input_fn_returns_or_ignores():
    traced = trace(lambda a, b: a, 2.0, 3.0)
    assert traced(5.0, 1.0) == (5.0, [1.0, 0.0])
    constant = trace(lambda a: Value(2.0) * 3.0, 1.0)
    assert constant(7.0) == eager(lambda a: Value(2.0) * 3.0, 7.0)


def test_a_profiler_running_before_runs_after():
    import cProfile
    import sys

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        traced = trace(lambda a: a * a, 2.0)
        assert sys.getprofile() is not None  # cProfile's hook is back
    finally:
        profiler.disable()
    assert traced(3.0) == (9.0, [6.0])
    seen = []
    sys.setprofile(lambda frame, event, arg: seen.append(event))
    try:
        trace(lambda a: a + 1.0, 2.0)
        hook = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert hook is not None and hook.__name__ == "<lambda>"


def test_no_grad_inside_fn_is_computed_but_passes_no_gradient():
    from tinygrad_edu import no_grad

    def fn(a, b):
        with no_grad():
            shift = a * b  # a number computed from the inputs, detached from the graph
        return (a - shift) * b

    traced = trace(fn, 1.5, 2.0)
    assert "no_grad" in traced.source
    for a, b in [(1.5, 2.0), (-3.0, 0.5)]:
        assert traced(a, b) == eager(fn, a, b)
    assert traced.eager_calls == 0
