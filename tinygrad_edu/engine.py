"""The autograd engine: a scalar ``Value`` that remembers how it was made. Read this file top
to bottom to learn reverse-mode automatic differentiation:

1. Every operation on Values returns a new ``Value`` whose ``children`` are its inputs and
   whose ``op`` names the operation (micrograd's ``_prev`` and ``_op``): a computation graph.
2. Right below each operation stands its *rule*: it returns the op's local derivatives,
   ``d out / d input`` for each input (``a * b`` gives ``(b, a)``; ``()``: all 0), reading
   ``out.data``, ``out.children[i].data``, ``out._arg``, calling math through ``m`` (``Math``).
3. ``backward()`` visits the nodes from the output back to the inputs, each one after every
   node that uses it (``topological_order``), and applies the chain rule at each:

       input.grad  +=  node.grad  *  local derivative          (Value._apply_rule)

   The ``+=`` is why the gradient of a value used twice adds up.

``backward_steps``, ``explain``, the pictures, ``gradcheck`` and ``compile`` read these same
rules. Add your own op with a rule in ``RULES``, a ``Function`` (function.py) or micrograd's
closure (``out._backward = fn``). Checks and messages: checks.py; ``no_grad``: grad_mode.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union

from tinygrad_edu import checks
from tinygrad_edu.grad_mode import is_grad_enabled

Operand = Union["Value", int, float]
Rule = Callable[..., Sequence[Any]]  # rule(out, m=Math) -> local derivatives, one per input

class Math:
    """What a rule calls as ``m.f(x)`` (``compile`` passes a look-alike that writes code)."""
    exp, log, sin, cos, pow = math.exp, math.log, math.sin, math.cos, checks.float_pow
    sigmoid, step = checks.sigmoid, checks.step  # step(x): 1.0 if x > 0 else 0.0

class Value:
    """A number in a computation graph: ``data``, ``grad`` (d root / d this after
    ``root.backward()``), ``op`` (``""`` for a leaf), ``children`` (its inputs), ``label``.
    ``Value(data, _children, _op)`` is micrograd's constructor, for a node made by hand.

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> c = a * b + 1; c.backward(); (c.data, a.grad, b.grad)
    (-5.0, -3.0, 2.0)
    """

    # Slots keep a node small; "__dict__" holds what few nodes have (a label, a number the op
    # keeps, a micrograd closure) and attributes of your own (an optimizer's moments, a colour).
    __slots__ = ("data", "grad", "op", "children", "_rule", "__dict__")
    label: str = ""
    _arg: Any = None  # (the exponent k of a ** k, a Function's ctx)
    _closure: Callable[[], None] | None = None

    def __init__(self, data: float, _children: Iterable[Value] | str = (), _op: str = "",
                 label: str = "") -> None:
        if isinstance(_children, str):  # Value(2.0, "a"): the short form, with a label
            _children, label = (), _children
        self.data = data if type(data) is float and -math.inf < data < math.inf else (
            checks.as_float(data, "Value(data)"))
        self.grad = 0.0
        if label != "":
            self.label = checks.label(label)
        self.children: tuple[Value, ...] = checks.children(_children) if _children else ()
        self.op = _op if type(_op) is str else checks.op_name(_op)
        self._rule: Rule | None = RULES.get(_op) if _children else None

    def __repr__(self) -> str:  # Value(data=-5, grad=1, label='c')
        return checks.value_repr(self)  # (also shows odd values set by hand: v.grad = None)

    # micrograd's names for the same things, so the lecture's code runs unchanged
    _prev = property(lambda self: self.children, doc="The inputs (same as ``children``).")
    _op = property(lambda self: self.op, doc="The operation (same as ``op``).")

    # micrograd's way to give a hand-made node its step: out._backward = a closure
    _backward = property(lambda self: self._closure or self._apply_rule,
                         lambda self, fn: setattr(self, "_closure", checks.closure(fn)),
                         lambda self: self.__dict__.pop("_closure", None),
                         doc="This node's own chain-rule step: its closure, else its rule.")

    def _apply_rule(self) -> None:
        """The chain rule at this node: each input's ``grad += self.grad * local derivative``."""
        if self.children:
            g, rule = self.grad, checks.rule_of(self)
            for child, local in zip(self.children, rule(self)):
                child.grad += g * local

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
        return _result(self.data + other.data, (self, other), "+", Value._d_add)
    def _d_add(out, m=Math): return (1.0, 1.0)
    # ---- a - b          d(a-b)/da = 1,  d(a-b)/db = -1 -------------------------------------
    def __sub__(self, other: Operand) -> Value:
        other = _lift(other, "-")
        return _result(self.data - other.data, (self, other), "-", Value._d_sub)
    def _d_sub(out, m=Math): return (1.0, -1.0)
    # ---- a * b          d(a*b)/da = b,  d(a*b)/db = a --------------------------------------
    def __mul__(self, other: Operand) -> Value:
        other = _lift(other, "*")
        return _result(self.data * other.data, (self, other), "*", Value._d_mul)
    def _d_mul(out, m=Math): return (out.children[1].data, out.children[0].data)  # (b, a)
    # ---- a / b          d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2 = -(a/b)/b -------------------
    def __truediv__(self, other: Operand) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise checks.division_by_zero(self, other)
        return _result(self.data / other.data, (self, other), "/", Value._d_div)
    def _d_div(out, m=Math):
        b = out.children[1].data
        return (1.0 / b, -(out.data / b))  # (a/b)/b: no b*b to underflow
    # ---- -a             d(-a)/da = -1 ------------------------------------------------------
    def __neg__(self) -> Value:
        return _result(-self.data, (self,), "neg", Value._d_neg)
    def _d_neg(out, m=Math): return (-1.0,)
    # ---- a ** k         d(a^k)/da = k * a^(k-1)         (k a fixed number) -----------------
    def __pow__(self, k: float) -> Value:
        k = checks.exponent(self.data, k)
        return _result(checks.float_pow(self.data, k), (self,), "**", Value._d_pow, k)
    def _d_pow(out, m=Math):
        a, k = out.children[0].data, out._arg
        return (k * m.pow(a, k - 1) if k else 0.0,)  # (a^0 = 1 does not depend on a)
    # ---- c ** a         d(c^a)/da = c^a * ln(c)         (c a fixed positive number) --------
    def __rpow__(self, c: float) -> Value:
        c = checks.base(c)
        return _result(checks.float_pow(c, self.data), (self,), "c**", Value._d_rpow, c)
    def _d_rpow(out, m=Math): return (out.data * m.log(out._arg),)
    # ---- exp(a)         d/da e^a = e^a -----------------------------------------------------
    def exp(self) -> Value:
        checks.exp_argument(self.data)
        return _result(math.exp(self.data), (self,), "exp", Value._d_exp)
    def _d_exp(out, m=Math): return (out.data,)
    # ---- log(a)         d/da ln(a) = 1/a                (natural log, a > 0) ---------------
    def log(self) -> Value:
        checks.log_argument(self.data)
        return _result(math.log(self.data), (self,), "log", Value._d_log)
    def _d_log(out, m=Math): return (1.0 / out.children[0].data,)
    # ---- log1p(a) = log(1 + a)   d/da = 1/(1+a)   (precise for small a: log1p(1e-20) = 1e-20)
    def log1p(self) -> Value:
        """``ln(1 + a)`` (``a > -1``) without rounding a small ``a`` away, as ``torch.log1p``."""
        checks.log_argument(1.0 + self.data)
        return _result(math.log1p(self.data), (self,), "log1p", Value._d_log1p)
    def _d_log1p(out, m=Math): return (1.0 / (1.0 + out.children[0].data),)
    # ---- tanh(a)        d/da tanh(a) = 1 - tanh(a)^2 ---------------------------------------
    def tanh(self) -> Value:
        return _result(math.tanh(self.data), (self,), "tanh", Value._d_tanh)
    def _d_tanh(out, m=Math): return (1.0 - out.data * out.data,)
    # ---- sigmoid(a) = 1 / (1 + e^-a)        d/da sigmoid(a) = s (1 - s) --------------------
    def sigmoid(self) -> Value:
        return _result(checks.sigmoid(self.data), (self,), "sigmoid", Value._d_sigmoid)
    def _d_sigmoid(out, m=Math): return (out.data * (1.0 - out.data),)
    # ---- softplus(a) = log(1 + e^a)         d/da softplus(a) = sigmoid(a) ------------------
    def softplus(self) -> Value:
        """``ln(1 + e^a)``, never overflowing (as ``torch.nn.functional.softplus``)."""
        y = max(self.data, 0.0) + math.log1p(math.exp(-abs(self.data)))
        return _result(y, (self,), "softplus", Value._d_softplus)
    def _d_softplus(out, m=Math): return (m.sigmoid(out.children[0].data),)
    # ---- relu(a) = max(0, a)      d/da relu(a) = 1 if a > 0 else 0 (0 at 0, as PyTorch) ---
    def relu(self) -> Value:
        return _result(self.data if self.data > 0 else 0.0, (self,), "relu", Value._d_relu)
    def _d_relu(out, m=Math): return (m.step(out.children[0].data),)  # 1.0 if a > 0 else 0.0
    # ---- sin(a)         d/da sin(a) = cos(a)            (radians) --------------------------
    def sin(self) -> Value:
        return _result(math.sin(self.data), (self,), "sin", Value._d_sin)
    def _d_sin(out, m=Math): return (m.cos(out.children[0].data),)
    # ---- cos(a)         d/da cos(a) = -sin(a) ----------------------------------------------
    def cos(self) -> Value:
        return _result(math.cos(self.data), (self,), "cos", Value._d_cos)
    def _d_cos(out, m=Math): return (-m.sin(out.children[0].data),)
    # ---- abs(a) = |a|   d/da |a| = sign(a): 1, -1, and 0 at 0 (as PyTorch) -----------------
    def __abs__(self) -> Value:
        return _result(abs(self.data), (self,), "abs", Value._d_abs)
    def _d_abs(out, m=Math):
        a = out.children[0].data
        return (m.step(a) - m.step(-a),)  # sign(a)
    # ---- numbers on the left: 2 + a, 1 - a, 2 * a, 3 / a (the number becomes a Constant) -
    def __radd__(self, other: Operand) -> Value: return _lift(other, "+") + self
    def __rsub__(self, other: Operand) -> Value: return _lift(other, "-") - self
    def __rmul__(self, other: Operand) -> Value: return _lift(other, "*") * self
    def __rtruediv__(self, other: Operand) -> Value: return _lift(other, "/") / self

    def backward(self, gradient: float = 1.0) -> None:
        """Fill in every ``grad`` below: seed ``self.grad += gradient`` (PyTorch's), then one
        chain-rule step per node. Leaves *accumulate* (``zero_grad()``); inner nodes restart."""
        gradient = checks.as_float(gradient, "backward(gradient)")
        order = topological_order(self)
        before = [node.grad for node in order]  # put back if a gradient overflows
        for node in order:
            if node.children:
                node.grad = 0.0
        try:
            self.grad += gradient
            for node in order:
                if node.grad and node.children:  # (a grad of 0 passes nothing on: skip)
                    node._backward()
        except Exception as err:
            checks.put_back(order, before)
            checks.blame_hand_set(order, err)  # a .data or .grad set by hand to a non-number?
            raise
        checks.finite_grads(order, before, local_derivatives)


def _lift(x: Operand, op: str) -> Value:  # the other operand of a binary op, as a Value
    return x if isinstance(x, Value) else Constant(checks.operand(x, op))

class Constant(Value):
    """A number in an expression (the 2 in ``2 * a``): its grad stays 0.0, as in PyTorch."""
    __slots__ = ()
    grad = property(lambda self: 0.0, lambda self, value: None)  # type: ignore[assignment]

def _result(data: float, children: tuple, op: str, rule: Rule, arg: Any = None) -> Value:
    """A new node holding ``data``, made by ``op`` from ``children`` (a leaf under no_grad)."""
    if not -math.inf < data < math.inf:  # stop overflow (and NaN) where it happens
        raise checks.bad_result(op, children, arg, data)
    out = Value(data)
    if is_grad_enabled():
        out.children, out.op, out._rule = children, op, rule
        if arg is not None:
            out._arg = arg
    return out
# ---- linear(w, x, b) = b + w_0 x_0 + w_1 x_1 + ...: a neuron's sum as one node ----------
#      d/db = 1,  d/dw_i = x_i,  d/dx_i = w_i        children (b, w_0 .. w_n-1, x_0 .. x_n-1)
def linear(w: Sequence[Value], x: Sequence[Operand], b: Value, relu: bool = False) -> Value:
    """``b + sum(w_i * x_i)``, the op-by-op sum's float (``F.linear``); ``relu=True``: its relu."""
    try:
        z = _weighted_sum(w, x, b)
    except (AttributeError, TypeError, ValueError):  # numbers in x, or a wrong argument:
        x = checks.linear_inputs(w, x, b, _lift)  # lift the numbers, or say what is wrong
        z = _weighted_sum(w, x, b)
    if relu and -math.inf < z < math.inf:  # (else linear's _result says the sum overflowed)
        return _result(z if z > 0 else 0.0, (b, *w, *x), "linear+relu", _d_linear_relu)
    return _result(z, (b, *w, *x), "linear", _d_linear)
def _weighted_sum(w: Sequence[Value], x: Sequence[Value], b: Value) -> float:
    acc = b.data
    for wi, xi in zip(w, x, strict=True):
        acc += wi.data * xi.data
    return acc
def _d_linear(out: Value, m: Any = Math) -> tuple[float, ...]:
    n = len(out.children) // 2  # (b, w..., x...): d/db = 1, then the x's, then the w's
    return (1.0, *[x.data for x in out.children[n + 1:]], *[w.data for w in out.children[1:n + 1]])
# ---- relu(linear(w, x, b))   linear's derivatives times relu's, step(z): all 0 unless z > 0
def _d_linear_relu(out: Value, m: Any = Math) -> Sequence[float]:  # (out > 0 exactly if z > 0)
    return _d_linear(out, m) if out.data > 0 else ()  # (): all 0, nothing to pass on
# ---- logsumexp(z) = log(sum_j e^(z_j))      d/dz_i = e^(z_i) / sum_j e^(z_j) = softmax_i --
def logsumexp(zs: Sequence[Value]) -> Value:
    """``log(e^z_0 + e^z_1 + ...)`` as one node, the largest ``z`` taken out first so that no
    exp overflows (as ``torch.logsumexp``)."""
    zs = checks.value_list(zs, "logsumexp")
    i = max(range(len(zs)), key=lambda j: zs[j].data)  # e^(z_i - z_i) = 1 exactly; the rest:
    top, rest = zs[i].data, math.fsum(math.exp(z.data - zs[i].data) for z in zs[:i] + zs[i + 1:])
    return _result(top + math.log1p(rest), tuple(zs), "logsumexp", _d_logsumexp)
def _d_logsumexp(out: Value, m: Any = Math) -> tuple[Any, ...]:
    return tuple(m.exp(z.data - out.data) for z in out.children)

# Rules by op name: a node made by hand, Value(y, (a, b), "*"), finds its rule here, and so
# does an op you add: RULES["cube"] = lambda out, m=Math: (3 * out.children[0].data ** 2,)
RULES: dict[str, Rule] = {
    "+": Value._d_add, "-": Value._d_sub, "*": Value._d_mul, "/": Value._d_div,
    "neg": Value._d_neg, "**": Value._d_pow, "c**": Value._d_rpow, "exp": Value._d_exp,
    "log": Value._d_log, "log1p": Value._d_log1p, "tanh": Value._d_tanh,
    "sigmoid": Value._d_sigmoid, "softplus": Value._d_softplus, "relu": Value._d_relu,
    "sin": Value._d_sin, "cos": Value._d_cos, "abs": Value._d_abs, "linear": _d_linear,
    "linear+relu": _d_linear_relu, "logsumexp": _d_logsumexp,
}

def topological_order(root: Value) -> list[Value]:
    """``root``'s graph, root first, each node before its inputs (a loop: any depth works)."""
    order: list[Value] = []
    seen = {checks.node(root, "backward")}
    path = [(root, iter(root.children))]  # the nodes being walked, each with its next inputs
    while path:
        node, inputs = path[-1]
        for child in inputs:
            if child not in seen:
                seen.add(child)
                if seen.issuperset(child.children):  # its inputs are in order: so is it
                    order.append(child)
                else:  # walk into it first
                    path.append((child, iter(child.children)))
                    break
        else:  # all of node's inputs are in order: node comes after them
            path.pop()
            order.append(node)
    return order[::-1]

def local_derivatives(node: Value) -> Sequence[float]:
    """``d node / d input`` for each input (a micrograd closure's: observed by running it)."""
    node = checks.node(node, "local_derivatives")
    if node._closure is not None:
        return checks.observe_closure(node)
    return (checks.rule_of(node)(node) or (0.0,) * len(node.children)) if node.children else ()
