"""``Function``: user-defined ops, as torch.autograd.Function, checked against PyTorch float64."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Function, Value, backward_order, backward_steps, gradcheck, no_grad
from tinygrad_edu.checks import NotANumberError
from tinygrad_edu.engine import local_derivatives

torch = pytest.importorskip("torch")


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return math.log1p(math.exp(-abs(x))) + max(x, 0.0)  # stable log(1 + e^x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_values
        return grad / (1.0 + math.exp(-x))  # grad * sigmoid(x)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return math.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_values
        return grad * math.cos(x)


class Hypot(Function):  # two inputs: sqrt(a^2 + b^2)
    @staticmethod
    def forward(ctx, a, b):
        h = math.hypot(a, b)
        ctx.save_for_backward(a, b, h)
        return h

    @staticmethod
    def backward(ctx, grad):
        a, b, h = ctx.saved_values
        return grad * a / h, grad * b / h


def t(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("x", [-30.0, -2.0, -0.1, 0.0, 0.7, 5.0, 40.0])
def test_softplus_matches_torch(x):
    v = Value(x)
    y = Softplus.apply(v) * 3.0
    y.backward()
    tx = t(x)
    ty = torch.nn.functional.softplus(tx) * 3.0
    ty.backward()
    assert y.data == pytest.approx(ty.item(), rel=1e-14, abs=1e-300)
    assert v.grad == pytest.approx(tx.grad.item(), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("x", [-4.0, -1.0, 0.0, 0.5, 2.0, 10.0])
def test_sin_function_matches_torch_and_the_builtin(x):
    v, w = Value(x), Value(x)
    (Sin.apply(v) * Sin.apply(v)).backward()  # used twice: grads add up
    (w.sin() * w.sin()).backward()
    tx = t(x)
    (torch.sin(tx) * torch.sin(tx)).backward()
    assert v.grad == pytest.approx(tx.grad.item(), rel=1e-13, abs=1e-15)
    assert v.grad == w.grad  # the same floats as the built-in op


def test_two_inputs_and_a_number_input_match_torch():
    a, b = Value(3.0), Value(-4.0)
    out = Hypot.apply(a, b) * Hypot.apply(a, 2.0)  # 2.0 becomes a constant leaf
    out.backward()
    ta, tb = t(3.0), t(-4.0)
    tout = torch.hypot(ta, tb) * torch.hypot(ta, torch.tensor(2.0, dtype=torch.float64))
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-15)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-14)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-14)


def test_node_names_the_function_and_keeps_ctx():
    x = Value(0.5, "x")
    y = Hypot.apply(x, 1.5)
    assert y.op == "Hypot" and y.children[0] is x and y.children[1].data == 1.5
    assert y._arg.function is Hypot
    assert y._arg.saved_values == (0.5, 1.5, math.hypot(0.5, 1.5))
    assert y._prev == y.children and y._op == "Hypot"


def test_gradcheck_backward_steps_and_local_derivatives():
    assert gradcheck(lambda a, b: Hypot.apply(Softplus.apply(a), b * b), [0.3, -1.2])
    x = Value(0.8)
    root = Softplus.apply(x) * Sin.apply(x)
    for _ in backward_steps(root):
        pass
    stepped = x.grad
    x.grad = 0.0
    root.backward()
    assert stepped == x.grad
    h = Hypot.apply(Value(3.0), Value(4.0))
    assert local_derivatives(h) == (3.0 / 5.0, 4.0 / 5.0)
    s = Softplus.apply(Value(0.0))
    assert local_derivatives(s) == (0.5,)


def test_no_grad_records_no_graph():
    x = Value(1.0)
    with no_grad():
        y = Softplus.apply(x)
    assert y.children == () and y.op == ""
    y.backward()
    assert x.grad == 0.0


def test_draw_graph_labels_the_op_with_the_class_name():
    pytest.importorskip("graphviz")
    from tinygrad_edu.viz import draw_graph

    y = Softplus.apply(Value(1.0, "x")) + 1
    y.backward()
    source = draw_graph(y).source
    assert "Softplus" in source


# ---------------------------------------------------------------------------------------------
# Bad definitions: clear errors naming the Function, and no grad changed
# ---------------------------------------------------------------------------------------------
def test_missing_forward_or_backward():
    class OnlyForward(Function):
        @staticmethod
        def forward(ctx, x):
            return x

    class OnlyBackward(Function):
        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(NotImplementedError, match=r"OnlyForward\.backward is missing"):
        OnlyForward.apply(1.0)
    with pytest.raises(NotImplementedError, match=r"OnlyBackward\.forward is missing"):
        OnlyBackward.apply(1.0)
    with pytest.raises(TypeError, match="subclass Function"):
        Function.apply(1.0)


def _fn(name, forward, backward):
    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


def test_backward_returning_the_wrong_number_of_grads():
    TwoForOne = _fn("TwoForOne", lambda ctx, x: 2 * x, lambda ctx, g: (g, g))
    OneForTwo = _fn("OneForTwo", lambda ctx, a, b: a * b, lambda ctx, g: g)
    x = Value(1.0)
    with pytest.raises(TypeError, match="TwoForOne.backward returned 2 gradients for 1 input"):
        (TwoForOne.apply(x) * 3).backward()
    with pytest.raises(TypeError, match=r"OneForTwo.backward returned 1 gradient for 2 inputs"):
        OneForTwo.apply(x, Value(2.0)).backward()
    assert x.grad == 0.0  # the failed backward changed nothing


@pytest.mark.parametrize("bad, error, text", [
    (math.nan, NotANumberError, "returned nan"),
    (math.inf, OverflowError, "returned inf"),
    (10**400, OverflowError, "returned is too large for a float: got an int of 401 digits"),
    ("1.0", TypeError, "must return one number"),
    ([1.0], TypeError, "must return one number"),
    (True, TypeError, "must return one number"),
])
def test_forward_returning_a_non_number(bad, error, text):
    Bad = _fn("BadForward", lambda ctx, x: bad, lambda ctx, g: g)
    with pytest.raises(error, match=f"BadForward.forward {text}"):
        Bad.apply(Value(1.0))


@pytest.mark.parametrize("bad, error, text", [
    (math.nan, NotANumberError, "returned nan"),
    (-math.inf, OverflowError, "returned -inf"),
    (-(10**400), OverflowError, "returned is too large for a float: got an int of 401 digits"),
    ("0", TypeError, "must return the inputs' gradients"),
])
def test_backward_returning_a_non_number(bad, error, text):
    Bad = _fn("BadBackward", lambda ctx, x: x, lambda ctx, g: bad)
    x = Value(1.0)
    x.grad = 0.25
    with pytest.raises(error, match=f"BadBackward.backward {text}"):
        (Bad.apply(x) * 2).backward()
    assert x.grad == 0.25
    assert isinstance(NotANumberError("x"), (ValueError, FloatingPointError))


def test_forward_given_values_is_told_to_use_numbers():
    Wrong = _fn("Wrong", lambda ctx, x: Value(x) * 2, lambda ctx, g: g)
    with pytest.raises(TypeError, match=r"Wrong.forward must return one number.*plain numbers"):
        Wrong.apply(1.0)


def test_a_function_may_not_take_a_builtin_op_name():
    with pytest.raises(TypeError, match="may not be called 'sin'"):
        _fn("sin", lambda ctx, x: x, lambda ctx, g: g)
    with pytest.raises(TypeError, match="may not be called 'linear'"):
        _fn("linear", lambda ctx, x: x, lambda ctx, g: g)


def test_redefining_a_function_class_uses_the_new_definition_for_new_nodes():
    Old = _fn("Twice", lambda ctx, x: 2 * x, lambda ctx, g: 2 * g)
    New = _fn("Twice", lambda ctx, x: 3 * x, lambda ctx, g: 3 * g)  # a notebook cell re-run
    a, b = Value(1.0), Value(1.0)
    old, new = Old.apply(a), New.apply(b)
    old.backward()
    new.backward()
    assert (a.grad, b.grad) == (2.0, 3.0)  # each node keeps the class that made it
    assert [n.op for n in backward_order(new)] == ["Twice", ""]
