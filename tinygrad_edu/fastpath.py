"""Speed tricks for the eager engine, kept out of the textbook (``engine.py``).

Each one leaves every float as it was: the same operations in the same order (the tests in
``tests/test_speed_exact.py`` hold 30 training steps to the bit).

- ``dense(neurons, xs)``: a whole layer's outputs, one node per neuron. The node does
  ``linear`` and the activation in one, op ``"linear+relu"``, ``"linear+tanh"``,
  ``"linear+sigmoid"`` (``"linear"`` for a linear neuron): half the nodes of
  ``act(linear(w, x, b))``, and its children are those of ``linear``, ``(b, w..., x...)``. A
  neuron's ``(b, w...)`` tuple is built once and reused (checked against ``neuron.w`` and
  ``neuron.b`` on every call, so replacing a weight is seen).
- ``backprop(root, gradient)``: what ``Value.backward()`` runs: the steps of
  ``engine.reference_backward`` (newest node first, ``engine.backward_order``) with the
  overflow policy of ``backprop.py``, in one pass to collect the nodes (a seen node is marked
  by negating its creation number, no dict) and a sort by creation number; a node whose
  gradient is exactly 0 passes nothing on, so its rule is skipped (a relu that did not fire,
  a hinge term already satisfied: often most of the graph); a dense node's parameters are
  listed, and the inputs a layer's neurons share scanned, once per layer call (``_Call``).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from operator import attrgetter, mul

from tinygrad_edu import backprop as _walks
from tinygrad_edu import checks, grad_mode
from tinygrad_edu.engine import _BACKWARD, Value, backward_order, made
from tinygrad_edu.fused import linear_step

__all__ = ["dense", "backprop", "DENSE_OPS"]

_new = object.__new__


class _Params:
    """A neuron's parameters as the first children of its dense nodes: ``bw = (b, w...)``,
    with the activation; ``walk`` marks the walk that has listed the parameters already."""

    __slots__ = ("bw", "b", "w", "act", "act_of", "op", "walk")

    def __init__(self, b: Value, w: list[Value], act: str, act_of: object) -> None:
        self.bw = (b, *w)
        self.b, self.w = b, list(w)
        self.act, self.act_of, self.op = act, act_of, _OPS[act]
        self.walk = 0


class _Call:
    """One call of ``dense``: every node it makes holds it in ``_arg``. The walk scans the
    call's inputs and lists its neurons' parameters once, not once per neuron."""

    __slots__ = ("xs", "params", "walk")

    def __init__(self, xs: tuple[Value, ...]) -> None:
        self.xs, self.params, self.walk = xs, [], 0


def _params_of(neuron: object) -> _Params | None:
    """The neuron's parameters, cached; None when it does not fit (a weight that is not a
    leaf Value, an activation without a dense op)."""
    act = getattr(neuron, "activation", None)
    w, b = getattr(neuron, "w", None), getattr(neuron, "b", None)
    if act not in _OPS or not isinstance(w, list) or not all(
            type(p) is Value and not p.children for p in (b, *w)):
        return None
    act_of = getattr(neuron, "_activation", None)
    params = _Params(b, w, act, act_of)  # type: ignore[arg-type]
    if act_of is not None:  # (else no cache: _activation is how a change is noticed)
        neuron.__dict__["_dense_params"] = params
    return params


def _sigmoid(x: float) -> float:
    # engine.Value.sigmoid's two forms, so that exp never overflows
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else (e := math.exp(x)) / (1.0 + e)


_OPS = {"relu": "linear+relu", "tanh": "linear+tanh", "sigmoid": "linear+sigmoid",
        "linear": "linear"}
DENSE_OPS = frozenset(_OPS.values())
_data = attrgetter("data")
# b + w0*x0 + w1*x1 + ... added left to right, as linear adds: before Python 3.12 sum() of
# floats is that plain loop, in C (3.12 compensates the rounding, which would change floats)
_C_SUM = sys.version_info < (3, 12)


def dense(neurons: Sequence[object], xs: Sequence[Value]) -> list[Value] | None:
    """The outputs of ``neurons`` (each with ``w``, ``b``, ``activation``) for inputs ``xs``
    (Values), one node each; None if a neuron does not fit the fast path."""
    nx = len(xs)
    xs = tuple(xs)
    xdata = [x.data for x in xs]
    recording = grad_mode.open_blocks == 0 or grad_mode.is_grad_enabled()
    call = _Call(xs)
    add_params = call.params.append
    out = []
    append = out.append
    for n in neurons:
        try:
            p = n._dense_params  # checked on every call: replacing a weight (in place too)
            if (p.b is not n.b or p.w != n.w  # or the activation is seen
                    or p.act_of is not n._activation):
                raise AttributeError
        except AttributeError:  # first call, or something changed: (re)build
            p = _params_of(n)
            if p is None:
                return None  # no fast path (the nodes made so far are just dropped)
        w = p.w
        if len(w) != nx:
            return None
        add_params(p)
        if _C_SUM:
            acc = sum(map(mul, map(_data, w), xdata), p.b.data)
        else:
            acc = p.b.data
            for wi, xv in zip(w, xdata):
                acc += wi.data * xv
        if not -math.inf < acc < math.inf:
            raise checks.bad_result("linear", p.bw + xs, None, acc)
        act = p.act
        if act == "relu":
            data = acc if acc > 0 else 0.0
        elif act == "linear":
            data = acc
        elif act == "tanh":
            data = math.tanh(acc)
        else:
            data = _sigmoid(acc)
        v = _new(Value)
        v.data = data
        v.grad = 0.0
        v.label = ""
        v._seq = next(made)
        if recording:
            v.op = p.op
            v.children = p.bw + xs
            v._arg = call
        else:
            v.op = ""
            v.children = ()
            v._arg = None
        append(v)
    return out


# ---- the chain-rule steps of the dense nodes ---------------------------------------------
def _back_linear_relu(out: Value) -> None:
    if out.data > 0:  # relu passes the gradient on only where it fired
        linear_step(out, out.grad)


def _back_linear_tanh(out: Value) -> None:
    linear_step(out, (1.0 - out.data * out.data) * out.grad)


def _back_linear_sigmoid(out: Value) -> None:
    linear_step(out, out.data * (1.0 - out.data) * out.grad)


_BACKWARD["linear+relu"] = _back_linear_relu
_BACKWARD["linear+tanh"] = _back_linear_tanh
_BACKWARD["linear+sigmoid"] = _back_linear_sigmoid


# ---- the walk ------------------------------------------------------------------------------
_walk_ids = itertools.count(1)
_newest_first = attrgetter("_seq")  # (on marked nodes, whose numbers are negated)


def _collect(walk_id: int, inner: list[Value], leaves: list[Value],
             saved: dict[Value, float]) -> None:
    """Every node below ``inner[0]`` (the root), once: inner nodes appended to ``inner`` (grad
    zeroed, a nonzero one kept in ``saved``), leaves to ``leaves``. A node is marked as seen
    by negating its creation number; a dense node's parameters are listed once per neuron."""
    add_inner, add_leaf = inner.append, leaves.append
    for node in inner:  # (the list grows as the walk finds nodes: it is its own work queue)
        children = node.children
        call = node._arg
        if type(call) is _Call:  # a dense node: its call's neurons all share the inputs
            if call.walk == walk_id:
                continue  # done at a sibling: parameters listed, inputs scanned
            call.walk = walk_id
            for params in call.params:
                if params.walk != walk_id:
                    params.walk = walk_id
                    for p in params.bw:
                        if p._seq > 0:
                            p._seq = -p._seq
                            add_leaf(p)
            children = call.xs
        for child in children:
            if child._seq > 0:  # not seen yet in this walk
                child._seq = -child._seq
                if child.children:
                    if child.grad:
                        saved[child] = child.grad
                    child.grad = 0.0  # inner nodes are recomputed
                    add_inner(child)
                else:
                    add_leaf(child)


def _unmark(nodes: list[Value]) -> None:
    for node in nodes:
        if node._seq < 0:
            node._seq = -node._seq


def backprop(root: Value, gradient: float = 1.0) -> None:
    """``root.backward(gradient)``: ``engine.reference_backward``'s steps, newest node first.

    The overflow policy of ``backprop.py``: no gradient is left inf or NaN; if one would be,
    every grad is put back and the walk is redone step by step to name the op.
    """
    if _walks._paused:
        _walks._invalidate_paused_walks({n for n in backward_order(root) if n.children})
    if not root.children:
        try:
            total = root.grad + gradient
        except (TypeError, ValueError, OverflowError) as err:  # a .grad set by hand
            _walks._hand_set(root, err)
            raise
        if not math.isfinite(total):
            raise OverflowError(f"backward(): the gradient of the leaf {root!r} plus "
                                f"{gradient!r} is {total}: too large for a float")
        root.grad = total
        return
    inner: list[Value] = [root]
    leaves: list[Value] = []
    saved: dict[Value, float] = {}
    leaf_grads: list[float] | None = None
    finite = True
    root._seq = -root._seq
    try:
        _collect(next(_walk_ids), inner, leaves, saved)
        inner.sort(key=_newest_first)  # (negated numbers: newest first)
        leaf_grads = [leaf.grad for leaf in leaves]
        root.grad = gradient
        backward_rule, isfinite = _BACKWARD, math.isfinite
        for node in inner:
            node._seq = -node._seq
            g = node.grad  # final: every node that uses this one is newer
            if g:  # 0 passes nothing on: skip the rule
                if not isfinite(g):
                    finite = False
                backward_rule[node.op](node)
        for leaf in leaves:
            leaf._seq = -leaf._seq
            if not isfinite(leaf.grad):
                finite = False
    except BaseException as err:  # a rule raised (or Ctrl-C): put every grad and mark back
        _unmark(inner)
        _unmark(leaves)
        _walks._restore(root, saved, leaves, leaf_grads)
        if isinstance(err, (TypeError, ValueError, OverflowError)):
            _walks._hand_set(root, err)
        raise
    if not finite:  # again, step by step, checking each gradient: it raises naming the op
        _walks._restore(root, saved, leaves, leaf_grads)
        _walks._hand_set(root, None)
        for _ in _walks._steps(root, gradient):
            pass
        raise OverflowError("backward(): a gradient is too large for a float")  # (unreached)
