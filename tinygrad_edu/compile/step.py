"""``compile_step(model, loss_fn, X, y)``: one training step as generated code (what ``fit``
runs by default).

A loss here is a mean over examples of a per-example loss, so a batch's step is each
example's forward, loss and backward, added up: one example's code, run for every example
(last first, the order ``backward()`` visits them in the batch's graph, so the floats are
the eager engine's). Nothing about any loss is written here: the model and the loss are
recorded like any function.

- The model is recorded on one example (its inputs become Values). Each decision it takes on
  a Value (``if x[0] > 0``, ``max(layer(x))``) is checked for every example; an example for
  which one goes the other way gets the model recorded again on it (a second version), up to
  ``MAX_VARIANTS``; beyond that, that example runs eagerly.
- The loss is recorded on the model's outputs (as stand-in Values) and one example's target.
  Python decides things from a target (which class index picks which output, a label's
  value), so each recording serves the targets it was recorded for: the code picks the loss
  code by the example's target (type and value). A target that only enters the graph as a
  number (``p - y``, ``y * s``) is read at run time: targets whose recordings give the same
  code share it (a new target is recorded once, then joins; mse's targets, hinge's ±1).
- The step's code is checked against the eager step on the examples given: a ``loss_fn`` that
  is not a mean over examples is a ``TraceError``.

Whatever overflows, raises or looks unusual makes the whole step run eagerly: the same
numbers, and the eager engine's errors.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from functools import reduce
from itertools import chain
from operator import add
from typing import Any

from tinygrad_edu.compile.codegen import Emitter, Namespace
from tinygrad_edu.compile.names import Names, comment
from tinygrad_edu.compile.recording import Program, Recorded, Recording, TraceError, record
from tinygrad_edu.compile.state import Snapshot, watched
from tinygrad_edu.compile.trace import MAX_VARIANTS, name_nodes, nudged
from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.grad_mode import no_grad

__all__ = ["compile_step", "CompiledStep", "target_key"]

MAX_LOSS_VARIANTS = 4096  # loss recordings (one per distinct target, where it must be)


def target_key(y: Any) -> Any:
    """Which loss code serves target ``y``: its type and value (an int 1 is not 1.0)."""
    if type(y) in (list, tuple):
        return (type(y), tuple((e.__class__, e) for e in y))
    return (y.__class__, y)


def _fresh(y: Any) -> Any:
    """``y`` as new float objects (``* 1.0`` keeps -0.0), so the recording can tell where
    this very target object enters the graph (``p - y``) from any other equal number."""
    if type(y) is float:
        return y * 1.0
    if type(y) in (list, tuple):
        return type(y)(_fresh(e) for e in y)
    return y


def _target_objects(y: Any) -> dict[int, int]:
    """id -> position of the float objects in a (fresh) target."""
    items = list(y) if type(y) in (list, tuple) else [y]
    return {id(e): j for j, e in enumerate(items) if type(e) is float}


class _ModelVariant:
    """The model recorded on one example: its program and, once compiled, its step code."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.source = ""
        self.code: Callable[..., Any] | None = None


class _LossVariant:
    """The loss recorded for some targets (``keys``) on the model's outputs."""

    def __init__(self, program: Program, key: Any, scalar: bool) -> None:
        self.program, self.keys, self.scalar = program, {key}, scalar
        self.order: list[int] = []  # the outputs, in the order the loss first reaches them


class CompiledStep:
    """``value = step(X_batch, y_batch)``: the batch's mean loss; d(mean loss)/d(p) is added
    into ``p.grad`` for every Value the model and loss read (its parameters), as
    ``loss_fn([model(x) for x in X_batch], y_batch).backward()`` would.

    ``.source`` is the generated code; ``refresh()`` records again if the model changed.
    ``eager_examples``/``eager_steps`` count what ran on the eager engine instead.
    """

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Value], nin: int) -> None:
        self.model, self.loss_fn, self.nin = model, loss_fn, nin
        self.params = list(model.parameters())
        self._what = f"compile_step({type(model).__name__}, " \
                     f"{getattr(loss_fn, '__name__', 'loss_fn')})"
        self._state = Snapshot(self._watched)
        self.eager_examples = 0
        self.eager_steps = 0
        self._reset()

    def _watched(self) -> dict[str, Any]:
        """The model, and what its forward and the loss read besides their arguments."""
        roots = watched(self.loss_fn)
        forward = getattr(self.model, "forward", None)
        if forward is not None:
            model = watched(forward)
            model.pop("self", None)  # (the model itself, below by its name)
            roots.update(model)
            roots.homes.update(model.homes)
        roots["model"] = self.model
        return roots

    def _reset(self) -> None:
        self.captured: dict[Value, int] = {p: i for i, p in enumerate(self.params)}
        self._models: list[_ModelVariant] = []
        self._losses: list[_LossVariant] = []
        self.refused = ""  # why the model could not be recorded again (its steps run eagerly)
        self._compiled_for = (0, 0)  # (losses, captured) the model code was written for

    def __repr__(self) -> str:
        return (f"<compiled step of {comment(type(self.model).__name__)}: "
                f"{len(self._models)} model and {len(self._losses)} loss version(s)>")

    @property
    def source(self) -> str:
        """The generated code: one function per way the model's decisions go."""
        self._compile()
        return "\n".join(m.source for m in self._models)

    def refresh(self) -> bool:
        """Record again (lazily) if the model's attributes changed since it was recorded,
        e.g. a callback set ``model.activation``; True if they did."""
        if self._state.unchanged():
            return False
        self.params = list(self.model.parameters())
        self._state = Snapshot(self._watched)
        self._reset()
        return True

    # ---- running a step --------------------------------------------------------------
    def __call__(self, X: Any, y: Any) -> float:
        return self.run(X, y)

    def eager(self, X: Any, y: Any) -> float:
        """The same step on the eager engine: the batch's graph, then ``backward()``."""
        J = self.loss_fn([self.model(x) for x in X], y)
        if not isinstance(J, Value):
            raise TypeError(f"{self._what}: the loss must return a Value, got "
                            f"{type(J).__name__}")
        J.backward()
        return J.data

    def run(self, X: Any, y: Any, eager: Callable[[], float] | None = None) -> float:
        """The step; ``eager()`` (default: ``self.eager(X, y)``) runs instead when the code
        cannot (an overflow, an error to report, unusual data)."""
        self.refresh()
        rows = _rows(X, self.nin)
        ys = list(y) if isinstance(y, (list, tuple)) else None
        fallback = eager or (lambda: self.eager(X, y))
        if not self._models and not self.refused and rows:  # recorded again after a change
            try:
                self._models.append(self._record_model(rows[-1]))
            except TraceError as err:
                self.refused = str(err)
        if rows is None or ys is None or len(ys) != len(rows) or not rows or not self._models:
            self.eager_steps += 1
            return fallback()
        cap = list(self.captured)
        self._undo: list[tuple[Value, float]] = []  # grads an eager example has written
        try:
            value, grads = self._steps(rows, ys, cap, [v.grad for v in cap])
        except Exception:  # noqa: BLE001 (the eager engine gives these numbers or the error)
            for v, g in self._undo:
                v.grad = g
            self.eager_steps += 1
            return fallback()
        for v, g in zip(self.captured, grads):
            v.grad = g
        return value

    def _steps(self, rows: list[Sequence[float]], ys: list[Any], cap: list[Value],
               grads: list[float]) -> tuple[float, list[float]]:
        n = len(rows)
        seed = 1.0 / n if n > 1 else 1.0  # d(mean)/d(term): what backward() passes each term
        terms = [0.0] * n
        self._compile()
        C = [v.data for v in cap]  # (a list comprehension: twice as fast as map here)
        G = grads
        check = 0.0
        i = n - 1
        current = self._models[0]
        while i >= 0:
            i, status, c = current.code(rows, ys, C, G, terms, seed, i, -1)  # type: ignore
            check += c
            if i >= 0:  # example i needs another version of the code
                current, C, G, c = self._one(rows, ys, C, G, terms, seed, i, status, current)
                check += c
                i -= 1
        total = reduce(add, terms)  # summed in order, as the loss's mean adds its terms
        value = total / n if n > 1 else total
        if type(check) is not float or not -math.inf < check + value + sum(G) < math.inf:
            raise OverflowError("a number overflowed")  # (the eager engine says where)
        return value, G

    def _one(self, rows: list[Any], ys: list[Any], C: list[float], G: list[float],
             terms: list[float], seed: float, i: int, status: int, current: _ModelVariant
             ) -> tuple[_ModelVariant, list[float], list[float], float]:
        """Example ``i``, at which ``current`` stopped (status 1: a decision of the model
        went the other way, 2: no loss code for its target): run by another version of the
        code, a new recording, or the eager engine. Returns the version to go on with."""
        tried = {id(current)}
        for _ in range(MAX_VARIANTS + 4):
            try:
                if status == 2 and len(self._losses) < MAX_LOSS_VARIANTS:
                    new = self._record_loss(rows[i], ys[i])
                    for y in self._unseen(ys[:i]):  # the batch's other new targets too, so
                        with contextlib.suppress(TraceError):  # the code is written once
                            new = self._record_loss(rows[i], y) or new  # (else: its example)
                    if new:
                        C, G = self._rewritten(C, G)
                elif status == 1:
                    others = [m for m in self._models if id(m) not in tried]
                    if others:
                        current = others[0]
                    elif len(self._models) < MAX_VARIANTS:
                        current = self._record_model(rows[i])
                        self._models.append(current)
                        C, G = self._rewritten(C, G)
                    else:
                        break
                    tried.add(id(current))
                else:
                    break
            except TraceError:  # this example cannot be compiled: it runs eagerly
                break
            stop, status, c = current.code(rows, ys, C, G, terms, seed, i, i - 1)  # type: ignore
            if stop < i:
                return current, C, G, c
        self._eager_example(rows[i], ys[i], seed, terms, i, G)
        return current, C, G, 0.0

    def _rewritten(self, C: list[float], G: list[float]) -> tuple[list[float], list[float]]:
        """After a new recording: the code again, and C, G grown by newly read Values."""
        self._compile()
        new = list(self.captured)[len(C):]
        return C + [v.data for v in new], G + [v.grad for v in new]

    def _eager_example(self, row: Any, y: Any, seed: float, terms: list[float], i: int,
                       G: list[float]) -> None:
        """One example on the eager engine, its gradient added to ``G`` (in its place)."""
        cap = list(self.captured)
        if not self._undo:
            self._undo = [(v, v.grad) for v in cap]
        for v, g in zip(cap, G):
            v.grad = g
        term = self.loss_fn([self.model(list(row))], [y])
        term.backward(gradient=seed)
        G[:] = [v.grad for v in cap]
        terms[i] = term.data
        self.eager_examples += 1

    # ---- recording ------------------------------------------------------------------------
    def _record(self, call: Callable[[], Any], what: str) -> tuple[Any, Recording]:
        """``record(call)``; a call that changes state is undone and refused."""
        before = self._state  # (the model as the step last saw it: checked, not copied again)
        if not before.unchanged():
            before = Snapshot(self._watched)
        out, rec = record(call)
        if not before.unchanged():
            changed = before.changed() or "its state"
            before.restore()  # (as if never called: the eager engine trains it next)
            raise TraceError(
                f"{self._what}: calling {what} changed {changed}: code that keeps state "
                "between calls (a counter, a cache, a list it appends to) cannot be compiled, "
                "as compiled code does not run it; train eagerly (fit(..., compiled=False))."
            )
        return out, rec

    def _record_model(self, row: Sequence[float]) -> _ModelVariant:
        """The model recorded on one example, checked on a nudged copy of it."""
        def once(xs: Sequence[float]) -> Program:
            leaves = [Recorded(float(x), f"x{j}") for j, x in enumerate(xs)]
            out, rec = self._record(lambda: self.model(leaves), "the model")
            for v in leaves:
                v.__class__ = Value
            preds = [out] if isinstance(out, Value) else out
            if not isinstance(preds, (list, tuple)) or not preds or not all(
                    isinstance(p, Value) for p in preds):
                raise TraceError(f"{self._what}: the model must return a Value or a list of "
                                 f"Values, got {type(out).__name__}")
            return Program(rec, list(preds), leaves, self.captured, what=self._what)
        program = once(row)
        _per_example(program, self._what, "model")
        if any(n.kind == "captured" and n.kids for n in program.nodes):
            raise TraceError(f"{self._what}: the model reads a Value computed before the call "
                             "(not a parameter): its gradient would be shared by every example "
                             "of a batch, which per-example code cannot do; train eagerly.")
        _check_nudged(program, once, [float(x) for x in row])
        return _ModelVariant(program)

    def _unseen(self, ys: Sequence[Any]) -> list[Any]:
        """One target for each key no loss code has yet (at most a few dozen)."""
        known = set().union(*(lv.keys for lv in self._losses))
        out: dict[Any, Any] = {}
        for y in ys:
            try:
                key = target_key(y)
                if key not in known and key not in out and len(out) < 64:
                    out[key] = y
            except TypeError:  # (an unhashable target: the eager engine will judge it)
                pass
        return list(out.values())

    def _record_loss(self, row: Sequence[float], y: Any) -> bool:
        """The loss recorded for example ``(row, y)``; True if it needs new code (False if
        an earlier recording serves this target too)."""
        with no_grad():
            out = self.model(list(row))
        outs = [out] if isinstance(out, Value) else list(out)
        single = isinstance(out, Value)

        def once(values: Sequence[float]) -> Program:
            stand_ins = [Recorded(v, "out") for v in values]
            target = _fresh(y)
            got, rec = self._record(lambda: self.loss_fn(
                [stand_ins[0] if single else stand_ins], [target]), "the loss")
            for v in stand_ins:
                v.__class__ = Value
            if not isinstance(got, Value):
                raise TraceError(f"{self._what}: the loss must return a Value, got "
                                 f"{type(got).__name__}")
            return Program(rec, [got], stand_ins, self.captured, _target_objects(target),
                           what=self._what)
        values = [o.data for o in outs]
        program = once(values)
        _per_example(program, self._what, "loss")
        _check_nudged(program, once, values)
        key = target_key(y)
        for lv in self._losses:
            if (lv.program.shape() == program.shape()
                    and lv.program.outcomes() == program.outcomes()):
                lv.keys.add(key)
                return False
        lv = _LossVariant(program, key, type(y) not in (list, tuple))
        root = program.nodes[program.roots[0]].value
        reached = [program.at[v] for v in reversed(topological_order(root))]
        lv.order = [program.nodes[i].slot for i in reached if program.nodes[i].kind == "input"]
        self._losses.append(lv)
        return True

    # ---- code -----------------------------------------------------------------------------
    def _compile(self) -> None:
        now = (len(self._losses), len(self.captured))
        for k, m in enumerate(self._models):  # (new losses or Values: every version again)
            if m.code is None or now != self._compiled_for:
                m.source, m.code = self._code(m, f"step_{k}" if k else "step")
        self._compiled_for = now

    def _code(self, m: _ModelVariant, fname: str) -> tuple[str, Callable[..., Any]]:
        names, ns = Names(), Namespace()
        names.used.add(fname)
        p = m.program
        for prog in [p] + [lv.program for lv in self._losses]:
            for n in prog.nodes:
                n.name = ""
        model = Emitter(p, names, ns)
        model.vectorize()  # (names the weights it puts in lists: W[j])
        model.group_layers()
        cap = list(self.captured)
        cap_names = {n.value: n.name for n in p.nodes if n.kind == "captured" and n.name}
        cap_names.update((v, names.value(v.label, fallback="p")) for v in cap
                         if v not in cap_names)
        xs = ["_"] * self.nin
        for n in p.nodes:
            if n.kind == "input":
                n.name = xs[n.slot] = names.value(n.value.label, fallback="x")
            elif n.kind == "captured":
                n.name = cap_names[n.value]
        name_nodes(p, names)
        out = [model.ref(r) for r in p.roots]
        fixed = [j for j, r in enumerate(out) if not r.isidentifier()]  # a constant output
        for j in fixed:
            out[j] = names.value(f"out{j}")
        head = [f"def {fname}(_X, _Y, _C, _G, _T, _seed, _i, _stop):",
                '    """One training step, one example at a time (the last first, as '
                "backward() visits a batch's graph): its forward, loss and backward, the "
                'gradients added into _G."""',
                "    _chk = 0.0  # stays finite unless a number overflowed",
                "    _st = 0  # 1: a decision of the model went the other way, 2: of the loss"]
        load, store = model.captured_lines([cap_names[v] for v in cap])
        if cap:
            load = ["    # the parameters' numbers, and their .grad (this step adds to it)",
                    *("    " + line for line in load)]
        load += ["    " + line for line in model.prologue()]
        lines = ["    for _i in range(_i, _stop, -1):",
                 f"        {_tuple(xs)} = _X[_i]",
                 "        _y = _Y[_i]",
                 "        # the model's forward"]
        lines += ["        " + line for line in model.forward(["_st = 1", "break"])]
        lines += [f"        {out[j]} = {model.ref(p.roots[j])}" for j in fixed]
        # backward() walks each example's graph from the loss: it reaches the model's outputs
        # in an order that may depend on the target (cross_entropy's z_j - z_k starts at z_0
        # or z_1). Where the loss codes' orders differ, each runs its own first steps.
        orders = [model.graph([p.roots[j] for j in dict.fromkeys(
            [*lv.order, *range(len(p.roots))])])[0] for lv in self._losses]
        common = orders[0] if orders else model.graph(p.roots)[0]
        for o in orders[1:]:
            k = next((k for k, (a, b) in enumerate(zip(reversed(common), reversed(o)))
                      if a != b), min(len(common), len(o)))
            common = common[len(common) - k:]
        firsts = [o[:len(o) - len(common)] for o in orders]
        in_graph = model.graph(p.roots)[1]
        leaves = [i for i, n in enumerate(p.nodes) if i in in_graph and n.grad_flows
                  and n.kind in ("input", "leaf", "detached")]
        starts = list(dict.fromkeys([model.grad_name(i) for i in leaves if i not in model.grads]
                                    + [model.grad_name(r) for r in p.roots if p.nodes[r].inner]
                                    + [names.grad(out[j]) for j in fixed]))
        if starts:
            lines.append(f"        {' = '.join(starts)} = 0.0  # gradients start at 0")
        values, ends = model.finite(in_graph)
        assigned = {i for i, n in enumerate(p.nodes) if not n.inner} | set(p.roots)
        handed = {k for f in firsts for i in f for k in p.nodes[i].kids if p.nodes[k].grad_flows}

        inputs = [i for i in leaves if p.nodes[i].kind == "input"]

        def first_steps(v: int) -> list[str]:
            """The model's first chain-rule steps in the order loss code ``v`` reaches it."""
            body, zero = model.backward(firsts[v], assigned, [*handed, *ends, *inputs])
            done = {k for i in firsts[v] for k in p.nodes[i].kids}
            rest = [model.grad_name(k) for k in sorted(handed - done) if k not in model.grads]
            return ([f"{' = '.join(rest)} = 0.0"] if rest else []) + zero + body

        lines += self._loss_code(out, names, ns, cap_names, first_steps, model.written)
        lines.append("        # backward through the model, in backward()'s order")
        body, zero = model.backward(common, assigned | handed, [*ends, *inputs])
        lines += ["        " + line for line in zero + body]
        checked = values + [model.grad_name(i) for i in [*ends, *inputs]]
        if checked:
            lines.append(f"        _chk += {' + '.join(dict.fromkeys(checked))}")
        lines += ["    else:", "        _i = _stop  # every example done"]
        if cap:
            lines += ["    " + line for line in store]
        lines.append("    return _i, _st, _chk")
        # CPython numbers a function's variables as they first appear, and reads the first
        # 256 in one instruction: the loop's own variables (read for every example) come
        # first, named once before the parameters (read once per step, mostly)
        params = set(cap_names.values())
        first = [v for v in ["_y", "_key", *xs, *model.written] if v != "_" and v not in params
                 and not (v.startswith("g_") and v[2:] in params)]  # (nor their gradients)
        head += ["    # the loop's variables, named before the parameters: Python numbers "
                 "variables as",
                 "    # they first appear, and reads the first 256 in one instruction (later "
                 "ones, two)",
                 f"    {' = '.join(dict.fromkeys(first))} = None"]
        source = "\n".join(head + load + lines) + "\n"
        exec(compile(source, f"<{fname} of {type(self.model).__name__}>", "exec"),  # noqa: S102
             ns.values)
        return source, ns.values[fname]

    def _loss_code(self, out: list[str], names: Names, ns: Namespace,
                   cap_names: dict[Value, str], first_steps: Callable[[int], list[str]],
                   written: dict[str, None]) -> list[str]:
        """The loss for the example's target: the recorded code whose targets it is
        (``written``: where its emitters note the variables they assign)."""
        pad = "        "
        scalar = all(lv.scalar for lv in self._losses)
        flags = any(lv.program.guards for lv in self._losses)  # (if/elif when none decides)
        lines = [f"{pad}# the loss, as recorded for this target",
                 f"{pad}_key = {'(_y.__class__, _y)' if scalar else '_target_key(_y)'}"]
        if flags:
            lines.append(f"{pad}_done = False")
        ns.values["_target_key"] = target_key
        ns.values["_once"] = (0,)
        for k, lv in enumerate(self._losses):
            p = lv.program
            for n in p.nodes:
                if n.kind == "input":
                    n.name = out[n.slot]
                elif n.kind == "captured":
                    n.name = cap_names[n.value]
            name_nodes(p, names)
            emit = Emitter(p, names, ns)
            emit.written = written
            emit.targets = ["_y"] if lv.scalar else [f"_y[{j}]" for j in range(
                max((n.slot for n in p.nodes if n.kind == "target"), default=-1) + 1)]
            keys = ns.ref(lv.keys)
            guarded = bool(p.guards)
            inner = pad + ("        " if guarded else "    ")
            test = "if" if k == 0 else ("if not _done and" if flags else "elif")
            lines.append(f"{pad}{test} _key in {keys}:")
            if guarded:  # a block to leave when a decision of this recording goes otherwise
                lines.append(f"{pad}    for _ in _once:")
            lines += [inner + line for line in emit.forward(["break"])]
            root = p.nodes[p.roots[0]]
            order, in_graph = emit.graph(p.roots)
            values, ends = emit.finite(in_graph)
            assigned = {i for i, n in enumerate(p.nodes) if not n.inner}
            seed = root.grad_flows
            body, zero = emit.backward(order, assigned | ({p.roots[0]} if seed else set()),
                                       ends)
            lines += [inner + line for line in zero]
            if seed:
                g = emit.grad_name(p.roots[0])
                lines.append(f"{inner}{g} {'=' if root.inner else '+='} _seed")
            lines += [inner + line for line in body]
            checked = [v for v in values if v != root.name]  # (the driver checks the mean)
            checked += [emit.grad_name(i) for i in ends]
            lines.append(f"{inner}_T[_i] = {emit.ref(p.roots[0])}")
            if checked:
                lines.append(f"{inner}_chk += {' + '.join(dict.fromkeys(checked))}")
            steps = first_steps(k)
            if steps:
                lines.append(f"{inner}# the model's first steps, in the order this loss "
                             "reaches its outputs")
                lines += [inner + line for line in steps]
            if flags:
                lines.append(f"{inner}_done = True")
        if not self._losses:
            return [f"{pad}_st = 2  # no loss recorded yet", f"{pad}break"]
        lines += [f"{pad}if not _done:" if flags else f"{pad}else:",
                  f"{pad}    _st = 2  # a target (or a decision) no recording had",
                  f"{pad}    break"]
        return lines


def _per_example(program: Program, what: str, part: str) -> None:
    """Refuse code that would hold for the recorded numbers only: it would be recorded again
    for nearly every example (slower than the eager engine)."""
    d = program.pinned()
    if d is not None:
        raise TraceError(
            f"{what}: the {part} uses {d.describe()}, so its code would hold for this one "
            "example only (compiled code cannot redo what Python does with the number). Use "
            "Value ops and comparisons instead (v.relu(), v > 0), or train eagerly "
            "(fit(..., compiled=False))."
        )


def _check_nudged(program: Program, again: Callable[[list[float]], Program],
                  values: list[float]) -> None:
    """Record once more with nudged inputs: where every decision comes out the same, the
    program must be the same (else it depends on something no decision showed)."""
    for sign in (1.0, -1.0):
        try:
            other = again([x + sign * (nudged(x) - x) for x in values])
        except Exception:  # noqa: BLE001 (it refuses the nudged inputs: nothing to compare)
            continue
        if other.outcomes() == program.outcomes():
            program.same_as(other)
            return


def _rows(X: Any, nin: int) -> list[Sequence[float]] | None:
    """The batch as rows of ``nin`` floats, or None when it is unusual (eager decides)."""
    if not isinstance(X, (list, tuple)):
        return None
    try:
        if set(map(type, chain.from_iterable(X))) == {float}:  # (the code checks the lengths)
            return X if type(X) is list else list(X)
        rows = []
        for r in X:
            r = r.tolist() if hasattr(r, "tolist") else r
            r = list(r) if isinstance(r, (list, tuple)) else [r]
            if len(r) != nin or not all(type(v) in (float, int) and not isinstance(v, bool)
                                        for v in r):
                return None
            rows.append([float(v) for v in r])
        return rows
    except (TypeError, OverflowError):
        return None


def _tuple(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _examples(example_x: Any, example_y: Any) -> tuple[list[list[Any]], list[Any]]:
    """The examples as rows and targets (one row and target, or a batch of them)."""
    if hasattr(example_x, "tolist") and not isinstance(example_x, (list, tuple)):
        example_x = example_x.tolist()
    if hasattr(example_y, "tolist") and not isinstance(example_y, (list, tuple)):
        example_y = example_y.tolist()
    if isinstance(example_x, (int, float)) and not isinstance(example_x, bool):
        return [[example_x]], [example_y]
    if not isinstance(example_x, (list, tuple)) or not example_x:
        raise TypeError("compile_step: example_x must be rows of numbers like fit's X (a list "
                        f"of rows), got {type(example_x).__name__}")
    first = example_x[0]
    if not (isinstance(first, (list, tuple)) or hasattr(first, "tolist")):
        return [list(example_x)], [example_y]
    if not isinstance(example_y, (list, tuple)) or len(example_y) != len(example_x):
        raise ValueError(f"compile_step: {len(example_x)} example rows need as many targets in "
                         f"example_y, got {example_y!r:.80}")
    rows = [r.tolist() if hasattr(r, "tolist") else r for r in example_x]
    return [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows], list(example_y)


def compile_step(model: Any, loss_fn: Callable[[Any, Any], Value], example_x: Any,
                 example_y: Any) -> CompiledStep:
    """Compile one training step of ``model`` with ``loss_fn``.

    ``step = compile_step(model, loss_fn, X[:8], y[:8])``; then ``step(X_batch, y_batch)``
    returns the batch's mean loss (a float) and adds d(mean loss)/d(p) into ``p.grad``: what
    ``loss_fn([model(x) for x in X_batch], y_batch).backward()`` computes, by generated code
    (``step.source``) instead of a graph.

    ``example_x``/``example_y``: a few rows of the training data and their targets (like
    fit's ``X`` and ``y``), or one row and its target. ``TraceError`` says what cannot be
    compiled: an op whose derivative is a micrograd closure, a forward that keeps state
    between calls, a ``loss_fn`` that is not a mean over examples.
    """
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError("compile_step: model must be a Module (callable, with parameters())")
    if not callable(loss_fn):
        raise TypeError(f"compile_step: loss_fn must be a function, got {loss_fn!r:.80}")
    rows, ys = _examples(example_x, example_y)
    rows, ys = rows[:8], ys[:8]
    step = CompiledStep(model, loss_fn, len(rows[0]))
    floats = _rows(rows, step.nin)
    if floats is None:
        raise TypeError(f"{step._what}: the example rows must be lists of {step.nin} numbers")
    step._models.append(step._record_model(floats[0]))
    step._record_loss(floats[0], ys[0])
    _check_mean(step, floats, ys)
    return step


def _check_mean(step: CompiledStep, rows: list[Sequence[float]], ys: list[Any]) -> None:
    """The compiled step must give the eager step's numbers on the examples."""
    cap = list(step.params)
    saved = [v.grad for v in cap]
    try:
        for v in cap:
            v.grad = 0.0
        want = step.eager(rows, ys)
        want_g = [v.grad for v in cap]
        for v in cap:
            v.grad = 0.0
        got = step.run(rows, ys)
        got_g = [v.grad for v in cap]
    finally:
        for v, g in zip(cap, saved):
            v.grad = g
    scale = max([abs(want), 1e-300] + [abs(g) for g in want_g])
    worst = max([abs(got - want)] + [abs(a - b) for a, b in zip(got_g, want_g)])
    if not worst <= 1e-12 * scale:
        raise TraceError(
            f"{step._what}: the compiled step gives {got!r} where the eager step gives "
            f"{want!r} (largest difference {worst:.3g}): the loss is not a mean over examples "
            "of one loss per example (as every loss in tinygrad_edu.losses is), so it cannot "
            "be computed one example at a time. Train eagerly (fit(..., compiled=False))."
        )
