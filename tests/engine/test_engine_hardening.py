"""Hostile use of the engine (issue 12, engine side): threads, paused walks, gradcheck's side
effects, and the overflow policy of backward, each checked against PyTorch where PyTorch's
answer is finite."""

from __future__ import annotations

import math
import threading

import pytest

from tinygrad_edu import (
    Value,
    backward_order,
    backward_steps,
    gradcheck,
    is_grad_enabled,
    linear,
    no_grad,
)
from tinygrad_edu.checks import NotANumberError

torch = pytest.importorskip("torch")


def t(x: float, grad: bool = True):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def grads(root: Value) -> list[float]:
    return [n.grad for n in backward_order(root)]


# ---------------------------------------------------------------------------------------------
# 1. no_grad is per thread
# ---------------------------------------------------------------------------------------------
def test_no_grad_in_another_thread_does_not_stop_recording_here():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def evaluate():
        with no_grad():
            seen["other"] = is_grad_enabled()
            inside.set()
            done.wait(5)

    worker = threading.Thread(target=evaluate)
    worker.start()
    assert inside.wait(5)
    x = Value(2.0)
    y = x * x  # the training thread records while the other thread is inside no_grad
    seen["here"] = is_grad_enabled()
    done.set()
    worker.join(5)
    y.backward()
    assert seen == {"other": False, "here": True}
    assert y.children == (x, x) and x.grad == 4.0


def test_threads_leaving_no_grad_out_of_order_leave_recording_on():
    entered = [threading.Event() for _ in range(2)]
    leave = [threading.Event() for _ in range(2)]

    def worker(i):
        with no_grad():
            entered[i].set()
            leave[i].wait(5)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    assert all(e.wait(5) for e in entered)
    leave[0].set()  # the first one in leaves first ...
    threads[0].join(5)
    leave[1].set()  # ... then the second
    threads[1].join(5)
    assert is_grad_enabled()
    assert (Value(1.0) * 2).children != ()
    result = []
    th = threading.Thread(target=lambda: result.append(is_grad_enabled()))
    th.start()
    th.join(5)
    assert result == [True]


def test_no_grad_blocks_closed_out_of_order_in_one_thread():
    first, second = no_grad(), no_grad()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # closed before the inner one
    assert not is_grad_enabled()  # one block is still open
    second.__exit__(None, None, None)
    assert is_grad_enabled()


def test_a_generator_may_close_its_no_grad_block_in_another_thread():
    def evaluation():
        with no_grad():
            yield is_grad_enabled()

    gen = evaluation()
    assert next(gen) is False
    th = threading.Thread(target=gen.close)  # the block ends in another thread
    th.start()
    th.join(5)
    assert is_grad_enabled()  # recording here is back on
    result = []
    th = threading.Thread(target=lambda: result.append(is_grad_enabled()))
    th.start()
    th.join(5)
    assert result == [True]


# ---------------------------------------------------------------------------------------------
# 6. a paused backward_steps walk, an abandoned walk
# ---------------------------------------------------------------------------------------------
def _graph():
    x = Value(0.5, "x")
    h = x * x + x
    return h * h + h.tanh(), x


def test_resuming_a_walk_after_backward_of_the_same_graph_is_an_error():
    root, x = _graph()
    walk = backward_steps(root)
    next(walk), next(walk)
    root.backward()  # the same graph, while the walk is paused
    with pytest.raises(RuntimeError, match="backpropagated.*while this walk was paused"):
        next(walk)
    fresh, fx = _graph()
    fresh.backward()
    assert root.grad == 1.0 and x.grad != 0.0
    # backward() computed the full gradient on its own; the walk had added part of one
    assert all(n.grad == m.grad for n, m in zip(backward_order(root), backward_order(fresh))
               if n.children)


def test_resuming_a_walk_after_another_walk_or_a_backward_of_a_larger_graph():
    root, _ = _graph()
    first = backward_steps(root)
    next(first)
    second = backward_steps(root)
    for _ in second:  # the second walk runs to the end
        pass
    with pytest.raises(RuntimeError, match="Start a new walk"):
        next(first)
    walk = backward_steps(root)
    next(walk)
    (root * 3.0).backward()  # a graph that contains this one
    with pytest.raises(RuntimeError):
        next(walk)


def test_graphs_that_share_only_leaves_do_not_disturb_a_paused_walk():
    x = Value(0.5)
    a, b = (x * x).tanh(), (x + 1.0).exp()
    walk = backward_steps(a)
    next(walk)
    b.backward()  # another graph over the same leaf: leaves accumulate, as always
    for _ in walk:
        pass
    assert x.grad == pytest.approx(math.exp(1.5) + 2 * 0.5 * (1 - math.tanh(0.25) ** 2))


def test_an_abandoned_walk_leaves_final_grads_on_the_nodes_it_yielded():
    root, x = _graph()
    expected_root, ex = _graph()
    expected_root.backward()
    expected = grads(expected_root)
    yielded = []
    for node in backward_steps(root):
        yielded.append(node)
        if len(yielded) == 3:
            break
    order = backward_order(root)
    for node in yielded:
        assert node.grad == expected[order.index(node)]
    # the rest hold partial sums: here x has had part of its gradient only
    assert x.grad != ex.grad


# ---------------------------------------------------------------------------------------------
# 7. gradcheck has no side effects; the same Value twice
# ---------------------------------------------------------------------------------------------
def test_gradcheck_restores_grads_of_values_it_does_not_get_as_inputs():
    w = Value(1.5, "w")  # used by f, not among the inputs
    w.grad = 0.25
    x = Value(0.3, "x")
    x.grad = -2.0
    assert gradcheck(lambda a: (a * w).tanh() + w.exp(), [x])
    assert (w.grad, x.grad) == (0.25, -2.0)


def test_gradcheck_with_the_same_value_twice():
    x = Value(0.7, "x")
    assert gradcheck(lambda a, b: a * b + a.sin() - b**3, [x, x])
    assert gradcheck(lambda a, b: a / b, [x, x])
    assert x.grad == 0.0
    with pytest.raises(Exception, match="#1|'x'"):  # and a wrong gradient is still caught

        def wrong(a, b):
            out = a * b
            out._rule = Value._d_add  # a wrong local derivative
            return out

        gradcheck(wrong, [x, x])


def test_gradcheck_restores_grads_when_backward_fails():
    w = Value(1e-300, "w")
    w.grad = 3.0
    with pytest.raises(OverflowError):
        gradcheck(lambda a: a * (w ** -1.0), [1.0])
    assert w.grad == 3.0


# ---------------------------------------------------------------------------------------------
# 8. backward overflow: an OverflowError naming the op, and no grad changed
# ---------------------------------------------------------------------------------------------
def _assert_unchanged(root, before):
    assert grads(root) == before


def test_saturated_sigmoid_then_log_is_an_error_not_nan():
    # issue 12: -(w*0 + b).sigmoid().log() with b = -740 gave w.grad = nan, b.grad = -inf
    w, b = Value(0.3, "w"), Value(-740.0, "b")
    loss = -(w * 0 + b).sigmoid().log()
    tw, tb = t(0.3), t(-740.0)
    (-(tw * 0 + tb).sigmoid().log()).backward()
    assert not math.isfinite(tb.grad.item())  # PyTorch: -inf (and w: nan)
    w.grad, b.grad = 0.5, 0.25
    before = grads(loss)
    with pytest.raises(OverflowError, match=r"'log' of \(.*\).*-inf"):
        loss.backward()
    _assert_unchanged(loss, before)
    assert (w.grad, b.grad) == (0.5, 0.25)


@pytest.mark.parametrize("make, op", [
    (lambda: (Value(0.0) / Value(5e-324), [0]), "/"),
    (lambda: (Value(1e-320).log(), [0]), "log"),
    (lambda: ((lambda a: (a * 1e200) * 1e200)(Value(1e-300)), [0]), r"\*"),
    (lambda: (10.0 ** Value(308.0), [0]), r"\*\*' of \(10.0, 308.0\)"),
    (lambda: (Value(709.0).exp() * 1e-10, [1e20]), "exp"),
    (lambda: ((lambda x: x * 1e308 + x * 1e308)(Value(1e-10)), [0]), r"\*"),
])
def test_inf_gradients_are_errors_naming_the_op(make, op):
    root, seed = make()
    before = grads(root)
    with pytest.raises(OverflowError, match=f"'{op}"):
        root.backward(*(s for s in seed if s))
    _assert_unchanged(root, before)


def test_overflow_in_a_fused_neuron_and_a_leaf_root():
    w, x = [Value(1e300), Value(1.0)], [Value(1.0), Value(2.0)]
    out = linear(w, x, Value(0.0))
    with pytest.raises(OverflowError, match="'linear' of"):
        out.backward(gradient=1e10)  # d/d x0 = 1e300 * 1e10
    assert [v.grad for v in (*w, *x)] == [0.0] * 4
    leaf = Value(1.0)
    leaf.grad = 1e308
    with pytest.raises(OverflowError, match="too large"):
        leaf.backward(gradient=1e308)
    assert leaf.grad == 1e308


def test_a_failed_backward_puts_back_grads_of_an_earlier_backward():
    x = Value(1e-200, "x")
    y = x * 1e100
    z = y * 1.0
    z.backward()  # fine: x.grad = 1e100, y.grad = 1.0
    before = grads(z)
    big = z * 1e300  # now d big/dx = 1e400
    with pytest.raises(OverflowError):
        big.backward()
    assert grads(z) == before  # inner y kept its grad of the earlier call, x too


def test_backward_steps_overflow_raises_and_puts_every_grad_back():
    x = Value(1e-300, "x")
    x.grad = 7.0
    root = (x ** -1.0) * 2.0
    with pytest.raises(OverflowError, match=r"'\*\*' of"):
        for _ in backward_steps(root):
            pass
    assert x.grad == 7.0 and root.grad == 0.0


# ---------------------------------------------------------------------------------------------
# 9. constants get no gradient, so a finite gradient is never refused
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, c", [(3.0, 1e-160), (1e290, 1e-10), (2.0, 1e-300)])
def test_division_by_a_tiny_constant_gives_torchs_finite_gradient(x, c):
    v = Value(x)  # d(x/c)/dc = -x/c^2 is not a float, but c is a number: not needed
    (v / c).backward()
    tv = t(x)
    (tv / c).backward()
    assert v.grad == tv.grad.item()  # 1/c, finite
    assert math.isfinite(v.grad)


def test_constants_stay_at_zero_grad():
    x = Value(2.0)
    y = 3.0 * x + x / 1e-160 - 1.0
    y.backward()
    constants = [n for n in backward_order(y) if not n.children and n is not x]
    assert len(constants) == 3 and all(c.grad == 0.0 for c in constants)
    constants[0].grad = 5.0  # a constant's grad cannot be set either
    assert constants[0].grad == 0.0
    assert x.grad == 3.0 + 1e160


# ---------------------------------------------------------------------------------------------
# NaN results: NotANumberError, a ValueError and a FloatingPointError; all numeric blow-ups
# are ArithmeticErrors
# ---------------------------------------------------------------------------------------------
def test_nan_results_raise_not_a_number_error():
    a = Value(1.0)
    a.data = math.nan
    with pytest.raises(NotANumberError, match="an input is not a number"):
        a * 2.0
    w = [Value(1e300), Value(-1e300)]
    x = [Value(1e10), Value(1e10)]
    with pytest.raises(NotANumberError, match="'linear'.*too large") as info:
        linear(w, x, Value(0.0))  # inf + -inf
    assert isinstance(info.value, ValueError) and isinstance(info.value, FloatingPointError)
    with pytest.raises(OverflowError, match="'linear'"):
        linear([Value(1e300)], [Value(1e10)], Value(0.0))


@pytest.mark.parametrize("blow_up", [
    lambda: Value(1e200) * Value(1e200),
    lambda: Value(1000.0).exp(),
    lambda: (Value(1e-300) ** -1.0).backward(),
    lambda: Value(1.0) / 0,
    lambda: linear([Value(1e300), Value(-1e300)], [1e10, 1e10], Value(0.0)),
])
def test_every_numeric_blow_up_is_an_arithmetic_error(blow_up):
    with pytest.raises(ArithmeticError):
        blow_up()


@pytest.mark.parametrize("call, text", [
    (lambda: backward_order([]), "backward needs a Value"),
    (lambda: backward_order(iter([Value(1.0)])), "backward needs a Value"),
    (lambda: list(backward_steps(3.0)), "backward_steps needs a Value"),
    (lambda: linear(0.0, [1.0], Value(0.0)), "w and x must be lists"),
    (lambda: linear([Value(1.0)], 2.0, Value(0.0)), "w and x must be lists"),
])
def test_walks_and_linear_refuse_what_is_not_a_graph_clearly(call, text):
    with pytest.raises(TypeError, match=text):
        call()


@pytest.mark.parametrize("bad, error", [(None, TypeError), ("1.5", TypeError), (1j, TypeError),
                                        (10**400, ValueError), (math.nan, ValueError)])
def test_a_grad_set_by_hand_is_named_by_backward(bad, error):
    v = Value(1.5, "v")
    v.grad = bad
    with pytest.raises(error, match=r"the Value 'v' has \.grad = .*must be a finite float"):
        (v * 2.0 + v).backward()
    assert "label='v'" in repr(v)  # repr shows it too, instead of failing on the format


def test_repr_of_odd_values_set_by_hand():
    v = Value(1.5)
    v.data, v.grad, v.label = 10**400, None, ["x"]
    assert repr(v) == "Value(data=an int of 401 digits, grad=NoneType None, label=list ['x'])"
    assert repr(Value(-5.0, "c")) == "Value(data=-5, grad=0, label='c')"
