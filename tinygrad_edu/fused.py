"""A fused neuron: ``b + w_0*x_0 + w_1*x_1 + ...`` as one node (op ``"linear"``).

Its children are ``(b, w_0 .. w_n-1, x_0 .. x_n-1)``;  d out/db = 1,  d out/dw_i = x_i,
d out/dx_i = w_i. It adds in the same order as the op-by-op version, so the forward value and
every gradient are the same floats, with one node instead of ``2n`` (see BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from tinygrad_edu.engine import _BACKWARD, Operand, Value, _lift, _result

__all__ = ["linear"]

_ONLY_VALUES = {Value}  # linear's quick test that x needs no lifting


def linear(w: Sequence[Value], x: Sequence[Operand], b: Value) -> Value:
    """``b + sum(w_i * x_i)`` as a single node (op ``"linear"``).

    Adds in the same order as ``b + w[0]*x[0] + w[1]*x[1] + ...`` written op by op, so the
    forward value is the same float; it stores 1 node instead of 2n. Numbers in ``x`` become
    constant leaves. Same maths as ``torch.nn.functional.linear`` for one output.
    """
    try:
        nw, nx = len(w), len(x)
    except TypeError:
        raise TypeError(f"linear: w and x must be lists (of Values, of Values or numbers), got "
                        f"{type(w).__name__} and {type(x).__name__}") from None
    if nw != nx:
        raise ValueError(f"linear: {nw} weights but {nx} inputs; they must match")
    xs = x
    if set(map(type, x)) != _ONLY_VALUES:  # numbers in x become constant leaves
        xs = [xi if isinstance(xi, Value) else _lift(xi, "linear") for xi in x]
    try:
        acc = b.data
        for wi, xi in zip(w, xs):
            acc += wi.data * xi.data
    except AttributeError:  # (checked only on failure: linear is the hot path of every layer)
        bad = [repr(v) for v in (*w, b) if not isinstance(v, Value)][:3]
        raise TypeError(
            f"linear: the weights w and the bias b must be Values (the parameters); got "
            f"{', '.join(bad)}. Only the inputs x may be plain numbers."
        ) from None
    return _result(acc, (b, *w, *xs), "linear")


def linear_step(out: Value, g: float) -> None:
    """The chain-rule step of a ``linear`` sum whose gradient is ``g``: b += g, w += x g,
    x += w g. (The fused linear+activation nodes of ``fastpath`` pass ``g`` through their
    activation's derivative first.)"""
    children = out.children
    n = len(children) // 2
    children[0].grad += g
    for i in range(1, n + 1):
        wi = children[i]
        xi = children[i + n]
        wi.grad += xi.data * g
        xi.grad += wi.data * g


def _back_linear(out: Value) -> None:
    linear_step(out, out.grad)


_BACKWARD["linear"] = _back_linear
