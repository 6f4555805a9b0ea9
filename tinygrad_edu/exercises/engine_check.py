"""``check_engine(YourValue)``: checks a learner's own micrograd-shaped ``Value`` (exercise E2).

Micrograd-shaped means: ``Value(data)`` makes a leaf with ``.data`` and ``.grad``; an op
returns a new Value whose ``._prev`` holds its inputs and ``._op`` names it, and whose
``._backward()`` adds ``out.grad * local derivative`` into each input's ``.grad``;
``.backward()`` seeds ``self.grad = 1`` and calls every node's ``_backward`` in reverse
topological order. The lecture's engine, micrograd's and ``tinygrad_edu.Value`` all qualify.

The checks come in two groups:

1. One op at a time. Each builds ``out`` from fresh leaves, sets ``out.grad = 10.0`` and calls
   ``out._backward()`` once, so a mistake in one op's local derivative is caught there and
   nowhere else (and 10 makes a missing ``* out.grad`` visible).
2. ``backward()`` over whole graphs. Expected numbers come from ``tinygrad_edu.Value``; while
   ``backward()`` runs, every node's ``_backward`` is wrapped (when the class allows) to see
   the order the nodes are visited in, which names an ordering mistake precisely.

Each classic mistake has a case built to expose it, and the numbers that mistake would give
are known in advance; a match names the mistake in the hint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tinygrad_edu.engine import Value as _RefValue
from tinygrad_edu.exercises._guard import DEFAULT_TIMEOUT, time_limit
from tinygrad_edu.exercises._report import (
    Mismatch,
    Report,
    Result,
    attempt,
    close,
    error_text,
    fmt,
    is_not_implemented,
    message,
    new_report,
    todo_detail,
)

__all__ = ["check_engine", "MISTAKES"]

G = 10.0  # out.grad before out._backward() in the one-op checks

# The classic mistakes, by tag (the tag is `Result.mistake`; the hints are beside each case).
MISTAKES = {
    "assign-not-add": "`self.grad = ...` instead of `self.grad += ...` (a value used twice)",
    "wrong-node": "the wrong node's value in a local derivative",
    "missing-out-grad": "the local derivative not multiplied by out.grad",
    "no-effect": "_backward changes no grad (not written, or not attached to out)",
    "order": "a node's _backward runs before all the nodes that use it",
    "visited-twice": "a node's _backward runs more than once in one backward()",
    "not-visited": "a node's _backward never runs",
    "no-seed": "backward() does not start with self.grad = 1",
    "no-reset": "intermediate grads never reset between backward() calls (a note, as in the "
                "lecture's engine: it differs from PyTorch only when backward() runs twice)",
    "reset-leaves": "backward() resets the leaves' grads (they should add up)",
    "missing-rop": "no number-on-the-left operator (__radd__ / __rmul__)",
    "number-not-wrapped": "a plain number used as if it were a Value (other.data on an int)",
    "not-a-value": "an op returns something that is not a Value (e.g. a float)",
    "power-rule": "d(a**k)/da written without the - 1 in the exponent",
}

_ASSIGN_HINT = (
    "a is used twice, so it gets a gradient from each use and the two must add up. Write "
    "`self.grad += ...` and `other.grad += ...` in _backward, not `self.grad = ...`: `=` throws "
    "away the part that is already there (here, the other use's)."
)
_MISSING_OUT_GRAD = (
    "the local derivative was not multiplied by out.grad (these numbers are right only when "
    "out.grad is 1). The chain rule: input.grad += local derivative * out.grad."
)


@dataclass
class _OpCase:
    """One op, checked by a single ``out._backward()`` with ``out.grad = 10``."""

    name: str
    leaves: dict[str, float]
    build: Callable[[dict[str, Any]], Any]
    needs: tuple[str, ...]
    data: float
    data_formula: str  # how out.data is computed, for the hint
    grads: dict[str, tuple[float, str]]  # leaf -> (expected grad, how it is made)
    formula: str  # the _backward lines, for the generic hint
    # (tag, the grads that mistake gives, hint) — recognised when the numbers match
    mistakes: list[tuple[str, dict[str, float], str]] = field(default_factory=list)
    number_left: bool = False  # `2 * a`: the r-operator is what is checked
    number_right: bool = False  # `a * 2`: the plain number must be wrapped


def _op_cases() -> list[_OpCase]:
    t = math.tanh(0.5)
    e = math.exp(0.7)
    return [
        _OpCase(
            "a + b", {"a": 2.0, "b": -3.0}, lambda v: v["a"] + v["b"], ("__add__",),
            -1.0, "self.data + other.data",
            {"a": (G, "1 × out.grad = 1 × 10.0"), "b": (G, "1 × out.grad = 1 × 10.0")},
            "self.grad += 1.0 * out.grad; other.grad += 1.0 * out.grad",
            [("missing-out-grad", {"a": 1.0, "b": 1.0}, _MISSING_OUT_GRAD)],
        ),
        _OpCase(
            "a * b", {"a": 2.0, "b": -3.0}, lambda v: v["a"] * v["b"], ("__mul__",),
            -6.0, "self.data * other.data",
            {"a": (-30.0, "b × out.grad = -3.0 × 10.0"), "b": (20.0, "a × out.grad = 2.0 × 10.0")},
            "self.grad += other.data * out.grad; other.grad += self.data * out.grad",
            [
                ("wrong-node", {"a": 20.0, "b": -30.0},
                 "each input got its own value as its local derivative. For a * b, d/da is b "
                 "and d/db is a, the OTHER input: `self.grad += other.data * out.grad` and "
                 "`other.grad += self.data * out.grad`."),
                ("missing-out-grad", {"a": -3.0, "b": 2.0}, _MISSING_OUT_GRAD),
                ("wrong-node", {"a": 2.0, "b": -3.0},
                 "two things: each input got its own value (d/da of a * b is b, the OTHER "
                 "input), and out.grad is missing. Write `self.grad += other.data * out.grad` "
                 "and `other.grad += self.data * out.grad`."),
            ],
        ),
        _OpCase(
            "a ** 3", {"a": 1.5}, lambda v: v["a"] ** 3, ("__pow__",),
            3.375, "self.data ** other",
            {"a": (67.5, "3 × a**2 × out.grad = 3 × 2.25 × 10.0")},
            "self.grad += other * self.data ** (other - 1) * out.grad",
            [
                ("missing-out-grad", {"a": 6.75}, _MISSING_OUT_GRAD),
                ("power-rule", {"a": 101.25},
                 "the power rule lowers the exponent by one: d(a**k)/da = k * a**(k - 1). "
                 "Yours looks like k * a**k."),
                ("wrong-node", {"a": 3 * 3.375**2 * G},
                 "the power rule k * a**(k - 1) uses the input a (self.data), not the output "
                 "a**k (out.data)."),
            ],
        ),
        _OpCase(
            "a.tanh()", {"a": 0.5}, lambda v: v["a"].tanh(), ("tanh",),
            t, "math.tanh(self.data)  (or (e**(2x) - 1) / (e**(2x) + 1))",
            {"a": ((1 - t * t) * G, f"(1 - t**2) × out.grad, t = tanh(0.5) = {t:.6f}")},
            "self.grad += (1 - t**2) * out.grad, with t = out.data",
            [
                ("wrong-node", {"a": (1 - 0.25) * G},
                 "d tanh(x)/dx = 1 - tanh(x)**2 uses the OUTPUT t = tanh(x), which is "
                 "out.data. Yours used the input x (self.data): 1 - x**2."),
                ("missing-out-grad", {"a": 1 - t * t}, _MISSING_OUT_GRAD),
            ],
        ),
        _OpCase(
            "a.exp()", {"a": 0.7}, lambda v: v["a"].exp(), ("exp",),
            e, "math.exp(self.data)",
            {"a": (e * G, f"e**a × out.grad = {e:.6f} × 10.0")},
            "self.grad += out.data * out.grad  (d e**x/dx is e**x itself)",
            [
                ("wrong-node", {"a": 0.7 * G},
                 "d e**x/dx = e**x, which is the OUTPUT's value out.data. Yours used the "
                 "input x (self.data)."),
                ("missing-out-grad", {"a": e}, _MISSING_OUT_GRAD),
            ],
        ),
        _OpCase(
            "a + a (a used twice)", {"a": 3.0}, lambda v: v["a"] + v["a"], ("__add__",),
            6.0, "self.data + other.data",
            {"a": (2 * G, "out.grad once for each use: 10.0 + 10.0")},
            "self.grad += 1.0 * out.grad; other.grad += 1.0 * out.grad",
            [("assign-not-add", {"a": G}, _ASSIGN_HINT),
             ("missing-out-grad", {"a": 2.0}, _MISSING_OUT_GRAD)],
        ),
        _OpCase(
            "a * a (a used twice)", {"a": 3.0}, lambda v: v["a"] * v["a"], ("__mul__",),
            9.0, "self.data * other.data",
            {"a": (6 * G, "a × out.grad once for each use: 30.0 + 30.0")},
            "self.grad += other.data * out.grad; other.grad += self.data * out.grad",
            [("assign-not-add", {"a": 3 * G}, _ASSIGN_HINT),
             ("missing-out-grad", {"a": 6.0}, _MISSING_OUT_GRAD)],
        ),
        _OpCase(
            "a + 1 (a number on the right)", {"a": 3.0}, lambda v: v["a"] + 1, ("__add__",),
            4.0, "self.data + other.data", {"a": (G, "1 × out.grad")},
            "self.grad += 1.0 * out.grad", number_right=True,
        ),
        _OpCase(
            "a * 2 (a number on the right)", {"a": 3.0}, lambda v: v["a"] * 2, ("__mul__",),
            6.0, "self.data * other.data", {"a": (2 * G, "2 × out.grad = 2 × 10.0")},
            "self.grad += other.data * out.grad", number_right=True,
        ),
        _OpCase(
            "1 + a (a number on the left)", {"a": 3.0}, lambda v: 1 + v["a"],
            ("__add__", "__radd__"), 4.0, "1 + a", {"a": (G, "1 × out.grad")},
            "def __radd__(self, other): return self + other", number_left=True,
        ),
        _OpCase(
            "2 * a (a number on the left)", {"a": 3.0}, lambda v: 2 * v["a"],
            ("__mul__", "__rmul__"), 6.0, "2 * a", {"a": (2 * G, "2 × out.grad = 2 × 10.0")},
            "def __rmul__(self, other): return self * other", number_left=True,
        ),
    ]


# ---- graphs for backward() --------------------------------------------------------------
@dataclass
class _GraphCase:
    """``root.backward()`` on a small graph; expected grads from ``tinygrad_edu.Value``."""

    name: str
    leaves: dict[str, float]
    # builds the graph from the leaves: (root, named inner nodes)
    build: Callable[[dict[str, Any]], tuple[Any, dict[str, Any]]]
    # the one-op cases this graph relies on: (case name, the op, where this graph uses it)
    uses: tuple[tuple[str, str, str], ...]
    needs: tuple[str, ...]
    twice: bool = False  # call backward() twice on the same graph


def _chain(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    x = v["a"] * v["b"]
    y = x + v["c"]
    return y.tanh(), {"x = a * b": x, "y = x + c": y}


def _two_users(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    # x is used by t (deep in the graph) and by L (at the top): x must wait for both.
    x = v["a"] * v["b"]
    t = x.tanh()
    y = t + v["c"]
    return y * x, {"x = a * b": x, "t = x.tanh()": t, "y = t + c": y}


def _sub_div(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    d = v["a"] - v["b"]
    return d / v["c"], {"d = a - b": d}


def _neuron(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    x1w1 = v["x1"] * v["w1"]
    x2w2 = v["x2"] * v["w2"]
    n = x1w1 + x2w2 + v["b"]
    return n.tanh(), {"x1*w1": x1w1, "x2*w2": x2w2, "n": n}


def _neuron_exp(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    e = (2 * n).exp()
    return (e - 1) / (e + 1), {"n": n, "e = exp(2n)": e}


def _twice(v: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    x = v["a"] * v["b"]
    return x * v["c"], {"x = a * b": x}


_NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def _graph_cases() -> list[_GraphCase]:
    # (the one-op case, the op as this graph has it, where) — hints name only this graph's parts
    mul, add, tanh = ("a * b", "*"), ("a + b", "+"), ("a.tanh()", "tanh")
    used_twice = ("a * a (a used twice)", "a value used twice")
    return [
        _GraphCase("backward() of L = a * b", {"a": 2.0, "b": -3.0},
                   lambda v: (v["a"] * v["b"], {}), ((*mul, "L = a * b"),), ("__mul__",)),
        _GraphCase("backward() through a chain: L = tanh(a * b + c)",
                   {"a": 2.0, "b": -3.0, "c": 6.5}, _chain,
                   ((*mul, "x = a * b"), (*add, "y = x + c"), (*tanh, "L = tanh(y)")),
                   ("__mul__", "__add__", "tanh")),
        _GraphCase("a node with two users: x = a * b, L = (tanh(x) + c) * x",
                   {"a": 2.0, "b": -0.25, "c": 1.0}, _two_users,
                   ((*mul, "x = a * b and L = y * x"), (*add, "y = t + c"),
                    (*tanh, "t = tanh(x)"),
                    (*used_twice, "x = a * b is used by tanh(x) and by L = y * x, so its two "
                                  "grads must add up")),
                   ("__mul__", "__add__", "tanh")),
        _GraphCase("a - b and a / b: L = (a - b) / c",
                   {"a": 5.0, "b": 3.0, "c": 4.0}, _sub_div,
                   ((*add, "a - b, which is a + (-b)"), (*mul, "d / c, which is d * c**-1"),
                    ("a ** 3", "**", "c**-1"),
                    ("a * 2 (a number on the right)", "a Value times a number",
                     "-b, which is b * -1")),
                   ("__sub__", "__truediv__")),
        _GraphCase("the lecture's neuron: o = tanh(x1*w1 + x2*w2 + b)", dict(_NEURON), _neuron,
                   ((*mul, "x1*w1 and x2*w2"), (*add, "x1*w1 + x2*w2 + b"), (*tanh, "tanh(n)")),
                   ("__mul__", "__add__", "tanh")),
        _GraphCase("the neuron with tanh from exp: o = (e - 1) / (e + 1), e = exp(2n)",
                   dict(_NEURON), _neuron_exp,
                   ((*mul, "x1*w1, x2*w2 and the division"), (*add, "n and e + 1"),
                    ("a.exp()", "exp", "e = exp(2n)"),
                    ("a ** 3", "**", "the division, (e - 1) * (e + 1)**-1"),
                    ("2 * a (a number on the left)", "a number times a Value", "2n = 2 * n")),
                   ("__mul__", "__add__", "exp", "__sub__", "__truediv__", "__rmul__")),
        _GraphCase("backward() twice on the same graph: L = (a * b) * c",
                   {"a": 2.0, "b": -3.0, "c": 4.0}, _twice,
                   ((*mul, "x = a * b and L = x * c"),
                    (*used_twice, "each leaf's grad must add up over the two backward() "
                                  "calls, which needs += in _backward")),
                   ("__mul__",), twice=True),
    ]


# ---- the checker -------------------------------------------------------------------------
def check_engine(value_class: Any, quiet: bool = False,
                 timeout: float | None = DEFAULT_TIMEOUT) -> Report:
    """Check your own micrograd-shaped ``Value`` class; print a ✓/✗ line per case.

    Pass the class itself: ``check_engine(Value)``. Every ✗ names the case, the expected and
    the received numbers, and a hint. Parts you have not written yet are reported as "not
    implemented yet". Each case may run ``timeout`` seconds (None: no limit); an error in
    your code, or a loop that never ends, is a ✗ too, never a traceback. Returns a
    ``Report``, truthy only when every case passes.
    """
    timeout = time_limit(timeout, "check_engine")
    name = getattr(value_class, "__name__", None)
    name = name if isinstance(name, str) else type(value_class).__name__
    report = new_report(f"check_engine({name[:40]}): your Value class", quiet,
                        timeout)
    if not isinstance(value_class, type):
        report.add(Result(
            "check_engine needs your class", "fail",
            detail=f"got {fmt(value_class)}",
            hint="pass the class itself, check_engine(Value), not an instance like Value(2.0)",
        ))
        return report.finish()
    V = value_class
    report.case(_LEAF, lambda: _check_leaf(V), "making Value(2.0) and reading .data and .grad")
    report.say("one op at a time (out.grad = 10.0, then out._backward() once):")
    ops = {}
    for case in _op_cases():
        ops[case.name] = report.case(case.name, lambda case=case: _run_op(V, case),
                                     f"computing {case.name.split(' (')[0]} and calling "
                                     "out._backward()")
    report.case(_STRUCTURE, lambda: _check_structure(V), "computing (a * b) + c")
    report.say("backward() over a whole graph:")
    for graph in _graph_cases():
        report.case(graph.name, lambda graph=graph: _run_graph(V, graph, ops),
                    "building the graph and calling backward()")
    return report.finish()


_LEAF = "Value(2.0) starts with .data == 2.0 and .grad == 0.0"
_STRUCTURE = "(a * b) + c remembers how it was made: ._prev and ._op"


def _check_leaf(V: type) -> Result:
    name = _LEAF
    leaf, err = attempt(lambda: V(2.0))
    if err is not None:
        if is_not_implemented(err):
            return Result(name, "todo", detail=todo_detail(err))
        return Result(name, "fail", detail=error_text(err),
                      hint="Value(2.0) must work with the number as the only argument: "
                           "def __init__(self, data, _children=(), _op=''): ...")
    missing = [a for a in ("data", "grad") if not hasattr(leaf, a)]
    if missing:
        return Result(name, "fail", detail=f"Value(2.0) has no {' and no '.join(missing)}",
                      hint="store the number in self.data and start self.grad at 0.0 "
                           "(micrograd's names; the checks read them)")
    bad = []
    if not close(leaf.data, 2.0):
        bad.append(Mismatch(".data", 2.0, leaf.data))
    if not close(leaf.grad, 0.0):
        bad.append(Mismatch(".grad", 0.0, leaf.grad, "no backward() has run yet"))
    if bad:
        return Result(name, "fail", bad, hint="__init__ should set self.data = data and "
                                              "self.grad = 0.0")
    return Result(name, "pass")


def _missing(V: type, needs: tuple[str, ...]) -> list[str]:
    return [n for n in needs if not callable(getattr(V, n, None))]


def _as_method(n: str) -> str:
    return n if n.startswith("__") else f"{n}()"


def _todo_or_fail(name: str, err: BaseException, hint: str) -> Result:
    if is_not_implemented(err):
        return Result(name, "todo", detail=todo_detail(err))
    return Result(name, "fail", detail=error_text(err), hint=hint)


def _run_op(V: type, case: _OpCase) -> Result:
    missing = _missing(V, case.needs)
    rops = [n for n in missing if n in ("__radd__", "__rmul__")]
    if rops and len(rops) == len(missing):  # the op itself exists, its mirror does not
        return Result(
            case.name, "fail", detail=f"Python cannot compute {case.name.split(' (')[0]}: your "
            f"Value has no {rops[0]}", mistake="missing-rop",
            hint=f"for `{case.name.split(' (')[0]}` Python first asks the number, which knows "
            f"nothing about Value; then it asks your Value's {rops[0]}. Add it: "
            f"`{case.formula}` (the number ends up on the right, where your "
            f"{rops[0].replace('r', '', 1)} already handles it).",
        )
    if missing:
        return Result(case.name, "todo",
                      detail=f"your Value has no {_as_method(missing[0])} yet")
    leaves, err = attempt(lambda: {k: V(x) for k, x in case.leaves.items()})
    if err is not None:
        return _todo_or_fail(case.name, err, "Value(number) must work")
    out, err = attempt(lambda: case.build(leaves))
    if err is not None:
        return _op_error(case, err)
    if not isinstance(out, V):
        return Result(case.name, "fail", detail=f"{case.name.split(' (')[0]} returned "
                      f"{fmt(out)}", mistake="not-a-value",
                      hint="an op must build and return a new Value, e.g. "
                           "out = Value(self.data * other.data, (self, other), '*'); "
                           "...; return out")
    data = getattr(out, "data", None)
    if not close(data, case.data):
        return Result(case.name, "fail", [Mismatch("out.data", case.data, data)],
                      hint=f"the forward value is wrong: out.data should be {case.data_formula}")

    def run_backward() -> None:
        out.grad = G
        out._backward()

    _, err = attempt(run_backward)
    if err is not None:
        return _todo_or_fail(case.name, err,
                             f"out._backward() raised this error; it should do: {case.formula}")
    got = {k: getattr(leaf, "grad", None) for k, leaf in leaves.items()}
    bad = [Mismatch(f"{k}.grad", exp, got[k], why) for k, (exp, why) in case.grads.items()
           if not close(got[k], exp)]
    if not bad:
        return Result(case.name, "pass")
    for tag, numbers, hint in case.mistakes:
        if all(close(got[k], x) for k, x in numbers.items()):
            return Result(case.name, "fail", bad, hint=hint, mistake=tag)
    if all(close(g, 0.0) for g in got.values()):
        return Result(case.name, "fail", bad, mistake="no-effect", hint=(
            "after out._backward() the inputs' grads are still 0. Define _backward inside "
            "the op, make it add to the inputs' grads, and attach it to the result: "
            f"`out._backward = _backward` before `return out`. It should do: {case.formula}"))
    return Result(case.name, "fail", bad, hint=(
        "work out the local derivative of the op for each input, then add local derivative "
        f"* out.grad to that input's grad: {case.formula}"))


def _op_error(case: _OpCase, err: BaseException) -> Result:
    if is_not_implemented(err):
        return Result(case.name, "todo", detail=todo_detail(err))
    text = message(err)
    if case.number_right and isinstance(err, AttributeError) and (
            "'int' object" in text or "'float' object" in text):
        return Result(case.name, "fail", detail=error_text(err), mistake="number-not-wrapped",
                      hint="the other operand here is a plain number, which has no .data. Wrap "
                           "it first, at the top of the op: `other = other if isinstance(other, "
                           "Value) else Value(other)`.")
    if case.number_left and isinstance(err, RecursionError):
        return Result(case.name, "fail", detail="RecursionError: the op kept calling itself",
                      mistake="missing-rop",
                      hint=f"put the Value on the left: `{case.formula}`. Writing "
                           "`other * self` asks the number again, which calls your r-operator "
                           "again, forever.")
    return Result(case.name, "fail", detail=error_text(err),
                  hint=f"computing {case.name.split(' (')[0]} raised this error. The line "
                       f"shown is where; out.data should be {case.data_formula}.")


def _check_structure(V: type) -> Result:
    name = _STRUCTURE
    missing = _missing(V, ("__add__", "__mul__"))
    if missing:
        return Result(name, "todo", detail=f"your Value has no {missing[0]} yet")
    leaves, err = attempt(lambda: (V(2.0), V(-3.0), V(10.0)))
    if err is not None:
        return _todo_or_fail(name, err, "Value(number) must work")
    a, b, c = leaves
    def build() -> tuple[Any, Any]:
        ab = a * b
        return ab, ab + c

    nodes, err = attempt(build)
    if err is not None:
        return _todo_or_fail(name, err, "computing (a * b) + c raised this error")
    ab, out = nodes
    for node, op, want, inputs in ((ab, "*", (a, b), "a and b"),
                                   (out, "+", (ab, c), "a * b and c")):
        prev = getattr(node, "_prev", None)
        if prev is None:
            return Result(name, "fail", detail="the result has no ._prev",
                          hint="keep the inputs of an op: __init__ stores "
                               "self._prev = set(_children), and each op passes "
                               "(self, other) as _children. backward() walks _prev.")
        kids = list(prev)
        if not all(any(k is w for k in kids) for w in want):
            return Result(name, "fail", detail=f"the {op!r} node's ._prev is {fmt(prev)}",
                          hint=f"the result of {op} should have its inputs ({inputs}) in "
                               "._prev: pass (self, other) as _children when you build it")
        got_op = getattr(node, "_op", None)
        if got_op != op:
            return Result(name, "fail", detail=f"the {op!r} node's ._op is {got_op!r}",
                          hint=f"name the op: build the result with _op='{op}' (the graph "
                               "pictures print it)")
    return Result(name, "pass")


def _reference(graph: _GraphCase) -> tuple[dict[str, float], dict[str, float]]:
    """Expected grads of the leaves and of the named inner nodes, from tinygrad_edu.Value."""
    leaves = {k: _RefValue(x) for k, x in graph.leaves.items()}
    root, inner = graph.build(leaves)
    for _ in range(2 if graph.twice else 1):
        root.backward()
    return ({k: v.grad for k, v in leaves.items()},
            {"L": root.grad, **{k: v.grad for k, v in inner.items()}})


def _run_graph(V: type, graph: _GraphCase, ops: dict[str, Result]) -> Result:
    name = graph.name
    missing = _missing(V, ("backward", *graph.needs))
    if missing:
        return Result(name, "todo", detail=f"your Value has no {_as_method(missing[0])} yet")
    leaves, err = attempt(lambda: {k: V(x) for k, x in graph.leaves.items()})
    if err is not None:
        return _todo_or_fail(name, err, "Value(number) must work")
    built, err = attempt(lambda: graph.build(leaves))
    if err is not None:
        return _todo_or_fail(name, err, "building the graph raised this error (the one-op "
                                        "checks above show which op)")
    root, inner = built
    for label, node in (*inner.items(), ("L", root)):
        if not isinstance(node, V):
            return Result(name, "fail", detail=f"{label} came out as {fmt(node)}",
                          mistake="not-a-value", hint=(
                              "every op must build and return a new Value, not a number: a "
                              "plain number has no grad and no _backward, so backward() cannot "
                              "pass a gradient through it. The one-op checks above show which "
                              "op: out = Value(..., (self, other), '*'); ...; return out"))
    names = {id(v): k for k, v in inner.items()} | {id(root): "L"}
    names |= {id(v): k for k, v in leaves.items()}
    trace = _Trace.start(root, names)
    _, err = attempt(root.backward)
    order_problem = trace.stop() if trace else None
    if err is None and graph.twice:
        _, err = attempt(root.backward)
    if err is not None:
        return _todo_or_fail(name, err, "backward() raised this error")
    want_leaves, want_inner = _reference(graph)
    got_leaves = {k: getattr(v, "grad", None) for k, v in leaves.items()}
    got_inner = {"L": getattr(root, "grad", None)}
    got_inner |= {k: getattr(v, "grad", None) for k, v in inner.items()}
    bad = [Mismatch(f"{k}.grad", w, got_leaves[k]) for k, w in want_leaves.items()
           if not close(got_leaves[k], w)]
    bad_inner = [Mismatch(f"{k.split(' =')[0]}.grad", w, got_inner[k])
                 for k, w in want_inner.items() if not close(got_inner[k], w)]
    if not bad and not bad_inner:
        return Result(name, "pass")
    shown = bad or bad_inner
    if order_problem is not None:
        tag, hint = order_problem
        return Result(name, "fail", shown, hint=hint, mistake=tag)
    if not close(got_inner["L"], want_inner["L"]) and close(got_inner["L"], 0.0):
        return Result(name, "fail", [Mismatch("L.grad", 1.0, got_inner["L"],
                                              "dL/dL = 1"), *bad], mistake="no-seed", hint=(
            "backward() must start with self.grad = 1.0 (the output's gradient with respect "
            "to itself is 1); every other gradient is a multiple of it."))
    broken = [(op, why) for u, op, why in graph.uses if u in ops and ops[u].status != "pass"]
    if broken:
        many = len(broken) > 1
        return Result(name, "fail", shown[:2], hint=(
            "this graph uses " + "; and ".join(f"{op} ({why})" for op, why in broken)
            + f": the one-op case{'s' * many} for {'them' if many else 'it'} above "
            + f"{'are' if many else 'is'} not ✓. Fix {'those' if many else 'that'} first."))
    if graph.twice:
        result = _twice_diagnosis(name, graph, got_leaves, got_inner, want_leaves, want_inner)
        if result is not None:
            return result
    return Result(name, "fail", shown + (bad_inner if bad else []), hint=(
        "the one-op checks above pass, so look at backward(): it must set self.grad = 1.0, "
        "then call _backward() exactly once for every node in the graph, the output first "
        "and each node only after all the nodes that use it (reversed topological order)."))


def _twice_diagnosis(name: str, graph: _GraphCase, got_leaves: dict[str, Any],
                     got_inner: dict[str, Any], want_leaves: dict[str, float],
                     want_inner: dict[str, float]) -> Result | None:
    x = "x = a * b"
    once = {k: w / 2 for k, w in want_leaves.items()}  # leaves after one backward()
    if close(got_inner[x], 2 * want_inner[x]):
        return Result(name, "note", [
            Mismatch("x.grad", want_inner[x], got_inner[x], "c, in PyTorch and tinygrad_edu"),
            *[Mismatch(f"{k}.grad", w, got_leaves[k], "twice the first call's")
              for k, w in want_leaves.items() if not close(got_leaves[k], w)],
        ], mistake="no-reset", detail=(
            "your backward() keeps the inner nodes' grads between calls, as the lecture's "
            "engine does: the second call adds to x = a * b's grad from the first, so a and "
            "b (below x) get more than a second gradient."), hint=(
            "this matters only when backward() runs twice on one graph. A training loop "
            "builds a new graph every step, so your engine trains as PyTorch does. PyTorch "
            "refuses a second backward() through the same graph unless you pass "
            "retain_graph=True, and then adds the same gradients to the leaves again: it "
            "never keeps an inner node's gradient between calls. To do the same, set "
            "node.grad = 0.0 for every node of topo that has inputs (node._prev) before "
            "seeding self.grad = 1.0; the leaves keep adding up (that is why a training loop "
            "calls zero_grad())."))
    if all(close(got_leaves[k], w) for k, w in once.items()):
        return Result(name, "fail", [
            Mismatch(f"{k}.grad", w, got_leaves[k], "first call's grad + second call's")
            for k, w in want_leaves.items()
        ], mistake="reset-leaves", hint=(
            "your backward() also reset the leaves (a, b, c), so the second call replaced "
            "their grads instead of adding to them. Reset only nodes that have inputs "
            "(node._prev); leaves add up across calls, as in PyTorch, and a training loop "
            "clears them with zero_grad()."))
    return None


# ---- watching the order of the _backward calls -------------------------------------------
class _Trace:
    """Wraps every inner node's ``_backward`` to record the order backward() calls them."""

    def __init__(self, inner: list[Any], users: dict[int, list[Any]],
                 names: dict[int, str]) -> None:
        self.inner, self.users, self.names = inner, users, names
        self.calls: list[int] = []
        self.saved: list[tuple[Any, Any, bool]] = []

    @classmethod
    def start(cls, root: Any, names: dict[int, str]) -> _Trace | None:
        inner = _inner_nodes(root)
        if not inner:
            return None
        users: dict[int, list[Any]] = {id(n): [] for n in inner}
        for u in inner:
            for c in u._prev:
                if id(c) in users and all(x is not u for x in users[id(c)]):
                    users[id(c)].append(u)
        trace = cls(inner, users, names)
        for node in inner:
            own = "_backward" in getattr(node, "__dict__", {})
            original = node._backward

            def recorded(_node: Any = node, _original: Any = original) -> Any:
                trace.calls.append(id(_node))
                return _original()

            try:
                node._backward = recorded
            except (AttributeError, TypeError):  # __slots__ or a read-only attribute
                trace._restore()
                return None
            trace.saved.append((node, original, own))
        return trace

    def _restore(self) -> None:
        for node, original, own in self.saved:
            if own:
                node._backward = original
            else:
                del node._backward
        self.saved = []

    def stop(self) -> tuple[str, str] | None:
        """Restore the nodes; return (mistake tag, hint) if the order was wrong."""
        self._restore()
        if not self.calls:
            return "not-visited", (
                "backward() called no node's _backward(), so no gradient was passed on. After "
                "self.grad = 1.0, call node._backward() for every node of the graph, in "
                "reversed topological order.")
        counts: dict[int, int] = {}
        first: dict[int, int] = {}
        for i, n in enumerate(self.calls):
            counts[n] = counts.get(n, 0) + 1
            first.setdefault(n, i)
        for node in self.inner:
            if counts.get(id(node), 0) > 1:
                return "visited-twice", (
                    f"the _backward of {self.name(node)} ran {counts[id(node)]} times in one "
                    "backward(), so its gradient was passed on more than once. Each node must "
                    "appear once in topo: build_topo keeps a `visited` set and skips nodes "
                    "already in it.")
        for node in self.inner:
            if id(node) not in counts:
                return "not-visited", (
                    f"the _backward of {self.name(node)} never ran, so nothing below it got a "
                    "gradient. build_topo must reach every node: for each child in "
                    "node._prev, build_topo(child), then append the node itself.")
        late = [(n, u) for n in self.inner for u in self.users[id(n)]
                if first[id(u)] > first[id(n)]]
        if late:
            n, u = late[0]
            if len(late) == sum(len(us) for us in self.users.values()):
                return "order", (
                    "backward() called _backward from the inputs towards the output: every "
                    f"node ran before the nodes that use it (e.g. {self.name(n)} before "
                    f"{self.name(u)}). topo lists each node after its inputs; walk it "
                    "backwards: `for node in reversed(topo): node._backward()`.")
            return "order", (
                f"{self.name(n)} passed its gradient on (its _backward ran) before "
                f"{self.name(u)}, which uses it, had added its part to {self.short(n)}.grad. "
                "A node may only run once every node that uses it has run. Build a "
                "topological order (each node after its inputs) and call _backward over "
                "reversed(topo), instead of walking the graph from the top.")
        return None

    def name(self, node: Any) -> str:
        if id(node) in self.names:
            label = self.names[id(node)]
            return label if " =" in label or label == "L" else f"the node {label}"
        return f"the node made by {getattr(node, '_op', '?')!r}"

    def short(self, node: Any) -> str:
        return self.names.get(id(node), "its").split(" =")[0]


def _inner_nodes(root: Any) -> list[Any] | None:
    """Every node of the graph that has inputs (found through ``_prev``); None if no _prev."""
    found: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        prev = getattr(node, "_prev", None)
        if prev is None:
            return None
        prev = list(prev)
        if prev:
            found[id(node)] = node
            stack.extend(prev)
    return list(found.values())
