"""Tools around ``backward()``, all built on engine.py's one chain-rule step:

- ``backward_steps(root)``: the walk of ``backward()``, one node at a time (for stepping
  through backprop: the stepper and ``explain`` read it);
- ``gradcheck(f, inputs)``: ``backward()`` against central finite differences.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence

from tinygrad_edu import args, checks
from tinygrad_edu.engine import Value, local_derivatives, topological_order
from tinygrad_edu.grad_mode import no_grad

__all__ = ["backward_steps", "gradcheck", "GradcheckError", "local_derivatives"]
_TOP = 1.7976931348623157e308  # the largest float


def backward_steps(root: Value) -> Iterator[Value]:
    """Step through ``root.backward()`` one node at a time.

    Yields every node of the graph in the order the chain rule visits them; when a node is
    yielded its ``grad`` is final (everything that uses it has passed its gradient on). Its
    own contribution to its inputs happens when you ask for the next node. Running the
    generator to the end leaves exactly the grads of ``root.backward()`` (the same steps).

    - A walk you stop early leaves the grads it has made so far; ``zero_grad()`` and a new
      walk, or ``backward()``, start clean.
    - If the graph's grads are changed while the walk is paused (``backward()`` or another
      walk), resuming raises ``RuntimeError``: its remaining steps would count twice.
    - A gradient too large for a float raises ``OverflowError`` and puts every grad back.
    """
    return _steps(checks.node(root, "backward_steps"))


def _steps(root: Value) -> Iterator[Value]:
    order = topological_order(root)
    bad = checks.hand_set(order)
    if bad is not None:
        raise bad
    before = [node.grad for node in order]
    for node in order:
        if node.children:
            node.grad = 0.0
    root.grad += 1.0
    expected = {node: node.grad for node in order}  # what this walk has put in each grad
    for node in order:
        yield node  # node.grad is final here
        if node.grad != expected[node] or any(  # (a leaf's grad may grow meanwhile: a
                child.children and child.grad != expected[child]  # graph sharing only leaves)
                for child in node.children):
            raise RuntimeError(
                "backward_steps: this graph was backpropagated (by backward() or another walk) "
                "while this walk was paused, so its remaining steps would count twice. Start "
                "a new walk with backward_steps(root)."
            )
        try:
            node._backward()
        except Exception as err:
            checks.put_back(order, before)
            checks.blame_hand_set(order, err)
            raise
        for child in node.children:
            expected[child] = child.grad
            if not -_TOP <= child.grad <= _TOP:  # put every grad back, name the op
                checks.finite_grads(order, before, local_derivatives)


class GradcheckError(RuntimeError):
    """backward() disagrees with finite differences (same name as PyTorch's)."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Value | float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ``backward()`` with central finite differences for every input.

    ``f(*inputs)`` must return a ``Value``. For each input ``x_i`` the numeric gradient is
    ``(f(.., x_i + h, ..) - f(.., x_i - h, ..)) / (2 h)`` with the step scaled to the input,
    ``h = eps * max(1, |x_i|)`` (a fixed 1e-6 would vanish into the rounding of 1e8 + 1e-6;
    the division uses the step the floats really took); it must satisfy
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    ``GradcheckError`` naming the input and both numbers, and saying so when the finite
    difference itself is lost to rounding (then a larger ``eps`` is the cure).

    Both sides are partial derivatives, one per argument position: ``f`` gets a fresh leaf
    per position, so the same Value passed twice is checked twice, on its own each time.
    No ``.grad`` changes: neither the inputs' nor those of Values that ``f`` uses from
    outside (every grad of the graph is put back after the backward pass).
    """
    if not callable(f):
        raise TypeError(f"gradcheck: f must be a function, got {type(f).__name__}")
    inputs = args.plain(inputs, "gradcheck: inputs")  # a NumPy array or tensor of inputs
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError("gradcheck: inputs must be a non-empty list of Values or numbers")
    args.at_most(inputs, "gradcheck: inputs")  # (range(10**18): asked, never read)
    try:  # (a str, None or an int of 400 digits: a ValueError saying which, as before)
        eps, atol, rtol = (checks.number(args.scalar(tol, f"gradcheck: {name}"),
                                         f"gradcheck: {name}")
                           for name, tol in (("eps", eps), ("atol", atol), ("rtol", rtol)))
    except TypeError as err:
        raise ValueError(str(err)) from None
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not tol >= 0:
            raise ValueError(f"gradcheck: {name} must be a number >= 0, got {tol!r}")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    xs = [x if isinstance(x, Value) else Value(args.scalar(x, f"gradcheck: inputs[{i}]"),
                                               f"x{i}")
          for i, x in enumerate(inputs)]
    try:  # one input per argument of f: say so, not Python's "missing 1 required argument"
        inspect.signature(f).bind(*xs)
    except TypeError as err:
        raise TypeError(f"gradcheck: f cannot take the {len(xs)} inputs given ({err}); pass "
                        "one input per argument of f") from None
    except ValueError:  # no signature to read (some builtins): f's call will tell
        pass
    leaves = [Value(x.data, x.label) for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    saved = {node: node.grad for node in topological_order(out)}
    try:
        out.backward()
        analytic = [x.grad for x in leaves]
    finally:
        for node, g in saved.items():
            node.grad = g

    def f_at(i: int, at: float) -> float:
        with no_grad():
            moved = [Value(at) if j == i else Value(x.data) for j, x in enumerate(xs)]
            return f(*moved).data

    for i, x in enumerate(xs):
        h = eps * max(1.0, abs(x.data))
        up, down = x.data + h, x.data - h
        if not -_TOP <= down <= up <= _TOP:  # (x near the largest float: step inwards only)
            up, down = (x.data, x.data - h) if up > _TOP else (x.data + h, x.data)
        width = up - down  # the step the floats took, not the one asked for
        f_up, f_down = f_at(i, up), f_at(i, down)
        numeric = (f_up - f_down) / width if width > 0 else 0.0
        if abs(analytic[i] - numeric) > atol + rtol * abs(numeric):
            name = f"'{x.label}'" if x.label else f"#{i}"
            lost = ""
            if width == 0 or (f_up == f_down and analytic[i] != 0):
                lost = (f" The finite difference is 0 because the step {h:.3g} (eps={eps:g} "
                        f"× max(1, |x|)) is lost to rounding: f(x ± step) came out equal. "
                        "Pass a larger eps (e.g. 1e-6); the backward() number may be right.")
            raise GradcheckError(
                f"gradient of input {name} (data={x.data}) is wrong: backward() gives "
                f"{analytic[i]!r}, finite differences give {numeric!r} (they differ by "
                f"{abs(analytic[i] - numeric):.3g}, more than the tolerance atol + rtol × "
                f"|finite difference| = {atol + rtol * abs(numeric):.3g}).{lost}"
            )
    return True
