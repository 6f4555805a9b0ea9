"""Compile a Value graph into straight-line Python: ``backward()`` unrolled, as code you can read.

``trace(fn, *example_inputs)`` calls ``fn`` once on Values, records the graph it builds and
writes Python for it: the forward pass, one line per node, then the backward pass, one line per
chain-rule step (``g_a += b * g_c`` is ``a.grad += b.data * c.grad``), in the order
``backward()`` takes them. ``.source`` is that code; calling the result runs it on new numbers.

``compile_step(model, loss_fn, example_x, example_y)`` does the same for one training example
(the model's forward, the loss, the backward) and replays that code over every example of a
batch: one small function per model, not per batch.

What is never frozen into the code:
- a branch taken on data: relu's derivative (``if h > 0.0:``), the max-shift of softmax and
  ``cross_entropy`` (``m = max(z0, z1, ...)``), the signs inside ``hinge_loss`` and
  ``binary_cross_entropy_with_logits``, are code that runs on every call;
- targets and class indices: ``cross_entropy``'s class index picks a score at run time.
``trace`` calls ``fn`` a second time on slightly nudged inputs; if the graph's shape or a number
written into it changes, the graph depends on the data in a way code cannot record, and
``TraceError`` says where.

The results are the floats of the eager engine (the same operations in the same order, so
usually bit for bit, always within 1e-12). When a number overflows or a math function refuses
its input, the compiled code steps aside and the eager engine runs, so errors are exactly the
eager ones.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import attrgetter
from typing import Any

from tinygrad_edu import losses as _losses
from tinygrad_edu.engine import Value

_PLAIN_ARGS = (float, int, tuple)  # what an op's _arg is when it is no Function
_get_data, _get_grad = attrgetter("data"), attrgetter("grad")

__all__ = ["trace", "compile_step", "TraceError", "Traced", "CompiledStep"]


class TraceError(ValueError):
    """``fn``, a model or a loss does something compiled code cannot reproduce; says what."""


# ---------------------------------------------------------------------------------------------
# Recording: the graph as a list of nodes, children before parents.
# ---------------------------------------------------------------------------------------------
class _Node:
    """One node of a recording; ``kind``: input, capture, const, op, max (or leaf, alias)."""

    __slots__ = ("kind", "op", "kids", "arg", "data", "value", "name", "pos", "pre")

    def __init__(self, kind: str, op: str, kids: tuple[int, ...], arg: Any, data: float,
                 value: Value | None, pos: int) -> None:
        self.kind, self.op, self.kids, self.arg = kind, op, kids, arg
        self.data, self.value, self.name, self.pos = data, value, "", pos
        self.pre = ""  # a dense node's sum before its activation (a name in the code)


def _record(roots: Sequence[Value], inputs: Sequence[Value]) -> list[_Node]:
    """The graph below ``roots`` as ``_Node``s, each after its children (depth-first).

    Leaves among ``inputs`` become input nodes; other leaves are decided by ``_compare``.
    """
    index: dict[Value, int] = {}
    order: list[Value] = []
    for root in roots:
        stack = [root]
        while stack:
            v = stack[-1]
            if v in index:
                stack.pop()
                continue
            pending = [c for c in v.children if c not in index]
            if pending:
                pending.reverse()
                stack.extend(pending)
            else:
                stack.pop()
                index[v] = len(order)
                order.append(v)
    input_pos = {v: i for i, v in enumerate(inputs)}
    nodes = []
    for v in order:
        if v.children:
            nodes.append(_Node("op", v.op, tuple([index[c] for c in v.children]), v._arg,
                               v.data, v, 0))
        elif v in input_pos:
            nodes.append(_Node("input", "", (), None, v.data, v, input_pos[v]))
        else:  # captured (the same object each call) or a constant made inside the call
            nodes.append(_Node("leaf", "", (), None, v.data, v, 0))
    return nodes


def _compare(a: list[_Node], b: list[_Node], what: str) -> list[int]:
    """Check two recordings have one shape; returns the leaves whose numbers differ.

    Leaves that are the same object in both are captured (a parameter read at call time);
    other leaves are constants created inside the call.
    """
    if len(a) != len(b):
        raise TraceError(
            f"{what} builds a graph of {len(a)} nodes for the example and {len(b)} for a "
            "slightly different input: its shape depends on the data (a Python `if` on "
            ".data?). Compiled code cannot record that; write it with Value ops (relu, ...) "
            "or run it eagerly."
        )
    differ = []
    for i, (p, q) in enumerate(zip(a, b)):
        same = p.kind == q.kind and p.op == q.op and p.kids == q.kids
        if same and p.kind == "op" and p.op in ("**", "c**", "cross_entropy"):
            same = p.arg == q.arg
        if same and p.kind == "op" and _function_of(p) is not None:
            same = _function_of(p) is _function_of(q)
        if not same:
            raise TraceError(
                f"{what}: node #{i} is {_describe(p)} for the example but {_describe(q)} for "
                "a slightly different input: the graph's shape depends on the data (a Python "
                "`if` on .data?). Compiled code cannot record that; write it with Value ops "
                "or run it eagerly."
            )
        if p.kind == "leaf":
            if p.value is q.value:
                p.kind = q.kind = "capture"
            else:
                p.kind = q.kind = "const"
                if p.data != q.data:
                    differ.append(i)
        elif p.kind == "op" and p.op not in _KNOWN_OPS and _function_of(p) is None:
            raise TraceError(
                f"{what} uses the op {p.op!r}, which compiled code does not know; only the "
                f"engine's ops can be compiled: {', '.join(sorted(_KNOWN_OPS))}"
            )
    return differ


def _function_of(n: _Node) -> type | None:
    """The ``Function`` subclass of a node made by ``MyOp.apply`` (its ``_arg`` is the ctx)."""
    if n.arg is None or type(n.arg) in _PLAIN_ARGS:  # (the common cases, quickly)
        return None
    function = getattr(n.arg, "function", None)
    return function if isinstance(function, type) and function.__name__ == n.op else None


def _describe(n: _Node) -> str:
    if n.kind == "op":
        return f"an {n.op!r} node with {len(n.kids)} input(s)"
    return {"input": "an input", "leaf": "a number"}.get(n.kind, n.kind)


def _max_shifts(nodes: list[_Node], other: list[_Node], differ: list[int], what: str) -> None:
    """Turn the constants that moved with the data into ``max`` nodes, or explain the problem.

    Softmax and cross_entropy subtract ``m = max(z)`` (taken from ``.data``) from every score:
    a constant that is the max of the scores it is subtracted from, in both recordings.
    """
    if not differ:
        return
    parent_of: dict[int, list[int]] = {}
    for i, n in enumerate(nodes):
        for k in n.kids:
            parent_of.setdefault(k, []).append(i)
    groups: dict[tuple[float, float], list[int]] = {}
    for c in differ:
        groups.setdefault((nodes[c].data, other[c].data), []).append(c)
    for (m1, m2), consts in groups.items():
        scores, ok = [], True
        for c in consts:
            for p in parent_of.get(c, []):
                node = nodes[p]
                ok = ok and node.op == "-" and node.kids[1] == c and node.kids[0] != c
                scores.append(node.kids[0])
        scores = sorted(set(scores), key=lambda i: (nodes[i].kind != "input", nodes[i].pos, i))
        if (ok and len(scores) >= 2 and max(nodes[s].data for s in scores) == m1
                and max(other[s].data for s in scores) == m2):
            shift = _Node("max", "max", tuple(scores), None, m1, None, -1)
            nodes.append(shift)
            for c in consts:
                nodes[c].kind, nodes[c].kids = "alias", (len(nodes) - 1,)
            continue
        c = consts[0]
        users = [nodes[p].op for p in parent_of.get(c, [])]
        raise TraceError(
            f"{what}: a plain number computed from the data enters the graph (it is {m1!r} "
            f"for the example, {m2!r} for a slightly different input; used by "
            f"{', '.join(repr(u) for u in users) or 'nothing'}). A number read from .data is "
            "a constant to the graph and would be frozen in compiled code: keep it a Value, "
            "or run this eagerly."
        )


def _resolve(nodes: list[_Node]) -> list[_Node]:
    """Nodes in a valid order with aliases (constants replaced by a max node) removed."""
    alias = {i: n.kids[0] for i, n in enumerate(nodes) if n.kind == "alias"}
    if not alias:
        return nodes
    for n in nodes:
        n.kids = tuple(alias.get(k, k) for k in n.kids)
    keep: list[int] = []
    placed: set[int] = set()

    def place(i: int) -> None:  # depth-first, children first (graphs here are shallow DAGs)
        stack = [(i, False)]
        while stack:
            j, done = stack.pop()
            if done:
                if j not in placed:
                    placed.add(j)
                    keep.append(j)
                continue
            if j in placed:
                continue
            stack.append((j, True))
            stack.extend((k, False) for k in reversed(nodes[j].kids) if k not in placed)

    for i, n in enumerate(nodes):
        if n.kind != "alias":
            place(i)
    new = {old: new for new, old in enumerate(keep)}
    out = [nodes[i] for i in keep]
    for n in out:
        n.kids = tuple(new[k] for k in n.kids)
    return out


# ---------------------------------------------------------------------------------------------
# The ops: forward expression and chain-rule step of each, as code (the engine's formulas).
# ---------------------------------------------------------------------------------------------
_FORWARD = {
    "+": "{0} + {1}", "-": "{0} - {1}", "*": "{0} * {1}", "/": "{0} / {1}", "neg": "-{0}",
    "exp": "exp({0})", "log": "log({0})", "tanh": "tanh({0})", "sigmoid": "sigmoid({0})",
    "relu": "{0} if {0} > 0.0 else 0.0", "sin": "sin({0})", "cos": "cos({0})",
    "abs": "abs({0})", "log1p": "log1p_({0})",
}
# A layer's neurons as one node each (fastpath.dense): linear, then the activation.
_DENSE = {"linear+relu": "relu", "linear+tanh": "tanh", "linear+sigmoid": "sigmoid"}
_LINEAR = {"linear", *_DENSE}
_KNOWN_OPS = set(_FORWARD) | {"**", "c**", "log1p", "cross_entropy"} | _LINEAR


def _sigmoid(x: float) -> float:
    """The engine's sigmoid (two forms so exp never overflows)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _pow(x: float, k: float) -> float:
    """``x ** k`` for a non-integer k: an error for a negative x (not a complex number)."""
    return math.pow(x, k)


def _log1p_value(u: float) -> float:
    """``losses._log1p``'s value: ``log(1 + u)``, corrected to ``log1p(u)`` by adding the
    difference (so its gradient is that of ``log(1 + u)``)."""
    out = math.log(1.0 + u)
    exact = math.log1p(u)
    return out if out == exact else out + (exact - out)


def _cross_entropy_one(zs: list[float], k: int, g: float) -> tuple[float, list[float]]:
    """One example of ``losses.cross_entropy``, with its floats: the loss, and ``g * d/dz``.

    The same two branches as the library, chosen on the data every time: when the right class
    has the top score, ``log1p(sum_{j != k} e^(z_j - z_k))``; otherwise
    ``log(sum_j e^(z_j - m)) - (z_k - m)`` with ``m = max(z)``.
    """
    n = len(zs)
    zk = zs[k]
    grads = [0.0] * n
    if zk == max(zs):
        if n == 1:  # zs[k] - zs[k]
            return zk - zk, [g - g]
        rest = [math.exp(z - zk) for j, z in enumerate(zs) if j != k]
        total = rest[0]
        for r in rest[1:]:
            total += r
        g_total = g / (1.0 + total)
        js = [j for j in range(n) if j != k]
        for j, r in zip(reversed(js), reversed(rest)):  # backward() takes the last first
            grads[j] = r * g_total
            grads[k] -= grads[j]
        return _log1p_value(total), grads
    m = max(zs)
    shifted = [z - m for z in zs]
    e = [math.exp(s) for s in shifted]
    total = e[0]
    for x in e[1:]:
        total += x
    g_total = g / total
    for j in range(n):
        grads[j] = e[j] * g_total
    grads[k] -= g
    return math.log(total) - shifted[k], grads


def _cross_entropy_value(zs: list[float], k: int) -> float:
    return _cross_entropy_one(zs, k, 1.0)[0]


def _function_forward(function: Any, ctx_type: type, xs: list[float]) -> tuple[float, Any]:
    """A Function node's forward on plain numbers: the value, and the ctx for its backward."""
    ctx = ctx_type(function)
    out = function.forward(ctx, *xs)
    if isinstance(out, bool) or not isinstance(out, (int, float)) or not math.isfinite(out):
        raise ValueError(f"{function.__name__}.forward returned {out!r}")  # eager explains
    return float(out), ctx


def _function_grads(ctx: Any, g: float, n: int) -> list[float]:
    """A Function node's backward: the gradient of each input (0.0 where it gives None)."""
    grads = ctx.function.backward(ctx, g)
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != n:
        raise ValueError(f"{ctx.function.__name__}.backward: {len(grads)} gradients")
    out = []
    for x in grads:
        if x is None:
            out.append(0.0)
        elif isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{ctx.function.__name__}.backward returned {x!r}")
        else:
            out.append(float(x))
    return out


_RUNTIME = {"exp": math.exp, "log": math.log, "tanh": math.tanh, "sigmoid": _sigmoid,
            "sin": math.sin, "cos": math.cos, "pow_": _pow, "max": max, "abs": abs,
            "range": range, "len": len, "log1p_": _log1p_value,
            "cross_entropy_": _cross_entropy_one, "cross_entropy_value_": _cross_entropy_value,
            "function_": _function_forward, "function_grads_": _function_grads}


def _forward_expr(n: _Node, k: list[str]) -> str:
    if n.op in _LINEAR:
        half = (len(k) - 1) // 2
        return " + ".join([k[0]] + [f"{k[1 + i]} * {k[1 + half + i]}" for i in range(half)])
    if n.op == "**":
        e = float(n.arg)
        return f"{k[0]} ** {e!r}" if e.is_integer() else f"pow_({k[0]}, {e!r})"
    if n.op == "c**":
        return f"{float(n.arg)!r} ** {k[0]}"
    if n.op == "max":
        return f"max({', '.join(k)})"
    if n.op == "cross_entropy":
        return f"cross_entropy_value_([{', '.join(k)}], {n.arg!r})"
    return _FORWARD[n.op].format(*k)


def _backward_terms(n: _Node, name: str, g: str, k: list[str]) -> tuple[str | None, list]:
    """This node's chain-rule step: (condition or None, [(child position, sign, expr)]).

    In the engine's order; each expression is the engine's ``local * out.grad`` written the
    same way, so the floats are the same.
    """
    op = n.op
    if op == "+":
        return None, [(0, "+", g), (1, "+", g)]
    if op == "-":
        return None, [(0, "+", g), (1, "-", g)]
    if op == "*":
        return None, [(0, "+", f"{k[1]} * {g}"), (1, "+", f"{k[0]} * {g}")]
    if op == "/":
        return None, [(0, "+", f"{g} / {k[1]}"), (1, "-", f"{g} * ({name} / {k[1]})")]
    if op == "neg":
        return None, [(0, "-", g)]
    if op == "**":
        e = float(n.arg)
        if e == 0:
            return None, []
        p = f"{k[0]} ** {e - 1!r}" if (e - 1).is_integer() else f"pow_({k[0]}, {e - 1!r})"
        return None, [(0, "+", f"{e!r} * {p} * {g}")]
    if op == "c**":
        return None, [(0, "+", f"{name} * {math.log(float(n.arg))!r} * {g}")]
    if op == "exp":
        return None, [(0, "+", f"{name} * {g}")]
    if op == "log":
        return None, [(0, "+", f"{g} / {k[0]}")]
    if op == "tanh":
        return None, [(0, "+", f"(1.0 - {name} * {name}) * {g}")]
    if op == "sigmoid":
        return None, [(0, "+", f"{name} * (1.0 - {name}) * {g}")]
    if op == "relu":
        return f"{name} > 0.0", [(0, "+", g)]
    if op == "sin":
        return None, [(0, "+", f"cos({k[0]}) * {g}")]
    if op == "cos":
        return None, [(0, "-", f"sin({k[0]}) * {g}")]
    if op == "abs":
        return None, [(0, "+", f"(1.0 if {k[0]} > 0.0 else -1.0 if {k[0]} < 0.0 else 0.0)"
                                f" * {g}")]
    if op in _LINEAR:
        if op == "linear+relu":
            cond, g = f"{name} > 0.0", g
        elif op in _DENSE:  # tanh, sigmoid: the activation's local derivative first
            cond, g = None, f"gz_{name}"
        else:
            cond = None
        half = (len(k) - 1) // 2
        terms: list = [(0, "+", g)]
        for i in range(half):
            terms.append((1 + i, "+", f"{k[1 + half + i]} * {g}"))
            terms.append((1 + half + i, "+", f"{k[1 + i]} * {g}"))
        return cond, terms
    if op == "log1p":  # as losses._log1p: the gradient of log(1 + u)
        return None, [(0, "+", f"{g} / (1.0 + {k[0]})")]
    if op == "cross_entropy":  # one example's -log softmax(z)_k: d/dz = softmax(z) - onehot
        return None, [(j, "+", f"dz_{name}[{j}]") for j in range(len(k))]
    if _function_of(n) is not None:  # a Function: its backward gives the inputs' grads
        return None, [(j, "+", f"dz_{name}[{j}]") for j in range(len(k))]
    if op == "max":  # a constant to the graph: no gradient flows through the shift
        return None, []
    raise TraceError(f"no chain-rule code for the op {op!r}")


# Ops whose result can overflow to inf without an error, and ops that can hide an inf input
# (relu(-inf) = 0, tanh(inf) = 1, ...): their inputs are summed into a check value.
_MASKING = {"relu", "tanh", "sigmoid", "exp", "max", "abs", "sin", "cos", "cross_entropy"}
_OVERFLOWING = {"+", "-", "*", "/", "linear", "**", "c**", "neg"}


# ---------------------------------------------------------------------------------------------
# Names: from labels and parameter names, unique and valid Python.
# ---------------------------------------------------------------------------------------------
_OP_PREFIX = {"+": "add", "-": "sub", "*": "mul", "/": "div", "neg": "neg", "**": "pow",
              "c**": "cpow", "exp": "e", "log": "lg", "tanh": "t", "sigmoid": "s", "relu": "r",
              "linear": "z", "sin": "sn", "cos": "cs", "abs": "ab", "max": "m",
              "cross_entropy": "ce", "log1p": "l1p", "linear+relu": "h", "linear+tanh": "t",
              "linear+sigmoid": "s"}
_ACT_PREFIX = {"relu": "h", "tanh": "t", "sigmoid": "s"}


class _Names:
    """Hands out unique identifiers (a label ``w0*x0`` becomes ``w0_x0``, then ``w0_x0_1``)."""

    def __init__(self, reserved: Sequence[str]) -> None:
        self.used = set(reserved) | set(_RUNTIME) | set(keyword.kwlist)
        self.counters: dict[str, int] = {}

    def new(self, wanted: str) -> str:
        if not wanted.isidentifier() or wanted.startswith("_"):
            wanted = re.sub(r"\W", "_", wanted).strip("_") or "v"
            if wanted[0].isdigit():
                wanted = "v" + wanted
        name = wanted
        while name in self.used:
            self.counters[wanted] = self.counters.get(wanted, 0) + 1
            name = f"{wanted}_{self.counters[wanted]}"
        self.used.add(name)
        return name

    def numbered(self, prefix: str) -> str:
        while True:
            self.counters[prefix] = self.counters.get(prefix, 0) + 1
            name = f"{prefix}{self.counters[prefix]}"
            if name not in self.used:
                self.used.add(name)
                return name


def _name_nodes(nodes: list[_Node], names: _Names) -> None:
    """Name every unnamed node: its label, a neuron name (``L1_z3``, ``L1_h3``), or by op."""
    for n in nodes:
        if n.name or n.kind == "const":
            continue
        label = n.value.label if n.value is not None else ""
        if label:
            n.name = names.new(label)
        elif n.op in _LINEAR and nodes[n.kids[0]].kind == "capture" and (
                m := re.fullmatch(r"(.*)b(\d*)", nodes[n.kids[0]].name)):
            act = _ACT_PREFIX.get(_DENSE.get(n.op, ""), "z")
            n.name = names.new(f"{m.group(1)}{act}{m.group(2)}")
            if n.op in _DENSE:
                n.pre = names.new(f"{m.group(1)}z{m.group(2)}")
        elif n.op in _ACT_PREFIX and nodes[n.kids[0]].op == "linear" and (
                m := re.fullmatch(r"(.*)z(\d*)", nodes[n.kids[0]].name)):
            n.name = names.new(f"{m.group(1)}{_ACT_PREFIX[n.op]}{m.group(2)}")
        else:
            stem = _OP_PREFIX.get(n.op, n.op.lower() if n.op.isidentifier() else "v")
            n.name = names.numbered(stem if n.kind != "capture" else "c")
        if n.op in _DENSE and not n.pre:
            n.pre = names.new(f"{n.name}_z")


# ---------------------------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------------------------
# Above this many multiply-adds in one graph, neurons with at least _VECTOR_MIN inputs are
# written as loops over lists (two lines of backward per neuron instead of 2n): Python's
# compiler takes ~15 µs per statement, so straight-line code for a 128-wide layer would take
# half a second to compile. Smaller graphs (the demo, digits) stay fully straight-line, which
# runs fastest.
_VECTOR_EDGES = 8192
_VECTOR_MIN = 32


class _Code:
    """Lines of code; backward statements are lists finalised in a second pass (``= / +=``)."""

    def __init__(self) -> None:
        self.lines: list[Any] = []  # str, or [indent, target, sign, expr, block path, assign]
        self.indent = 1

    def add(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def text(self) -> str:
        return "\n".join(x if isinstance(x, str) else _statement(x) for x in self.lines) + "\n"


def _statement(s: list) -> str:
    indent, target, sign, expr, _, assign = s
    pad = "    " * indent
    if assign:
        if sign == "-":
            expr = f"-{expr}" if expr.isidentifier() else f"-({expr})"
        return f"{pad}{target} = {expr}"
    return f"{pad}{target} {sign}= {expr}"


def _tuple(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


class _Graph:
    """A recording ready for code: nodes in order, the outputs, names and storage.

    ``captured`` are the Values read from outside (parameters): their data arrives in a list
    ``C`` and their running gradients in a list ``G``, which the code hands back.
    """

    def __init__(self, nodes: list[_Node], roots: list[int]) -> None:
        self.nodes = nodes
        self.roots = roots
        self.vec: dict[int, tuple[str, str]] = {}  # linear node -> (weights list, inputs list)
        self.vec_lists: dict[tuple[int, ...], str] = {}  # input tuple -> its list's name
        self.grads: dict[int, str] = {}
        self.extra: dict[str, Any] = {}  # names the code uses for Function classes
        self.fn_names: dict[Any, str] = {}

    def ref(self, i: int) -> str:
        n = self.nodes[i]
        return repr(float(n.data)) if n.kind == "const" else n.name

    # ---- layout: names and where each value and gradient lives ----------------------------
    def layout(self, names: _Names, cap_order: list[Value], cap_names: dict[Value, str],
               want_inputs: bool) -> tuple[list[str], list[str]]:
        """Name everything; returns the lines that load ``C`` and ``G`` and store ``G``."""
        nodes = self.nodes
        pos = {v: j for j, v in enumerate(cap_order)}
        in_list: dict[int, tuple[int, int]] = {}  # captured position -> (vec node, index)
        claimed: dict[int, tuple[int, ...]] = {}  # node -> the input tuple (list) holding it
        edges = sum(len(n.kids) for n in nodes if n.op in _LINEAR)
        vec: list[int] = []
        canon: dict[tuple[int, ...], tuple[int, ...]] = {}
        for i, n in enumerate(nodes):  # which neurons become loops over lists
            half = (len(n.kids) - 1) // 2
            if n.op not in _LINEAR or edges < _VECTOR_EDGES or half < _VECTOR_MIN:
                continue
            ws, xs = n.kids[1:1 + half], n.kids[1 + half:]
            xs = canon.setdefault(xs, xs)  # one tuple object per list of inputs
            if len(set(n.kids)) != len(n.kids) or not all(nodes[w].kind == "capture"
                                                           for w in ws):
                continue
            start = pos[nodes[ws[0]].value]
            if any(pos[nodes[w].value] != start + j or start + j in in_list
                   for j, w in enumerate(ws)):
                continue
            if any(claimed.get(x, xs) is not xs or nodes[x].kind == "const" for x in xs):
                continue
            vec.append(i)
            for j in range(half):
                in_list[start + j] = (i, j)
            for x in xs:
                claimed[x] = xs
        # Captured values outside the lists: locals named after the parameters.
        for i, n in enumerate(nodes):
            if n.kind == "capture" and pos[n.value] not in in_list and not n.name:
                n.name = names.new(cap_names.get(n.value) or n.value.label or "c")
                self.grads[i] = names.new(f"g_{n.name}")
        local = {n.value: (n.name, self.grads[i]) for i, n in enumerate(nodes)
                 if n.kind == "capture" and pos[n.value] not in in_list}
        for j, v in enumerate(cap_order):  # captured but unused by the graph
            if j not in in_list and v not in local:
                name = names.new(cap_names.get(v) or v.label or "c")
                local[v] = (name, names.new(f"g_{name}"))
        for i in vec:  # placeholders until the neuron's own name is known
            for w in nodes[i].kids[1:1 + (len(nodes[i].kids) - 1) // 2]:
                nodes[w].name = "?"
        _name_nodes(nodes, names)
        for n in nodes:
            function = _function_of(n)
            if function is not None:
                for thing, stem in ((function, function.__name__), (type(n.arg), "Ctx")):
                    if thing not in self.fn_names:
                        self.fn_names[thing] = names.new(f"{stem}_")
                        self.extra[self.fn_names[thing]] = thing
        for xs in dict.fromkeys(claimed.values()):
            stem = re.sub(r"\d+$", "", nodes[xs[0]].name)
            self.vec_lists[xs] = names.new(stem[:-1] + stem[-1].upper() if stem else "X")
        wlists: dict[int, str] = {}
        for i in vec:
            n = nodes[i]
            m = re.fullmatch(r"(.*)b(\d*)", nodes[n.kids[0]].name)
            wname = names.new(f"{m.group(1)}W{m.group(2)}" if m else "W")
            wlists[i] = wname
            half = (len(n.kids) - 1) // 2
            self.vec[i] = (wname, self.vec_lists[n.kids[1 + half:]])
            for j, w in enumerate(n.kids[1:1 + half]):
                nodes[w].name = f"{wname}[{j}]"
                self.grads[w] = f"g_{wname}[{j}]"
                names.used.add(f"g_{wname}")
        for i, n in enumerate(nodes):
            if i in self.grads or not (n.kind == "op" or (n.kind == "input" and want_inputs)):
                continue
            xs = claimed.get(i)
            self.grads[i] = (f"g_{self.vec_lists[xs]}[{xs.index(i)}]" if xs is not None
                             else names.new(f"g_{n.name}"))
        # Loading and storing the captured values: runs of plain locals, and whole lists.
        load, load_g, store = [], [], []
        j = 0
        while j < len(cap_order):
            if j in in_list:
                vi = in_list[j][0]
                wname = wlists[vi]
                end = j + (len(nodes[vi].kids) - 1) // 2
                load.append(f"{wname} = C[{j}:{end}]")
                load_g.append(f"g_{wname} = G[{j}:{end}]")
                store.append(f"G[{j}:{end}] = g_{wname}")
            else:
                end = j
                while end < len(cap_order) and end not in in_list:
                    end += 1
                run = [local[cap_order[t]] for t in range(j, end)]
                load.append(f"{_tuple([r[0] for r in run])} = C[{j}:{end}]")
                load_g.append(f"{_tuple([r[1] for r in run])} = G[{j}:{end}]")
                store.append(f"G[{j}:{end}] = {_tuple([r[1] for r in run])}")
            j = end
        return load + load_g, store

    # ---- forward ------------------------------------------------------------------------
    def forward(self, code: _Code, first: bool = False) -> bool:
        """One line per node: its value from its inputs' values; True if it wrote ``chk``
        (``chk = ...`` when ``first``, else ``chk += ...``)."""
        nodes = self.nodes
        built: set[str] = set()
        for i, n in enumerate(nodes):
            if n.kind != "op" and n.kind != "max":
                continue
            kids = [self.ref(k) for k in n.kids]
            target = n.pre or n.name  # a dense node: first the sum, then the activation
            if i in self.vec:
                wname, xname = self.vec[i]
                if xname not in built:
                    built.add(xname)
                    xs = next(t for t, name in self.vec_lists.items() if name == xname)
                    code.add(f"{xname} = [{', '.join(nodes[x].name for x in xs)}]")
                code.add(f"{target} = {kids[0]}")
                code.add(f"for w_, x_ in zip({wname}, {xname}):  # b + sum of w * x")
                code.add(f"    {target} += w_ * x_")
            elif _function_of(n) is None:
                code.add(f"{target} = {_forward_expr(n, kids)}")
            else:  # a Function: its own forward, on the numbers, with a fresh ctx
                code.add(f"{n.name}, ctx_{n.name} = function_({self.fn_names[_function_of(n)]}, "
                         f"{self.fn_names[type(n.arg)]}, [{', '.join(kids)}])")
            if n.pre:
                code.add(f"{n.name} = {_FORWARD[_DENSE[n.op]].format(n.pre)}")
        # Values an op might hide (relu(-inf) = 0, tanh(inf) = 1) go into a check sum.
        hidden = [nodes[k].name for n in nodes
                  if n.op in _MASKING or _function_of(n) is not None for k in n.kids
                  if nodes[k].kind == "op" and nodes[k].op in _OVERFLOWING]
        hidden += [n.pre for n in nodes if n.pre]  # a dense node's sum, hidden by relu/tanh
        if hidden:
            code.add(f"chk {'=' if first else '+='} {' + '.join(dict.fromkeys(hidden))}"
                     "  # finite unless a value overflowed")
        return bool(hidden)

    # ---- backward -----------------------------------------------------------------------
    def needs_grad(self, wanted: set[str]) -> list[bool]:
        """Whether a node's gradient leads to something wanted (captured values, inputs)."""
        need: list[bool] = []
        for n in self.nodes:
            if n.kind == "op":
                need.append(any(need[k] for k in n.kids))
            else:
                need.append(n.kind in wanted)
        return need

    def backward_order(self) -> list[int]:
        """Inner nodes in the order ``backward()`` visits them: newest first."""
        nodes = self.nodes
        inner = [i for i, n in enumerate(nodes) if n.kind == "op"]
        return sorted(inner, key=lambda i: nodes[i].value._seq, reverse=True)  # type: ignore

    def backward(self, code: _Code, need: list[bool], accumulate: set[int]) -> None:
        """The chain rule node by node, each gradient in ``self.grads``.

        Nodes in ``accumulate`` (captured values, outputs seeded by the loss) are added to;
        every other gradient starts at 0 for this call. A node whose gradient is zero whenever
        a relu did not fire sits inside that relu's ``if``.
        """
        nodes, grads = self.nodes, self.grads
        users: list[list[int]] = [[] for _ in nodes]
        for i, n in enumerate(nodes):
            if n.kind == "op":
                for k in n.kids:
                    users[k].append(i)
        for r in self.roots:
            users[r].append(-1)  # the loss (outside this graph) uses the outputs
        blocks: list[tuple[int, set[int]]] = []  # open relu blocks: (id, member nodes)
        base = code.indent
        start = len(code.lines)
        stmts: dict[int, list[list]] = {}  # node -> statements adding to its gradient
        readers: dict[int, tuple[int, ...]] = {}
        for i in self.backward_order():
            if not need[i]:
                continue
            while blocks and not all(u in blocks[-1][1] for u in users[i] if u < 0 or need[u]):
                blocks.pop()
            path = tuple(b for b, _ in blocks)
            readers[i] = path
            n = nodes[i]
            g = grads[i]
            code.indent = base + len(blocks)
            kids = [self.ref(k) for k in n.kids]
            cond, terms = _backward_terms(n, n.name, g, kids)
            if n.op == "cross_entropy":
                code.add(f"dz_{n.name} = cross_entropy_([{', '.join(kids)}], {n.arg!r}, "
                         f"{g})[1]  # g * (softmax(z) - onehot)")
            elif _function_of(n) is not None:
                code.add(f"dz_{n.name} = function_grads_(ctx_{n.name}, {g}, {len(kids)})"
                         f"  # {n.op}.backward")
            elif n.op in _DENSE and not cond:  # tanh, sigmoid: d(activation)/d(sum) first
                local = (f"(1.0 - {n.name} * {n.name})" if n.op == "linear+tanh"
                         else f"{n.name} * (1.0 - {n.name})")
                code.add(f"gz_{n.name} = {local} * {g}  # {n.op}: the sum's gradient")
            if cond:
                code.add(f"if {cond}:  # {n.name} = relu(...) passes its gradient if > 0")
                blocks.append((i, {i}))
                path = path + (i,)
                code.indent += 1
            if n.op in _LINEAR:
                code.add(f"# {n.name} = {n.op}: g_b += g, g_w += x * g, g_x += w * g")
            if i in self.vec:  # a big neuron: its weights and inputs as lists
                wname, xname = self.vec[i]
                terms = terms[:1]  # the bias; then the lists
                gsum = terms[0][2]
            for p, sign, expr in terms:
                k = n.kids[p]
                if need[k]:
                    s = [code.indent, grads[k], sign, expr, path, False]
                    code.lines.append(s)
                    stmts.setdefault(k, []).append(s)
            if i in self.vec:
                code.add(f"g_{wname} = [a_ + x_ * {gsum} for a_, x_ in zip(g_{wname}, "
                         f"{xname})]")
                if any(need[x] for x in n.kids[1 + (len(n.kids) - 1) // 2:]):
                    code.add(f"g_{xname} = [a_ + w_ * {gsum} for a_, w_ in zip(g_{xname}, "
                             f"{wname})]")
            for blk in blocks:
                blk[1].add(i)
        code.indent = base
        # Second pass: a gradient's first statement assigns (`g = ...`) when everything that
        # later adds to it or reads it runs inside the same block; otherwise it starts at 0.
        inits = []
        for k, ss in stmts.items():
            if k in accumulate or "[" in ss[0][1]:
                continue
            first = ss[0][4]
            later = [s[4] for s in ss[1:]] + [readers.get(k, ())]
            if all(p[:len(first)] == first for p in later):
                ss[0][5] = True
            else:
                inits.append(grads[k])
        for k, n in enumerate(nodes):  # wanted inputs nothing reached
            if n.kind == "input" and need[k] and k not in stmts and "[" not in grads[k]:
                inits.append(grads[k])
        lists = [f"g_{name} = [0.0] * {len(xs)}" for xs, name in self.vec_lists.items()
                 if any(need[x] for x in xs)]
        pad = "    " * base
        for line in lists + ([" = ".join(inits) + " = 0.0"] if inits else []):
            code.lines.insert(start, pad + line)


# ---------------------------------------------------------------------------------------------
# trace(fn, *example_inputs)
# ---------------------------------------------------------------------------------------------
def _nudged(x: float) -> float:
    """A slightly different input: numbers computed from the data move with it."""
    return x + (abs(x) + 1.0) * 2.0**-20


def _number(x: Any, what: str) -> float:
    if isinstance(x, Value):
        return x.data
    if hasattr(x, "item") and not isinstance(x, (int, float)):  # numpy scalars
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what} must be a number, got {type(x).__name__} {x!r}")
    return float(x)


def _shape_like(flat: Sequence[float], shapes: list[int | None]) -> list[Any]:
    out: list[Any] = []
    k = 0
    for shape in shapes:
        if shape is None:
            out.append(flat[k])
            k += 1
        else:
            out.append(list(flat[k:k + shape]))
            k += shape
    return out


class Traced:
    """A compiled function: ``value, grads = traced(*inputs)``; ``.source`` is its code.

    ``grads`` matches the inputs: one float per number, a list per list. Values the function
    reads from outside (a model's parameters, ``.captured``) are read afresh on every call and
    receive their gradients in ``.grad``, added on as ``backward()`` does.
    """

    def __init__(self, fn: Callable[..., Any], source: str, code: Callable[..., Any],
                 shapes: list[int | None], labels: list[str], captured: list[Value]) -> None:
        self.fn = fn
        self.source = source
        self.captured = captured
        self._code = code
        self._shapes = shapes
        self._labels = labels

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", "fn")
        return f"<traced {name}: {self.source.count(chr(10))} lines of Python>"

    def _flat(self, inputs: Sequence[Any]) -> list[float]:
        if len(inputs) != len(self._shapes):
            raise TypeError(f"expected {len(self._shapes)} inputs (as traced), got {len(inputs)}")
        flat: list[float] = []
        for i, (x, shape) in enumerate(zip(inputs, self._shapes)):
            if shape is None:
                flat.append(_number(x, f"input {i}"))
                continue
            if hasattr(x, "tolist") and not isinstance(x, (list, tuple)):
                x = x.tolist()
            if not isinstance(x, (list, tuple)) or len(x) != shape:
                raise ValueError(f"input {i} must be a list of {shape} numbers (as traced), "
                                 f"got {x!r}")
            flat.extend(_number(v, f"input {i}[{j}]") for j, v in enumerate(x))
        return flat

    def __call__(self, *inputs: Any) -> tuple[float, list[Any]]:
        flat = self._flat(inputs)
        cap = self.captured
        try:
            value, chk, g_in, g_cap = self._code(flat, [c.data for c in cap],
                                                 [c.grad for c in cap])
            ok = -math.inf < value + chk + sum(g_in) + sum(g_cap) < math.inf
        except Exception:  # noqa: BLE001 (the eager engine raises the right error, or agrees)
            ok = False
        if not ok:  # an overflow or a domain error: the eager engine says exactly where
            return self.eager(*inputs)
        for c, g in zip(cap, g_cap):
            c.grad = g
        return value, _shape_like(g_in, self._shapes)

    def eager(self, *inputs: Any) -> tuple[float, list[Any]]:
        """The same call on the eager engine: ``fn`` on new Values, then ``backward()``."""
        it = iter(self._flat(inputs))
        labels = iter(self._labels)
        args: list[Any] = []
        leaves: list[Value] = []
        for shape in self._shapes:
            if shape is None:
                args.append(Value(next(it), next(labels)))
                leaves.append(args[-1])
            else:
                args.append([Value(next(it), next(labels)) for _ in range(shape)])
                leaves.extend(args[-1])
        out = self.fn(*args)
        out.backward()
        return out.data, _shape_like([v.grad for v in leaves], self._shapes)


def _input_values(example_inputs: Sequence[Any], arg_names: list[str], nudge: bool
                  ) -> tuple[list[Any], list[Value], list[str], list[int | None]]:
    """Fresh input Values for one recording, with their labels and the inputs' shapes."""
    args: list[Any] = []
    flat: list[Value] = []
    labels: list[str] = []
    shapes: list[int | None] = []
    for i, x in enumerate(example_inputs):
        base = arg_names[i] if i < len(arg_names) else f"x{i}"
        if isinstance(x, (list, tuple)) or hasattr(x, "tolist") and hasattr(x, "__len__"):
            xs = x.tolist() if hasattr(x, "tolist") else x
            if not xs:
                raise TypeError(f"trace: example input {i} is an empty list")
            vs = []
            for j, e in enumerate(xs):
                data = _number(e, f"trace: example input {i}[{j}]")
                label = e.label if isinstance(e, Value) and e.label else f"{base}{j}"
                vs.append(Value(_nudged(data) if nudge else data, label))
            args.append(vs)
            flat.extend(vs)
            shapes.append(len(vs))
        else:
            data = _number(x, f"trace: example input {i}")
            label = x.label if isinstance(x, Value) and x.label else base
            v = Value(_nudged(data) if nudge else data, label)
            args.append(v)
            flat.append(v)
            shapes.append(None)
        labels.extend(v.label for v in flat[len(labels):])
    return args, flat, labels, shapes


def _root_of(fn: Callable[..., Any], args: list[Any]) -> Value:
    out = fn(*args)
    if not isinstance(out, Value):
        got = (f"a list of {len(out)} Values" if isinstance(out, (list, tuple))
               else type(out).__name__)
        raise TraceError(
            f"trace: fn must return one Value (e.g. a loss) to differentiate, got {got}; "
            "sum the outputs or pick one"
        )
    return out


def _recording(what: str, first: list[_Node], second: list[_Node], root: Value) -> _Graph:
    """One graph from two recordings of the same call on different data."""
    if len(first) != len(second):
        raise TraceError(
            f"{what} builds a graph of {len(first)} nodes for the example and {len(second)} "
            "for a slightly different input: its shape depends on the data (a Python `if` "
            "on .data?). Compiled code cannot record that; write it with Value ops (relu, "
            "...) or run it eagerly."
        )
    differ = _compare(first, second, what)
    _max_shifts(first, second, differ, what)
    nodes = _resolve(first)
    return _Graph(nodes, [next(i for i, n in enumerate(nodes) if n.value is root)])


_tracing = threading.local()  # .active: this thread is recording inside trace()


def _as_op(op: str, data: float, children: tuple[Value, ...], arg: Any = None) -> Value:
    """A node of a recording (never backpropagated): one op where the library branches."""
    out = Value(data)
    out.op, out.children, out._arg = op, children, arg
    return out


def _one_cross_entropy_op(zs: list[Value], k: int) -> Value:
    if not getattr(_tracing, "active", False):
        return _LIBRARY["_one_cross_entropy"](zs, k)
    return _as_op("cross_entropy", _cross_entropy_value([z.data for z in zs], k), tuple(zs), k)


def _log1p_op(u: Value) -> Value:
    if not getattr(_tracing, "active", False):
        return _LIBRARY["_log1p"](u)
    return _as_op("log1p", _log1p_value(u.data), (u,))


_LIBRARY: dict[str, Callable[..., Any]] = {}
_AS_OPS = {"_one_cross_entropy": _one_cross_entropy_op, "_log1p": _log1p_op}


_patch_lock = threading.Lock()


@contextmanager
def _recording_losses() -> Iterator[None]:
    """While recording, the losses' data-dependent steps become single ops.

    ``cross_entropy`` picks its formula by whether the right class has the top score, and
    ``_log1p`` adds a correction only when rounding needs one: branches on the data, which a
    recording of the Values alone would freeze. As ops, their code makes that choice on
    every call. (Other threads calling the losses meanwhile get the library's own code.)
    """
    with _patch_lock:
        for name, op in _AS_OPS.items():
            if hasattr(_losses, name):
                _LIBRARY[name] = getattr(_losses, name)
                setattr(_losses, name, op)
        _tracing.active = True
        try:
            yield
        finally:
            _tracing.active = False
            for name in _AS_OPS:
                if name in _LIBRARY:
                    setattr(_losses, name, _LIBRARY[name])


def trace(fn: Callable[..., Value], *example_inputs: Any) -> Traced:
    """Record ``fn`` on the example inputs and compile it to straight-line Python.

    ``example_inputs`` are numbers (or Values, whose labels name them) and lists of numbers;
    ``fn`` receives them as Values and must return one Value. The result is callable with new
    inputs of the same shapes and returns ``(value, grads)``; ``.source`` is the generated
    code, forward then backward, one chain-rule step per line. Raises ``TraceError`` when the
    graph depends on the data in a way code cannot record.

    >>> f = trace(lambda a, b: (a * b + a).tanh(), 0.5, -1.0)
    >>> value, (da, db) = f(2.0, 0.25)
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function, got {type(fn).__name__}")
    if not example_inputs:
        raise TypeError("trace: give example inputs, e.g. trace(f, 2.0, -1.0)")
    try:
        arg_names = [p.name for p in inspect.signature(fn).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        arg_names = []
    what = f"trace({getattr(fn, '__name__', 'fn')})"
    args, flat, labels, shapes = _input_values(example_inputs, arg_names, nudge=False)
    with _recording_losses():
        root = _root_of(fn, args)
    first = _record([root], flat)
    args2, flat2, _, _ = _input_values(example_inputs, arg_names, nudge=True)
    try:
        with _recording_losses():
            root2 = _root_of(fn, args2)
        second = _record([root2], flat2)
    except TraceError:
        raise
    except Exception as err:
        raise TraceError(
            f"{what}: fn failed when called again with the inputs nudged by about 1e-6 "
            f"({type(err).__name__}: {err}); trace calls fn twice to find numbers that "
            "depend on the data. Trace it at inputs where small changes are allowed."
        ) from err
    graph = _recording(what, first, second, root)
    source, code = _trace_code(fn, graph, labels)
    captured = [n.value for n in graph.nodes if n.kind == "capture"]
    return Traced(fn, source, code, shapes, labels, captured)  # type: ignore[arg-type]


def _trace_code(fn: Callable[..., Any], graph: _Graph, labels: list[str]
                ) -> tuple[str, Callable[..., Any]]:
    """The source of a traced function and the function itself."""
    nodes = graph.nodes
    names = _Names(["X", "C", "G", "chk", "a_", "w_", "x_"])
    in_vars = [names.new(label) for label in labels]
    for n in nodes:
        if n.kind == "input":
            n.name = in_vars[n.pos]
    captured = [n.value for n in nodes if n.kind == "capture"]
    load, store = graph.layout(names, captured, {}, want_inputs=True)  # type: ignore[arg-type]
    grads = graph.grads
    in_grads = ["0.0"] * len(in_vars)  # inputs fn does not use have gradient 0
    for i, n in enumerate(nodes):
        if n.kind == "input":
            in_grads[n.pos] = grads[i]
    fname = names.new(getattr(fn, "__name__", "f").replace("<lambda>", "f"))
    code = _Code()
    code.lines.append(f"def {fname}(X, C, G):")
    code.add(f'"""{fname} and its gradients, recorded by trace(): backward() unrolled."""')
    code.add(f"{_tuple(in_vars)} = X  # the inputs")
    if captured:
        code.add("# Values fn reads from outside, as they are now, and their .grad (added to)")
        for line in load:
            code.add(line)
    code.add("# forward: each node's value from its inputs")
    checked = graph.forward(code, first=True)
    root = graph.roots[0]
    code.add("# backward: d(out)/d(node) for every node, in backward()'s order")
    if root in grads:
        code.add(f"{grads[root]} {'+' if nodes[root].kind == 'capture' else ''}= 1.0")
    need = graph.needs_grad({"input", "capture"})
    accumulate = {i for i, n in enumerate(nodes) if n.kind == "capture"} | {root}
    graph.backward(code, need, accumulate)
    for line in store:
        code.add(line)
    code.add(f"return {graph.ref(root)}, {'chk' if checked else '0.0'}, "
             f"[{', '.join(in_grads)}], G")
    source = code.text()
    namespace: dict[str, Any] = {**_RUNTIME, **graph.extra}
    exec(compile(source, f"<trace {fname}>", "exec"), namespace)
    return source, namespace[fname]


# ---------------------------------------------------------------------------------------------
# compile_step(model, loss_fn, example_x, example_y): one example's code, replayed per batch
# ---------------------------------------------------------------------------------------------
def _param_names(model: Any, params: list[Value]) -> dict[Value, str]:
    """Readable names for the parameters: ``L0_w3_1`` is layer 0, neuron 3, weight 1.

    From the documented structure (``layers``, ``neurons``, a neuron's ``w`` and ``b``); other
    parameters keep their labels.
    """
    names: dict[Value, str] = {}

    def neuron(n: Any, prefix: str, j: str) -> None:
        w, b = getattr(n, "w", None), getattr(n, "b", None)
        if isinstance(b, Value) and isinstance(w, (list, tuple)):
            names.setdefault(b, f"{prefix}b{j}")
            for i, wi in enumerate(w):
                if isinstance(wi, Value):
                    names.setdefault(wi, f"{prefix}w{j}{'_' if j else ''}{i}")

    def module(m: Any, prefix: str) -> None:
        neurons = getattr(m, "neurons", None)
        layers = getattr(m, "layers", None)
        if isinstance(neurons, (list, tuple)):
            for j, n in enumerate(neurons):
                neuron(n, prefix, str(j))
        elif isinstance(layers, (list, tuple)):
            for i, layer in enumerate(layers):
                module(layer, f"{prefix}L{i}_")
        else:
            neuron(m, prefix, "")

    module(model, "")
    for j, p in enumerate(params):
        names.setdefault(p, p.label or f"p{j}")
    return names


def _rows_of(example_x: Any, example_y: Any, nin: int | None) -> tuple[list, list]:
    """The examples as lists (one row or a batch of rows, with matching targets)."""
    if hasattr(example_x, "tolist") and not isinstance(example_x, (list, tuple)):
        example_x = example_x.tolist()
    if hasattr(example_y, "tolist") and not isinstance(example_y, (list, tuple)):
        example_y = example_y.tolist()
    if isinstance(example_x, (int, float)) and not isinstance(example_x, bool):
        return [[example_x]], [example_y]
    if not isinstance(example_x, (list, tuple)) or not example_x:
        raise TypeError(
            "compile_step: example_x must be rows of numbers like fit's X (a list of rows), "
            f"got {type(example_x).__name__}"
        )
    first = example_x[0]
    is_batch = isinstance(first, (list, tuple)) or hasattr(first, "tolist") or (
        nin == 1 and isinstance(example_y, (list, tuple)) and len(example_y) == len(example_x))
    if not is_batch:
        return [list(example_x)], [example_y]
    if not isinstance(example_y, (list, tuple)) or len(example_y) != len(example_x):
        raise ValueError(
            f"compile_step: {len(example_x)} example rows need as many targets in example_y, "
            f"got {example_y!r}"
        )
    rows = [r.tolist() if hasattr(r, "tolist") else r for r in example_x]
    return [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows], list(example_y)


def _float_rows(X: Any, nin: int) -> Sequence[Sequence[float]] | None:
    """The batch as rows of floats, or None when it is unusual (the eager path decides).

    Lists of plain floats are used as they are (checked in C-speed passes: a step's batch
    is converted on every call).
    """
    if hasattr(X, "tolist") and not isinstance(X, (list, tuple)):
        X = X.tolist()
    if not isinstance(X, (list, tuple)) or not X:
        return None
    try:
        if (set(map(type, X)) <= {list, tuple} and set(map(len, X)) == {nin}
                and set(map(type, chain.from_iterable(X))) == {float}):
            return X
        rows = []
        for r in X:
            if hasattr(r, "tolist") and not isinstance(r, (list, tuple)):
                r = r.tolist()
            if type(r) not in (list, tuple):
                r = [r]
            if len(r) != nin or not set(map(type, r)) <= {float, int}:
                return None
            rows.append(list(map(float, r)))
    except (TypeError, OverflowError):
        return None
    return rows


def _plain_targets(y: Any, kind: str, k: int) -> list | None:
    """Targets in the form the generated code reads, or None (the eager path decides)."""
    if hasattr(y, "tolist") and not isinstance(y, (list, tuple)):
        y = y.tolist()
    if not isinstance(y, (list, tuple)) or not y:
        return None
    if kind == "generic":
        return list(y)
    try:
        if kind == "cross_entropy":
            if set(map(type, y)) == {int}:
                ok = min(y) >= 0 and max(y) < k
                return list(y) if ok else None
            out = [int(t) for t in y]
            ok = all(type(t) in (int, float) and t == o and 0 <= o < k for t, o in zip(y, out))
            return out if ok else None
        if k == 1:
            flat = y
        elif set(map(type, y)) <= {list, tuple} and set(map(len, y)) == {k}:
            flat = list(chain.from_iterable(y))
        else:
            return None
        if not set(map(type, flat)) <= {float, int} or not all(map(math.isfinite, flat)):
            return None
        if kind == "hinge_loss" and not set(flat) <= {1.0, -1.0}:
            return None
        if kind == "binary_cross_entropy_with_logits" and not 0.0 <= min(flat) <= max(flat
                                                                                     ) <= 1.0:
            return None
        return list(y) if k == 1 else [list(t) for t in y]
    except (TypeError, ValueError, OverflowError):
        return None


_TEMPLATES = {"hinge_loss", "cross_entropy", "mse_loss", "binary_cross_entropy_with_logits"}


def _loss_kind(loss_fn: Any) -> str:
    for name in _TEMPLATES:
        if loss_fn is getattr(_losses, name, None):
            return name
    return "generic"


def _emit_loss(code: _Code, kind: str, outs: list[str], gouts: list[str], names: _Names,
               y: list[str]) -> bool:
    """The loss of one example and d(loss)/d(output) as code; True if it opened an ``if``.

    The same operations in the same order as ``tinygrad_edu.losses`` builds them, so the floats
    are the eager ones. ``terms[...]`` collects the per-example losses; ``seed`` is
    d(mean)/d(term).
    """
    k = len(outs)
    t = names.numbered
    if kind == "hinge_loss":
        u = t("u")
        code.add("# hinge: relu(1 - y*s), written as 1 - s (y = 1) or 1 + s (y = -1)")
        code.add(f"{u} = 1.0 - {outs[0]} if {y[0]} == 1.0 else 1.0 + {outs[0]}")
        code.add(f"terms[i] = {u} if {u} > 0.0 else 0.0")
        code.add(f"if {u} > 0.0:  # the relu passes the gradient: this example counts")
        code.indent += 1
        code.add(f"{gouts[0]} = -seed if {y[0]} == 1.0 else seed")
        return True
    if kind == "cross_entropy":
        row = t("dz")
        code.add("# cross-entropy, as losses.cross_entropy computes it (its max-shift and its")
        code.add("# branch on whether class y has the top score run on every call): the loss")
        code.add("# and seed * (softmax(z) - onehot(y)), the class index y read at run time")
        code.add(f"terms[i], {row} = cross_entropy_([{', '.join(outs)}], y, seed)")
        code.add(f"{_tuple(gouts)} = {row}")
        return False
    if kind == "mse_loss":
        code.add("# squared error (z - y)^2 per output")
        for j, (zj, yj, gj) in enumerate(zip(outs, y, gouts)):
            d = t("d")
            code.add(f"{d} = {zj} - {yj}")
            code.add(f"terms[i * {k} + {j}] = {d} * {d}")
            code.add(f"{gj} = {d} * seed + {d} * seed")
        return False
    if kind == "binary_cross_entropy_with_logits":
        code.add("# binary cross-entropy of logits, the stable form for each sign of z;")
        code.add("# log1p_(e): log(1 + e) corrected to log1p(e), as losses._log1p")
        for j, (z, yj, gj) in enumerate(zip(outs, y, gouts)):
            e, u, sp = t("e"), t("u"), t("sp")
            code.add(f"if {z} >= 0.0:")
            code.add(f"    {e} = exp(-{z}); {u} = 1.0 + {e}; {sp} = log1p_({e})")
            code.add(f"    if {yj} != 1.0:")
            code.add(f"        terms[i * {k} + {j}] = {z} * (1.0 - {yj}) + {sp}")
            code.add(f"        {gj} = -({e} * (seed / {u})) + (1.0 - {yj}) * seed")
            code.add("    else:")
            code.add(f"        terms[i * {k} + {j}] = {sp}")
            code.add(f"        {gj} = -({e} * (seed / {u}))")
            code.add("else:")
            code.add(f"    {e} = exp({z}); {u} = 1.0 + {e}; {sp} = log1p_({e})")
            code.add(f"    if {yj} != 0.0:")
            code.add(f"        terms[i * {k} + {j}] = {sp} - {z} * {yj}")
            code.add(f"        {gj} = {yj} * -seed + {e} * (seed / {u})")
            code.add("    else:")
            code.add(f"        terms[i * {k} + {j}] = {sp}")
            code.add(f"        {gj} = {e} * (seed / {u})")
        return False
    code.add("# the loss is not one of tinygrad_edu.losses: it runs eagerly, per example")
    code.add(f"terms[i], ({_tuple(gouts)}) = loss_eager([{', '.join(outs)}], Y[i], seed)")
    return False


class CompiledStep:
    """``value = step(X_batch, y_batch)``: the mean loss, its gradient added into ``p.grad``.

    ``.source`` is the generated code: one example's forward, loss and backward, run for each
    example of the batch (last example first, as ``backward()`` visits them).
    """

    def __init__(self, model: Any, loss_fn: Any, kind: str, nin: int, nout: int,
                 params: list[Value], source: str, fn: Callable[..., Any]) -> None:
        self.model, self.loss_fn, self.kind = model, loss_fn, kind
        self.nin, self.nout = nin, nout
        self.params = params
        self.source = source
        self._fn = fn

    def __repr__(self) -> str:
        return (f"<compiled step: {self.kind}, {self.nin} inputs, {self.nout} outputs, "
                f"{self.source.count(chr(10))} lines of Python>")

    def eager(self, X: Any, y: Any) -> float:
        """The same step on the eager engine (the batch's graph, then ``backward()``)."""
        J = self.loss_fn([self.model(x) for x in X], y)
        J.backward()
        return J.data

    def __call__(self, X: Any, y: Any) -> float:
        rows = _float_rows(X, self.nin)
        ys = _plain_targets(y, self.kind, self.nout) if rows is not None else None
        if rows is None or ys is None or len(ys) != len(rows):
            return self.eager(X, y)  # unusual data: the eager engine checks and explains it
        params = self.params
        try:
            value, chk, grads = self._fn(rows, ys, list(map(_get_data, params)),
                                         list(map(_get_grad, params)))
            ok = -math.inf < value + chk + sum(grads) < math.inf
        except Exception:  # noqa: BLE001 (the eager engine raises the right error, or agrees)
            ok = False
        if not ok:  # an overflow or a domain error: the eager engine reports it exactly
            return self.eager(X, y)
        for p, g in zip(params, grads):
            p.grad = g
        return value


def _trace_model(model: Any, rows: list[list[Any]], what: str) -> tuple[_Graph, int]:
    """The model's graph for one example, checked against a second example."""
    recs, outs_first = [], []
    for r in (rows[0], rows[1] if len(rows) > 1 else [_nudged(float(v)) for v in rows[0]]):
        xs = [Value(float(v), f"x{j}") for j, v in enumerate(r)]
        out = model(xs)
        outs = [out] if isinstance(out, Value) else list(out)
        if not outs or not all(isinstance(o, Value) for o in outs):
            raise TraceError(f"{what}: the model must return a Value or a list of Values")
        recs.append(_record(outs, xs))
        outs_first = outs_first or outs
    graph = _recording(what, recs[0], recs[1], outs_first[-1])
    at = {n.value: i for i, n in enumerate(graph.nodes) if n.value is not None}
    graph.roots = [at[o] for o in outs_first]
    return graph, len(rows[0])


def compile_step(model: Any, loss_fn: Callable[[Any, Any], Value], example_x: Any,
                 example_y: Any) -> CompiledStep:
    """Compile one training step of ``model`` with ``loss_fn``.

    ``step = compile_step(model, loss_fn, X[:32], y[:32])``; then ``step(X_batch, y_batch)``
    returns the batch's mean loss (a float) and adds d(mean loss)/d(p) into ``p.grad`` for every
    ``p in model.parameters()``: what ``loss_fn([model(x) for x in X_batch], y_batch)
    .backward()`` adds, computed by generated code (``step.source``) instead of a graph.

    ``example_x``/``example_y``: a few rows of the training data and their targets (like
    fit's ``X`` and ``y``), or one row and its target. The model is recorded on two examples
    (its graph must not change shape with the data) and the compiled step is checked against
    the eager engine on up to 4 of them; ``TraceError`` says what could not be compiled. The
    losses of ``tinygrad_edu.losses`` become code; another ``loss_fn`` runs eagerly for each
    example (it must be a mean over examples, as all losses here are).
    """
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError("compile_step: model must be a Module (callable, with parameters())")
    if not callable(loss_fn):
        raise TypeError(f"compile_step: loss_fn must be a function, got {loss_fn!r}")
    what = f"compile_step({type(model).__name__}, {getattr(loss_fn, '__name__', 'loss_fn')})"
    params = list(model.parameters())
    nin = getattr(model, "nin", None)
    rows, ys = _rows_of(example_x, example_y, nin if isinstance(nin, int) else None)
    rows, ys = rows[:4], ys[:4]
    # The eager step on the examples: the reference, and where bad data or a model and loss
    # that do not fit each other raise their usual errors.
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = 0.0
        J = loss_fn([model(r) for r in rows], ys)
        if not isinstance(J, Value):
            raise TypeError(f"{what}: the loss must return a Value, got {type(J).__name__}")
        J.backward()
        want = (J.data, [p.grad for p in params])
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    graph, nin = _trace_model(model, rows, what)
    kind = _loss_kind(loss_fn)
    source, fn, params = _step_code(model, loss_fn, kind, graph, nin, params)
    step = CompiledStep(model, loss_fn, kind, nin, len(graph.roots), params, source, fn)
    # The compiled step on the same examples, from zero grads, must agree with the eager one.
    got_rows = _float_rows(rows, nin)
    got_ys = _plain_targets(ys, kind, len(graph.roots))
    if got_rows is None or got_ys is None:
        raise TraceError(f"{what}: the example rows or targets are not plain numbers")
    value, _, grads = fn(got_rows, got_ys, [p.data for p in params], [0.0] * len(params))
    grads = grads[:len(want[1])]
    scale = max([abs(g) for g in want[1]] + [abs(want[0]), 1e-300])
    worst = max([abs(a - b) for a, b in zip(grads, want[1])] + [abs(value - want[0])])
    if not worst <= 1e-9 * scale:
        raise TraceError(
            f"{what}: the compiled step disagrees with the eager one on the examples (loss "
            f"{value!r} vs {want[0]!r}, largest difference {worst:.3g}). The model or the "
            "loss computes something a recording cannot replay (a number read from .data, "
            "state kept between calls, or a loss that is not a mean over examples)."
        )
    return step


def _step_code(model: Any, loss_fn: Any, kind: str, graph: _Graph, nin: int,
               params: list[Value]) -> tuple[str, Callable[..., Any], list[Value]]:
    """The step's source, the compiled function, and the Values its C and G lists hold."""
    nodes = graph.nodes
    k = len(graph.roots)
    names = _Names(["X", "Y", "C", "G", "n", "i", "y", "seed", "terms", "chk", "total",
                    "loss_eager", "term", "a_", "w_", "x_"])
    for n in nodes:
        if n.kind == "input":
            n.name = names.new(f"x{n.pos}")
    used = {n.pos: n.name for n in nodes if n.kind == "input"}
    in_vars = [used.get(j, "_") for j in range(nin)]  # "_": an input the model does not use
    known = set(params)
    extra = [n.value for n in nodes if n.kind == "capture" and n.value not in known]
    cap_order = params + list(dict.fromkeys(extra))  # type: ignore[arg-type]
    load, store = graph.layout(names, cap_order, _param_names(model, params),
                               want_inputs=False)
    grads = graph.grads
    outs = [graph.ref(r) for r in graph.roots]
    gouts = [grads[r] if nodes[r].kind == "op" else names.numbered("g_out")
             for r in graph.roots]
    per = k if kind in ("mse_loss", "binary_cross_entropy_with_logits") else 1
    ys = [names.new(f"y{j}") for j in range(k)] if per > 1 else ["y"]
    loss_name = kind if kind != "generic" else getattr(loss_fn, "__name__", "a custom loss")
    code = _Code()
    code.lines.append("def step(X, Y, C, G):")
    code.add(f'"""One training step of {type(model).__name__} with {loss_name}: the mean '
             'loss over the batch, and its gradient added to G."""')
    code.add("# the parameters' .data, and their .grad (this step adds to it)")
    for line in load:
        code.add(line)
    code.add("n = len(X)")
    count = "n" if per == 1 else f"(n * {per})"
    code.add(f"seed = 1.0 / {count}  # d(mean loss)/d(one term)")
    code.add(f"terms = [0.0] * {count}")
    code.add("chk = 0.0  # stays finite unless a value overflowed")
    code.add("for i in range(n - 1, -1, -1):  # backward() visits the last example first")
    code.indent = 2
    code.add(f"{_tuple(in_vars)} = X[i]")
    code.add(f"{_tuple(ys)} = Y[i]" if per > 1 else "y = Y[i]")
    code.add("# forward")
    graph.forward(code)
    opened = _emit_loss(code, kind, outs, gouts, names, ys)
    for r, g in zip(graph.roots, gouts):
        if nodes[r].kind == "capture":
            code.add(f"{grads[r]} += {g}")
    code.add("# backward through the model, in backward()'s order")
    need = graph.needs_grad({"capture"})
    accumulate = {i for i, n in enumerate(nodes) if n.kind == "capture"} | set(graph.roots)
    graph.backward(code, need, accumulate)
    code.indent = 1
    del opened
    for line in store:
        code.add(line)
    code.add("total = terms[0]")
    code.add("for term in terms[1:]:  # the per-example losses summed in order, as _mean")
    code.add("    total += term")
    code.add("return (total / len(terms) if len(terms) > 1 else total), chk, G")
    source = code.text()
    namespace: dict[str, Any] = {**_RUNTIME, **graph.extra}
    namespace["loss_eager"] = _eager_loss(loss_fn, k)
    exec(compile(source, f"<compile_step {type(model).__name__}>", "exec"), namespace)
    return source, namespace["step"], cap_order


def _eager_loss(loss_fn: Any, k: int) -> Callable[..., Any]:
    """One example's loss on the eager engine: its value and d(loss)/d(outputs) * seed."""
    try:
        seeded = "gradient" in inspect.signature(Value.backward).parameters
    except (TypeError, ValueError):
        seeded = False

    def loss_eager(outs: list[float], target: Any, seed: float) -> tuple[float, list[float]]:
        vs = [Value(o) for o in outs]
        term = loss_fn([vs[0] if k == 1 else vs], [target])
        if seeded:
            term.backward(gradient=seed)
            return term.data, [v.grad for v in vs]
        term.backward()
        return term.data, [v.grad * seed for v in vs]

    return loss_eager
