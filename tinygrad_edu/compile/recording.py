"""Recording one call of a function on Values: the graph it builds and every decision Python
takes on the numbers along the way.

``record(call)`` runs ``call()`` with a profiler hook (``sys.setprofile``, this thread only)
that watches the engine, so nothing is patched:

- every ``Value`` made during the call, in order, and for those the engine's ops made (its
  ``_result``), the op, inputs and rule, even when no graph is kept (``no_grad``);
- every *decision*: ``v < x`` (and ``<=``, ``>``, ``>=``, so ``max``/``min``/``sorted`` too),
  ``bool(v)``, ``float(v)``, ``repr(v)``, ``format(v, spec)`` on any Value, with the line
  that took it. Compiled code re-checks each one on every call (a *guard*);
- numbers read out of a Value made during the call (``v.data``) by code outside the engine:
  such a Value reads as a ``Number``, a float that records its comparisons as decisions and
  any other use (arithmetic, ``float()``, ``round()``, ...) as "the number itself was used",
  a guard that holds only for the same number.

``Program`` turns a recording into what code generation needs: the nodes in the order they
were made, each an input, a captured Value (it existed before the call: a parameter), a
constant, or an op; and the decisions, each after the nodes it reads.

What cannot be seen: Python's own C functions reading a number (``math.exp(v.data)``), state
outside the Values (a counter, a random draw) and ``.data`` of Values made before the call.
``trace`` and ``compile_step`` record a second time on nudged inputs to catch the first two
where they show, and compare the model's attributes before and after a call.
"""

from __future__ import annotations

import bisect
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinygrad_edu import checks, engine, function
from tinygrad_edu.engine import Constant, Value

__all__ = ["TraceError", "Decision", "Recording", "Node", "Program", "record"]


class TraceError(ValueError):
    """What ``trace`` or ``compile_step`` cannot compile, and why; run it eagerly instead."""


class Decision:
    """One decision Python took on a Value: ``kind`` is a comparison (``"<"``, ...), ``"bool"``,
    ``"format"`` or ``"exact"`` (the number itself was used); ``outcome`` what Python got."""

    __slots__ = ("kind", "value", "other", "outcome", "where", "at")

    def __init__(self, kind: str, value: Value, other: Any, outcome: Any, where: str,
                 at: int) -> None:
        self.kind, self.value, self.other, self.outcome = kind, value, other, outcome
        self.where, self.at = where, at  # at: how many Values had been made by then

    def describe(self) -> str:
        if self.kind == "bool":
            return f"bool(...) at {self.where}"
        if self.kind in ("exact", "format"):
            return f"the number itself (float(), .data, format ...) at {self.where}"
        return f"a comparison '{self.kind}' at {self.where}"


_state = threading.local()  # .recording: the Recording this thread is making, if any
_ENGINE_FILES = {os.path.normcase(m.__file__ or "") for m in (engine, checks, function)}
_ENGINE_CODE: dict[Any, bool] = {}  # code object -> it belongs to the engine


def _where(frame: Any) -> str:
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}" if frame else "?"


class Recording:
    """What one call did: ``made`` (Values, in order), ``ops`` (id -> (op, inputs, rule, arg)
    for those an op of the engine made) and ``decisions``."""

    def __init__(self) -> None:
        self.made: list[Value] = []
        self.order: dict[int, int] = {}  # id(Value) -> position in made
        self.ops: dict[int, tuple[str, tuple[Value, ...], Any, Any]] = {}
        self.decisions: list[Decision] = []

    def decide(self, kind: str, value: Value, other: Any, outcome: Any, frame: Any) -> None:
        if isinstance(other, Number):
            other = other.value
        self.decisions.append(Decision(kind, value, other, outcome, _where(frame),
                                       len(self.made)))

    # ---- the profiler hook: called on every Python function's return during the call ----
    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if event == "return":
            seen = _WATCH.get(frame.f_code)
            if seen is not None:
                seen(self, frame, arg)

    def _made(self, frame: Any, _: Any) -> None:  # Value.__init__ returned
        v = frame.f_locals.get("self")
        if isinstance(v, Value) and id(v) not in self.order:
            self.order[id(v)] = len(self.made)
            self.made.append(v)

    def _op(self, frame: Any, out: Any) -> None:  # engine._result returned a new node
        if isinstance(out, Value):
            loc = frame.f_locals
            self.ops[id(out)] = (loc["op"], tuple(loc["children"]), loc["rule"], loc["arg"])
            if type(out) is Value:
                out.__class__ = Recorded  # so reading its .data is seen (switched back after)

    def _compare(self, frame: Any, outcome: Any) -> None:
        if isinstance(outcome, bool):
            loc = frame.f_locals
            self.decide(_COMPARISONS[frame.f_code], loc["self"], loc["other"], outcome,
                        frame.f_back)

    def _one(self, frame: Any, outcome: Any) -> None:
        if outcome is not None:
            loc = frame.f_locals
            kind = _CONVERSIONS[frame.f_code]
            other = loc.get("spec") if kind == "format" else None
            self.decide(kind, loc["self"], other, outcome, frame.f_back)


_COMPARISONS = {Value.__lt__.__code__: "<", Value.__le__.__code__: "<=",
                Value.__gt__.__code__: ">", Value.__ge__.__code__: ">="}
_CONVERSIONS = {getattr(Value, name).__code__: kind for name, kind in (
    ("__bool__", "bool"), ("__float__", "exact"), ("__repr__", "exact"), ("__format__", "format"),
    ("__int__", "exact"), ("__index__", "exact"), ("__round__", "exact"), ("__trunc__", "exact"),
    ("__floor__", "exact"), ("__ceil__", "exact"), ("__str__", "exact"))
    if name in vars(Value) and hasattr(getattr(Value, name), "__code__")}
_WATCH: dict[Any, Callable[[Recording, Any, Any], None]] = {
    Value.__init__.__code__: Recording._made, engine._result.__code__: Recording._op,
    **dict.fromkeys(_COMPARISONS, Recording._compare),
    **dict.fromkeys(_CONVERSIONS, Recording._one)}


def record(call: Callable[[], Any]) -> tuple[Any, Recording]:
    """``call()``'s result and its recording. Values the engine made during the call are
    ``Recorded`` while it runs (reading their ``.data`` is seen), plain ``Value`` after."""
    rec = Recording()
    outer, enclosing = sys.getprofile(), getattr(_state, "recording", None)
    _state.recording = rec
    sys.setprofile(rec._hook)
    try:
        result = call()
    finally:
        _put_back_profiler(outer)
        _state.recording = enclosing  # (a trace inside a traced function)
        for v in rec.made:
            if type(v) is Recorded:
                v.__class__ = Value
    return result, rec


def _put_back_profiler(outer: Any) -> None:
    """The profiler that ran before recording (cProfile's is an object that re-enables)."""
    try:
        sys.setprofile(outer)
    except TypeError:
        sys.setprofile(None)
        enable = getattr(outer, "enable", None)
        if callable(enable):
            enable()


_DATA = Value.data  # the slot that holds a Value's number


class Recorded(Value):
    """A Value made while recording: code outside the engine that reads its ``.data`` gets a
    ``Number``, which reports what is done with it."""

    __slots__ = ()

    @property  # type: ignore[override]
    def data(self) -> float:
        # The engine's own reads (most of them) come first and call as little as possible:
        # while recording, the profiler hook runs on every call, builtins' too.
        x = _DATA.__get__(self)
        code = sys._getframe(1).f_code
        if code not in _ENGINE_CODE:  # (decided once per piece of code)
            _ENGINE_CODE[code] = os.path.normcase(code.co_filename) in _ENGINE_FILES
        if _ENGINE_CODE[code]:
            return x
        rec = getattr(_state, "recording", None)
        return x if rec is None else Number(x, self, rec)

    @data.setter
    def data(self, x: float) -> None:
        _DATA.__set__(self, x)


class Number(float):
    """A number read from a recorded Value: comparing it is a decision on that Value (a guard);
    any other use of it (arithmetic, ``float()``, ``round()``, formatting, hashing) ties the
    compiled code to this very number (a guard that it is the same)."""

    __slots__ = ("value", "rec")

    def __new__(cls, x: float, value: Value, rec: Recording) -> Number:
        self = super().__new__(cls, x)
        self.value, self.rec = value, rec
        return self


def _comparison(name: str, kind: str) -> Callable[..., Any]:
    compare = getattr(float, name)

    def method(self: Number, other: Any) -> Any:
        outcome = compare(self, other)
        if outcome is not NotImplemented:
            self.rec.decide(kind, self.value, other, outcome, sys._getframe(1))
        return outcome
    return method


def _escape(name: str) -> Callable[..., Any]:
    plain = getattr(float, name)

    def method(self: Number, *args: Any) -> Any:
        frame = sys._getframe(1)
        for x in (self, *args):
            if isinstance(x, Number):
                x.rec.decide("exact", x.value, None, float.__float__(x), frame)
        return plain(float.__float__(self), *[float.__float__(a) if isinstance(a, Number)
                                              else a for a in args])
    return method


for _name, _kind in (("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">="),
                     ("__eq__", "=="), ("__ne__", "!=")):
    setattr(Number, _name, _comparison(_name, _kind))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__divmod__", "__rdivmod__", "__pow__", "__rpow__", "__neg__",
              "__pos__", "__abs__", "__float__", "__int__", "__trunc__", "__floor__", "__ceil__",
              "__round__", "__format__", "__repr__", "__str__", "__hash__", "__getnewargs__",
              "is_integer", "as_integer_ratio", "hex", "conjugate"):
    setattr(Number, _name, _escape(_name))


def _bool(self: Number) -> bool:
    outcome = float.__ne__(self, 0.0)
    self.rec.decide("bool", self.value, None, outcome, sys._getframe(1))
    return outcome


Number.__bool__ = _bool  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------
# The recording as a program: nodes in the order they were made, decisions between them
# ---------------------------------------------------------------------------------------------
class Node:
    """One Value of a program. ``kind``: ``input`` (``slot``: its position in the inputs),
    ``captured`` (existed before the call; ``slot`` in the captured list), ``const`` (a number
    written into the expression), ``target`` (a target passed in, ``slot``: which), ``leaf``
    (a Value made with a fixed number inside the call), ``op`` (an op of the engine) or
    ``detached`` (an op made under ``no_grad``: computed, but no gradient flows through) or
    ``handmade`` (``Value(y, (a,), "cube")``: its number is the one recorded, valid while its
    inputs are exactly as recorded; its rule gives its gradient)."""

    __slots__ = ("value", "kind", "slot", "kids", "op", "rule", "arg", "name")

    def __init__(self, value: Value, kind: str, slot: int = -1, kids: tuple[int, ...] = (),
                 op: str = "", rule: Any = None, arg: Any = None) -> None:
        self.value, self.kind, self.slot, self.kids = value, kind, slot, kids
        self.op, self.rule, self.arg = op, rule, arg
        self.name = ""

    @property
    def grad_flows(self) -> bool:  # backward() computes a gradient for it
        return self.kind not in ("const", "target")

    @property
    def inner(self) -> bool:  # made by the call from inputs: backward() starts its grad at 0
        return self.kind in ("op", "handmade")


class Program:
    """A recording ready for code: ``nodes`` (each after its inputs), ``guards`` (each
    decision with the number of nodes computed before it is checked), ``roots``."""

    def __init__(self, rec: Recording, roots: Sequence[Value], inputs: Sequence[Value],
                 captured: dict[Value, int], targets: dict[int, int] | None = None,
                 what: str = "trace") -> None:
        self.inputs = {v: i for i, v in enumerate(inputs)}
        self.targets = targets or {}
        self.captured = captured  # shared by the programs of one compiled step: slots grow
        self.what = what
        self.rec = rec
        self.nodes: list[Node] = []
        self.at: dict[Value, int] = {}
        self.sums: dict[int, int] = {}  # a relu neuron's node -> its sum's (_split)
        wanted = list(roots)
        for d in rec.decisions:
            wanted += [x for x in (d.value, d.other) if isinstance(x, Value)]
        self._collect(wanted)
        self.roots = [self.at[v] for v in roots]
        for n in self.nodes:  # a hand-made node's number holds while its inputs stay the same
            if n.kind == "handmade":
                rec.decisions += [Decision("exact", self.nodes[k].value, None,
                                           self.nodes[k].value.data, f"the {n.op!r} made by hand",
                                           rec.order[id(n.value)])
                                  for k in n.kids if self.nodes[k].grad_flows]
        # a decision is checked before any node the call made after it: where it happened
        self.guards = []
        if rec.decisions:
            made = [rec.order.get(id(n.value), -1) for n in self.nodes]
            first = made.count(-1)  # (the inputs and what existed before come first)
            seen: set[tuple[Any, ...]] = set()  # (the same decision again adds no check)
            for d in rec.decisions:
                key = (d.kind, id(d.value), id(d.other) if isinstance(d.other, Value)
                       else d.other, d.outcome)
                if key not in seen:
                    seen.add(key)
                    self.guards.append((bisect.bisect_left(made, d.at, lo=first), d))

    def _inputs_of(self, v: Value) -> tuple[Value, ...]:
        made = self.rec.ops.get(id(v))
        return made[1] if made is not None and not v.children else v.children

    def _collect(self, wanted: Iterable[Value]) -> None:
        """Every Value the roots and decisions depend on, classified: the inputs, then what
        existed before the call (each after its inputs), then what the call made, in order."""
        before: list[Value] = []  # what existed before the call, each after its inputs
        seen: set[Value] = set(self.inputs)
        made = self.rec.order
        now: dict[int, Value] = {}  # what the call made, by when
        stack = [(v, False) for v in reversed(list(wanted))]
        while stack:
            v, done = stack.pop()
            if done:
                before.append(v)
            elif v not in seen:
                seen.add(v)
                when = made.get(id(v))
                if when is not None:
                    now[when] = v
                    kids = self._inputs_of(v)
                elif v.children:
                    stack.append((v, True))
                    kids = v.children
                else:  # (a parameter: nothing below it)
                    before.append(v)
                    continue
                if kids:
                    stack += [(k, False) for k in reversed(kids)]
        at, nodes, node = self.at, self.nodes, self._node
        for v in [*self.inputs, *before, *(now[k] for k in sorted(now))]:
            n = node(v)
            if n.op == "linear+relu" and n.kind in ("op", "detached"):
                nodes.append(self._split(n))
            at[v] = len(nodes)
            nodes.append(n)

    def _split(self, n: Node) -> Node:
        """A relu neuron made by the call, one ``linear+relu`` node, is compiled as what it
        computes: its sum (the node returned, ``linear``), then ``n`` turned into relu of that
        sum. The same floats (relu's derivative is exactly 0 or 1), and the code that gives
        layers their speed (``Emitter.group_layers``) reads sums and relus."""
        z = Value(0.0)  # (a stand-in: code is written from the node, never from its number)
        self.rec.order[id(z)] = self.rec.order[id(n.value)]  # (computed where n was)
        total = Node(z, n.kind, -1, n.kids, "linear", engine.RULES["linear"])
        n.kids, n.op, n.rule = (len(self.nodes),), "relu", engine.RULES["relu"]
        self.sums[len(self.nodes) + 1] = len(self.nodes)
        return total

    def _node(self, v: Value) -> Node:
        if v._closure is not None:
            raise TraceError(
                f"{self.what}: the op {v.op!r} has its chain-rule step in a micrograd closure "
                "(out._backward = ...): its derivative is hidden inside a Python function, so "
                "it cannot be written as code. Run it eagerly (fit(..., compiled=False)), or "
                "give the op a rule (engine.RULES) or write it as a Function."
            )
        if v in self.inputs:
            return Node(v, "input", self.inputs[v])
        if id(v) not in self.rec.order:  # it existed before the call
            slot = self.captured.setdefault(v, len(self.captured))
            kids = self._kids(v.children) if v.children else ()
            return Node(v, "captured", slot, kids, v.op, v._rule, v._arg)
        made = self.rec.ops.get(id(v))
        if made is not None:
            op, kids, rule, arg = made
            return Node(v, "op" if v.children else "detached", -1, self._kids(kids), op,
                        rule, arg)
        if v.children:  # made by hand, Value(y, (a, b), "cube"): its rule, but our number
            if v._rule is None:
                raise TraceError(f"{self.what}: the node {v.op!r} was made by hand and has no "
                                 "rule (engine.RULES) nor _backward: backward() cannot run it")
            return Node(v, "handmade", -1, self._kids(v.children), v.op, v._rule, v._arg)
        if id(v.data) in self.targets:  # the very target object passed in: data, not a number
            return Node(v, "target", self.targets[id(v.data)])
        return Node(v, "const" if isinstance(v, Constant) else "leaf")

    def _kids(self, kids: Iterable[Value]) -> tuple[int, ...]:
        return tuple(map(self.at.__getitem__, kids))

    # ---- a second recording on nudged inputs must give the same program ------------------
    def _arg_key(self, arg: Any) -> Any:
        return arg if type(arg) in (int, float) else getattr(arg, "function", type(arg))

    def pinned(self) -> Decision | None:
        """A decision that holds for the recorded numbers only (``float(v)``, ``v.data`` used
        in arithmetic, a node made by hand) on a Value computed from the inputs, if any."""
        for _, d in self.guards:
            if d.kind in ("exact", "format") and self.nodes[self.at[d.value]].kind not in (
                    "captured", "const", "leaf"):
                return d
        return None

    def outcomes(self) -> tuple[Any, ...]:
        """What the decisions came to (another outcome: another program, not a fault)."""
        return tuple((d.kind, d.outcome, d.value.data if d.kind == "exact" else None)
                     for _, d in self.guards)

    def shape(self) -> list[tuple[Any, ...]]:
        """Each node and guard as it must be again when the inputs move a little."""
        key = self._arg_key
        out = [(n.kind, n.op, n.kids, n.slot, None if n.arg is None else key(n.arg),
                n.value.data if n.kind in ("const", "leaf") else None) for n in self.nodes]
        out += [(pos, d.kind, self.at[d.value],
                 self.at[d.other] if isinstance(d.other, Value) else d.other)
                for pos, d in self.guards]
        return out

    def same_as(self, other: Program) -> None:
        """Raise ``TraceError`` if ``other`` (recorded on nudged inputs, its decisions coming
        out the same) differs: the call depends on the data in a way no decision showed."""
        mine, theirs = self.shape(), other.shape()
        if mine == theirs:
            return
        for a, b in zip(mine, theirs):
            if a != b and a[:5] == b[:5] and len(a) == 6:
                raise TraceError(
                    f"{self.what}: a number computed from the inputs was written into the "
                    f"graph as a constant ({a[5]!r} here, {b[5]!r} for inputs nudged by about "
                    "1e-6), so compiled code would freeze it. Such a number comes from .data "
                    "used by C code (math.exp(v.data)) or from outside the Values; keep it a "
                    "Value (v.exp()), or run this eagerly."
                )
        raise TraceError(
            f"{self.what}: the graph changes when the inputs move by about 1e-6 although "
            "every decision on a Value came out the same: it depends on something the "
            "recording cannot see (a random draw, state kept between calls, .data used by C "
            "code such as math functions). Run it eagerly."
        )
