"""``trace(fn, *example_inputs)``: ``fn`` recorded on Values and written out as Python.

The code is the forward pass, one line per node, then ``backward()`` unrolled, one line per
chain-rule step (``g_a += g_e * b`` is ``a.grad += e.grad * b.data``), in ``backward()``'s
order. Calling the result runs that code on new numbers. Every decision ``fn`` took on a
Value (``if a > 0``, ``max(...)``) is checked again on every call; when one goes the other
way, ``fn`` is recorded again on those inputs (up to ``MAX_VARIANTS`` versions), after that
the call runs eagerly: the numbers are always the eager engine's.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu import checks
from tinygrad_edu.compile.codegen import Emitter, Namespace
from tinygrad_edu.compile.names import Names, comment, op_word
from tinygrad_edu.compile.recording import Program, Recorded, TraceError, record
from tinygrad_edu.compile.state import Snapshot, watched
from tinygrad_edu.engine import Value

__all__ = ["trace", "Traced", "MAX_VARIANTS", "nudged", "name_nodes", "number"]

MAX_VARIANTS = 16  # versions of one function (one per way its decisions go), then eager


def number(x: Any, what: str) -> float:
    """A number given as an input: a float, int, Value (its data), NumPy/torch scalar."""
    if isinstance(x, Value):
        return x.data
    if getattr(x, "ndim", None) == 0 and hasattr(x, "item"):  # 0-d arrays, tensors, scalars
        x = x.item()
    return checks.as_float(x, what)


def nudged(x: float) -> float:
    """A slightly different number (about 1e-6 relative): what depends on it moves too."""
    return x + (abs(x) + 1.0) * 2.0**-20


def name_nodes(program: Program, names: Names) -> None:
    """Name every node the code needs: by its label where it has one, else by its op."""
    for n in program.nodes:
        if not n.name and n.kind not in ("const", "target"):
            label = n.value.label
            fallback = "p" if n.kind == "captured" else "t"
            n.name = names.value(label, op_word(n.op), fallback=fallback)


class _Inputs:
    """The shapes of ``fn``'s inputs (a number, or a list of numbers) and their names."""

    def __init__(self, examples: Sequence[Any], arg_names: list[str]) -> None:
        self.shapes: list[int | None] = []
        self.hints: list[tuple[str, str]] = []  # (label, argument name) per number
        for i, x in enumerate(examples):
            arg = arg_names[i] if i < len(arg_names) else f"x{i}"
            items = self._items(x)
            if items is None:
                self.shapes.append(None)
                self.hints.append((getattr(x, "label", "") if isinstance(x, Value) else "",
                                   arg))
                continue
            if not items:
                raise TypeError(f"trace: example input {i} is an empty list")
            self.shapes.append(len(items))
            self.hints += [(e.label if isinstance(e, Value) else "", f"{arg}{j}")
                           for j, e in enumerate(items)]
        self.examples = self.flat(examples, "trace: example input")

    @staticmethod
    def _items(x: Any) -> list[Any] | None:
        if isinstance(x, (list, tuple)):
            return list(x)
        if getattr(x, "ndim", 0) and hasattr(x, "tolist"):  # a NumPy array, a tensor
            return list(x.tolist())
        return None

    def flat(self, inputs: Sequence[Any], what: str = "input") -> list[float]:
        """The inputs as one list of floats, checked against the traced shapes."""
        if len(inputs) != len(self.shapes):
            raise TypeError(f"expected {len(self.shapes)} inputs (as traced), got {len(inputs)}")
        out: list[float] = []
        for i, (x, shape) in enumerate(zip(inputs, self.shapes)):
            if shape is None:
                out.append(number(x, f"{what} {i}"))
                continue
            items = self._items(x)
            if items is None or len(items) != shape:
                got = repr(x) if len(repr(x)) < 60 else f"a {type(x).__name__}"
                raise ValueError(f"{what} {i} must be a list of {shape} numbers (as traced), "
                                 f"got {got}")
            out += [number(e, f"{what} {i}[{j}]") for j, e in enumerate(items)]
        return out

    def values(self, flat: Sequence[float]) -> tuple[list[Any], list[Value]]:
        """Fresh input Values (the arguments of ``fn``) and the same as one flat list."""
        leaves = [Recorded(x, label or arg) for x, (label, arg) in zip(flat, self.hints)]
        args: list[Any] = []
        k = 0
        for shape in self.shapes:
            args.append(leaves[k] if shape is None else leaves[k:k + shape])
            k += 1 if shape is None else shape
        return args, leaves

    def shaped(self, flat: Sequence[float]) -> list[Any]:
        out: list[Any] = []
        k = 0
        for shape in self.shapes:
            out.append(flat[k] if shape is None else list(flat[k:k + shape]))
            k += 1 if shape is None else shape
        return out


class _Variant:
    """One compiled version of ``fn``: for the inputs whose decisions go as recorded."""

    def __init__(self, source: str, code: Callable[..., Any], captured: list[Value]) -> None:
        self.source, self.code, self.captured = source, code, captured

    def run(self, flat: list[float]) -> tuple[float, list[float]] | None:
        cap = self.captured
        out = self.code(flat, [v.data for v in cap], [v.grad for v in cap])
        if out is None:  # a decision went the other way
            return None
        value, ok, grads, g_cap = out
        total = ok + value + sum(grads) + sum(g_cap)
        if type(total) is not float or not -math.inf < total < math.inf:
            raise OverflowError("a number overflowed")  # the eager engine says where
        for v, g in zip(cap, g_cap):
            v.grad = g
        return value, grads


class Traced:
    """A compiled function: ``value, grads = traced(*inputs)``; ``.source`` is its code.

    ``grads`` matches the inputs: one float per number, a list per list. Values ``fn`` reads
    from outside (a model's parameters) are read afresh on every call and get their
    gradients added to ``.grad``, as ``backward()`` does.
    """

    def __init__(self, fn: Callable[..., Value], inputs: _Inputs) -> None:
        self.fn = fn
        self._inputs = inputs
        self._snapshot: Snapshot | None = None  # what fn reads, as it was when recorded
        self._variants: list[_Variant] = []
        self.eager_calls = 0  # calls that ran eagerly (no version fit, or a number overflowed)
        name = getattr(fn, "__name__", "")
        self._what = f"trace({name if name.isidentifier() else 'fn'})"
        self._fname = "f" if name == "<lambda>" else name

    @property
    def source(self) -> str:
        """The generated Python (each version, when decisions made more than one)."""
        return "\n".join(v.source for v in self._variants)

    @property
    def captured(self) -> list[Value]:
        return list(dict.fromkeys(v for var in self._variants for v in var.captured))

    def __repr__(self) -> str:
        lines = sum(v.source.count("\n") for v in self._variants)
        return f"<traced {comment(self._fname)}: {lines} lines of Python>"

    def __call__(self, *inputs: Any) -> tuple[float, list[Any]]:
        flat = self._inputs.flat(inputs)
        if self._snapshot is None or not self._snapshot.unchanged():
            self._variants.clear()  # something fn reads has changed: record it again
        try:
            for variant in self._variants:
                out = variant.run(flat)
                if out is not None:
                    return out[0], self._inputs.shaped(out[1])
            if len(self._variants) < MAX_VARIANTS:
                out = self._add(flat).run(flat)
                if out is not None:
                    return out[0], self._inputs.shaped(out[1])
        except Exception:  # noqa: BLE001 (an overflow, a domain error, a new TraceError:
            pass  # the eager engine computes the same, or raises the error that explains it)
        self.eager_calls += 1
        return self.eager(*inputs)

    def eager(self, *inputs: Any) -> tuple[float, list[Any]]:
        """The same call on the eager engine: ``fn`` on new Values, then ``backward()``."""
        args, leaves = self._inputs.values(self._inputs.flat(inputs))
        for v in leaves:
            v.__class__ = Value
        out = self.fn(*args)
        if not isinstance(out, Value):
            raise TraceError(f"{self._what}: fn must return one Value, got "
                             f"{type(out).__name__}")
        out.backward()
        return out.data, self._inputs.shaped([v.grad for v in leaves])

    # ---- recording and compiling one version ----------------------------------------------
    def _record(self, flat: list[float]) -> Program:
        args, leaves = self._inputs.values(flat)
        before = Snapshot(lambda: watched(self.fn))
        out, rec = record(lambda: self.fn(*args))
        if not before.unchanged():
            what = before.changed() or "its state"
            before.restore()  # (as if never called)
            raise TraceError(
                f"{self._what}: calling fn changed {what}: state "
                "that changes on every call cannot be compiled (the code would not change "
                "it); run it eagerly."
            )
        self._snapshot = before
        if not isinstance(out, Value):
            got = (f"a list of {len(out)} Values" if isinstance(out, (list, tuple))
                   else type(out).__name__)
            raise TraceError(f"{self._what}: fn must return one Value (e.g. a loss) to "
                             f"differentiate, got {got}; sum the outputs or pick one")
        for v in leaves:
            v.__class__ = Value
        return Program(rec, [out], leaves, {}, what=self._what)

    def _add(self, flat: list[float]) -> _Variant:
        """Record ``fn`` on these inputs, check it on nudged ones, compile it."""
        program = self._record(flat)
        for sign in (1.0, -1.0):
            try:
                again = self._record([x + sign * (nudged(x) - x) for x in flat])
            except Exception:  # noqa: BLE001 (fn refuses the nudged inputs: no comparison)
                continue
            if again.outcomes() == program.outcomes():
                program.same_as(again)
                break
        variant = self._compile(program)
        self._variants.append(variant)
        return variant

    def _compile(self, p: Program) -> _Variant:
        names, ns = Names(), Namespace()
        fname = names.value(self._fname, fallback="f")
        for n in p.nodes:
            if n.kind == "input":
                n.name = names.value(*self._inputs.hints[n.slot], fallback="x")
        name_nodes(p, names)
        emit = Emitter(p, names, ns)
        emit.vectorize()
        emit.group_layers()
        root = p.nodes[p.roots[0]]
        captured = sorted((n for n in p.nodes if n.kind == "captured"), key=lambda n: n.slot)
        inner = [n for n in captured if n.kids]
        order, in_graph = emit.graph(p.roots)
        grads = ["0.0"] * len(self._inputs.hints)  # (an input the output does not use: 0)
        used = ["_"] * len(grads)  # "_": an input fn does not use
        for i, n in enumerate(p.nodes):
            if n.kind == "input":
                used[n.slot] = n.name
                if i in in_graph:
                    grads[n.slot] = emit.grad_name(i)
        lines = [f"def {fname}(_X, _C, _G):",
                 f'    """{fname} and its gradients: forward, then backward() unrolled."""',
                 f"    {_tuple(used)} = _X  # the inputs"]
        load, store = emit.captured_lines([n.name for n in captured])
        if captured:
            lines.append("    # Values fn reads from outside (parameters): numbers, and .grad")
            lines += ["    " + line for line in load]
        lines += ["    " + line for line in emit.prologue()]
        lines.append("    # forward: each node's number from its inputs'")
        lines += ["    " + line for line in emit.forward(["return None"])]
        lines.append("    # backward: d(output)/d(node) for every node, in backward()'s order")
        leaves = [i for i, n in enumerate(p.nodes) if i in in_graph and n.grad_flows and (
            n.kind in ("input", "leaf", "detached") or n in inner) and i not in emit.grads]
        if leaves:
            lines.append(f"    {' = '.join(emit.grad_name(i) for i in leaves)} = 0.0"
                         "  # the inputs' gradients start at 0, then add up")
        values, ends = emit.finite(in_graph)
        assigned = {i for i, n in enumerate(p.nodes) if not n.inner}
        seed = emit.grad_name(p.roots[0]) if root.grad_flows else ""
        inputs = [i for i in in_graph if p.nodes[i].kind == "input"]
        body, zero = emit.backward(order, assigned | ({p.roots[0]} if seed else set()),
                                   [*ends, *inputs])
        lines += ["    " + line for line in zero]
        if seed:
            lines.append(f"    {seed} {'=' if root.inner else '+='} 1.0  # d out / d out")
        lines += ["    " + line for line in body]
        checked = values + [emit.grad_name(i) for i in ends]
        lines.append(f"    _ok = {' + '.join(checked) or '0.0'}  # finite unless a number "
                     "overflowed")
        if captured:
            lines += ["    " + line for line in store]
        lines.append(f"    return {emit.ref(p.roots[0])}, _ok, [{', '.join(grads)}], _G")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<trace {fname}>", "exec"), ns.values)  # noqa: S102
        return _Variant(source, ns.values[fname], [n.value for n in captured])


def _tuple(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def trace(fn: Callable[..., Value], *example_inputs: Any) -> Traced:
    """Record ``fn`` on the example inputs and compile it to straight-line Python.

    ``example_inputs`` are numbers (or Values, whose labels name them) and lists of numbers;
    ``fn`` receives them as Values and must return one Value. The result is callable with new
    inputs of the same shapes and returns ``(value, grads)``, the eager engine's numbers;
    ``.source`` is the generated code, forward then backward, one chain-rule step per line.
    Raises ``TraceError`` when ``fn`` does something code cannot reproduce (an op whose
    derivative hides in a micrograd closure, state that changes on every call).

    >>> f = trace(lambda a, b: (a * b + a).tanh(), 0.5, -1.0)
    >>> value, (da, db) = f(2.0, 0.25)
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be a function, got {type(fn).__name__}")
    if not example_inputs:
        raise TypeError("trace: give example inputs, e.g. trace(f, 2.0, -1.0)")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # (a builtin without one: its call will say)
        arg_names = []
    else:
        try:
            signature.bind(*example_inputs)
        except TypeError as err:
            raise TypeError(f"trace: fn cannot be called with {len(example_inputs)} example "
                            f"input(s): {err}") from None
        arg_names = [p.name for p in signature.parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    inputs = _Inputs(example_inputs, arg_names)
    traced = Traced(fn, inputs)
    traced._add(inputs.examples)
    return traced
