"""Issue 16's "done when": an op added at run time each of the three ways — a rule in the
table, a ``Function``, micrograd's closure — works in all six consumers: ``backward()``,
``backward_steps``, ``explain``, ``step_through``, ``gradcheck`` and ``compile`` (which runs a
Function's own backward, and refuses a closure with a ``TraceError`` that says why).

The op is the same each time, ``cube(a) = a^3`` with ``d/da = 3 a^2``, so every consumer is
checked against the same hand-computed numbers: at a = 1.5, cube = 3.375 and
d(2 cube(a) + a)/da = 2 * 3 * 2.25 + 1 = 14.5.
"""

from __future__ import annotations

import pytest

from tinygrad_edu import Function, Value, backward_steps, explain, gradcheck
from tinygrad_edu.engine import RULES, Math, local_derivatives

A, CUBE, GRAD = 1.5, 3.375, 14.5


def cube_by_rule(a: Value) -> Value:
    return Value(a.data**3, (a,), "cube")  # a node made by hand finds RULES["cube"]


class Cube(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a**3

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_values
        return grad * 3 * a**2


def cube_by_function(a: Value) -> Value:
    return Cube.apply(a)


def cube_by_closure(a: Value) -> Value:
    out = Value(a.data**3, (a,), "cube")

    def _backward():
        a.grad += 3 * a.data**2 * out.grad

    out._backward = _backward
    return out


@pytest.fixture(autouse=True)
def cube_rule():
    RULES["cube"] = lambda out, m=Math: (3.0 * out.children[0].data ** 2,)
    yield
    del RULES["cube"]


WAYS = [cube_by_rule, cube_by_function, cube_by_closure]


def graph(cube):
    a = Value(A, "a")
    c = cube(a)
    c.label = "c"
    out = 2.0 * c + a
    out.label = "out"
    return a, c, out


@pytest.mark.parametrize("cube", WAYS)
def test_backward(cube):
    a, c, out = graph(cube)
    out.backward()
    assert (c.data, a.grad) == (CUBE, GRAD)
    assert local_derivatives(c) == pytest.approx((3 * A**2,))


@pytest.mark.parametrize("cube", WAYS)
def test_backward_steps(cube):
    a, c, out = graph(cube)
    seen = {}
    for node in backward_steps(out):
        seen[node] = node.grad  # final when yielded
    assert seen[c] == 2.0 and seen[a] == GRAD and a.grad == GRAD


@pytest.mark.parametrize("cube", WAYS)
def test_explain(cube):
    a, c, out = graph(cube)
    out.backward()
    text = explain(c)
    assert text.startswith("a.grad += c.grad")  # one line: the input, and its number
    assert "6.75" in text and "13.5" in text  # 3 a^2 = 6.75; 2 x 6.75 = 13.5


@pytest.mark.parametrize("cube", WAYS)
def test_gradcheck(cube):
    assert gradcheck(lambda v: 2.0 * cube(v) + v, [A])


@pytest.mark.parametrize("cube", WAYS)
def test_step_through(cube):
    pytest.importorskip("graphviz")
    from tinygrad_edu.viz import step_through

    a, c, out = graph(cube)
    stepper = step_through(out)
    assert len(stepper) >= 2
    text = " ".join(str(getattr(f, "caption", "")) for f in stepper.frames)
    assert "6.75" in text  # the cube's local derivative appears in a caption
    assert a.grad == 0.0  # the walk-through puts every grad back


@pytest.mark.parametrize("cube", [cube_by_rule, cube_by_function])
def test_compile_runs_the_rule_and_the_functions_backward(cube):
    from tinygrad_edu.compile import trace

    traced = trace(lambda v: 2.0 * cube(v) + v, A)
    assert traced(A) == (2 * CUBE + A, [GRAD])
    assert traced.eager_calls == 0  # the generated code ran: the rule (or backward) inside it
    assert "_node(" in traced.source  # the op's rule is called at run time on its numbers


def test_compile_refuses_a_closure_and_says_why():
    from tinygrad_edu.compile import TraceError, trace

    with pytest.raises(TraceError, match="_backward|closure"):
        trace(lambda v: 2.0 * cube_by_closure(v) + v, A)
