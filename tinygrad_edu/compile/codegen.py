"""Python source for a recorded program, from the engine's own rules.

Backward: each node's local derivatives come from its rule, read as a formula by
``symbolic.formula`` (tanh's rule gives ``1.0 - t * t``), and each input's gradient gets
``g * local`` added, node by node in the order ``backward()`` visits them: the eager engine's
floats. A rule without a formula (a ``Function``'s, or one that branches on numbers) is called
at run time on a small node-like object, as ``backward()`` calls it. As ``backward()`` does,
a node whose gradient is 0 passes nothing on (an ``if g:`` around nodes with many inputs).

Forward: each op's number as the engine computes it. The engine computes numbers inline in
its methods, so ``_FORWARD`` writes each one down (the same float operations in the same
order, through the engine's own ``Math`` where it has the function); a ``Function`` runs its
own ``forward`` on the numbers. Each decision of the recording is checked where it was taken
(a *guard*): when it goes the other way, the code stops (``bail``) before changing anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu import engine, function
from tinygrad_edu.compile.names import Names, comment
from tinygrad_edu.compile.recording import Decision, Node, Program, TraceError
from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.symbolic import Sym, SymMath, formula

__all__ = ["Namespace", "Emitter", "RuntimeNode", "Unusual"]


def _linear(k: Sequence[str], _: str) -> str:  # b + w0 * x0 + w1 * x1 ..., added left to right
    n = (len(k) - 1) // 2
    return " + ".join([k[0], *(f"{k[1 + i]} * {k[1 + n + i]}" for i in range(n))])


_FORWARD: dict[str, Callable[[Sequence[str], str], str]] = {
    "+": lambda k, _: f"{k[0]} + {k[1]}", "-": lambda k, _: f"{k[0]} - {k[1]}",
    "*": lambda k, _: f"{k[0]} * {k[1]}", "/": lambda k, _: f"{k[0]} / {k[1]}",
    "neg": lambda k, _: f"-{k[0]}", "**": lambda k, a: f"_m.pow({k[0]}, {a})",
    "c**": lambda k, a: f"_m.pow({a}, {k[0]})", "exp": lambda k, _: f"_m.exp({k[0]})",
    "log": lambda k, _: f"_m.log({k[0]})", "log1p": lambda k, _: f"_math.log1p({k[0]})",
    "tanh": lambda k, _: f"_math.tanh({k[0]})", "sigmoid": lambda k, _: f"_m.sigmoid({k[0]})",
    "softplus": lambda k, _: f"_max({k[0]}, 0.0) + _math.log1p(_math.exp(-_abs({k[0]})))",
    "relu": lambda k, _: f"{k[0]} if {k[0]} > 0.0 else 0.0", "sin": lambda k, _: f"_m.sin({k[0]})",
    "cos": lambda k, _: f"_m.cos({k[0]})", "abs": lambda k, _: f"_abs({k[0]})",
    "linear": _linear, "logsumexp": lambda k, _: f"_logsumexp({', '.join(k)})",
}


def _logsumexp(*z: float) -> float:
    """engine.logsumexp's number: the largest z taken out, the rest summed with fsum."""
    i = max(range(len(z)), key=z.__getitem__)
    top = z[i]
    return top + math.log1p(math.fsum([math.exp(x - top) for x in z[:i] + z[i + 1:]]))


# Ops whose result is inf or NaN whenever an input is: a value used only by these needs no
# finiteness check of its own (relu(-inf) = 0 hides an overflow; -inf + 1 does not).
_CARRIES_INF = {"+", "-", "*", "neg", "linear"}


class Unusual(Exception):
    """Raised by generated code on something the eager engine should judge (and explain)."""


def _function_forward(cls: Any, *xs: float) -> tuple[float, Any]:
    """A Function's own forward on numbers, with a fresh ctx for its backward."""
    ctx = function.FunctionCtx(cls)
    out = cls.forward(ctx, *xs)
    if type(out) is not float:  # an int, a NumPy number, junk: apply() converts or explains
        raise Unusual
    return out, ctx


class RuntimeNode:
    """What a rule reads of a node (``data``, ``children[i].data``, ``_arg``), at run time."""

    __slots__ = ("data", "children", "_arg")

    def __init__(self, data: float, kids: Sequence[float] = (), arg: Any = None) -> None:
        self.data, self._arg = data, arg
        self.children = tuple(RuntimeNode(k) for k in kids)


RUNTIME: dict[str, Any] = {
    "_m": engine.Math, "_math": math, "_abs": abs, "_max": max, "_format": format,
    "_logsumexp": _logsumexp, "_function_forward": _function_forward, "_node": RuntimeNode,
}


class Namespace:
    """The names generated code uses besides its variables: the helpers above, and objects
    (a Function class, an odd number) as ``_k0``, ``_k1`` ... Every one starts with ``_``."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = dict(RUNTIME)
        self._ids: dict[int, str] = {}

    def ref(self, obj: Any) -> str:
        if id(obj) not in self._ids:
            self._ids[id(obj)] = name = f"_k{len(self._ids)}"
            self.values[name] = obj
        return self._ids[id(obj)]

    def literal(self, x: Any) -> str:
        """A number as Python source (exact: repr of a float reads back the same float)."""
        if type(x) in (float, int) and math.isfinite(x):
            return repr(x)
        return self.ref(x)


class CodeMath(SymMath):
    """``SymMath("_m.")``, except that ``step(x)`` is written out as ``checks.step`` computes
    it, ``(1.0 if x > 0.0 else 0.0)``: relu's derivative, where a call would cost 3 times as
    much as the rest of its line. (``> 0.0``, the same test as the engine's ``> 0`` for a
    float, lets Python compare two floats without converting: faster.)"""

    def __init__(self) -> None:
        super().__init__("_m.")
        self.step = lambda x: Sym(f"(1.0 if {x} > 0.0 else 0.0)")


_MATH = CodeMath()


def _plain(local: Sym) -> str | None:
    return local.text if local.text in ("1.0", "-1.0") else None


class Emitter:
    """Writes one program's forward and backward lines (names of its nodes already given)."""

    def __init__(self, program: Program, names: Names, ns: Namespace) -> None:
        self.p, self.names, self.ns = program, names, ns
        self.targets: list[str] = []  # the variable holding target j, when targets are used
        self.ctx: dict[int, str] = {}  # a Function node -> its ctx variable

    def ref(self, i: int) -> str:
        n = self.p.nodes[i]
        if n.kind == "const":
            return self.ns.literal(n.value.data)
        if n.kind == "target":
            return self.targets[n.slot]
        return n.name

    # ---- forward ------------------------------------------------------------------------
    def forward(self, bail: Sequence[str]) -> list[str]:
        """One line per node made by the call, each decision checked where it was taken
        (``bail``: the lines that leave when it went the other way)."""
        lines: list[str] = []
        guards = sorted(self.p.guards, key=lambda g: g[0])
        g = 0
        for i, n in enumerate(self.p.nodes):
            while g < len(guards) and guards[g][0] <= i:
                lines += self.guard(guards[g][1], bail)
                g += 1
            if n.kind in ("op", "detached"):
                lines.append(self._compute(i, n))
            elif n.kind == "leaf":
                lines.append(f"{n.name} = {self.ns.literal(n.value.data)}"
                             f"{self._label(n)}  # a Value made inside")
            elif n.kind == "handmade":
                lines.append(f"{n.name} = {self.ns.literal(n.value.data)}{self._label(n)}  # "
                             f"{comment(n.op)} made by hand: its number while its inputs stay")
        for _, d in guards[g:]:
            lines += self.guard(d, bail)
        return lines

    def _compute(self, i: int, n: Node) -> str:
        kids = [self.ref(k) for k in n.kids]
        if n.rule is function.function_rule:  # a Function: its own forward, a ctx for backward
            self.ctx[i] = ctx = self.names.value(f"ctx_{n.name}")
            cls = n.arg.function
            return (f"{n.name}, {ctx} = _function_forward({self.ns.ref(cls)}, {', '.join(kids)})"
                    f"  # {comment(cls.__name__)}.apply")
        write = _FORWARD.get(n.op)
        if write is None:
            raise TraceError(f"{self.p.what}: the op {n.op!r} is not one of the engine's ops, "
                             "so no code computes its number; run it eagerly")
        arg = self.ns.literal(n.arg) if n.arg is not None else ""
        note = "  # no_grad: no gradient flows back" if n.kind == "detached" else ""
        return f"{n.name} = {write(kids, arg)}{self._label(n)}{note}"

    def _label(self, n: Node) -> str:
        label = n.value.label
        return f"  # {comment(label)}" if label and label != n.name else ""

    def guard(self, d: Decision, bail: Sequence[str]) -> list[str]:
        """``if <the decision went the other way>: bail``."""
        a = self.p.nodes[self.p.at[d.value]].name or self.ref(self.p.at[d.value])
        if d.kind == "bool":
            test = f"{a} != 0.0"
            holds = d.outcome
        elif d.kind == "exact":
            test, holds = f"{a} == {self.ns.literal(d.value.data)}", True
        elif d.kind == "format":
            test = f"_format({a}, {d.other!r}) == {d.outcome!r}"
            holds = True
        else:
            b = d.other
            other = (self.ref(self.p.at[b]) if b in self.p.at else self.ns.literal(b))
            test, holds = f"{a} {d.kind} {other}", d.outcome
        fails = f"not ({test})" if holds else test
        return [f"if {fails}:  # decided at {comment(d.where, 60)}", *("    " + b for b in bail)]

    def graph(self, roots: Sequence[int]) -> tuple[list[int], set[int]]:
        """The nodes below ``roots`` in ``backward()``'s order (those with inputs), and all
        of them: the roots taken in the order given, as a batch's graph reaches them."""
        values = [self.p.nodes[r].value for r in roots]
        top = values[0] if len(values) == 1 else Value(0.0, tuple(values), "outputs")
        walk = topological_order(top)[0 if len(values) == 1 else 1:]
        return [self.p.at[v] for v in walk if v.children], {self.p.at[v] for v in walk}

    def finite(self, in_graph: set[int]) -> tuple[list[str], list[int]]:
        """What must come out finite for the eager engine to have raised nothing: the
        values a later op could hide, and the nodes whose gradient is passed on to nothing."""
        nodes = self.p.nodes
        users: dict[int, set[str]] = {}
        for n in nodes:
            for k in n.kids:
                users.setdefault(k, set()).add(n.op if n.kind in ("op", "detached") else "")
        for _, d in self.p.guards:
            users.setdefault(self.p.at[d.value], set()).add("")
        values = [n.name for i, n in enumerate(nodes) if n.kind in ("op", "detached")
                  and not users.get(i, {""}) <= _CARRIES_INF]
        ends = [i for i in in_graph if nodes[i].kind in ("leaf", "detached") or (
            nodes[i].inner and not any(nodes[k].grad_flows for k in nodes[i].kids))]
        return values, sorted(ends)

    # ---- backward -----------------------------------------------------------------------
    def backward(self, order: Sequence[int], assigned: set[int],
                 read_after: Sequence[int] = (), skip_min: int = 3) -> tuple[list[str], list[str]]:
        """The chain rule at each node of ``order`` (indices, in backward()'s order): the
        lines, and the gradients to set to 0.0 before them. ``assigned``: nodes whose gradient
        already holds a number (seeds, leaves that add up); ``read_after``: nodes whose
        gradient is read after these lines.

        A node with ``skip_min`` or more inputs (or a rule run at run time) sits in ``if g:``
        as ``backward()`` skips a node whose gradient is 0, and a node whose gradient comes
        only from inside such a block is written inside it too: when a relu does not fire,
        nothing below it runs. A gradient's first line assigns it (``g = ...``) where every
        later use is inside the same block; otherwise it starts at 0.0."""
        nodes = self.p.nodes
        users: dict[int, list[int]] = {}
        for i in order:
            for k in nodes[i].kids:
                users.setdefault(k, []).append(i)
        items: list[Any] = []  # (depth, text) or a statement [depth, path, var, sign, expr, add]
        stmts: dict[str, list[list[Any]]] = {}
        readers: dict[str, list[tuple[int, ...]]] = {}
        blocks: list[tuple[int, set[int]]] = []  # the open ``if g:`` blocks, with their nodes
        opened: dict[int, int] = {}  # a block's node -> where its lines start in items
        for i in order:
            n = nodes[i]
            if not any(nodes[k].grad_flows for k in n.kids):
                continue
            while blocks and (i in assigned or not all(u in blocks[-1][1]
                                                         for u in users.get(i, ()))):
                blocks.pop()
            path = tuple(b for b, _ in blocks)
            g = self.names.grad(n.name)
            readers.setdefault(g, []).append(path)
            locals_ = self._locals(n)
            if locals_ is None or sum(nodes[k].grad_flows for k in n.kids) >= skip_min:
                items.append((len(blocks), f"if {g}:  # a gradient of 0 passes nothing on"))
                opened[i] = len(items)
                blocks.append((i, set()))
                path += (i,)
            if locals_ is None:  # the rule runs at run time: its numbers, then the same sums
                items.append((len(blocks), f"_l = {self._rule_call(i, n)}"))
                locals_ = [Sym(f"_l[{j}]") for j in range(len(n.kids))]
            for k, local in zip(n.kids, locals_):
                if nodes[k].grad_flows:
                    gk = self.names.grad(nodes[k].name)
                    sign, term = ("-", g) if local.text == "-1.0" else (
                        "+", g if local.text == "1.0" else str(Sym(g) * local))
                    stmt = [len(blocks), path, gk, sign, term, k in assigned]
                    items.append(stmt)
                    stmts.setdefault(gk, []).append(stmt)
            for _, members in blocks:
                members.add(i)
        zero: dict[tuple[int, ...], list[str]] = {}  # block path -> gradients set to 0.0 there
        after = {self.names.grad(nodes[i].name) for i in read_after}
        for gk, ss in stmts.items():
            if ss[0][5]:
                continue
            first = ss[0][1]
            later = [s[1] for s in ss[1:]] + readers.get(gk, []) + ([()] if gk in after else [])
            if all(p[:len(first)] == first for p in later):
                ss[0][5] = None  # the first line assigns
                continue
            common = first  # else it starts at 0.0 in the innermost block holding every use
            for p in later:
                common = common[:next((j for j, (a, b) in enumerate(zip(common, p)) if a != b),
                                      min(len(common), len(p)))]
            zero.setdefault(common, []).append(gk)
            for st in ss:
                st[5] = True
        for path in sorted((p for p in zero if p), key=lambda p: -opened[p[-1]]):
            items.insert(opened[path[-1]], (len(path), f"{' = '.join(zero[path])} = 0.0"))
        lines = []
        for it in items:
            if isinstance(it, tuple):
                lines.append("    " * it[0] + it[1])
            elif it[5] is None:
                lines.append("    " * it[0] + f"{it[2]} = {'-' if it[3] == '-' else ''}{it[4]}")
            else:
                lines.append("    " * it[0] + f"{it[2]} {it[3]}= {it[4]}")
        return lines, zero.get((), [])

    def _locals(self, n: Node) -> list[Sym] | None:
        names = [self.ref(k) for k in n.kids]
        out = formula(n.value, n.name, names, _MATH)
        return None if out is None else list(out)

    def _rule_call(self, i: int, n: Node) -> str:
        kids = ", ".join(self.ref(k) for k in n.kids)
        if n.kind == "captured":  # made before the call: its own rule on its own numbers
            return f"{self.ns.ref(engine.local_derivatives)}({self.ns.ref(n.value)})"
        arg = self.ctx.get(i) or ("None" if n.arg is None else self.ns.ref(n.arg))
        return f"{self.ns.ref(n.rule)}(_node({n.name}, ({kids},), {arg}))"
