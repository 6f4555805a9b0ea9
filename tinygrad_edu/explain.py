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

Nothing here knows a derivative. The numbers are the engine's (``engine.local_derivatives``:
the op's rule, or for a micrograd closure what running it adds); the formula is the same rule
read on names instead of numbers (``symbolic.formula``), so ``tanh`` says ``1 - o·o`` because
its rule computes ``1.0 - out.data * out.data``; a rule that branches on a number is read at
the node's numbers (a relu neuron, ``linear+relu``, shows the sum's formulas where it fired).
A ``Function`` op, whose backward computes on numbers, shows ``∂z/∂a`` and the number.

``explain_forward(node)`` says how ``node``'s value was computed from its inputs
(``s = x1·w1 = 2·(-3) = -6``). Both read the numbers now in the graph: call ``explain`` after
``backward()`` (or on a node ``backward_steps`` just yielded, whose grad is final).

Nodes are named by :class:`Names`: their label; a number written into the formula by its
value; an unlabelled result by what made it (``x1·w1``, ``tanh(n)``) while that is short,
else by a letter (``n``, ``m``, ...) no label of the graph uses. Numbers are written as
everywhere in the pictures (``style.number``: 4 significant digits).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from tinygrad_edu import engine
from tinygrad_edu.engine import Constant, Value, topological_order
from tinygrad_edu.pictures.style import factor, number, printable
from tinygrad_edu.symbolic import Sym, formula

__all__ = ["explain", "explain_forward", "printable", "Names"]

_WIDE = 4  # a linear node with more inputs than this is summarised
_NAME_MAX = 15  # longer expressions of unlabelled results become letters
_LETTERS = "nmpqrstuvz"
_OPERATORS = " +-·/×^*"

# Precedence of a name inside an expression, as Python's (higher binds tighter)
_ATOM, _POW, _NEG, _MUL, _ADD, _LOOSE = 100, 90, 85, 80, 70, 0
_FUNCTIONS = {"sigmoid": "σ"}  # op -> how its call is written


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
def _label_prec(text: str) -> int:
    """A label with operators or spaces in it (``x1*w1``) is grouped in parentheses."""
    return _LOOSE if any(ch in text for ch in _OPERATORS) else _ATOM


def _group(name: tuple[str, int], prec: int, right: bool = False) -> str:
    """A name inside an expression, in parentheses where it would bind too loosely (and a
    negative right operand: ``2·(-3)``, ``6 + (-1)``)."""
    text, own = name
    return text if own >= prec and not (right and text.startswith("-")) else f"({text})"


def _expression(node: Value, kids: Sequence[tuple[str, int]]) -> tuple[str, int]:
    """What ``node`` computes, written with ``kids`` (one (text, precedence) per input)."""
    op, arg = node.op, node._arg
    if op in ("+", "-") and len(kids) == 2:
        return f"{_group(kids[0], _ADD)} {op} {_group(kids[1], _ADD + (op == '-'), True)}", _ADD
    if op in ("*", "/") and len(kids) == 2:
        sign = "·" if op == "*" else "/"
        return (f"{_group(kids[0], _MUL)}{sign}{_group(kids[1], _MUL + (op == '/'), True)}",
                _MUL)
    if op == "neg" and len(kids) == 1:
        return f"-{_group(kids[0], _NEG)}", _NEG
    if op == "**" and len(kids) == 1 and isinstance(arg, (int, float)):
        return f"{_group(kids[0], _ATOM)}^{number(arg)}", _POW
    if op == "c**" and len(kids) == 1 and isinstance(arg, (int, float)):
        return f"{number(arg)}^{_group(kids[0], _ATOM)}", _POW
    if op == "abs" and len(kids) == 1:
        return f"|{kids[0][0]}|", _ATOM
    if op in ("linear", "linear+relu") and len(kids) % 2 == 1:
        k = len(kids) // 2
        terms = [_group(kids[0], _ADD)] + [
            f"{_group(kids[1 + i], _MUL, True)}·{_group(kids[1 + k + i], _MUL, True)}"
            for i in range(k)]
        return (" + ".join(terms), _ADD) if op == "linear" else (f"relu({' + '.join(terms)})",
                                                                   _ATOM)
    name = _FUNCTIONS.get(op, printable(op))
    return f"{name}({', '.join(text for text, _ in kids)})", _ATOM


class Names:
    """Readable names for every node of ``root``'s graph (``names[node]`` is a str).

    A node is called by its label; a number written into the formula (a ``Constant``, or any
    unlabelled leaf) by its value; an unlabelled result by its expression in its inputs' names
    (``x1·w1``, ``tanh(n)``) while that has at most 15 characters, else by a letter
    (``n``, ``m``, ``p``, ...) that no label of the graph uses.
    """

    def __init__(self, root: Value) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"Names needs a Value (the root of a graph), got "
                            f"{type(root).__name__}")
        order = topological_order(root)[::-1]  # inputs first
        taken = {printable(n.label) for n in order if n.label}
        letters = (name for name in itertools.chain(_LETTERS, (f"n{i}" for i in itertools.count(2)))
                   if name not in taken)
        self._names: dict[Value, tuple[str, int]] = {}
        for node in order:
            if node.label:
                text = printable(node.label)
                self._names[node] = (text, _label_prec(text))
            elif not node.children:
                text = number(node.data)
                self._names[node] = (text, _NEG if text.startswith("-") else _ATOM)
            else:
                name = _expression(node, [self._names[c] for c in node.children])
                if len(name[0]) > _NAME_MAX:  # (letters used up: n2, n3, ...)
                    name = (next(letters), _ATOM)
                self._names[node] = name

    def __getitem__(self, node: Value) -> str:
        return self._names[node][0]

    def term(self, node: Value) -> tuple[str, int]:
        """The name and how tightly it binds (a label ``x1*w1`` is loose: it gets grouped)."""
        return self._names[node]

    def __contains__(self, node: object) -> bool:
        return node in self._names

    def made_up(self, node: Value) -> bool:
        """True for an unlabelled result (its name was made up here)."""
        return not node.label and bool(node.children)

    def grouped(self, node: Value) -> str:
        """The name as one term: ``x1·w1`` as ``(x1·w1)``, a plain name as itself."""
        return _group(self._names[node], _ATOM)

    def target(self, node: Value) -> str:
        """The name in front of ``.grad``: ``n.grad``, ``(x1·w1).grad``, ``(3).grad``."""
        return f"({self[node]})" if not node.children and not node.label else self.grouped(node)


# ---------------------------------------------------------------------------------------------
# Local derivatives: the engine's numbers, the rule's formula
# ---------------------------------------------------------------------------------------------
_TOKEN = "\ue000{}\ue001"  # stands for a name while the formula text is tidied up


class _ReadableMath:
    """The ``m`` a rule calls, writing formulas for people: ``cos(u)``, ``σ(a)``, ``a^2``."""

    @staticmethod
    def _call(name: str, *args: Any) -> Sym:
        return Sym(f"{name}({', '.join(_text(a) for a in args)})")

    def exp(self, x: Any) -> Sym: return self._call("exp", x)
    def log(self, x: Any) -> Sym: return self._call("log", x)
    def sin(self, x: Any) -> Sym: return self._call("sin", x)
    def cos(self, x: Any) -> Sym: return self._call("cos", x)
    def sigmoid(self, x: Any) -> Sym: return self._call("σ", x)
    def step(self, x: Any) -> Sym: return self._call("step", x)

    def pow(self, x: Any, k: Any) -> Sym:
        if isinstance(k, (int, float)) and k == 1:
            return x if isinstance(x, Sym) else Sym(_text(x))
        if isinstance(k, (int, float)) and k == 0:
            return Sym("1")
        base = _text(x) if not isinstance(x, Sym) or x.prec >= _ATOM else f"({x.text})"
        return Sym(f"{base}^{_text(k)}")


def _text(x: Any) -> str:
    return x.text if isinstance(x, Sym) else repr(float(x))


def _tidy(template: Sym) -> str:
    """A rule's formula as people write it: ``1.0 - t * t`` as ``1 - t·t``, ``1.0 / b`` as
    ``1/b``, ``step(x)`` as ``1 (since x > 0)``; as one factor (parenthesised when needed)."""
    text = re.sub(r"(?<![\w.])(\d+)\.0(?![\d])", r"\1", template.text)
    text = text.replace(" * ", "·").replace(" / ", "/")
    if text.startswith("1·"):
        text = text[2:]
    loose = template.prec < _MUL or text.startswith("-")
    return f"({text})" if loose else text


def _step_words(text: str, d: float) -> str:
    """``step(x)`` with its number: ``1 (since x > 0)`` / ``0 (since x ≤ 0)``;
    ``step(x) - step(-x)`` is ``sign(x)``."""
    token = "\ue000\\d+\ue001"
    m = re.fullmatch(rf"step\(({token})\)", text)
    if m:
        return f"{number(d)} (since {m.group(1)} {'>' if d > 0 else '≤'} 0)"
    m = re.fullmatch(rf"\(step\(({token})\) - step\(-\1\)\)", text)
    if m:
        return f"sign({m.group(1)})"
    return text


def _locals(node: Value, names: Names) -> list[tuple[str, float] | None]:
    """(formula, number) of d node / d input for each input; None where nothing is known."""
    try:
        numbers = [float(d) for d in engine.local_derivatives(node)]
    except Exception:  # an op the engine cannot describe either: the text says so
        return [None] * len(node.children)
    if len(numbers) != len(node.children):
        return [None] * len(node.children)
    tokens = [_TOKEN.format(i) for i in range(len(node.children) + 1)]
    texts = {tokens[0]: names.grouped(node)}
    texts.update((tokens[i + 1], names.grouped(c)) for i, c in enumerate(node.children))
    try:
        templates = formula(node, tokens[0], tokens[1:], m=_ReadableMath(),
                            numbers=[node.data, *(c.data for c in node.children)])
    except Exception:  # (a rule of the user's that only runs on numbers)
        templates = None
    out: list[tuple[str, float] | None] = []
    for i, (child, d) in enumerate(zip(node.children, numbers)):
        if templates is None:
            text = f"∂{names.grouped(node)}/∂{names.grouped(child)}"
        else:
            text = _step_words(_tidy(templates[i]), d)
            for token, name in texts.items():
                text = text.replace(token, name)
        out.append((text, d))
    return out


# ---------------------------------------------------------------------------------------------
# explain: the backward step
# ---------------------------------------------------------------------------------------------
def _line(target: Value, me: str, g: float, local: tuple[str, float] | None,
          names: Names) -> str:
    if isinstance(target, Constant):
        return f"{names.target(target)} is a number written into the formula: it gets no grad"
    head = f"{names.target(target)}.grad += {me}.grad × "
    if local is None:
        return head + "(local derivative unknown: the engine has no rule to show for this op)"
    text, d = local
    return f"{head}{text} = {factor(g)} × {factor(d)} = {number(g * d)}"


def explain(node: Value, names: Names | None = None) -> str:
    """The chain-rule step ``node`` performs in ``backward()``, one line per input.

    Each line names the grad it adds to, the local derivative (formula, then number) and
    the product that is added, e.g. ``w1.grad += p.grad × x1 = 0.5 × 2 = 1``. A ``linear``
    node has a line for its bias and for every weight and input (wide ones show the first
    and last and say how many lines are left out). A leaf passes nothing on. A micrograd
    closure (``out._backward = fn``) states no derivatives: they were observed by running it,
    and a last line says so.

    Uses the numbers now in the graph: ``node.grad`` should be final (after ``backward()``,
    or as yielded by ``backward_steps``). ``names`` (a :class:`Names` of the whole graph)
    keeps made-up names the same across the steps of one walk; by default the names of
    ``node``'s own graph.
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain needs a Value, got {type(node).__name__}")
    names = names if names is not None and node in names else Names(node)
    me, g = names.target(node), node.grad
    if not node.children:
        return (f"{names[node]} is a leaf: it has no inputs, so it passes nothing on "
                f"({me}.grad = {number(g)} is final)")
    lines = [_line(c, me, g, loc, names)
             for c, loc in zip(node.children, _locals(node, names))]
    if node.op in ("linear", "linear+relu") and len(node.children) % 2 == 1:
        lines = _summarise_linear(node, lines, me)
    if node.op == "linear+relu":  # (z: the sum, added in linear's order)
        kids, z = node.children, node.children[0].data
        for w, x in zip(kids[1:len(kids) // 2 + 1], kids[len(kids) // 2 + 1:]):
            z += w.data * x.data
        lines.append(f"({me} = relu(z), z = b + Σ w·x = {number(z)}: " + (
            "z > 0, so relu passes the gradient on and these are the sum's local derivatives)"
            if node.data > 0 else "z ≤ 0, relu did not fire: every local derivative is 0)"))
    if getattr(node, "_closure", None) is not None:
        lines.append(f"({me}'s local derivatives were observed by running its _backward, "
                     "a micrograd closure)")
    return "\n".join(lines)


def _summarise_linear(node: Value, lines: list[str], me: str) -> list[str]:
    """Reorder a linear node's lines as b, (w0, x0), (w1, x1) ... and cut the middle."""
    k = len(node.children) // 2
    pairs = [(lines[1 + i], lines[1 + k + i]) for i in range(k)]
    out = [lines[0]]
    shown = pairs if k <= _WIDE else pairs[:2]
    for w_line, x_line in shown:
        out += [w_line, x_line]
    if k > _WIDE:
        out.append(f"… {k - 3} more weights and inputs alike: w[i].grad += {me}.grad × x[i], "
                   f"x[i].grad += {me}.grad × w[i] …")
        out += list(pairs[-1])
    return out


# ---------------------------------------------------------------------------------------------
# explain_forward: how the value was computed
# ---------------------------------------------------------------------------------------------
def explain_forward(node: Value, names: Names | None = None) -> str:
    """How ``node``'s value is computed from its inputs, e.g. ``n = s + b = -6 + 6.881 = 0.8814``.

    A leaf says that its value is given, not computed.
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain_forward needs a Value, got {type(node).__name__}")
    names = names if names is not None and node in names else Names(node)
    me, value = names[node], number(node.data)
    if not node.children:
        return f"{me} = {value} is a leaf: its value is given, not computed"
    kids = node.children
    if node.op in ("linear", "linear+relu") and len(kids) // 2 > _WIDE and len(kids) % 2 == 1:
        k = len(kids) // 2
        terms = [f"{factor(kids[1 + i].data)}·{factor(kids[1 + k + i].data)}"
                 for i in (0, 1, k - 1)]
        written = f"{names.grouped(kids[0])} + Σ w[i]·x[i] over {k} inputs"
        numbers = f"{number(kids[0].data)} + {terms[0]} + {terms[1]} + … + {terms[2]}"
        if node.op == "linear+relu":
            written, numbers = f"relu({written})", f"relu({numbers})"
    else:
        written = _expression(node, [names.term(c) for c in kids])[0]
        numbers = _expression(node, [_number_name(c.data) for c in kids])[0]
    steps = [me] + [text for text in (written, numbers) if text != me] + [value]
    return " = ".join(dict.fromkeys(steps))  # (each form once: "p = 2·3 = 6", not "6 = 6")


def _number_name(x: float) -> tuple[str, int]:
    text = number(x)
    return text, _NEG if text.startswith("-") else _ATOM
