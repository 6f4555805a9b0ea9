"""The autograd engine: a scalar ``Value`` that remembers how it was made. Read this file top
to bottom to learn reverse-mode automatic differentiation:

1. Every operation on Values returns a new ``Value`` whose ``children`` are its inputs and
   whose ``op`` names the operation (micrograd's ``_prev``, ``_op``): a computation graph.
2. Each operation states its *local derivative* right below it, in a ``_back_<op>`` rule that
   adds ``out.grad * d(out)/d(input)`` to each input's grad; ``node._backward()`` runs it.
3. ``backward()`` visits the nodes from the output towards the inputs, newest first: a node
   is made after its inputs, so each one comes after every node that uses it
   (``backward_order``), and applies the chain rule at each:

       input.grad  +=  node.grad  *  d node / d input

   The ``+=`` is why gradients of a value that is used twice add up.

The rest lives next door, in modules named for what they do: ``checks.py`` (input checks,
error messages), ``grad_mode.py`` (``no_grad``, per thread), ``backprop.py``
(``backward_steps``, ``local_derivatives``), ``fastpath.py`` (speed: the walk ``backward()``
runs, same floats as ``reference_backward`` below; a whole layer's neurons as nodes),
``fused.py`` (``linear``: a neuron as one node), ``function.py`` (``Function``: your own
ops), ``gradcheck.py`` (backward() against finite differences).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Union

from tinygrad_edu import checks, grad_mode
from tinygrad_edu.grad_mode import is_grad_enabled, no_grad

__all__ = ["Value", "Operand", "backward_order", "reference_backward", "no_grad",
           "is_grad_enabled", "linear", "backward_steps", "gradcheck", "GradcheckError"]

Operand = Union["Value", int, float]
_new = object.__new__  # makes a node without calling __init__ (see _result)
made = itertools.count(1.0)  # creation numbers (floats: 24 bytes, an int takes 28)


class Value:
    """A scalar in a computation graph: ``data`` is the number, ``grad`` is d(root)/d(this)
    after ``root.backward()``, ``op`` names the operation that made it (``""`` for a leaf),
    ``children`` are its inputs, ``label`` is a free-text name used in pictures.

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> c = a * b + 1; c.backward(); (c.data, a.grad, b.grad)
    (-5.0, -3.0, 2.0)
    """

    # Slots, not a __dict__, keep a node small. `_arg` is what an op keeps for backward (the
    # exponent of `**`); `_seq` is the node's creation number (backward goes newest first).
    __slots__ = ("data", "grad", "label", "op", "children", "_arg", "_seq")
    children: tuple[Value, ...]

    def __init__(self, data: float, label: str = "") -> None:
        self.data = checks.as_float(data, "Value(data)")
        self.label = checks.label(label)
        self.grad, self.op, self.children, self._arg, self._seq = 0.0, "", (), None, next(made)

    def __repr__(self) -> str:  # Value(data=-5, grad=1, label='c')
        return checks.value_repr(self)  # (also shows odd values set by hand: v.grad = None)

    # micrograd's names for the same things, so the lecture's code runs unchanged
    _prev = property(lambda self: self.children, doc="The inputs (same as ``children``).")
    _op = property(lambda self: self.op, doc="The operation (same as ``op``).")

    def _backward(self) -> None:
        """This node's own chain-rule step: its inputs' grads += ``self.grad`` * local."""
        if self.children:
            _BACKWARD[self.op](self)

    # Compare, convert, format by the number: max(), sorted(), `if v > 0.5`, f"{v:.3f}". == and
    # hash stay by identity: equal numbers sit in different nodes, and nodes are dict keys.
    def __lt__(self, other: Operand) -> bool: return self.data < checks.compared(other, "<")
    def __le__(self, other: Operand) -> bool: return self.data <= checks.compared(other, "<=")
    def __gt__(self, other: Operand) -> bool: return self.data > checks.compared(other, ">")
    def __ge__(self, other: Operand) -> bool: return self.data >= checks.compared(other, ">=")
    def __bool__(self) -> bool: return self.data != 0.0  # as bool(torch.tensor(0.0))
    def __float__(self) -> float: return self.data
    def __format__(self, spec: str) -> str: return format(self.data, spec) if spec else repr(self)

    # ---- a + b          d(a+b)/da = 1,  d(a+b)/db = 1 --------------------------------------
    def __add__(self, other: Operand) -> Value:
        other = _lift(other, "+")
        return _result(self.data + other.data, (self, other), "+")
    def _back_add(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad
        b.grad += out.grad

    # ---- a - b          d(a-b)/da = 1,  d(a-b)/db = -1 -------------------------------------
    def __sub__(self, other: Operand) -> Value:
        other = _lift(other, "-")
        return _result(self.data - other.data, (self, other), "-")
    def _back_sub(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad
        b.grad -= out.grad

    # ---- a * b          d(a*b)/da = b,  d(a*b)/db = a --------------------------------------
    def __mul__(self, other: Operand) -> Value:
        other = _lift(other, "*")
        return _result(self.data * other.data, (self, other), "*")
    def _back_mul(out: Value) -> None:
        a, b = out.children
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    # ---- a / b          d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2 = -(a/b)/b -------------------
    def __truediv__(self, other: Operand) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise checks.division_by_zero(self, other)
        return _result(self.data / other.data, (self, other), "/")
    def _back_div(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad / b.data
        b.grad -= out.grad * (out.data / b.data)  # (a/b)/b: torch's floats, no b*b underflow

    # ---- -a             d(-a)/da = -1 ------------------------------------------------------
    def __neg__(self) -> Value:
        return _result(-self.data, (self,), "neg")
    def _back_neg(out: Value) -> None:
        (a,) = out.children
        a.grad -= out.grad

    # ---- a ** k         d(a^k)/da = k * a^(k-1)         (k a fixed number) -----------------
    def __pow__(self, k: float) -> Value:
        k = checks.exponent(self.data, k)
        return _result(checks.float_pow(self.data, k), (self,), "**", k)
    def _back_pow(out: Value) -> None:
        (a,), k = out.children, out._arg
        a.grad += checks.pow_local(a.data, k) * out.grad  # k * a ** (k - 1), checked

    # ---- c ** a         d(c^a)/da = c^a * ln(c)         (c a fixed positive number) --------
    def __rpow__(self, c: float) -> Value:
        c = checks.base(c)
        return _result(checks.float_pow(c, self.data), (self,), "c**", c)
    def _back_rpow(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * math.log(out._arg) * out.grad

    # ---- exp(a)         d/da e^a = e^a -----------------------------------------------------
    def exp(self) -> Value:
        """``e^a``; its local derivative is ``e^a`` itself."""
        checks.exp_argument(self.data)
        return _result(math.exp(self.data), (self,), "exp")
    def _back_exp(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * out.grad

    # ---- log(a)         d/da ln(a) = 1/a                (natural log, a > 0) ---------------
    def log(self) -> Value:
        """Natural logarithm ``ln a`` (``a > 0``); local derivative ``1/a``."""
        checks.log_argument(self.data)
        return _result(math.log(self.data), (self,), "log")
    def _back_log(out: Value) -> None:
        (a,) = out.children
        a.grad += out.grad / a.data

    # ---- tanh(a)        d/da tanh(a) = 1 - tanh(a)^2 ---------------------------------------
    def tanh(self) -> Value:
        """``tanh a``, between -1 and 1; local derivative ``1 - tanh(a)^2``."""
        return _result(math.tanh(self.data), (self,), "tanh")
    def _back_tanh(out: Value) -> None:
        (a,) = out.children
        a.grad += (1.0 - out.data * out.data) * out.grad

    # ---- sigmoid(a) = 1 / (1 + e^-a)        d/da sigmoid(a) = s (1 - s) --------------------
    def sigmoid(self) -> Value:
        """``1 / (1 + e^-a)``, between 0 and 1; local derivative ``s (1 - s)``."""
        x = self.data  # two forms, so that exp never overflows
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else (e := math.exp(x)) / (1.0 + e)
        return _result(s, (self,), "sigmoid")
    def _back_sigmoid(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * (1.0 - out.data) * out.grad

    # ---- relu(a) = max(0, a)      d/da relu(a) = 1 if a > 0 else 0 (0 at 0, as PyTorch) ---
    def relu(self) -> Value:
        """``max(0, a)``; local derivative 1 where ``a > 0``, else 0."""
        return _result(self.data if self.data > 0 else 0.0, (self,), "relu")
    def _back_relu(out: Value) -> None:
        (a,) = out.children
        if out.data > 0:
            a.grad += out.grad

    # ---- sin(a)         d/da sin(a) = cos(a) -----------------------------------------------
    def sin(self) -> Value:
        """``sin a`` (radians); local derivative ``cos a``."""
        return _result(math.sin(self.data), (self,), "sin")
    def _back_sin(out: Value) -> None:
        (a,) = out.children
        a.grad += math.cos(a.data) * out.grad

    # ---- cos(a)         d/da cos(a) = -sin(a) ----------------------------------------------
    def cos(self) -> Value:
        """``cos a`` (radians); local derivative ``-sin a``."""
        return _result(math.cos(self.data), (self,), "cos")
    def _back_cos(out: Value) -> None:
        (a,) = out.children
        a.grad -= math.sin(a.data) * out.grad

    # ---- abs(a) = |a|   d/da |a| = sign(a): 1, -1, and 0 at 0 (as PyTorch) -----------------
    def __abs__(self) -> Value:
        return _result(abs(self.data), (self,), "abs")
    def _back_abs(out: Value) -> None:
        (a,) = out.children
        a.grad += ((a.data > 0) - (a.data < 0)) * out.grad  # sign(a): 1, -1 or 0

    # ---- numbers on the left: 2 + a, 1 - a, 2 * a, 3 / a (the number becomes a Value) ----
    def __radd__(self, other: Operand) -> Value: return _lift(other, "+") + self
    def __rsub__(self, other: Operand) -> Value: return _lift(other, "-") - self
    def __rmul__(self, other: Operand) -> Value: return _lift(other, "*") * self
    def __rtruediv__(self, other: Operand) -> Value: return _lift(other, "/") / self

    def backward(self, gradient: float = 1.0) -> None:
        """Fill in ``grad`` of every node this one depends on: d(self)/d(node). Seeds
        ``self.grad = gradient`` (PyTorch's ``gradient=``), applies the chain rule in reverse
        topological order: leaves *accumulate* (``zero_grad()`` between steps), inner nodes are
        recomputed. Runs ``reference_backward``, fast; on overflow see backprop.py."""
        _backprop(self, checks.as_float(gradient, "backward(gradient)"))


def _lift(x: Operand, op: str) -> Value:
    """The other operand of a binary op as a Value (a number becomes a Constant leaf)."""
    return x if isinstance(x, Value) else Constant(checks.operand(x, op))


class Constant(Value):
    """A number written into an expression, like the 2 in ``2 * a``: a leaf whose gradient is
    not computed (it stays 0.0), as PyTorch computes none for Python numbers."""
    __slots__ = ()
    grad = property(lambda self: 0.0, lambda self, value: None)  # type: ignore[assignment]


def _result(data: float, children: tuple[Value, ...], op: str, arg: object = None) -> Value:
    """A new node holding ``data``, made by ``op`` from ``children`` (a leaf under no_grad)."""
    if not math.isfinite(data):  # stop overflow (and NaN) where it happens
        raise checks.bad_result(op, children, arg, data)
    out = _new(Value)  # (data is a float already: no need for __init__'s checks)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if grad_mode.open_blocks == 0 or is_grad_enabled():  # (0: no no_grad open: no look-up)
        out.op = op
        out.children = children
    else:
        out.op = ""
        out.children = ()
    out._arg = arg
    out._seq = next(made)
    return out


# Each op's chain-rule step by name (no closure per node, no cycle: a dropped graph is freed).
_BACKWARD: dict[str, Callable[[Value], None]] = {
    "+": Value._back_add, "-": Value._back_sub, "*": Value._back_mul, "/": Value._back_div,
    "neg": Value._back_neg, "**": Value._back_pow, "c**": Value._back_rpow,
    "exp": Value._back_exp, "log": Value._back_log, "tanh": Value._back_tanh,
    "sigmoid": Value._back_sigmoid, "relu": Value._back_relu, "sin": Value._back_sin,
    "cos": Value._back_cos, "abs": Value._back_abs,
}


def backward_order(root: Value) -> list[Value]:
    """Every node of ``root``'s graph in the order ``backward()`` visits them, root first:
    newest first. A node is made after its inputs, so each node comes after all that use it
    (the graph is collected without recursion, so any depth works)."""
    checks.node(root, "backward_order")
    nodes, stack = {root}, [root]
    while stack:
        for child in stack.pop().children:
            if child not in nodes:
                nodes.add(child)
                stack.append(child)
    return sorted(nodes, key=lambda node: node._seq, reverse=True)


def reference_backward(root: Value, gradient: float = 1.0) -> None:
    """``root.backward()`` in a few lines, without checks: the steps fastpath.py runs."""
    order = backward_order(root)
    for node in order:
        if node.children:  # inner nodes are recomputed; leaves accumulate
            node.grad = 0.0
    root.grad += gradient
    for node in order:
        node._backward()


from tinygrad_edu.backprop import backward_steps  # noqa: E402, I001
from tinygrad_edu.fastpath import backprop as _backprop  # noqa: E402
from tinygrad_edu.fused import linear  # noqa: E402
from tinygrad_edu.gradcheck import GradcheckError, gradcheck  # noqa: E402
