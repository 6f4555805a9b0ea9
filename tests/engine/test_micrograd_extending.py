"""micrograd's ways of extending ``Value`` work here (issue 16, items 4 and 5): its
constructor, an assignable ``_backward`` closure, attributes of your own, subclasses, and a
rule added to ``RULES``. Each is checked against numbers worked out by hand."""

from __future__ import annotations

import math
import sys

import pytest

from tinygrad_edu import Value, backward_steps, gradcheck
from tinygrad_edu.engine import RULES, Math, local_derivatives


def sin_by_closure(self: Value) -> Value:
    """How a micrograd course adds an op: a node made by hand, its step as a closure."""
    out = Value(math.sin(self.data), (self,), "sin")

    def _backward():
        self.grad += math.cos(self.data) * out.grad

    out._backward = _backward
    return out


def test_micrograds_constructor_and_a_closure_op():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(a.data + b.data, (a, b), "+")  # made by hand: finds the rule of "+"
    assert (c.op, c.children, c._prev, c._op) == ("+", (a, b), (a, b), "+")
    s = sin_by_closure(c)
    (s * 2.0).backward()
    assert a.grad == b.grad == pytest.approx(2 * math.cos(-1.0))
    assert Value(1.0, [a], "neg").children == (a,)  # a list works too (micrograd uses sets)


def test_a_closure_op_in_every_consumer_without_compile():
    x = Value(0.3, "x")
    s = sin_by_closure(x)
    assert local_derivatives(s) == pytest.approx((math.cos(0.3),))
    assert x.grad == 0.0 and s.grad == 0.0  # observing the closure left no grad behind
    assert [n for n in backward_steps(s * 3.0)][-1] is x
    assert x.grad == pytest.approx(3 * math.cos(0.3))
    assert gradcheck(lambda v: sin_by_closure(v * v), [0.7])


def test_a_node_made_by_hand_without_a_step_says_how_to_give_it_one():
    a = Value(1.0)
    out = Value(5.0, (a,), "mystery")
    with pytest.raises(TypeError, match="no chain-rule step.*out._backward"):
        out.backward()
    assert a.grad == 0.0
    with pytest.raises(TypeError, match="_children must be a tuple of Values"):
        Value(1.0, 5)
    with pytest.raises(TypeError, match="every input must be a Value.*Value\\(2.0\\)"):
        Value(1.0, (a, 2.0), "+")
    with pytest.raises(TypeError, match="_backward must be a function"):
        out._backward = 3


def test_a_rule_added_to_the_table():
    RULES["cube"] = lambda out, m=Math: (3.0 * out.children[0].data ** 2,)
    try:
        a = Value(2.0)
        c = Value(a.data ** 3, (a,), "cube")
        (c * c).backward()  # d(a^6)/da = 6 a^5 = 192
        assert a.grad == 192.0
        assert local_derivatives(c) == (12.0,)
    finally:
        del RULES["cube"]


def test_own_attributes_and_an_optimizer_that_keeps_moments_on_the_parameters():
    p = Value(1.0)
    p.m, p.v = 0.0, 0.0  # an Adam written for micrograd keeps its moments here
    p._vis_color = "red"
    assert (p.m, p.v, p._vis_color) == (0.0, 0.0, "red")
    for t in range(1, 4):  # three steps of Adam by hand on loss = p^2
        p.grad = 0.0
        (p * p).backward()
        p.m = 0.9 * p.m + 0.1 * p.grad
        p.v = 0.999 * p.v + 0.001 * p.grad**2
        m_hat, v_hat = p.m / (1 - 0.9**t), p.v / (1 - 0.999**t)
        p.data -= 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert p.data == pytest.approx(1.0 - 0.3, abs=5e-3)  # Adam's first steps are ~lr each


def test_a_subclass_calling_micrograds_init():
    class ValueExt(Value):
        def __init__(self, data, _children=(), _op=""):
            super().__init__(data, _children=_children, _op=_op)
            self.note = "ext"

        def cube(self):
            out = ValueExt(self.data**3, (self,), "cube")

            def _backward():
                self.grad += 3 * self.data**2 * out.grad

            out._backward = _backward
            return out

    a = ValueExt(2.0)
    b = a.cube() + a  # our ops work on subclasses, and their results are Values
    b.backward()
    assert (a.note, a.grad, b.data) == ("ext", 13.0, 10.0)


def test_a_node_stays_small_with_attributes_allowed():
    v = Value(1.0)
    assert sys.getsizeof(v) <= 104  # 5 slots and the (lazily made) dict of own attributes
    v.label = "v"
    assert v.label == "v" and Value(2.0).label == ""
