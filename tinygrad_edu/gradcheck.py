"""Checking gradients by nudging: (f(x+eps) - f(x-eps)) / (2 eps) should match backward()."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tinygrad_edu import checks
from tinygrad_edu.engine import Value, backward_order, no_grad

__all__ = ["gradcheck", "GradcheckError"]


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
    ``(f(.., x_i + eps, ..) - f(.., x_i - eps, ..)) / (2 eps)``; it must satisfy
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    ``GradcheckError`` naming the input and both numbers.

    Both sides are partial derivatives, one per argument position: ``f`` gets a fresh leaf
    per position, so the same Value passed twice is checked twice, on its own each time.
    No ``.grad`` changes: neither the inputs' nor those of Values that ``f`` uses from
    outside (every grad of the graph is put back after the backward pass).
    """
    if not callable(f):
        raise TypeError(f"gradcheck: f must be a function, got {type(f).__name__}")
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError("gradcheck: inputs must be a non-empty list of Values or numbers")
    try:  # (a str, None or an int of 400 digits: a ValueError saying which, as before)
        eps, atol, rtol = (checks.number(tol, f"gradcheck: {name}")
                           for name, tol in (("eps", eps), ("atol", atol), ("rtol", rtol)))
    except TypeError as err:
        raise ValueError(str(err)) from None
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not tol >= 0:
            raise ValueError(f"gradcheck: {name} must be a number >= 0, got {tol!r}")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    xs = [x if isinstance(x, Value) else Value(x, f"x{i}") for i, x in enumerate(inputs)]
    args = [Value(x.data, x.label) for x in xs]
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    saved = {node: node.grad for node in backward_order(out)}
    try:
        out.backward()
        analytic = [x.grad for x in args]
    finally:
        for node, g in saved.items():
            node.grad = g

    def f_at(i: int, delta: float) -> float:
        with no_grad():
            args = [Value(x.data + delta) if j == i else Value(x.data) for j, x in enumerate(xs)]
            return f(*args).data

    for i, x in enumerate(xs):
        numeric = (f_at(i, eps) - f_at(i, -eps)) / (2 * eps)
        if abs(analytic[i] - numeric) > atol + rtol * abs(numeric):
            name = f"'{x.label}'" if x.label else f"#{i}"
            raise GradcheckError(
                f"gradient of input {name} (data={x.data}) is wrong: backward() gives "
                f"{analytic[i]!r}, finite differences give {numeric!r} "
                f"(|diff|={abs(analytic[i] - numeric):.3g} > atol + rtol*|numeric|)"
            )
    return True
