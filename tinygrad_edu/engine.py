"""The autograd engine: a scalar ``Value`` that remembers how it was made.

Read this file top to bottom to learn reverse-mode automatic differentiation.

1. Every operation on ``Value`` objects returns a new ``Value`` whose ``children`` are its
   inputs and whose ``op`` names the operation. Together they form a computation graph.
2. Each operation also states its *local derivative*: how its output changes when one input
   is nudged, with the other inputs held fixed. It sits right beside the operation, in a
   ``_back_<op>`` rule that receives the output node.
3. ``backward()`` walks the graph from the output towards the inputs, in reverse topological
   order, and applies the chain rule at every node:

       d out / d input  =  (d out / d node)  *  (d node / d input)
          input.grad   +=      node.grad      *   local derivative

   The ``+=`` is why gradients of a value that is used twice add up.

Design notes (why it is fast and lean, see BENCHMARKS.md):
- ``__slots__`` and children stored as tuples keep a node small.
- The backward rules are plain functions looked up by ``op``; no node holds a closure that
  refers back to itself, so there are no reference cycles and a dropped graph is freed at
  once, without waiting for Python's cycle collector.
- The graph walk is iterative, so graphs of any depth work (no recursion limit).
  ``backward()`` runs it as one plain loop over the inner nodes (``_backprop``), in the same
  order as the ``backward_steps`` generator, which also stops at the leaves.
- ``linear(w, x, b)`` is one fused node for a neuron's ``b + sum(w_i * x_i)``: the same
  floats as the op-by-op version, with one node instead of ``2n``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Real
from typing import Union

__all__ = [
    "Value",
    "Operand",
    "no_grad",
    "is_grad_enabled",
    "linear",
    "backward_order",
    "backward_steps",
    "gradcheck",
    "GradcheckError",
]

Operand = Union["Value", int, float]

# ---------------------------------------------------------------------------------------------
# Recording switch: `no_grad()` turns graph recording off (evaluation, parameter updates).
# ---------------------------------------------------------------------------------------------
_recording = True


def is_grad_enabled() -> bool:
    """True when operations record the graph (same as ``torch.is_grad_enabled``)."""
    return _recording


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside ``with no_grad():`` operations compute values but record no graph.

    Results are leaves (no children, ``op == ""``), so nothing is kept alive for backward.
    Same as PyTorch's ``torch.no_grad()``; use it for evaluation and parameter updates.
    """
    global _recording
    previous = _recording
    _recording = False
    try:
        yield
    finally:
        _recording = previous


# ---------------------------------------------------------------------------------------------
# Input checks: bad input fails here, with a message, instead of turning into NaN later.
# ---------------------------------------------------------------------------------------------
def _as_float(x: object, what: str) -> float:
    """``x`` as a finite float, or a clear error saying what was wrong."""
    # (plain int/float skip the isinstance(x, Real) test, which is slow: Real is an ABC)
    if type(x) not in (float, int) and (isinstance(x, bool) or not isinstance(x, Real)):
        if isinstance(x, Value):
            raise TypeError(f"{what} is already a Value ({x!r}); use it directly")
        raise TypeError(
            f"{what} must be a real number (int or float), got {type(x).__name__} {x!r}"
        )
    try:
        f = float(x)
    except OverflowError:  # an int beyond the largest float (~1.8e308)
        f = math.inf
    if not -math.inf < f < math.inf:
        shown = f if type(x) is not int else f"an int of {len(str(abs(x)))} digits"
        raise ValueError(f"{what} must be a finite number, got {shown}")
    return f


def _lift(x: Operand, op: str) -> Value:
    """The other operand of a binary op as a Value (numbers become constant leaves)."""
    if isinstance(x, Value):
        return x
    if type(x) not in (float, int) and (isinstance(x, bool) or not isinstance(x, Real)):
        raise TypeError(
            f"unsupported operand for '{op}': a Value combines with numbers (int, float) or "
            f"other Values, got {type(x).__name__} {x!r}"
        )
    return Value(x)


def _checked(result: float, op: str, *inputs: float) -> float:
    """Stop overflow where it happens: a finite result, or an error naming op and inputs."""
    if -math.inf < result < math.inf:
        return result
    shown = ", ".join(repr(i) for i in inputs)
    if result != result:  # NaN: only reachable when some .data was set to NaN by hand
        raise ValueError(
            f"'{op}' of ({shown}) is nan: an input is not a number. Was a .data set to NaN?"
        )
    raise OverflowError(
        f"'{op}' of ({shown}) overflows to {result}: the numbers are too large for a float. "
        "Scale the inputs down or use a smaller learning rate."
    )


def _result(data: float, children: tuple[Value, ...], op: str, arg: float | None = None) -> Value:
    """A new node holding ``data``, made by ``op`` from ``children`` (a leaf under no_grad)."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if _recording:
        out.op = op
        out.children = children
    else:
        out.op = ""
        out.children = ()
    out._arg = arg
    out._users = 0
    return out


_new_value = object.__new__


# ---------------------------------------------------------------------------------------------
# The Value node and its operations. Each op: forward (the method) + local derivative (the
# `_back_*` rule just below it, which adds  out.grad * d(out)/d(input)  to each input's grad).
# ---------------------------------------------------------------------------------------------
class Value:
    """A scalar in a computation graph.

    ``data`` is the number, ``grad`` is d(root)/d(this) after ``root.backward()``,
    ``op`` names the operation that made it (``""`` for a leaf), ``children`` are its inputs,
    and ``label`` is a free-text name used in pictures.

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> c = a * b + 1
    >>> c.backward()
    >>> (c.data, a.grad, b.grad)
    (-5.0, -3.0, 2.0)
    """

    __slots__ = ("data", "grad", "label", "op", "children", "_arg", "_users")

    data: float
    grad: float
    label: str
    op: str
    children: tuple[Value, ...]
    _arg: float | None  # extra constant an op needs in backward (the exponent of `**`)
    _users: int  # backward(): users that have not passed their grad on yet (0 outside it)

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _as_float(data, "Value(data)")
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__} {label!r}")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.children = ()
        self._arg = None
        self._users = 0

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"

    # == and hash are by identity, so nodes can be dict keys (as PyTorch tensors in a set);
    # truth is the number's, as bool(torch.tensor(0.0)) is False.
    def __bool__(self) -> bool:
        return self.data != 0.0

    # ---- a + b ---------------------------------------------------------------------------
    # d(a+b)/da = 1,   d(a+b)/db = 1
    def __add__(self, other: Operand) -> Value:
        other = _lift(other, "+")
        return _result(_checked(self.data + other.data, "+", self.data, other.data),
                       (self, other), "+")

    @staticmethod
    def _back_add(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad
        b.grad += out.grad

    # ---- a - b ---------------------------------------------------------------------------
    # d(a-b)/da = 1,   d(a-b)/db = -1
    def __sub__(self, other: Operand) -> Value:
        other = _lift(other, "-")
        return _result(_checked(self.data - other.data, "-", self.data, other.data),
                       (self, other), "-")

    @staticmethod
    def _back_sub(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad
        b.grad -= out.grad

    # ---- a * b ---------------------------------------------------------------------------
    # d(a*b)/da = b,   d(a*b)/db = a
    def __mul__(self, other: Operand) -> Value:
        other = _lift(other, "*")
        return _result(_checked(self.data * other.data, "*", self.data, other.data),
                       (self, other), "*")

    @staticmethod
    def _back_mul(out: Value) -> None:
        a, b = out.children
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    # ---- a / b ---------------------------------------------------------------------------
    # d(a/b)/da = 1/b,   d(a/b)/db = -a/b^2
    def __truediv__(self, other: Operand) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(
                f"division by zero: {self!r} / {other!r}; the divisor must not be 0"
            )
        return _result(_checked(self.data / other.data, "/", self.data, other.data),
                       (self, other), "/")

    @staticmethod
    def _back_div(out: Value) -> None:
        a, b = out.children
        a.grad += out.grad / b.data
        # -a/b^2 taken as -(a/b)/b, PyTorch's order: the same floats as torch, and b*b cannot
        # underflow to 0 for a tiny b (which would divide by zero here)
        local = out.data / b.data
        if not -math.inf < local < math.inf:
            raise _backward_overflow("/", b.data, local)
        b.grad -= out.grad * local

    # ---- -a ------------------------------------------------------------------------------
    # d(-a)/da = -1
    def __neg__(self) -> Value:
        return _result(-self.data, (self,), "neg")

    @staticmethod
    def _back_neg(out: Value) -> None:
        (a,) = out.children
        a.grad -= out.grad

    # ---- a ** k  (k a fixed number) ------------------------------------------------------
    # d(a^k)/da = k * a^(k-1)
    def __pow__(self, k: float) -> Value:
        if isinstance(k, Value):
            raise TypeError(
                "the exponent of ** must be a number (int or float), not a Value; "
                "for a learnable exponent write (k * a.log()).exp()"
            )
        k = _as_float(k, "the exponent of **")
        x = self.data
        if x < 0 and not k.is_integer():
            raise ValueError(
                f"{x} ** {k}: a negative base to a non-integer power is not a real number"
            )
        if x == 0 and k < 0:
            raise ZeroDivisionError(f"0.0 ** {k}: zero to a negative power divides by zero")
        return _result(_checked(_float_pow(x, k), "**", x, k), (self,), "**", k)

    @staticmethod
    def _back_pow(out: Value) -> None:
        (a,) = out.children
        k = out._arg
        if k == 0:  # a^0 = 1 does not depend on a
            return
        if a.data == 0 and k < 1:
            raise ZeroDivisionError(
                f"the gradient of x ** {k} at x = 0 is infinite; keep x away from 0 "
                "(e.g. (x + 1e-12) ** k)"
            )
        local = k * _float_pow(a.data, k - 1)
        if not -math.inf < local < math.inf:
            raise _backward_overflow("**", a.data, local)
        a.grad += local * out.grad

    # ---- c ** a  (c a fixed positive number) ---------------------------------------------
    # d(c^a)/da = c^a * ln(c)
    def __rpow__(self, c: float) -> Value:
        c = _as_float(c, "the base of **")
        if c <= 0:
            raise ValueError(f"{c} ** Value: the base must be positive (it is raised to a real)")
        return _result(_checked(_float_pow(c, self.data), "**", c, self.data), (self,), "c**", c)

    @staticmethod
    def _back_rpow(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * math.log(out._arg) * out.grad

    # ---- exp(a) --------------------------------------------------------------------------
    # d/da exp(a) = exp(a)
    def exp(self) -> Value:
        """``e^a``; its local derivative is ``e^a`` itself."""
        if self.data > 709.782712893384:  # log of the largest float
            raise OverflowError(
                f"exp({self.data}) is larger than the largest float (exp overflows above "
                "709.78); for softmax or cross-entropy use tinygrad_edu.losses, which are stable"
            )
        return _result(math.exp(self.data), (self,), "exp")

    @staticmethod
    def _back_exp(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * out.grad

    # ---- log(a)  (natural log) -----------------------------------------------------------
    # d/da log(a) = 1/a
    def log(self) -> Value:
        """Natural logarithm ``ln a`` (``a > 0``); local derivative ``1/a``."""
        if self.data <= 0:
            raise ValueError(f"log({self.data}): the logarithm needs a positive number")
        return _result(math.log(self.data), (self,), "log")

    @staticmethod
    def _back_log(out: Value) -> None:
        (a,) = out.children
        a.grad += out.grad / a.data

    # ---- tanh(a) -------------------------------------------------------------------------
    # d/da tanh(a) = 1 - tanh(a)^2          (math.tanh is exact at +-1000: +-1.0, no overflow)
    def tanh(self) -> Value:
        """``tanh a``, between -1 and 1; local derivative ``1 - tanh(a)^2``."""
        return _result(math.tanh(self.data), (self,), "tanh")

    @staticmethod
    def _back_tanh(out: Value) -> None:
        (a,) = out.children
        a.grad += (1.0 - out.data * out.data) * out.grad

    # ---- sigmoid(a) = 1 / (1 + exp(-a)) --------------------------------------------------
    # d/da sigmoid(a) = sigmoid(a) * (1 - sigmoid(a))
    def sigmoid(self) -> Value:
        """``1 / (1 + e^-a)``, between 0 and 1; local derivative ``s (1 - s)``."""
        return _result(_sigmoid(self.data), (self,), "sigmoid")

    @staticmethod
    def _back_sigmoid(out: Value) -> None:
        (a,) = out.children
        a.grad += out.data * (1.0 - out.data) * out.grad

    # ---- relu(a) = max(0, a) -------------------------------------------------------------
    # d/da relu(a) = 1 if a > 0 else 0      (0 at a == 0, as PyTorch)
    def relu(self) -> Value:
        """``max(0, a)``; local derivative 1 where ``a > 0``, else 0."""
        return _result(self.data if self.data > 0 else 0.0, (self,), "relu")

    @staticmethod
    def _back_relu(out: Value) -> None:
        (a,) = out.children
        if out.data > 0:
            a.grad += out.grad

    # ---- numbers on the left: 2 + a, 1 - a, 2 * a, 3 / a ---------------------------------
    def __radd__(self, other: Operand) -> Value:
        return _lift(other, "+") + self

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other, "-") - self

    def __rmul__(self, other: Operand) -> Value:
        return _lift(other, "*") * self

    def __rtruediv__(self, other: Operand) -> Value:
        return _lift(other, "/") / self

    # ---- backpropagation -----------------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every node this one depends on: d(self)/d(node).

        Seeds ``self.grad = 1`` and applies the chain rule in reverse topological order.
        Gradients *accumulate* in leaves (call ``zero_grad()`` between steps, as in
        PyTorch); intermediate nodes are recomputed from scratch on every call.
        """
        _backprop(self)


def _backward_overflow(op: str, x: float, local: float) -> OverflowError:
    """A local derivative too large for a float: say where, instead of a silent inf."""
    return OverflowError(
        f"the local derivative of '{op}' at {x!r} is {local}: too large for a float. "
        "Keep the value away from 0 (or scale the inputs)."
    )


def _float_pow(x: float, k: float) -> float:
    # float ** raises its own terse OverflowError; return inf so _checked explains it.
    try:
        return x**k
    except OverflowError:
        return math.inf


def _sigmoid(x: float) -> float:
    # Two forms so exp never overflows: exp(-x) for x >= 0, exp(x) for x < 0.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# ---------------------------------------------------------------------------------------------
# A fused neuron: out = b + w_0*x_0 + w_1*x_1 + ... in one node with children (b, w..., x...).
# d out/db = 1,   d out/dw_i = x_i,   d out/dx_i = w_i
# ---------------------------------------------------------------------------------------------
_ONLY_VALUES = {Value}  # linear's quick test that x needs no lifting


def linear(w: Sequence[Value], x: Sequence[Operand], b: Value) -> Value:
    """``b + sum(w_i * x_i)`` as a single node (op ``"linear"``).

    Adds in the same order as ``b + w[0]*x[0] + w[1]*x[1] + ...`` written op by op, so the
    forward value is the same float; it stores 1 node instead of 2n. Numbers in ``x`` become
    constant leaves. Same maths as ``torch.nn.functional.linear`` for one output.
    """
    if len(w) != len(x):
        raise ValueError(f"linear: {len(w)} weights but {len(x)} inputs; they must match")
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
    if not -math.inf < acc < math.inf:
        _checked(acc, "linear", b.data, *(wi.data for wi in w), *(xi.data for xi in xs))
    return _result(acc, (b, *w, *xs), "linear")


def _back_linear(out: Value) -> None:
    children = out.children
    n = len(children) // 2
    g = out.grad
    children[0].grad += g
    for i in range(1, n + 1):
        wi = children[i]
        xi = children[i + n]
        wi.grad += xi.data * g
        xi.grad += wi.data * g


# Backward rule for each op: the chain rule step "children's grads += out.grad * local".
_BACKWARD: dict[str, Callable[[Value], None]] = {
    "+": Value._back_add,
    "-": Value._back_sub,
    "*": Value._back_mul,
    "/": Value._back_div,
    "neg": Value._back_neg,
    "**": Value._back_pow,
    "c**": Value._back_rpow,
    "exp": Value._back_exp,
    "log": Value._back_log,
    "tanh": Value._back_tanh,
    "sigmoid": Value._back_sigmoid,
    "relu": Value._back_relu,
    "linear": _back_linear,
}


# ---------------------------------------------------------------------------------------------
# The graph walk. Kahn's algorithm from the root: a node is visited once every node that uses
# it has been visited, so its grad is final by then (reverse topological order, no recursion).
# ---------------------------------------------------------------------------------------------
def _count_users(root: Value) -> dict[Value, int]:
    """How many times each node below ``root`` is used as an input (graph edges into it)."""
    users = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            if child in users:
                users[child] += 1
            else:
                users[child] = 1
                stack.append(child)
    return users


def _visit_order(root: Value, users: dict[Value, int]) -> Iterator[Value]:
    """Nodes in the order the chain rule visits them; consumes ``users``."""
    ready = [root]
    while ready:
        node = ready.pop()
        yield node
        for child in node.children:
            left = users[child] - 1
            users[child] = left
            if left == 0:
                ready.append(child)


def backward_order(root: Value) -> list[Value]:
    """Every node of ``root``'s graph in the order ``backward()`` visits them (root first)."""
    return list(_visit_order(root, _count_users(root)))


def _walk(root: Value) -> Iterator[Value]:
    users = _count_users(root)
    for node in users:  # intermediate grads restart from 0; leaves accumulate
        if node.children:
            node.grad = 0.0
    root.grad += 1.0
    backward_rule = _BACKWARD
    for node in _visit_order(root, users):
        yield node  # node.grad is final here
        if node.children:
            backward_rule[node.op](node)


def _count_inner_users(root: Value) -> None:
    """``_count_users`` for inner nodes only, into their ``_users`` slots; zeroes their grads."""
    stack = [root]
    while stack:
        for child in stack.pop().children:
            if child.children:  # leaves have no rule, nothing waits for them
                if child._users == 0:  # first time seen
                    child.grad = 0.0
                    stack.append(child)
                child._users += 1


def _backprop(root: Value) -> None:
    """``root.backward()``: the walk of ``_walk`` as one plain loop (the hot path).

    Two shortcuts, same result: leaves are never visited (they pass nothing on, and leaving
    them out does not change the order of the inner nodes, so every grad is the same float as
    with backward_steps), and each inner node keeps its count of waiting users in its own
    ``_users`` slot rather than in a dict. Every count is back to 0 when the walk ends.
    """
    if not root.children:
        root.grad += 1.0
        return
    try:
        _count_inner_users(root)
        root.grad = 1.0
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
        for node in _count_users(root):
            node._users = 0
        raise


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


# ---------------------------------------------------------------------------------------------
# Checking gradients by nudging: (f(x+eps) - f(x-eps)) / (2 eps) should match backward().
# ---------------------------------------------------------------------------------------------
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
    ``GradcheckError`` naming the input and both numbers. The inputs' grads are restored.
    """
    if not callable(f):
        raise TypeError(f"gradcheck: f must be a function, got {type(f).__name__}")
    if isinstance(inputs, Value) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError("gradcheck: inputs must be a non-empty list of Values or numbers")
    for name, tol in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(tol, bool) or not isinstance(tol, Real) or not 0 <= tol < math.inf:
            raise ValueError(f"gradcheck: {name} must be a number >= 0, got {tol!r}")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    xs = [x if isinstance(x, Value) else Value(x, f"x{i}") for i, x in enumerate(inputs)]
    saved = [x.grad for x in xs]
    try:
        for x in xs:
            x.grad = 0.0
        out = f(*xs)
        if not isinstance(out, Value):
            raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
        out.backward()
        analytic = [x.grad for x in xs]
    finally:
        for x, g in zip(xs, saved):
            x.grad = g

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
