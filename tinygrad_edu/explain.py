"""The chain rule of one node, in words and numbers.

``explain(node)`` says what ``node`` does during ``backward()``: for each of its inputs, which
grad it adds to, the local derivative (as a formula and as a number) and the product::

    >>> from tinygrad_edu import Value
    >>> x1, w1 = Value(2.0, "x1"), Value(-3.0, "w1")
    >>> p = x1 * w1
    >>> p.label = "p"
    >>> p.grad = 0.5
    >>> print(explain(p))
    x1.grad += p.grad × w1 = 0.5 × (-3) = -1.5
    w1.grad += p.grad × x1 = 0.5 × 2 = 1

``explain_forward(node)`` says how ``node``'s value was computed from its inputs
(``p = x1 · w1 = 2 · (-3) = -6``). Both read the numbers now in the graph: call ``explain``
after ``backward()`` (or on a node ``backward_steps`` just yielded, whose grad is final).

Nodes are named by their label; an unlabelled result by its operation on its inputs'
names (``(x1 · w1)``), an unlabelled leaf (a number written into the formula) by its value.
Numbers are shown with 4 significant digits.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable

from tinygrad_edu import engine as _engine
from tinygrad_edu.engine import Value

__all__ = ["explain", "explain_forward", "printable"]

# A fused neuron with more inputs than this is summarised (first pairs, "...", last pair).
_WIDE = 4
_NAME_MAX = 32  # longer generated names of unlabelled nodes are cut


# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------
def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\t``, ``\\x01``).

    A label that is only a newline would otherwise be invisible (and break a one-line
    explanation); lone surrogates cannot be encoded at all. Everything else is unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"printable needs a str, got {type(text).__name__}")
    if text.isprintable():
        return text
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Zl", "Zp") or ch in "\ufffe\uffff":
            out.append(repr(ch)[1:-1] if ch not in "'\"" else ch)
        else:
            out.append(ch)
    return "".join(out)


def _num(x: float) -> str:
    """``x`` with 4 significant digits (``0.7071``, ``-1.5``, ``2``, ``1e-07``)."""
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _factor(x: float) -> str:
    """A number as a factor of a product: negative numbers in parentheses."""
    text = _num(x)
    return f"({text})" if text.startswith("-") else text


_OP_SYMBOL = {"+": "+", "-": "-", "*": "·", "/": "/"}


def _name(v: Value) -> str:
    """How a node is called in the text: its label, else what made it, else its value."""
    if v.label:
        return printable(v.label)
    if not v.children:
        return _num(v.data)
    text = _expr(v)
    return text if len(text) <= _NAME_MAX else f"({v.op} node)"


def _inner(v: Value) -> str:
    """A child's name inside a generated name: unlabelled results become '…'."""
    if v.label or not v.children:
        return _name(v)
    return "…"


def _expr(v: Value) -> str:
    """An unlabelled result named by its op and its inputs' names, one level deep."""
    op, ch = v.op, v.children
    if op in _OP_SYMBOL and len(ch) == 2:
        return f"({_inner(ch[0])} {_OP_SYMBOL[op]} {_inner(ch[1])})"
    if op == "neg":
        return f"(-{_inner(ch[0])})"
    if op == "**":
        return f"{_inner(ch[0])}^{_num(v._arg)}" if v._arg is not None else f"{_inner(ch[0])}^k"
    if op == "c**":
        return f"{_num(v._arg)}^{_inner(ch[0])}" if v._arg is not None else f"c^{_inner(ch[0])}"
    if op == "linear":
        return f"({_inner(ch[0])} + Σ w·x)"
    return f"{op}({', '.join(_inner(c) for c in ch)})"


def _bare(v: Value) -> str:
    """A node's name as a function argument: without one pair of enclosing parentheses."""
    name = _name(v)
    if name.startswith("(") and name.endswith(")"):
        depth = 0
        for i, ch in enumerate(name):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0 and i < len(name) - 1:
                return name
        return name[1:-1]
    return name


def _wrap(name: str) -> str:
    """A name inside a formula: parenthesised unless it is one word or already grouped."""
    if name.startswith("(") and name.endswith(")"):
        return name
    if any(ch in name for ch in " +-·/×^*"):
        return f"({name})"
    return name


# ---------------------------------------------------------------------------------------------
# Local derivatives: (formula, number) for each input of a node
# ---------------------------------------------------------------------------------------------
Local = tuple[str, float]


def _locals_builtin(node: Value) -> list[Local] | None:
    """Formula and value of d node / d input for each input of a built-in op (else None)."""
    op, ch, out = node.op, node.children, node.data
    me = _wrap(_name(node))
    if op == "+":
        return [("1", 1.0), ("1", 1.0)]
    if op == "-":
        return [("1", 1.0), ("(-1)", -1.0)]
    if op == "*":
        a, b = ch
        return [(_wrap(_name(b)), b.data), (_wrap(_name(a)), a.data)]
    if op == "/":
        a, b = ch
        na, nb = _wrap(_name(a)), _wrap(_name(b))
        # -a/b^2 as -(a/b)/b, the engine's (and PyTorch's) order of operations
        return [(f"1/{nb}", 1.0 / b.data), (f"(-{na}/{nb}^2)", -(out / b.data))]
    if op == "neg":
        return [("(-1)", -1.0)]
    if op == "linear":
        k = len(ch) // 2
        ws, xs = ch[1 : k + 1], ch[k + 1 :]
        return ([("1", 1.0)] + [(_wrap(_name(x)), x.data) for x in xs]
                + [(_wrap(_name(w)), w.data) for w in ws])
    if op == "**":
        (a,) = ch
        k = node._arg
        if k is None:
            return None
        na = _wrap(_name(a))
        if k == 0:
            return [("0", 0.0)]
        if k == 1:
            return [("1", 1.0)]
        power = na if k == 2 else f"{na}^{_num(k - 1)}"
        return [(f"{_num(k)}·{power}", k * _pow(a.data, k - 1))]
    if op == "c**":
        (a,) = ch
        c = node._arg
        if c is None:
            return None
        return [(f"{_num(c)}^{_wrap(_name(a))}·ln {_num(c)}", out * math.log(c))]
    if op == "exp":
        (a,) = ch
        return [(f"exp({_bare(a)})", out)]
    if op == "log":
        (a,) = ch
        return [(f"1/{_wrap(_name(a))}", 1.0 / a.data)]
    if op == "tanh":
        source = me if node.label else f"tanh({_bare(ch[0])})"
        return [(f"(1 - {source}^2)", 1.0 - out * out)]
    if op == "sigmoid":
        source = me if node.label else f"σ({_bare(ch[0])})"
        return [(f"{source}·(1 - {source})", out * (1.0 - out))]
    if op == "relu":
        (a,) = ch
        na = _wrap(_name(a))
        if out > 0:
            return [(f"1 (since {na} > 0)", 1.0)]
        return [(f"0 (since {na} ≤ 0)", 0.0)]
    return None


def _pow(x: float, k: float) -> float:
    try:
        return float(x**k)
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _engine_locals(node: Value) -> tuple[float, ...] | None:
    """The engine's own local derivatives, when it offers them (Function ops need this)."""
    try:
        from tinygrad_edu.engine import local_derivatives
    except ImportError:
        return None
    try:
        return tuple(float(d) for d in local_derivatives(node))
    except Exception:  # an op the engine cannot describe either: say so in the text
        return None


_NEW_FORMULAS: dict[str, Callable[[Value], str]] = {
    "sin": lambda a: f"cos({_bare(a)})",
    "cos": lambda a: f"(-sin({_bare(a)}))",
    "abs": lambda a: f"sign({_bare(a)})",
}
_NEW_VALUES: dict[str, Callable[[float], float]] = {
    "sin": math.cos,
    "cos": lambda x: -math.sin(x),
    "abs": lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else 0.0),
}


def _locals(node: Value) -> list[Local | None]:
    """(formula, value) per input; None where nothing is known about that input."""
    known = _locals_builtin(node)
    if known is not None:
        return list(known)
    numbers = _engine_locals(node)
    ch = node.children
    if node.op in _NEW_FORMULAS and len(ch) == 1:
        (a,) = ch
        value = numbers[0] if numbers else _NEW_VALUES[node.op](a.data)
        return [(_NEW_FORMULAS[node.op](a), value)]
    me = _name(node)
    if numbers is not None and len(numbers) == len(ch):
        return [(f"∂{_wrap(me)}/∂{_wrap(_name(c))}", d) for c, d in zip(ch, numbers)]
    return [None] * len(ch)


# ---------------------------------------------------------------------------------------------
# explain: the backward step
# ---------------------------------------------------------------------------------------------
def _target(v: Value) -> str:
    """A node's name in front of ``.grad``: a bare number or expression in parentheses."""
    name = _name(v)
    if not v.label and not v.children:
        return f"({name})"
    return _wrap(name)


def _is_constant(v: Value) -> bool:
    """A number written into the formula (the engine computes no gradient for it)."""
    constant = getattr(_engine, "Constant", None)
    return constant is not None and isinstance(v, constant)


def _line(target: Value, me: str, g: float, local: Local | None) -> str:
    if _is_constant(target):
        return f"{_target(target)} is a number written into the formula: it gets no grad"
    head = f"{_target(target)}.grad += {me}.grad × "
    if local is None:
        return head + "(local derivative unknown: the engine has no rule to show for this op)"
    formula, d = local
    return f"{head}{formula} = {_factor(g)} × {_factor(d)} = {_num(g * d)}"


def explain(node: Value) -> str:
    """The chain-rule step ``node`` performs in ``backward()``, one line per input.

    Each line names the grad it adds to, the local derivative (formula, then number) and
    the product that is added, e.g. ``w1.grad += p.grad × x1 = 0.5 × 2 = 1``. A fused
    ``linear`` node has a line for its bias and for every weight and input (wide ones show
    the first and last and say how many lines are left out). A leaf passes nothing on.

    Uses the numbers now in the graph: ``node.grad`` should be final (after ``backward()``,
    or as yielded by ``backward_steps``).
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain needs a Value, got {type(node).__name__}")
    me = _name(node)
    g = node.grad
    if not node.children:
        return (f"{me} is a leaf: it has no inputs, so it passes nothing on "
                f"({me}.grad = {_num(g)} is final)")
    locs = _locals(node)
    lines = [_line(c, _wrap(me), g, loc) for c, loc in zip(node.children, locs)]
    if node.op == "linear":
        lines = _summarise_linear(node, lines)
    return "\n".join(lines)


def _summarise_linear(node: Value, lines: list[str]) -> list[str]:
    """Reorder a linear node's lines as b, (w0, x0), (w1, x1) ... and cut the middle."""
    k = len(node.children) // 2
    pairs = [(lines[1 + i], lines[1 + k + i]) for i in range(k)]
    out = [lines[0]]
    if k <= _WIDE:
        for w_line, x_line in pairs:
            out += [w_line, x_line]
        return out
    for w_line, x_line in pairs[:2]:
        out += [w_line, x_line]
    me = _wrap(_name(node))
    out.append(f"… {k - 3} more weights and inputs alike: w[i].grad += {me}.grad × x[i], "
               f"x[i].grad += {me}.grad × w[i] …")
    out += list(pairs[-1])
    return out


# ---------------------------------------------------------------------------------------------
# explain_forward: how the value was computed
# ---------------------------------------------------------------------------------------------
def _forward_formula(node: Value) -> tuple[str, str] | None:
    """(formula with names, formula with numbers) for ``node``'s forward computation."""
    op, ch = node.op, node.children
    n = [_wrap(_name(c)) for c in ch]
    v = [_factor(c.data) for c in ch]
    if op in ("+", "-", "/") and len(ch) == 2:
        return f"{n[0]} {op} {n[1]}", f"{_num(ch[0].data)} {op} {v[1]}"
    if op == "*":
        return f"{n[0]} · {n[1]}", f"{v[0]} · {v[1]}"
    if op == "neg":
        return f"-{n[0]}", f"-{v[0]}"
    if op == "**" and node._arg is not None:
        return f"{n[0]}^{_num(node._arg)}", f"{v[0]}^{_num(node._arg)}"
    if op == "c**" and node._arg is not None:
        return f"{_num(node._arg)}^{n[0]}", f"{_num(node._arg)}^{v[0]}"
    if op == "sigmoid":
        return f"σ({_bare(ch[0])})", f"σ({_num(ch[0].data)})"
    if op == "relu":
        return f"relu({_bare(ch[0])})", f"max(0, {_num(ch[0].data)})"
    if op == "abs":
        return f"|{_bare(ch[0])}|", f"|{_num(ch[0].data)}|"
    if op == "linear":
        k = len(ch) // 2
        b, ws, xs = ch[0], ch[1 : k + 1], ch[k + 1 :]
        terms = [(f"{_wrap(_name(w))}·{_wrap(_name(x))}", f"{_factor(w.data)}·{_factor(x.data)}")
                 for w, x in zip(ws, xs)]
        if k > _WIDE:
            names = (f"{_name(b)} + Σ w[i]·x[i] over {k} inputs")
            nums = " + ".join([_num(b.data)] + [t[1] for t in terms[:2]]) + " + … + " + terms[-1][1]
            return names, nums
        return (" + ".join([_wrap(_name(b))] + [t[0] for t in terms]),
                " + ".join([_num(b.data)] + [t[1] for t in terms]))
    if ch:
        return (f"{op}({', '.join(_bare(c) for c in ch)})",
                f"{op}({', '.join(_num(c.data) for c in ch)})")
    return None


def explain_forward(node: Value) -> str:
    """How ``node``'s value is computed from its inputs, e.g. ``n = s + b = -6 + 6.881 = 0.8814``.

    A leaf says that its value is given, not computed.
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain_forward needs a Value, got {type(node).__name__}")
    me = _name(node)
    if not node.children:
        return f"{me} = {_num(node.data)} is a leaf: its value is given, not computed"
    names, numbers = _forward_formula(node)  # type: ignore[misc]
    if numbers in (names, _num(node.data)):
        return f"{me} = {names} = {_num(node.data)}"
    return f"{me} = {names} = {numbers} = {_num(node.data)}"
