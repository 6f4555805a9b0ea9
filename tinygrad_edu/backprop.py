"""The walks over a graph that apply the chain rule.

- ``backprop(root)``: what ``Value.backward()`` runs. The same steps, in the same order, with
  the same floats as ``engine.reference_backward``, written for speed: leaves are never
  visited (they pass nothing on, and leaving them out does not change the order of the inner
  nodes), and each inner node keeps its count of users still to pass their gradient on in its
  own ``_users`` slot rather than in a dict (all counts are back to 0 when the walk ends).
- ``backward_steps(root)``: the same walk as a generator, one node at a time, for stepping
  through backprop.
"""

from __future__ import annotations

from collections.abc import Iterator

from tinygrad_edu.engine import _BACKWARD, Value, backward_order

__all__ = ["backprop", "backward_steps"]


def _count_inner_users(root: Value) -> None:
    """How many times each inner node below ``root`` is used, into its ``_users`` slot;
    zeroes its grad (inner nodes are recomputed)."""
    stack = [root]
    while stack:
        for child in stack.pop().children:
            if child.children:  # leaves have no rule, nothing waits for them
                if child._users == 0:  # first time seen
                    child.grad = 0.0
                    stack.append(child)
                child._users += 1


def backprop(root: Value, gradient: float = 1.0) -> None:
    """``root.backward(gradient)`` as one plain loop (the hot path of training)."""
    if not root.children:
        root.grad += gradient
        return
    try:
        _count_inner_users(root)
        root.grad = gradient
        backward_rule = _BACKWARD
        ready = [root]
        while ready:
            node = ready.pop()
            backward_rule[node.op](node)  # node.grad is final here
            for child in node.children:
                if child.children:
                    left = child._users - 1
                    child._users = left
                    if left == 0:
                        ready.append(child)
    except BaseException:  # a rule raised (or Ctrl-C): leave no stale counts behind
        for node in backward_order(root):
            node._users = 0
        raise


def _walk(root: Value) -> Iterator[Value]:
    order = backward_order(root)
    for node in order:  # intermediate grads restart from 0; leaves accumulate
        if node.children:
            node.grad = 0.0
    root.grad += 1.0
    backward_rule = _BACKWARD
    for node in order:
        yield node  # node.grad is final here
        if node.children:
            backward_rule[node.op](node)


def backward_steps(root: Value) -> Iterator[Value]:
    """Step through ``root.backward()`` one node at a time.

    Yields every node of the graph in the order the chain rule visits them; when a node is
    yielded its ``grad`` is final (everything that uses it has passed its gradient on). Its
    own contribution to its children happens when you ask for the next node. Running the
    generator to the end leaves exactly the grads of ``root.backward()``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps needs a Value, got {type(root).__name__}")
    return _walk(root)
