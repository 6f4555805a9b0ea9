"""Decisions Python takes on Values while a function is recorded are checked on every call.

A comparison (``if x > 0``, ``max``, ``sorted``), ``bool(v)``, ``float(v)``, ``format(v)``,
and the same on a number read out with ``v.data``, become guards: where one goes the other
way, the function is recorded again for those inputs (or the call runs eagerly): never the
old branch's numbers. What no guard can see (``math.exp(v.data)``, a random draw, state that
changes between calls) is a ``TraceError`` or is noticed and recorded again.
"""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_edu import Value
from tinygrad_edu.compile import TraceError, trace
from tinygrad_edu.compile.trace import MAX_VARIANTS


def eager(fn, *inputs):
    args = [[Value(v) for v in x] if isinstance(x, list) else Value(x) for x in inputs]
    out = fn(*args)
    out.backward()
    return out.data, [[v.grad for v in a] if isinstance(a, list) else a.grad for a in args]


def branchy(a, b):
    return (a * b).tanh() if a > 0 else (a + b) * 3.0


def branchy_data(a, b):
    return (a * b).tanh() if a.data > 0.0 else (a + b) * 3.0


def maxout(xs):
    return max(x * 2.0 for x in xs) + min(xs)


def sorts(xs):
    s = sorted(xs)
    return s[0] * 1.0 - s[-1] * 2.0


def truthy(a, b):
    return a * b if bool(a - b) else a + b


def formats(a):
    return a * 2.0 if f"{a:.1f}" == "1.0" else a * 3.0


@pytest.mark.parametrize("fn, first, others", [
    (branchy, (1.0, 2.0), [(-1.0, 2.0), (0.0, 5.0), (3.0, -1.0), (-2.0, -2.0)]),
    (branchy_data, (1.0, 2.0), [(-1.0, 2.0), (0.0, 5.0), (3.0, -1.0)]),
    (maxout, ([1.0, 3.0, 2.0],), [([5.0, 3.0, 2.0],), ([1.0, 2.0, 9.0],), ([0.0, 0.0, 0.0],)]),
    (sorts, ([1.0, 3.0, 2.0],), [([3.0, 1.0, 2.0],), ([2.0, 2.0, 1.0],)]),
    (truthy, (1.0, 2.0), [(2.0, 2.0), (5.0, 1.0)]),
    (formats, (1.0,), [(1.04,), (2.0,), (0.98,)]),
])
def test_a_decision_that_goes_the_other_way_gives_the_eager_numbers(fn, first, others):
    traced = trace(fn, *first)
    assert traced(*first) == eager(fn, *first)
    for inputs in others:
        assert traced(*inputs) == eager(fn, *inputs)
        assert traced(*inputs) == eager(fn, *inputs)  # now from its own recording
    assert traced.eager_calls == 0


def test_each_decision_is_a_guard_in_the_source_naming_its_line():
    traced = trace(branchy, 1.0, 2.0)
    assert "if not (a > 0):  # decided at 'test_guards.py:" in traced.source
    traced = trace(maxout, [1.0, 3.0, 2.0])
    assert traced.source.count("return None") >= 4  # max and min compare, each a guard


def test_comparing_a_number_read_from_data_is_a_guard_too():
    traced = trace(branchy_data, 1.0, 2.0)
    assert "if not (a > 0.0):" in traced.source
    assert len(traced._variants) == 1
    traced(-1.0, 2.0)
    assert len(traced._variants) == 2  # recorded again for the other branch


def test_using_the_number_itself_holds_for_that_number_only():
    fn = lambda a: a * float(a)  # noqa: E731  (float(a) is a plain number: frozen in code)
    traced = trace(fn, 1.5)
    assert "if not (a == 1.5):" in traced.source
    for x in (1.5, 2.0, -0.25):
        assert traced(x) == eager(fn, x)
    data = lambda a: a * (a.data * 2.0)  # noqa: E731
    traced = trace(data, 1.5)
    for x in (1.5, 2.0):
        assert traced(x) == eager(data, x)


def test_beyond_the_versions_kept_calls_run_eagerly():
    fn = lambda a: a * float(a)  # noqa: E731
    traced = trace(fn, 0.0)
    for k in range(MAX_VARIANTS + 5):
        assert traced(float(k)) == eager(fn, float(k))
    assert len(traced._variants) == MAX_VARIANTS
    assert traced.eager_calls == 5


def test_what_no_guard_sees_is_a_trace_error():
    with pytest.raises(TraceError, match=r"constant \(2\.71828"):
        trace(lambda a: a * math.exp(a.data), 1.0)  # C code reads the number: not seen
    with pytest.raises(TraceError, match="constant"):
        trace(lambda a: a * random.random(), 1.0)  # a new random number each call
    rng = random.Random(0)
    with pytest.raises(TraceError, match="changes when the inputs move"):
        trace(lambda a: a * a if rng.random() < 0.8 else a + a + a, 1.0)  # 0.84, then 0.76


def test_state_changed_by_the_call_is_refused_and_undone():
    calls = [0]

    def counted(a):
        calls[0] += 1
        return a * 2.0 if calls[0] < 3 else a * 5.0

    with pytest.raises(TraceError, match=r"calling fn changed calls\[0\] \(from 0 to 1\)"):
        trace(counted, 1.0)
    assert calls == [0]  # undone: the eager engine sees the function as it was


def test_a_global_changed_between_calls_is_recorded_again():
    state = {"scale": 2.0}
    fn = lambda a: a * state["scale"]  # noqa: E731  (the number is frozen in the code)
    traced = trace(fn, 1.0)
    assert traced(3.0) == (6.0, [2.0])
    state["scale"] = 5.0  # noticed: fn is recorded again
    assert traced(3.0) == (15.0, [5.0])
    assert traced.eager_calls == 0


def test_decisions_on_parameters_are_guarded_as_they_change():
    w = Value(0.5, "w")
    fn = lambda x: x * w if w > 0 else x - w  # noqa: E731
    traced = trace(fn, 2.0)
    assert traced(2.0) == (1.0, [0.5])
    w.data = -1.0  # a training step moved the parameter across the decision
    w.grad = 0.0
    assert traced(2.0) == (3.0, [1.0]) and w.grad == -1.0
