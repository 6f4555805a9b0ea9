"""``Function``: your own differentiable op, as ``torch.autograd.Function``.

>>> import math
>>> class Softplus(Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return math.log1p(math.exp(-abs(x))) + max(x, 0.0)
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_values
...         return grad / (1.0 + math.exp(-x))  # grad * sigmoid(x)
>>> y = Softplus.apply(Value(0.0))
>>> y.op, round(y.data, 6)
('Softplus', 0.693147)

``forward`` gets the inputs' numbers (floats) and returns one number; ``backward`` gets the
gradient of the output and returns the inputs' gradients (``grad * local derivative``): a
number for one input, a tuple of numbers (or ``None`` for "no gradient") for several. The
node's ``op`` is the class name, its ``_arg`` the ``ctx`` and its rule ``function_rule``, so
``backward()``, pictures, ``explain`` and ``local_derivatives`` work on it as on any built-in op.

The rule asks ``backward(ctx, 1.0)`` for the local derivatives and the engine multiplies them
by the output's gradient, as for every op: for a ``backward`` that multiplies by ``grad`` (as
it must, in PyTorch too) that is the same number.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from tinygrad_edu import checks
from tinygrad_edu.engine import RULES, Operand, Value, _lift, _result

__all__ = ["Function", "FunctionCtx", "function_rule"]


class FunctionCtx:
    """What ``forward`` keeps for ``backward``: ``save_for_backward(...)`` stores numbers in
    ``saved_values``; any other attribute may be set too (``ctx.k = 3``)."""

    def __init__(self, function: type[Function]) -> None:
        self.function = function
        self.saved_values: tuple[Any, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        self.saved_values = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:  # PyTorch's name
        return self.saved_values

    def __repr__(self) -> str:
        return f"<ctx of {self.function.__name__}, saved_values={self.saved_values!r}>"


class Function:
    """Subclass with static ``forward(ctx, *xs)`` and ``backward(ctx, grad)``, then call
    ``MyOp.apply(*values_or_numbers)``. See the module docstring for an example."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        if name in RULES:
            raise TypeError(
                f"a Function may not be called {name!r}: that is the name of a built-in op, "
                f"and pictures and explain() tell ops apart by name. Rename the class "
                f"(e.g. {name.capitalize() + 'Op'!r})."
            )

    @staticmethod
    def forward(ctx: FunctionCtx, *xs: float) -> float:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, grad: float) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Operand) -> Value:
        """The op applied to ``inputs`` (Values, or numbers that become constants)."""
        name = cls.__name__
        if cls is Function:
            raise TypeError("Function.apply: subclass Function and call MyOp.apply(...)")
        for method in ("forward", "backward"):
            if getattr(cls, method) is getattr(Function, method):
                raise NotImplementedError(
                    f"{name}.{method} is missing: define it as @staticmethod "
                    f"{'forward(ctx, *xs)' if method == 'forward' else 'backward(ctx, grad)'}"
                )
        if not inputs:
            raise TypeError(f"{name}.apply needs at least one input")
        xs = tuple(_lift(x, name) for x in inputs)
        ctx = FunctionCtx(cls)
        out = _number(cls.forward(ctx, *(x.data for x in xs)), name, "forward",
                      "return one number (a float)")
        return _result(out, xs, name, function_rule, ctx)


def function_rule(out: Value, m: Any = None) -> tuple[float, ...]:
    """The rule of every Function node: the local derivatives, from ``backward(ctx, 1.0)``."""
    ctx = out._arg
    function = ctx.function  # type: ignore[union-attr]
    name = function.__name__
    grads = function.backward(ctx, 1.0)
    kids = out.children
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(kids):
        raise TypeError(
            f"{name}.backward returned {len(grads)} gradient{'s' * (len(grads) != 1)} for "
            f"{len(kids)} input{'s' * (len(kids) != 1)}: return one per input of apply()"
            + (", as a tuple" if len(kids) > 1 else "")
        )
    return tuple(0.0 if g is None else _number(g, name, "backward",
                                                "return the inputs' gradients") for g in grads)


def _number(x: object, name: str, method: str, want: str) -> float:
    """What ``forward``/``backward`` returned, as a finite float, or an error naming them."""
    if isinstance(x, bool) or not isinstance(x, Real):
        hint = " (it works on plain numbers: use x.data, math.exp ...)" if isinstance(
            x, Value) else ""
        raise TypeError(f"{name}.{method} must {want}, got {type(x).__name__} {x!r}{hint}")
    f = checks.number(x, f"what {name}.{method} returned", finite=False, error=OverflowError)
    if f != f:
        raise checks.NotANumberError(f"{name}.{method} returned nan (not a number)")
    if not -math.inf < f < math.inf:
        raise OverflowError(f"{name}.{method} returned {f}: too large for a float")
    return f
