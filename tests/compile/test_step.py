"""compile_step and fit(compiled=...): one example's code, run for every example of a batch.

A step's value and gradients equal ``loss_fn([model(x) for x in X], y).backward()``: bit for
bit for losses with one output per example (the same float operations in the same order),
to 1e-15 for a mean over several outputs per example (the means are taken per example).
"""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_edu import Function, Value, losses
from tinygrad_edu.compile import CompiledStep, TraceError, compile_step
from tinygrad_edu.nn import MLP, Layer, Module, Sequential
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.train import fit

rng = random.Random(0)
X = [[rng.uniform(-2, 2) for _ in range(2)] for _ in range(24)]
Y_PM1 = [rng.choice([-1.0, 1.0]) for _ in X]
Y_01 = [rng.choice([0.0, 1.0]) for _ in X]
Y_CLASS = [rng.randrange(3) for _ in X]


def eager_step(model, loss_fn, X, y):
    J = loss_fn([model(x) for x in X], y)
    J.backward()
    return J.data


def both(model, loss_fn, X, y, start_grad=0.0, examples=4):
    """(eager value and grads, compiled value and grads) from the same starting grads."""
    step = compile_step(model, loss_fn, X[:examples], y[:examples])
    params = model.parameters()
    out = []
    for run in (lambda: eager_step(model, loss_fn, X, y), lambda: step(X, y)):
        for p in params:
            p.grad = start_grad
        out.append((run(), [p.grad for p in params]))
    assert step.eager_steps == 0 and step.eager_examples == 0  # the code itself ran
    return out


CASES = {
    "hinge, relu MLP": (lambda: MLP(2, [8, 8, 1], seed=1), losses.hinge_loss, Y_PM1),
    "hinge, tanh": (lambda: MLP(2, [6, 1], activation="tanh", seed=2), losses.hinge_loss, Y_PM1),
    "cross-entropy": (lambda: MLP(2, [8, 3], seed=3), losses.cross_entropy, Y_CLASS),
    "mse": (lambda: MLP(2, [8, 1], seed=4), losses.mse_loss, Y_01),
    "bce with logits": (lambda: MLP(2, [8, 1], seed=6), losses.binary_cross_entropy_with_logits,
                        Y_01),
    "bce with logits, soft targets": (lambda: MLP(2, [8, 1], seed=6),
                                      losses.binary_cross_entropy_with_logits, [0.3] * len(X)),
    "bce of probabilities": (lambda: MLP(2, [8, 1], output_activation="sigmoid", seed=8),
                             losses.binary_cross_entropy, Y_01),
    "op by op (fused=False)": (lambda: MLP(2, [6, 6, 1], seed=7, fused=False),
                               losses.hinge_loss, Y_PM1),
    "Sequential, sigmoid layer": (lambda: Sequential(Layer(2, 5, seed=1),
                                                     Layer(5, 3, activation="sigmoid", seed=2)),
                                  losses.cross_entropy, Y_CLASS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compile_step_gives_the_eager_floats(case):
    make, loss_fn, y = CASES[case]
    eager, compiled = both(make(), loss_fn, X, y)
    assert compiled == eager


def test_several_outputs_per_example_agree_to_the_last_bits():
    eager, compiled = both(MLP(2, [5, 2], seed=5), losses.mse_loss, X,
                           [[t, 1.0 - t] for t in Y_01])
    (va, ga), (vb, gb) = eager, compiled
    assert vb == pytest.approx(va, rel=1e-15) and gb == ga  # (only the means' rounding)


def test_compile_step_adds_to_existing_grads():
    eager, compiled = both(MLP(2, [8, 1], seed=1), losses.hinge_loss, X, Y_PM1,
                           start_grad=0.125)
    assert compiled == eager


def test_targets_are_data_class_indices_pick_their_code():
    model = MLP(2, [6, 5], seed=10)
    step = compile_step(model, losses.cross_entropy, X[:2], [0, 1])  # only classes 0 and 1
    y = [4, 3, 2, 4, 0, 1]
    for p in model.parameters():
        p.grad = 0.0
    value = step(X[:6], y)
    grads = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.grad = 0.0
    assert (value, grads) == (eager_step(model, losses.cross_entropy, X[:6], y),
                              [p.grad for p in model.parameters()])
    assert step.eager_examples == 0
    assert step.source.count("in _k") == 5  # one loss code per class index seen


def test_a_target_used_as_a_number_is_read_at_run_time():
    model = MLP(2, [4, 1], seed=2)
    step = compile_step(model, losses.mse_loss, X[:2], [0.5, -0.25])
    targets = [rng.uniform(-3, 3) for _ in X]
    eager, compiled = both(model, losses.mse_loss, X, targets)
    assert compiled == eager
    assert "_y" in step.source  # p - y: the target itself, not a frozen number
    hinge = compile_step(model, losses.hinge_loss, X[:4], [1.0, -1.0, 1.0, -1.0])
    assert len(hinge._losses) == 1  # y * s: one code for both labels


def test_thirty_training_steps_match_eager_exactly():
    def train(compiled: bool) -> list[float]:
        model = MLP(2, [8, 8, 1], seed=13)
        params = model.parameters()
        step = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2]) if compiled else None
        out = []
        for k in range(30):
            for p in params:
                p.grad = 0.0
            out.append(step(X, Y_PM1) if step else eager_step(model, losses.hinge_loss, X,
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
    assert step.eager_steps == 3


class Branchy(Module):
    """A forward with a Python branch on the data."""

    def __init__(self):
        self.a, self.b = MLP(2, [4, 1], seed=1), MLP(2, [3, 1], activation="tanh", seed=2)

    def forward(self, x):
        x = [v if isinstance(v, Value) else Value(v) for v in x]
        return self.a(x) if x[0] > 0 else self.b(x) * 2.0


class Maxout(Module):
    """micrograd's README: max(values) works, here over a layer's outputs."""

    def __init__(self):
        self.layer = Layer(2, 3, activation="linear", seed=3)

    def forward(self, x):
        return max(self.layer(x))


@pytest.mark.parametrize("model", [Branchy, Maxout])
def test_python_decisions_in_the_model_are_checked_per_example(model):
    m = model()
    step = compile_step(m, losses.mse_loss, X[:1], Y_01[:1])
    assert len(step._models) == 1
    params = m.parameters()
    for p in params:
        p.grad = 0.0
    value = step(X, Y_01)
    got = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    assert (value, got) == (eager_step(m, losses.mse_loss, X, Y_01), [p.grad for p in params])
    assert len(step._models) >= 2 and step.eager_examples == 0


class Counter(Module):
    def __init__(self):
        self.net, self.calls = MLP(2, [3, 1], seed=0), 0

    def forward(self, x):
        self.calls += 1
        return self.net(x) * (2.0 if self.calls > 5 else 1.0)


def test_a_forward_that_keeps_state_is_refused_and_left_as_it_was():
    m = Counter()
    with pytest.raises(TraceError, match=r"model changed model.calls \(from 0 to 1\)"):
        compile_step(m, losses.mse_loss, X[:2], Y_01[:2])
    assert m.calls == 0


def test_a_closure_op_is_refused_with_the_reason():
    class Sin(Module):
        def __init__(self):
            self.w = Value(0.5, "w")

        def forward(self, x):
            a = self.w * x[0]
            out = Value(math.sin(a.data), (a,), "sin*")

            def _backward():
                a.grad += math.cos(a.data) * out.grad

            out._backward = _backward
            return out

    with pytest.raises(TraceError, match="closure.*cannot be written as code"):
        compile_step(Sin(), losses.mse_loss, X[:2], Y_01[:2])


def test_a_loss_that_is_not_a_mean_over_examples_is_a_trace_error():
    def first_only(preds, targets):  # only the first example counts
        return (preds[0] - targets[0]) ** 2

    with pytest.raises(TraceError, match="not a mean over examples"):
        compile_step(MLP(2, [3, 1], seed=16), first_only, X[:4], Y_01[:4])


def test_a_changed_model_is_recorded_again():
    model = MLP(2, [4, 4, 1], seed=17)
    step = compile_step(model, losses.hinge_loss, X[:4], Y_PM1[:4])
    assert "if linear > 0.0" in step.source
    model.activation = "tanh"  # e.g. a callback after epoch 1
    eager, compiled = both(model, losses.hinge_loss, X, Y_PM1)
    for p in model.parameters():
        p.grad = 0.0
    assert step(X, Y_PM1) == eager[0] and "_math.tanh(" in step.source
    assert [p.grad for p in model.parameters()] == eager[1]


def test_function_ops_in_a_model():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 2.0 * ctx.saved_values[0]

    class Net(Module):
        def __init__(self):
            self.layer = Layer(2, 3, activation="tanh", seed=4)

        def forward(self, x):
            return sum((Square.apply(h) for h in self.layer(x)), Value(0.0))

    eager, compiled = both(Net(), losses.mse_loss, X, Y_01)
    assert compiled == eager


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


def test_source_is_one_example_and_readable():
    model = MLP(2, [3, 1], seed=19)
    step = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2])
    assert isinstance(step, CompiledStep)
    src = step.source
    assert src == compile_step(model, losses.hinge_loss, X, Y_PM1).source  # not per batch
    assert "for _i in range(_i, _stop, -1):" in src and "linear = b + w0 * x0 + w1 * x1" in src
    compile(src, "<test>", "exec")


# ---- fit ---------------------------------------------------------------------------------
def test_fit_auto_compiled_and_graph_give_the_same_history():
    def run(compiled):
        m = MLP(2, [6, 1], seed=21)
        h = fit(m, X, Y_PM1, losses.hinge_loss, Adam(m.parameters(), lr=0.05), epochs=4,
                batch_size=5, progress=False, metrics=["accuracy"], compiled=compiled)
        return h, [p.data for p in m.parameters()]

    (h0, p0), (h1, p1), (h2, p2) = run(False), run(True), run("auto")
    assert h0.history == h1.history == h2.history and p0 == p1 == p2
    assert (h0.params["compiled"], h1.params["compiled"], h2.params["compiled"]) == (
        False, True, True)


def test_fit_auto_trains_what_cannot_compile_eagerly_and_true_refuses_it():
    histories = []
    for compiled in (False, "auto"):
        m = Counter()
        h = fit(m, X, Y_01, losses.mse_loss, SGD(m.parameters(), lr=0.05), epochs=3,
                batch_size=8, progress=False, compiled=compiled)
        histories.append((h.history, m.calls))
    assert histories[0] == histories[1]  # the counter too: trying to compile left it as it was
    with pytest.raises(TraceError, match="keeps state"):
        m = Counter()
        fit(m, X, Y_01, losses.mse_loss, SGD(m.parameters(), lr=0.05), epochs=1,
            progress=False, compiled=True)
    with pytest.raises(TypeError, match='True, False or "auto"'):
        m = MLP(2, [1])
        fit(m, X, Y_01, losses.mse_loss, SGD(m.parameters(), lr=0.1), 1, compiled="yes")


def test_fit_notices_a_callback_that_changes_the_model():
    def run(compiled):
        m = MLP(2, [5, 1], seed=22)

        def switch(epoch, model, history):
            if epoch == 1:
                model.activation = "tanh"

        return fit(m, X, Y_PM1, losses.hinge_loss, SGD(m.parameters(), lr=0.1), epochs=3,
                   progress=False, callbacks=[switch], compiled=compiled).history

    assert run(True) == run(False)


def test_a_loss_with_a_side_effect_is_refused_and_undone():
    seen = []

    def recording_loss(preds, targets):
        seen.extend(targets)  # compiled code would never run this line again
        return losses.mse_loss(preds, targets)

    with pytest.raises(TraceError, match=r"loss changed seen"):
        compile_step(MLP(2, [2, 1], seed=3), recording_loss, X[:3], Y_01[:3])
    assert seen == []


def test_a_node_made_by_hand_in_the_model_is_refused():
    from tinygrad_edu.engine import RULES, Math

    class Cubed(Module):
        def __init__(self):
            self.net = MLP(2, [2, 1], seed=5)

        def forward(self, x):
            z = self.net(x)
            return Value(z.data ** 3, (z,), "cube")  # its number: Python's, not the engine's

    RULES["cube"] = lambda out, m=Math: (3.0 * out.children[0].data ** 2,)
    try:
        with pytest.raises(TraceError, match="this one example only"):
            compile_step(Cubed(), losses.mse_loss, X[:2], Y_01[:2])
    finally:
        del RULES["cube"]


def test_a_value_computed_before_the_call_is_refused_in_a_step():
    class Tied(Module):
        def __init__(self):
            self.w = Value(0.5, "w")
            self.w2 = self.w * 2.0  # computed once: shared by every example's graph

        def forward(self, x):
            return self.w2 * x[0] + self.w * x[1]

    with pytest.raises(TraceError, match="computed before the call"):
        compile_step(Tied(), losses.mse_loss, X[:2], Y_01[:2])


def test_wide_layers_as_loops_over_lists_give_the_same_floats(monkeypatch):
    from tinygrad_edu.compile.codegen import Emitter

    wide = Emitter.vectorize
    monkeypatch.setattr(Emitter, "vectorize", lambda self: wide(self, 3, 0))  # (every layer)
    for case in ("hinge, relu MLP", "cross-entropy", "bce of probabilities"):
        make, loss_fn, y = CASES[case]
        eager, compiled = both(make(), loss_fn, X, y)
        assert compiled == eager
    model = MLP(2, [8, 8, 1], seed=1)
    src = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2]).source
    assert "for _w, _x in zip(W, X): linear_9 += _w * _x" in src
    assert "g_W = [_a + g_linear_9 * _b for _a, _b in zip(g_W, X)]" in src


def bits(x):
    """Floats as their exact text (repr tells -0.0 from 0.0), lists item by item."""
    return [bits(v) for v in x] if isinstance(x, (list, tuple)) else repr(x)


def test_a_layer_on_relu_outputs_skips_the_inputs_that_are_zero_bit_for_bit():
    model = MLP(2, [8, 8, 3], seed=5)
    for neuron in model.layers[0].neurons[:5]:  # most of the first layer's relus stay 0
        neuron.b.data -= 2.5
    src = compile_step(model, losses.cross_entropy, X[:2], Y_CLASS[:2]).source
    assert "if relu:" in src and "linear_9 += w0_9 * relu" in src
    for start in (0.0, -0.0, 0.25):
        eager, compiled = both(model, losses.cross_entropy, X, Y_CLASS, start_grad=start)
        assert bits(compiled) == bits(eager)


def test_a_bias_of_minus_zero_or_a_weight_not_finite_runs_the_layer_eagerly():
    from tinygrad_edu.compile import trace

    layer = Layer(3, 2, activation="tanh", seed=0)
    for neuron in layer.neurons:
        neuron.b.data = -0.0
        for w in neuron.w:
            w.data = abs(w.data) + 0.5

    def f(a, b, c):  # dead relus: the eager sums are -0.0 + 0.0 = 0.0, tanh(0.0) = 0.0
        out = layer([a.relu(), b.relu(), c.relu()])
        return out[0] + out[1]

    traced = trace(f, 1.0, 2.0, 3.0)
    assert "if relu:" in traced.source
    calls = traced.eager_calls
    assert bits(traced(-1.0, -2.0, -3.0)) == bits((0.0, [0.0, 0.0, 0.0]))
    assert traced.eager_calls == calls + 1  # (skipping would have kept the bias's -0.0)
    for neuron in layer.neurons:
        neuron.b.data = 0.0
    assert bits(traced(-1.0, -2.0, -3.0)) == bits((0.0, [0.0, 0.0, 0.0]))
    assert traced.eager_calls == calls + 1  # the code ran
    quiet = Layer(3, 2, seed=0)  # relu neurons that do not fire: no gradient flows back
    for neuron in quiet.neurons:
        neuron.b.data = -1.0
    traced = trace(lambda a, b, c: sum(quiet([a.relu(), b.relu(), c.relu()])), 1.0, 2.0, 3.0)
    assert traced(-1.0, -2.0, -3.0) == (0.0, [0.0, 0.0, 0.0])
    quiet.neurons[0].w[2].data = math.inf  # inf * 0.0 is NaN: the eager engine says so
    with pytest.raises(ArithmeticError, match="nan"):
        traced(-1.0, -2.0, -3.0)


CALLS = 0


def test_a_call_that_rebinds_a_global_or_a_closure_variable_is_refused_and_undone():
    def counting_loss(preds, targets):
        global CALLS
        CALLS += 1
        return losses.mse_loss(preds, targets)

    with pytest.raises(TraceError, match="loss changed CALLS"):
        compile_step(MLP(2, [2, 1], seed=3), counting_loss, X[:3], Y_01[:3])
    assert CALLS == 0
    count = 0

    def closure_loss(preds, targets):
        nonlocal count
        count += 1
        return losses.mse_loss(preds, targets)

    with pytest.raises(TraceError, match="loss changed count"):
        compile_step(MLP(2, [2, 1], seed=3), closure_loss, X[:3], Y_01[:3])
    assert count == 0


def test_the_loops_variables_are_numbered_before_the_parameters():
    model = MLP(2, [16, 16, 1], seed=0)  # 337 parameters: more variables than 256
    step = compile_step(model, losses.hinge_loss, X[:4], Y_PM1[:4])
    names = step._models[0].code.__code__.co_varnames
    assert max(names.index(v) for v in ("x0", "relu_17", "linear_33", "g_linear_17")) < 256
    assert names.index("g_b_33") > 256


def test_an_overflow_that_a_relu_would_hide_reaches_the_check():
    model = MLP(2, [4, 4, 1], seed=0)
    step = compile_step(model, losses.hinge_loss, X[:2], Y_PM1[:2])
    assert "relu = linear if linear > 0.0 else linear - linear" in step.source
    model.layers[0].neurons[0].w[0].data = -1e300  # linear = -inf there, whose relu is 0.0:
    with pytest.raises(OverflowError, match="too large"):  # the eager engine stops at it
        step([[1e10, 0.5], [0.5, 0.5]], [1.0, -1.0])
    assert step.eager_steps == 1


def test_a_later_recording_that_changes_state_is_undone_and_its_example_runs_eagerly():
    class Sometimes(Module):
        """Counts the examples whose first input is positive: a second recording would."""

        def __init__(self):
            self.net, self.calls = MLP(2, [3, 1], seed=5), 0

        def forward(self, x):
            xs = [v if isinstance(v, Value) else Value(v) for v in x]
            if xs[0] > 0:
                self.calls += 1
            return self.net(xs)

    batch, targets = [[-0.5, 0.5], [1.0, 0.5], [-1.0, 2.0]], [0.25, 0.5, -0.5]
    twin = Sometimes()
    want = eager_step(twin, losses.mse_loss, batch, targets)
    m = Sometimes()
    step = compile_step(m, losses.mse_loss, [[-1.0, 0.5]], [0.25])
    assert step(batch, targets) == want
    assert [p.grad for p in m.parameters()] == [p.grad for p in twin.parameters()]
    assert m.calls == twin.calls == 1  # counted once, by the eager run of that example
    assert step.eager_examples == 1
