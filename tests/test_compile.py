"""tinygrad_edu.compile: generated code gives the eager engine's numbers, never frozen data.

Every check compares against the eager engine run on the same inputs (forward, then
``backward()``): the compiled code performs the same float operations in the same order, so
most results are bit for bit equal; where a loss runs eagerly per example they agree to 1e-12.
Timing is measured by ``make bench``, not here.
"""

from __future__ import annotations

import math
import random

import pytest

import tinygrad_edu.compile as compile_module
from tinygrad_edu import Value, losses
from tinygrad_edu.compile import TraceError, compile_step, trace
from tinygrad_edu.nn import MLP, Layer, Module, Sequential


def eager_grads(fn, *inputs):
    """fn on fresh Values, backward(); (value, grads shaped like the inputs)."""
    args = [[Value(v) for v in x] if isinstance(x, list) else Value(x) for x in inputs]
    out = fn(*args)
    out.backward()
    grads = [[v.grad for v in a] if isinstance(a, list) else a.grad for a in args]
    return out.data, grads


# ---- trace: every op, compiled code == eager --------------------------------------------------
OPS = {
    "add_sub_mul_div": lambda a, b: (a + b) * (a - b) / (b * b + 1.0),
    "numbers_left": lambda a, b: 2.0 * a - (1.0 - b) + 3.0 / (b * b + 2.0) + (5 + a),
    "neg_pow": lambda a, b: -(a**3) + (b * b + 1.0) ** 0.5 + (b * b + 1.0) ** -1.5,
    "rpow": lambda a, b: 2.0**a + 1.5 ** (a * b),
    "exp_log": lambda a, b: (a.exp() + (b * b + 0.1).log()) * a,
    "tanh_sigmoid": lambda a, b: a.tanh() * b.sigmoid() + (-a).sigmoid(),
    "relu_both_sides": lambda a, b: (a * b).relu() + (a - b).relu() * a,
    "reused_node": lambda a, b: (lambda c: c * c + c.tanh() * c)(a * b + a),
}


@pytest.mark.parametrize("name", list(OPS))
def test_trace_matches_eager_for_every_op(name):
    fn = OPS[name]
    traced = trace(fn, 0.7, -1.3)
    for a, b in [(0.7, -1.3), (-0.4, 2.2), (1.9, 0.3), (-2.5, -0.8)]:
        assert traced(a, b) == eager_grads(fn, a, b)


def test_trace_list_inputs_and_the_linear_node():
    from tinygrad_edu import linear

    def fn(w, x):
        return linear(w[:3], x, w[3]).tanh() + linear(w[:3], x, w[3]).relu()

    traced = trace(fn, [0.1, -0.2, 0.3, 0.05], [1.0, 2.0, -1.0])
    for w, x in [([0.1, -0.2, 0.3, 0.05], [1.0, 2.0, -1.0]), ([-0.5, 0.4, 0.9, -0.1],
                                                             [0.3, -2.0, 4.0])]:
        value, (gw, gx) = traced(w, x)
        assert (value, [gw, gx]) == eager_grads(fn, w, x)


def test_relu_derivative_is_code_not_frozen():
    fn = lambda x: (x * 3.0).relu() * x  # noqa: E731
    traced = trace(fn, 2.0)  # traced where the relu fires
    assert traced(-1.5) == eager_grads(fn, -1.5) == (0.0, [0.0])
    assert traced(2.5) == eager_grads(fn, 2.5)
    assert "if " in traced.source and "> 0.0" in traced.source


def test_cross_entropy_branches_are_code_not_frozen():
    fn = lambda z: losses.cross_entropy(z, 1)  # noqa: E731
    traced = trace(fn, [0.5, 1.0, -0.3])  # class 1 has the top score here
    assert "cross_entropy_value_([z0, z1, z2], 1)" in traced.source
    # elsewhere: another class on top, huge scores (a frozen max-shift would overflow exp()),
    # a confident prediction whose loss is tiny (log1p keeps it)
    for z in ([800.0, -3.0, 1.0], [-1.0, 900.0, 905.0], [0.5, 1.0, -0.3], [0.0, 40.0, 1.0]):
        value, (grads,) = traced(z)
        want, (want_grads,) = eager_grads(fn, z)
        assert value == want and grads == want_grads


def test_softmax_inside_a_traced_function():
    fn = lambda z: losses.softmax(z)[2] * 2.0 + losses.softmax(z)[0]  # noqa: E731
    traced = trace(fn, [0.1, 0.2, 0.3])
    assert "m1 = max(z0, z1, z2)" in traced.source  # the max-shift, computed every call
    for z in ([0.1, 0.2, 0.3], [500.0, -2.0, 499.0]):
        value, (grads,) = traced(z)
        want, (want_grads,) = eager_grads(fn, z)
        assert value == pytest.approx(want, rel=1e-12, abs=1e-300)
        assert grads == pytest.approx(want_grads, rel=1e-12, abs=1e-300)


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


def test_source_reads_like_backward_unrolled():
    def f(a, b):
        c = a * b
        c.label = "c"
        return (c + a).tanh()

    src = trace(f, 2.0, -1.0).source
    assert "def f(" in src
    assert "c = a * b" in src
    assert "g_c = " in src and "g_a += b * g_c" in src
    compile(src, "<test>", "exec")  # the source is the code that runs: valid Python


def test_overflow_falls_back_to_the_eager_error():
    fn = lambda x: (x * 1e200 * x).relu() + x  # noqa: E731
    traced = trace(fn, 1.0)
    with pytest.raises(OverflowError):  # relu(-inf) would hide it in plain float code
        traced(-1e120)
    with pytest.raises(ValueError):
        trace(lambda x: (x - 2.0).log(), 3.0)(1.0)  # the engine's log-of-a-negative error


# ---- trace: what cannot be recorded is a TraceError naming the reason -------------------------
def test_a_python_branch_on_data_is_a_trace_error():
    def branchy(x):
        return x * x if x.data > 0 else x + x

    with pytest.raises(TraceError, match="depends on the data"):
        trace(branchy, 0.0)  # the nudged second call takes the other branch


def test_a_number_read_from_data_is_a_trace_error():
    with pytest.raises(TraceError, match="computed from the data"):
        trace(lambda x: x * x.data, 1.5)


def test_trace_needs_one_value_out():
    with pytest.raises(TraceError, match="one Value"):
        trace(lambda x: [x, x * 2], 1.0)
    assert issubclass(TraceError, ValueError)


# ---- compile_step == loss_fn(preds, y).backward() ---------------------------------------------
def _data(seed: int, n: int = 24, nin: int = 2):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(n)], rng


def _eager_step(model, loss_fn, X, y):
    J = loss_fn([model(x) for x in X], y)
    J.backward()
    return J.data


def _both(model, loss_fn, X, y, start_grad=0.0):
    """(eager value and grads, compiled value and grads) from the same starting grads."""
    step = compile_step(model, loss_fn, X[:4], y[:4])
    params = model.parameters()
    out = []
    for run in (lambda: _eager_step(model, loss_fn, X, y), lambda: step(X, y)):
        for p in params:
            p.grad = start_grad
        out.append((run(), [p.grad for p in params]))
    return out


def _close(a, b):
    (va, ga), (vb, gb) = a, b
    scale = max(abs(g) for g in ga + [va])
    assert abs(va - vb) <= 1e-12 * scale
    assert all(abs(x - y) <= 1e-12 * scale for x, y in zip(ga, gb))


X, _rng = _data(0)
Y_PM1 = [_rng.choice([-1.0, 1.0]) for _ in X]
Y_01 = [_rng.choice([0.0, 1.0]) for _ in X]
Y_CLASS = [_rng.randrange(3) for _ in X]
CASES = {
    "hinge, relu MLP": (lambda: MLP(2, [8, 8, 1], seed=1), losses.hinge_loss, Y_PM1),
    "hinge, tanh": (lambda: MLP(2, [6, 1], activation="tanh", seed=2), losses.hinge_loss, Y_PM1),
    "cross-entropy": (lambda: MLP(2, [8, 3], seed=3), losses.cross_entropy, Y_CLASS),
    "mse": (lambda: MLP(2, [8, 1], seed=4), losses.mse_loss, Y_01),
    "mse, two outputs": (lambda: MLP(2, [5, 2], seed=5), losses.mse_loss,
                         [[t, 1.0 - t] for t in Y_01]),
    "bce with logits": (lambda: MLP(2, [8, 1], seed=6), losses.binary_cross_entropy_with_logits,
                        Y_01),
    "bce with logits, soft targets": (lambda: MLP(2, [8, 1], seed=6),
                                      losses.binary_cross_entropy_with_logits, [0.3] * len(X)),
    "op by op (fused=False)": (lambda: MLP(2, [6, 6, 1], seed=7, fused=False),
                               losses.hinge_loss, Y_PM1),
    "Sequential, sigmoid layer": (lambda: Sequential(Layer(2, 5, seed=1),
                                                     Layer(5, 3, activation="sigmoid", seed=2)),
                                  losses.cross_entropy, Y_CLASS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compile_step_gives_the_eager_floats(case):
    make, loss_fn, y = CASES[case]
    eager, compiled = _both(make(), loss_fn, X, y)
    if loss_fn is losses.cross_entropy:
        # When the right class has the top score, the eager graph hands the model its
        # output gradients in another order (class y last), so sums round differently.
        _close(eager, compiled)
    else:
        assert compiled == eager  # the same operations in the same order: bit for bit


def test_compile_step_adds_to_existing_grads():
    eager, compiled = _both(MLP(2, [8, 1], seed=1), losses.hinge_loss, X, Y_PM1,
                            start_grad=0.125)
    assert compiled == eager


def test_other_losses_run_eagerly_per_example_and_agree():
    model = MLP(2, [8, 1], output_activation="sigmoid", seed=8)
    eager, compiled = _both(model, losses.binary_cross_entropy, X, Y_01)
    _close(eager, compiled)
    custom = lambda p, t: losses.mse_loss(p, t) * 3.0 + 1.0  # noqa: E731
    eager, compiled = _both(MLP(2, [4, 1], seed=9), custom, X, Y_01)
    _close(eager, compiled)


def test_class_indices_are_read_at_run_time():
    model = MLP(2, [6, 5], seed=10)
    step = compile_step(model, losses.cross_entropy, X[:2], [0, 1])  # only classes 0 and 1
    assert "cross_entropy_([" in step.source and ", y, seed)" in step.source
    y = [4, 3, 2, 4, 0, 1]
    for p in model.parameters():
        p.grad = 0.0
    value = step(X[:6], y)
    grads = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.grad = 0.0
    want = _eager_step(model, losses.cross_entropy, X[:6], y)
    _close((want, [p.grad for p in model.parameters()]), (value, grads))


def test_big_layers_as_loops_over_lists_give_the_same_floats(monkeypatch):
    monkeypatch.setattr(compile_module, "_VECTOR_EDGES", 0)
    model = MLP(2, [40, 33, 1], seed=11)
    eager, compiled = _both(model, losses.hinge_loss, X, Y_PM1)
    assert compiled == eager
    assert "for w_, x_ in zip(" in compile_step(model, losses.hinge_loss, X[:2],
                                                Y_PM1[:2]).source
    rng = random.Random(1)
    wide = [[rng.random() for _ in range(35)] for _ in range(8)]
    eager, compiled = _both(MLP(35, [33, 3], seed=12), losses.cross_entropy, wide,
                            [rng.randrange(3) for _ in wide])
    _close(eager, compiled)


def test_thirty_training_steps_match_eager_exactly():
    def train(compiled: bool) -> list[float]:
        model = MLP(2, [8, 8, 1], seed=13)
        params = model.parameters()
        step = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2]) if compiled else None
        out = []
        for k in range(30):
            for p in params:
                p.grad = 0.0
            out.append(step(X, Y_PM1) if step else _eager_step(model, losses.hinge_loss, X,
                                                                 Y_PM1))
            for p in params:
                p.data -= (1.0 - 0.9 * k / 100) * (p.grad + 1e-4 * p.data)
        return out

    assert train(True) == train(False)


def test_unusual_batches_take_the_eager_path_with_its_errors():
    model = MLP(2, [4, 1], seed=14)
    step = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2])
    with pytest.raises(ValueError, match="labels -1 and \\+1"):
        step(X[:3], [1, 0, -1])  # hinge needs ±1: the eager loss says so
    with pytest.raises(ValueError, match="expects 2 inputs"):
        step([[1.0, 2.0, 3.0]], [1])
    for p in model.parameters():  # weights that overflow: the eager engine's OverflowError
        p.data = -1e200
    with pytest.raises(OverflowError, match="too large"):
        step([[1e200, 1e200]], [1.0])


def test_a_model_with_a_python_branch_is_a_trace_error():
    class Branchy(Module):
        def __init__(self):
            self.w = Value(0.5, "w")

        def forward(self, x):
            x0 = x[0] if isinstance(x[0], Value) else Value(x[0])
            return self.w * x0 if x0.data > 0 else self.w + x0

    with pytest.raises(TraceError, match="depends on the data"):
        compile_step(Branchy(), losses.mse_loss, [[1.0], [-1.0]], [0.0, 1.0])


def test_a_loss_that_is_not_a_mean_over_examples_is_a_trace_error():
    def first_only(preds, targets):  # only the first example counts
        return (preds[0] - targets[0]) ** 2

    with pytest.raises(TraceError, match="disagrees with the eager one"):
        compile_step(MLP(2, [3, 1], seed=16), first_only, X[:4], Y_01[:4])


def test_compiled_step_source_is_per_example():
    model = MLP(2, [16, 16, 1], seed=17)
    small = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2]).source
    big = compile_step(model, losses.hinge_loss, X, Y_PM1).source
    assert small == big  # the code does not grow with the batch
    assert "for i in range(n - 1, -1, -1):" in small
    assert "L1_z3 = L1_b3 + L1_w3_0 * L0_h0" in small
    assert math.isfinite(len(small))


def test_numpy_batches_and_int_targets_give_the_same_step():
    np = pytest.importorskip("numpy")
    model = MLP(2, [4, 2], seed=18)
    step = compile_step(model, losses.cross_entropy, X[:2], [0, 1])
    y = [t % 2 for t in Y_CLASS]
    runs = []
    for xb, yb in ((X, y), (np.array(X), np.array(y)), ([tuple(r) for r in X], y)):
        for p in model.parameters():
            p.grad = 0.0
        runs.append((step(xb, yb), [p.grad for p in model.parameters()]))
    assert runs[0] == runs[1] == runs[2]


def test_function_ops_run_their_own_forward_and_backward():
    from tinygrad_edu import Function

    class Softplus(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return math.log1p(math.exp(-abs(x))) + max(x, 0.0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_values
            return grad / (1.0 + math.exp(-x))

    class Mul3(Function):  # a None gradient: "no gradient" for that input
        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_backward(a, b, c)
            return a * b * c

        @staticmethod
        def backward(ctx, g):
            a, b, c = ctx.saved_values
            return g * b * c, None, g * a * b

    fn = lambda x, y: Softplus.apply(x * y) + Mul3.apply(x, y, x + 1.0)  # noqa: E731
    traced = trace(fn, 0.5, -1.5)
    assert "softplus1, ctx_softplus1 = function_(Softplus_" in traced.source
    for a, b in [(0.5, -1.5), (2.0, 3.0), (-1.0, 0.2)]:
        assert traced(a, b) == eager_grads(fn, a, b)
