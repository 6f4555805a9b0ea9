"""The walks over a graph that apply the chain rule, and the local derivatives of a node.

- ``backward()`` runs ``fastpath.backprop``: the steps of ``engine.reference_backward``, in
  the same order (newest node first) and with the same floats, written for speed.
- ``backward_steps(root)``: the same walk as a generator, one node at a time.
- ``local_derivatives(node)``: d node / d input for each input, for every op.

Overflow policy (both walks): a gradient is never left inf or NaN. If any gradient the walk
computes would be, it raises ``OverflowError`` naming the op and the numbers, and every
``.grad`` is as it was before the call (the fast walk notices at the end and then re-walks
step by step to name the op). Numbers written into an expression (``Constant`` leaves) get
no gradient at all, so ``x / 1e-160`` has the finite ``x.grad = 1e160``, as in PyTorch.

Grads are per graph: do not backpropagate one graph from two threads at once.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator

from tinygrad_edu import checks
from tinygrad_edu.engine import _BACKWARD, Value, backward_order

__all__ = ["backward_steps", "local_derivatives"]

def _hand_set(root: Value, err: BaseException | None) -> None:
    """Cold path, after an error or a non-finite grad: if a node of the graph holds a .data
    or .grad set by hand to something that is not a finite float (``v.grad = None``), raise
    a TypeError naming it, rather than Python's own error from deep inside a rule."""
    bad = checks.hand_set(backward_order(root))
    if bad is not None:
        raise bad from err


def _restore(root: Value, saved: dict[Value, float], leaves: list[Value],
             leaf_grads: list[float] | None) -> None:
    for node in backward_order(root):
        if node.children:
            node.grad = saved.get(node, 0.0)
    if leaf_grads is not None:
        for leaf, g in zip(leaves, leaf_grads):
            leaf.grad = g


# ---------------------------------------------------------------------------------------------
# Step by step
# ---------------------------------------------------------------------------------------------
class _Walk:
    """A ``backward_steps`` walk: the inner nodes it works on, and whether someone else
    backpropagated through them while it was paused."""

    __slots__ = ("inner", "stale", "__weakref__")

    def __init__(self) -> None:
        self.inner: set[Value] = set()
        self.stale = False


_paused: weakref.WeakSet[_Walk] = weakref.WeakSet()  # walks started and not finished


def _invalidate_paused_walks(inner: set[Value], this: _Walk | None = None) -> None:
    """A new walk over these inner nodes resets grads a paused walk is adding to: mark it."""
    for walk in list(_paused):
        if walk is not this and not walk.inner.isdisjoint(inner):
            walk.stale = True


def _steps(root: Value, gradient: float, walk: _Walk | None = None) -> Iterator[Value]:
    """The walk of ``reference_backward``, one node per step, checking every gradient."""
    order = backward_order(root)
    bad = checks.hand_set(order)  # (a step-by-step walk is not a hot path: check first)
    if bad is not None:
        raise bad
    before = {node: node.grad for node in order}  # to put back if a gradient overflows
    if walk is not None:
        walk.inner = {node for node in order if node.children}
        _invalidate_paused_walks(walk.inner, walk)
        _paused.add(walk)
    try:
        for node in order:
            if node.children:
                node.grad = 0.0
        root.grad += gradient
        if not math.isfinite(root.grad):
            _put_back(before)
            raise OverflowError(f"backward(): the gradient of {root!r} plus {gradient!r} is "
                                "too large for a float")
        for node in order:
            yield node  # node.grad is final here
            if walk is not None and walk.stale:
                raise RuntimeError(
                    "backward_steps: this graph was backpropagated (by backward() or another "
                    "walk) while this walk was paused, so its gradients would be counted "
                    "twice. Start a new walk with backward_steps(root)."
                )
            if node.children:
                _checked_step(node, before)
    finally:
        if walk is not None:
            _paused.discard(walk)


def _checked_step(node: Value, before: dict[Value, float]) -> None:
    """``node._backward()``; on a non-finite gradient, put ``before`` back and say where."""
    kids = node.children
    old = [child.grad for child in kids]
    try:
        _BACKWARD[node.op](node)
    except BaseException:
        _put_back(before)
        raise
    for i, child in enumerate(kids):
        g = child.grad
        if not math.isfinite(g):
            error = _overflow(node, i, old[i], g)
            _put_back(before)
            raise error


def _put_back(grads: dict[Value, float]) -> None:
    for node, g in grads.items():
        node.grad = g


def _overflow(node: Value, i: int, old: float, new: float) -> OverflowError:
    try:
        local: object = local_derivatives(node)[i]
    except (ArithmeticError, ValueError, TypeError):
        local = "?"
    op, _, shown = checks.describe(node.op, node.children, node._arg, most=4)
    child = node.children[i]
    name = f" '{child.label}'" if child.label else ""
    return OverflowError(
        f"backward(): '{op}' of ({shown}) = {node.data!r} would make the gradient of its "
        f"input {i + 1}{name} {new}: {old!r} + {node.grad!r} (the gradient of '{op}') "
        f"x {local!r} (its local derivative) is too large for a float. No grad was changed. "
        "Keep the values away from where the derivative blows up, or scale the inputs."
    )


def backward_steps(root: Value) -> Iterator[Value]:
    """Step through ``root.backward()`` one node at a time.

    Yields every node of the graph in the order the chain rule visits them; when a node is
    yielded its ``grad`` is final (everything that uses it has passed its gradient on). Its
    own contribution to its children happens when you ask for the next node. Running the
    generator to the end leaves exactly the grads of ``root.backward()``.

    - A walk you stop early (``break``, or a generator you drop) leaves the grads it has
      made so far: the nodes it yielded hold their final grads, the others partial sums
      (leaves have received part of their gradient). ``zero_grad()`` and a new walk, or
      ``backward()``, start clean.
    - If the same graph is backpropagated (``backward()`` or another walk) while this walk is
      paused, resuming it raises ``RuntimeError``: its remaining steps would count twice.
    - A gradient too large for a float raises ``OverflowError`` and puts back every grad as
      it was before the walk.
    """
    return _steps(checks.node(root, "backward_steps"), 1.0, _Walk())


# ---------------------------------------------------------------------------------------------
# Local derivatives
# ---------------------------------------------------------------------------------------------
def local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d input for each of ``node.children``, in order (``()`` for a leaf).

    Found by running the node's own chain-rule step with ``grad = 1`` on fresh copies of its
    inputs, so it holds for every op: built-in, ``linear`` and ``Function`` ops alike, and an
    input used twice (``a * a``) gets one entry per use.
    """
    if not checks.node(node, "local_derivatives").children:
        return ()
    probe = object.__new__(Value)
    probe.data, probe.grad, probe.label, probe.op = node.data, 1.0, "", node.op
    probe.children = tuple(Value(child.data) for child in node.children)
    probe._arg, probe._seq = node._arg, 0
    _BACKWARD[node.op](probe)
    return tuple(child.grad for child in probe.children)
