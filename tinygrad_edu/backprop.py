"""The walks over a graph that apply the chain rule, and the local derivatives of a node.

- ``backprop(root)``: what ``Value.backward()`` runs. The same steps, in the same order, with
  the same floats as ``engine.reference_backward``, written for speed: leaves are never
  visited (they pass nothing on, and leaving them out does not change the order of the inner
  nodes), and each inner node keeps its count of users still to pass their gradient on in its
  own ``_users`` slot rather than in a dict (all counts are back to 0 when the walk ends).
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

import itertools
import math
import weakref
from collections.abc import Iterator

from tinygrad_edu import checks
from tinygrad_edu.engine import _BACKWARD, Value, backward_order

__all__ = ["backprop", "backward_steps", "local_derivatives"]

_walk_ids = itertools.count(1)  # each walk marks the leaves it has listed with its own id


def _count_inner_users(root: Value, walk_id: int, leaves: list[Value],
                       saved: dict[Value, float]) -> None:
    """How many times each inner node below ``root`` is used, into its ``_users`` slot; zero
    its grad (inner nodes are recomputed), keeping a nonzero one in ``saved``. The leaves
    (each once) go to ``leaves``."""
    stack = [root]
    push, pop, list_leaf = stack.append, stack.pop, leaves.append  # (bound once: hot loop)
    while stack:
        for child in pop().children:
            if child.children:  # an inner node
                if child._users == 0:  # first time seen
                    if child.grad:
                        saved[child] = child.grad
                    child.grad = 0.0
                    push(child)
                child._users += 1
            elif child._users is not walk_id:  # a leaf not listed yet (its _users is free)
                child._users = walk_id
                list_leaf(child)


def backprop(root: Value, gradient: float = 1.0) -> None:
    """``root.backward(gradient)`` as one plain loop (the hot path of training)."""
    if _paused:
        _invalidate_paused_walks({node for node in backward_order(root) if node.children})
    if not root.children:
        try:
            total = root.grad + gradient
        except (TypeError, ValueError, OverflowError) as err:  # a .grad set by hand
            _hand_set(root, err)
            raise
        if not math.isfinite(total):
            raise OverflowError(f"backward(): the gradient of the leaf {root!r} plus "
                                f"{gradient!r} is {total}: too large for a float")
        root.grad = total
        return
    leaves: list[Value] = []
    saved: dict[Value, float] = {}
    leaf_grads: list[float] | None = None
    finite = True
    try:
        _count_inner_users(root, next(_walk_ids), leaves, saved)
        leaf_grads = [leaf.grad for leaf in leaves]
        root.grad = gradient
        backward_rule, isfinite = _BACKWARD, math.isfinite
        ready = [root]
        pop, push = ready.pop, ready.append
        while ready:
            node = pop()
            if not isfinite(node.grad):  # (final here)
                finite = False
            backward_rule[node.op](node)
            for child in node.children:
                if child.children:
                    left = child._users - 1
                    child._users = left
                    if left == 0:
                        push(child)
        for leaf in leaves:
            if not isfinite(leaf.grad):
                finite = False
    except BaseException as err:  # a rule raised (or Ctrl-C): put every grad and count back
        _restore(root, saved, leaves, leaf_grads)
        if isinstance(err, (TypeError, ValueError, OverflowError)):
            _hand_set(root, err)
        raise
    if not finite:  # again, step by step, checking each gradient: it raises naming the op
        _restore(root, saved, leaves, leaf_grads)
        _hand_set(root, None)
        for _ in _steps(root, gradient):
            pass
        raise OverflowError("backward(): a gradient is too large for a float")  # (unreached)


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
            node._users = 0
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
    probe._arg, probe._users = node._arg, 0
    _BACKWARD[node.op](probe)
    return tuple(child.grad for child in probe.children)
