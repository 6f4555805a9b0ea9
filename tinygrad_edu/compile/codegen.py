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

import functools
import math
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
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
    "relu": lambda k, _: f"{k[0]} if {k[0]} > 0.0 else {k[0]} - {k[0]}",  # (see _CARRIES_INF)
    "sin": lambda k, _: f"_m.sin({k[0]})",
    "cos": lambda k, _: f"_m.cos({k[0]})", "abs": lambda k, _: f"_abs({k[0]})",
    "linear": _linear, "logsumexp": lambda k, _: f"_logsumexp({', '.join(k)})",
}


def _logsumexp(*z: float) -> float:
    """engine.logsumexp's number: the largest z taken out, the rest summed with fsum."""
    i = max(range(len(z)), key=z.__getitem__)
    top = z[i]
    return top + math.log1p(math.fsum([math.exp(x - top) for x in z[:i] + z[i + 1:]]))


# Ops whose result is inf or NaN whenever an input is: a value used only by these needs no
# finiteness check of its own (tanh(inf) = 1 hides an overflow; -inf + 1 does not). relu is
# written x if x > 0.0 else x - x: 0.0 for a number (as the engine's 0.0), NaN for -inf or NaN.
_CARRIES_INF = {"+", "-", "*", "neg", "linear", "relu"}


class Unusual(Exception):
    """Raised by generated code on something the eager engine should judge (and explain)."""


def _negative_zero(*xs: float) -> bool:
    """Whether any of ``xs`` is -0.0 (which == 0.0 does not tell)."""
    return any(x == 0.0 and math.copysign(1.0, x) < 0.0 for x in xs)


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
    "_sum": sum, "_inf": math.inf, "_negative_zero": _negative_zero, "_Unusual": Unusual,
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
        if type(x) is int or (type(x) is float and math.isfinite(x)):
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


@functools.lru_cache(maxsize=64)
def _reads_as_linear(rule: Any, half: int) -> bool:
    """Whether ``rule`` gives (1, x_0 .. x_n-1, w_0 .. w_n-1) for inputs (b, w..., x...)."""
    names = ["b", *(f"w{j}" for j in range(half)), *(f"x{j}" for j in range(half))]
    local = formula(_Shape(rule), "z", names, _MATH)
    return local is not None and [str(t) for t in local] == ["1.0", *names[1 + half:],
                                                             *names[1:1 + half]]


class _Shape:
    """A node as ``formula`` reads it: only its rule (and its argument)."""

    def __init__(self, rule: Any, arg: Any = None) -> None:
        self._rule, self._arg = rule, arg


@functools.lru_cache(maxsize=64)
def _placeholders(n: int) -> tuple[str, ...]:
    return tuple(f"x{j}" for j in range(n))


@functools.lru_cache(maxsize=256)
def _template(rule: Any, n: int, arg: Any, _shown: str) -> tuple[tuple[str, str], ...] | None:
    """A rule's formula for ``n`` inputs, with ``{o}`` for the node and ``{x0}``, ``{x1}`` ...
    for its inputs: each local derivative, and the gradient ``{g}`` times it (parenthesised
    where it must be). Read once per kind of node, not per node. (``_shown``: ``repr(arg)``,
    so that 1 and 1.0, 0.0 and -0.0 are different keys.)"""
    out = formula(_Shape(rule, arg), "{o}", [f"{{x{j}}}" for j in range(n)], _MATH)
    return None if out is None else tuple((t.text, (Sym("{g}") * t).text) for t in out)


def _container(grad: str) -> str:
    """The variable a gradient lives in: ``g_X`` for ``g_X[3]``."""
    return grad.split("[", 1)[0]


def _tuple(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


class Emitter:
    """Writes one program's forward and backward lines (names of its nodes already given)."""

    def __init__(self, program: Program, names: Names, ns: Namespace) -> None:
        self.p, self.names, self.ns = program, names, ns
        self.targets: list[str] = []  # the variable holding target j, when targets are used
        self.ctx: dict[int, str] = {}  # a Function node -> its ctx variable
        self.vec: dict[int, tuple[str, str]] = {}  # a wide linear node -> (weights, inputs)
        self.rows: dict[str, tuple[int, ...]] = {}  # a list of inputs -> its nodes
        self.slices: dict[str, tuple[int, int]] = {}  # a list of weights -> its slots in _C
        self.grads: dict[int, str] = {}  # a node whose gradient lives in a list -> g_X[i]
        self.layers: dict[int, list[int]] = {}  # first neuron of a layer -> its neurons
        self.in_layer: set[int] = set()  # neurons computed with their layer
        self.written: dict[str, None] = {}  # the variables the lines assign, in order
        self._graphs: dict[tuple[int, ...], tuple[tuple[int, ...], frozenset[int]]] = {}

    def grad_name(self, i: int) -> str:
        """Where node ``i``'s gradient is kept in the code."""
        return self.grads.get(i) or self.names.grad(self.p.nodes[i].name)

    def vectorize(self, min_inputs: int = 32, min_edges: int = 8192) -> None:
        """Write wide neurons as loops over lists (``for _w, _x in zip(W, X): z += _w * _x``)
        when the graph has ``min_edges`` or more: Python compiles each statement, and a
        128-wide layer written out would take seconds; smaller graphs stay line by line,
        which runs fastest. A neuron qualifies when its weights are parameters next to each
        other in ``_C`` and its rule gives ``x_i`` as the local derivative of ``w_i`` and
        ``w_i`` as that of ``x_i`` (the linear rule read as a formula: no second copy)."""
        nodes = self.p.nodes
        wide = [i for i, n in enumerate(nodes) if n.kind == "op" and n.op == "linear"]
        if sum(len(nodes[i].kids) for i in wide) < min_edges:
            return
        owner: dict[int, str] = {}  # an input node -> the list that holds its gradient
        used: set[int] = set()  # parameter slots in a list
        rows: dict[tuple[int, ...], str] = {}
        for i in wide:
            n = nodes[i]
            half = (len(n.kids) - 1) // 2
            ws, xs = n.kids[1:1 + half], n.kids[1 + half:]
            if half < min_inputs or len(set(n.kids)) != len(n.kids):
                continue
            slots = [nodes[w].slot for w in ws]
            row = rows.get(xs)  # (hashing 128 inputs once, not once per input)
            if (any(nodes[w].kind != "captured" or nodes[w].kids for w in ws)
                    or slots != list(range(slots[0], slots[0] + half))
                    or not used.isdisjoint(slots)
                    or any(nodes[x].kind in ("const", "target", "captured") for x in xs)
                    or any(owner.get(x, row) != row for x in xs)):
                continue
            if not _reads_as_linear(n.rule, half):
                continue
            if xs not in rows:
                rows[xs] = name = self.names.value("X")
                self.rows[name] = xs
                for j, x in enumerate(xs):
                    owner[x] = name
                    self.grads[x] = f"g_{name}[{j}]"
            wname = self.names.value("W")
            self.slices[wname] = (slots[0], slots[0] + half)
            for j, w in enumerate(ws):
                nodes[w].name = f"{wname}[{j}]"  # its gradient: g_W[j]
            used |= set(slots)
            self.vec[i] = (wname, rows[xs])

    def group_layers(self) -> None:
        """Find layers: two or more neurons (``linear`` nodes) whose weights and bias are
        parameters and whose inputs are the same relu outputs. The forward computes a layer
        input by input, skipping an input that is 0.0 (a relu that did not fire: about half
        of them), whose terms ``w * 0.0`` would add nothing. Adding a zero leaves a sum as it
        is unless the sum is -0.0, which it can only be if its bias is: so the skip gives the
        eager floats bit for bit while every weight is finite (``inf * 0.0`` is NaN) and no
        bias is -0.0, which ``prologue`` checks on every call (``_C``: the parameters)."""
        nodes = self.p.nodes
        found: dict[tuple[int, ...], list[int]] = {}
        for i, n in enumerate(nodes):
            if n.kind != "op" or n.op != "linear" or i in self.vec or len(n.kids) % 2 == 0:
                continue
            half = (len(n.kids) - 1) // 2
            params, xs = n.kids[:1 + half], n.kids[1 + half:]
            if (half and all(nodes[k].kind == "captured" and not nodes[k].kids for k in params)
                    and all(nodes[x].kind == "op" and nodes[x].op == "relu" for x in xs)):
                found.setdefault(xs, []).append(i)
        for members in found.values():
            if len(members) >= 2:
                self.layers[members[0]] = members
                self.in_layer.update(members)

    def prologue(self) -> list[str]:
        """Lines run once per call, before any example: the layers' assumptions checked."""
        if not self.layers:
            return []
        nodes = self.p.nodes
        biases = ", ".join(self.ref(nodes[i].kids[0]) for members in self.layers.values()
                           for i in members)
        return ["# a layer skips an input that is 0.0 (its terms w * 0.0 add nothing): the same "
                "floats while",
                "# every parameter is finite and no bias is -0.0; else the eager engine runs this",
                f"if not -_inf < _sum(_C) < _inf or (0.0 in ({biases},) and "
                f"_negative_zero({biases})):",
                "    raise _Unusual"]

    def captured_lines(self, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """Lines that load ``_C`` and ``_G`` into ``names`` (the captured Values' names, by
        slot) and that store the gradients back: runs of names, and whole weight lists."""
        starts = {a: (w, b) for w, (a, b) in self.slices.items()}
        load, store = [], []
        j = 0
        while j < len(names):
            if j in starts:
                w, end = starts[j]
                load += [f"{w} = _C[{j}:{end}]", f"g_{w} = _G[{j}:{end}]"]
                store.append(f"_G[{j}:{end}] = g_{w}")
            else:
                end = j
                while end < len(names) and end not in starts:
                    end += 1
                run = names[j:end]
                grads = [self.names.grad(n) for n in run]
                if len(run) == 1:  # (a bias between two weight lists: one number)
                    load += [f"{run[0]} = _C[{j}]", f"{grads[0]} = _G[{j}]"]
                    store.append(f"_G[{j}] = {grads[0]}")
                else:
                    load += [f"{_tuple(run)} = _C[{j}:{end}]",
                             f"{_tuple(grads)} = _G[{j}:{end}]"]
                    store.append(f"_G[{j}:{end}] = {_tuple(grads)}")
            j = end
        if not self.slices:  # (no lists: all in one go)
            load = [f"{_tuple(list(names))} = _C",
                    f"{_tuple([self.names.grad(n) for n in names])} = _G"]
            store = [f"_G[:] = {_tuple([self.names.grad(n) for n in names])}"]
        return load, store

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
        built: set[str] = set()
        for i, n in enumerate(self.p.nodes):
            while g < len(guards) and guards[g][0] <= i:
                lines += self.guard(guards[g][1], bail)
                g += 1
            if n.kind in ("op", "detached", "leaf", "handmade"):
                self.written[n.name] = None
            if i in self.layers:
                lines += self._layer(self.layers[i])
            elif i in self.in_layer:
                pass  # (computed with the first neuron of its layer)
            elif i in self.vec:  # a wide neuron: b, then its products added in order
                wname, xname = self.vec[i]
                if xname not in built:
                    built.add(xname)
                    self.written[xname] = None
                    lines.append(f"{xname} = [{', '.join(self.ref(x) for x in self.rows[xname])}]")
                lines += [f"{n.name} = {self.ref(n.kids[0])}",
                          f"for _w, _x in zip({wname}, {xname}): {n.name} += _w * _x"]
            elif n.kind in ("op", "detached"):
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

    def _layer(self, members: list[int]) -> list[str]:
        """A layer's neurons, ``b + w0 * x0 + w1 * x1 ...`` added in the same order, input by
        input; an input that is 0.0 is skipped (see ``group_layers``)."""
        nodes = self.p.nodes
        neurons = [nodes[i] for i in members]
        half = len(neurons[0].kids) // 2
        xs = [self.ref(x) for x in neurons[0].kids[1 + half:]]
        lines = [f"# a layer of {len(neurons)} neurons, b + w0 * {xs[0]} + ..., "
                 "an input that is 0.0 skipped",
                 f"{_tuple([n.name for n in neurons])} = "
                 f"{_tuple([self.ref(n.kids[0]) for n in neurons])}"]
        for j, x in enumerate(xs):
            lines.append(f"if {x}:")
            lines += [f"    {n.name} += {self.ref(n.kids[1 + j])} * {x}" for n in neurons]
        return lines

    def _compute(self, i: int, n: Node) -> str:
        kids = [self.ref(k) for k in n.kids]
        if n.rule is function.function_rule:  # a Function: its own forward, a ctx for backward
            self.ctx[i] = ctx = self.names.value(f"ctx_{n.name}")
            self.written[ctx] = None
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
            other = self.ref(self.p.at[b]) if isinstance(b, Value) else self.ns.literal(b)
            test, holds = f"{a} {d.kind} {other}", d.outcome
        fails = f"not ({test})" if holds else test
        return [f"if {fails}:  # decided at {comment(d.where, 60)}", *("    " + b for b in bail)]

    def graph(self, roots: Sequence[int]) -> tuple[tuple[int, ...], frozenset[int]]:
        """The nodes below ``roots`` in ``backward()``'s order (those with inputs), and all
        of them: the roots taken in the order given, as a batch's graph reaches them."""
        key = tuple(roots)
        if key not in self._graphs:  # (asked several times for one program: walked once)
            values = [self.p.nodes[r].value for r in roots]
            top = values[0] if len(values) == 1 else Value(0.0, tuple(values), "outputs")
            walk = topological_order(top)[0 if len(values) == 1 else 1:]
            at, sums = self.p.at, self.p.sums
            # a relu neuron's sum (recording.Program._split) right after its relu, as
            # backward() applies the one node's rule there: the same order of additions
            inner = [at[v] for v in walk if v.children]
            inner = [k for i in inner for k in ((i, sums[i]) if i in sums else (i,))]
            self._graphs[key] = (tuple(inner), frozenset([*(at[v] for v in walk), *inner]))
        return self._graphs[key]

    def finite(self, in_graph: AbstractSet[int]) -> tuple[list[str], list[int]]:
        """What must come out finite for the eager engine to have raised nothing: the
        values a later op could hide, and the nodes whose gradient is passed on to nothing."""
        nodes = self.p.nodes
        used: set[int] = set()  # nodes something uses,
        hiding: set[int] = set()  # and those used by an op that could hide inf, or a guard
        for n in nodes:
            if n.kids:
                used.update(n.kids)
                if n.kind not in ("op", "detached") or n.op not in _CARRIES_INF:
                    hiding.update(n.kids)
        hiding.update(self.p.at[d.value] for _, d in self.p.guards)
        values = [n.name for i, n in enumerate(nodes) if n.kind in ("op", "detached")
                  and (i in hiding or i not in used)]
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
        flows = [n.grad_flows for n in nodes]
        for i in order:
            n = nodes[i]
            flowing = sum(map(flows.__getitem__, n.kids))  # inputs that get a gradient
            if not flowing:
                continue
            while blocks and (i in assigned or not all(u in blocks[-1][1]
                                                         for u in users.get(i, ()))):
                blocks.pop()
            path = tuple(b for b, _ in blocks)
            g = self.grad_name(i)
            readers.setdefault(_container(g), []).append(path)
            locals_ = self._locals(n, g, 1 if i in self.vec else None)
            if locals_ is None or flowing >= skip_min:
                items.append((len(blocks), f"if {g}:  # a gradient of 0 passes nothing on"))
                opened[i] = len(items)
                blocks.append((i, set()))
                path += (i,)
            if locals_ is None:  # the rule runs at run time: its numbers, then the same sums
                items.append((len(blocks), f"_l = {self._rule_call(i, n)} or (0.0,) * "
                              f"{len(n.kids)}"))  # (a rule's (): all 0, as backward() reads it)
                locals_ = [(f"_l[{j}]", f"{g} * _l[{j}]") for j in range(len(n.kids))]
            if i in self.vec:  # w_i.grad += g * x_i and x_i.grad += g * w_i, as lists
                wname, xname = self.vec[i]  # (locals_: the bias's alone)
                for target, other in ((wname, xname), (xname, wname)):
                    gl = f"g_{target}"
                    stmt = [len(blocks), path, gl, "list",
                            f"[_a + {g} * _b for _a, _b in zip({gl}, {other})]", target == wname]
                    items.append(stmt)
                    stmts.setdefault(gl, []).append(stmt)
            for k, (local, times) in zip(n.kids, locals_):
                if flows[k]:
                    gk = self.grad_name(k)
                    sign, term = ("-", g) if local == "-1.0" else (
                        "+", g if local == "1.0" else times)
                    stmt = [len(blocks), path, gk, sign, term, k in assigned]
                    items.append(stmt)
                    stmts.setdefault(_container(gk), []).append(stmt)
            for _, members in blocks:
                members.add(i)
        zero: dict[tuple[int, ...], list[str]] = {}  # block path -> gradients set to 0.0 there
        after = {_container(self.grad_name(i)) for i in read_after}
        lists = {f"g_{x}": len(xs) for x, xs in self.rows.items()}
        for gk, ss in stmts.items():
            if ss[0][5] and gk not in lists:
                continue  # (a gradient that already holds a number: a seed, a leaf, _G's)
            first = ss[0][1]
            later = [s[1] for s in ss[1:]] + readers.get(gk, []) + ([()] if gk in after else [])
            if gk not in lists and all(p[:len(first)] == first for p in later):
                ss[0][5] = None  # the first line assigns
                continue
            common = first  # else it starts at 0.0 in the innermost block holding every use
            for p in later:
                common = common[:next((j for j, (a, b) in enumerate(zip(common, p)) if a != b),
                                      min(len(common), len(p)))]
            zero.setdefault(common, []).append(gk)
            for st in ss:
                if st[3] != "list":
                    st[5] = True

        def zeros(grads: list[str]) -> list[str]:
            plain = [g for g in grads if g not in lists]
            return ([f"{' = '.join(plain)} = 0.0"] if plain else []) + [
                f"{g} = [0.0] * {lists[g]}" for g in grads if g in lists]

        for path in sorted((p for p in zero if p), key=lambda p: -opened[p[-1]]):
            for line in reversed(zeros(zero[path])):
                items.insert(opened[path[-1]], (len(path), line))
        for grads in zero.values():
            self.written.update(dict.fromkeys(grads))
        lines = []
        for it in items:
            if isinstance(it, tuple):
                lines.append("    " * it[0] + it[1])
                continue
            self.written[it[2]] = None
            if it[3] == "list":
                lines.append("    " * it[0] + f"{it[2]} = {it[4]}")
            elif it[5] is None:
                lines.append("    " * it[0] + f"{it[2]} = {'-' if it[3] == '-' else ''}{it[4]}")
            else:
                lines.append("    " * it[0] + f"{it[2]} {it[3]}= {it[4]}")
        return lines, zeros(zero.get((), []))

    def _locals(self, n: Node, g: str, count: int | None = None
                ) -> list[tuple[str, str]] | None:
        """Each input's local derivative, and ``g`` times it, as code (None: no formula);
        ``count``: for the first inputs only."""
        arg = n.arg
        if n.value._closure is not None or (arg is not None and (
                isinstance(arg, bool) or not isinstance(arg, (int, float)))):
            return None  # (no formula: see symbolic.formula)
        template = _template(n.rule, len(n.kids), arg, repr(arg))
        if template is None:
            return None
        names = dict(zip(_placeholders(len(n.kids)), map(self.ref, n.kids)))
        names["o"], names["g"] = n.name, g
        return [(local.format_map(names), times.format_map(names))
                for local, times in template[:count]]

    def _rule_call(self, i: int, n: Node) -> str:
        kids = ", ".join(self.ref(k) for k in n.kids)
        if n.kind == "captured":  # made before the call: its own rule on its own numbers
            return f"{self.ns.ref(engine.local_derivatives)}({self.ns.ref(n.value)})"
        arg = self.ctx.get(i) or ("None" if n.arg is None else self.ns.ref(n.arg))
        return f"{self.ns.ref(n.rule)}(_node({n.name}, ({kids},), {arg}))"
