"""A rule run on names instead of numbers: engine's rules, read as formulas.

Every op's rule in ``engine.py`` returns its local derivatives from ``out.data``,
``out.children[i].data`` and ``out._arg``, calling math through its ``m`` argument. Run it on
``Sym`` operands (names, with Python's arithmetic writing text) and ``SymMath`` (functions that
write text) and the same rule gives its formula: tanh's ``(1.0 - out.data * out.data,)``
becomes ``"1.0 - t * t"``. ``compile`` writes that text into the code it generates, and
``explain`` prints it, so neither keeps a second copy of any derivative.

A rule that decides on numbers (a Python ``if`` on a ``Sym``), calls ``math`` directly, or is a
``Function``'s or a micrograd closure has no formula: ``formula`` returns None and the
consumer falls back to the numbers (``engine.local_derivatives``). Given the node's
``numbers``, its comparisons are decided by them instead: the formula of the branch the rule
takes at those numbers (``explain``, which shows one node at its numbers, reads a relu
neuron's this way). A rule's ``()`` reads as 0 for every input, as ``backward()`` reads it.

The text keeps the rule's order of operations (``a * (b * c)`` keeps its parentheses), so code
built from it computes the same floats as the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Sym", "SymMath", "formula"]

# precedence, as Python's: higher binds tighter
_ATOM, _POW, _UNARY, _MUL, _ADD, _CMP, _IF = 100, 90, 85, 80, 70, 60, 50


class Sym:
    """An expression as text, with the precedence of its outermost operator."""

    __slots__ = ("text", "prec")

    def __init__(self, text: str, prec: int = _ATOM) -> None:
        self.text, self.prec = text, prec

    def __repr__(self) -> str:
        return self.text

    def __bool__(self) -> bool:  # a rule that branches on a number has no formula
        raise TypeError("a symbolic value has no truth value")

    __float__ = __bool__  # type: ignore[assignment]

    def _bin(self, other: Any, op: str, prec: int, right: bool = False) -> Sym:
        a, b = (_sym(other), self) if right else (self, _sym(other))
        left = a.text if a.prec >= prec else f"({a.text})"
        rite = b.text if b.prec > prec else f"({b.text})"  # a - (b - c), a * (b * c)
        return Sym(f"{left} {op} {rite}", prec)

    def __add__(self, o: Any) -> Sym: return self._bin(o, "+", _ADD)
    def __radd__(self, o: Any) -> Sym: return self._bin(o, "+", _ADD, True)
    def __sub__(self, o: Any) -> Sym: return self._bin(o, "-", _ADD)
    def __rsub__(self, o: Any) -> Sym: return self._bin(o, "-", _ADD, True)
    def __mul__(self, o: Any) -> Sym: return self._bin(o, "*", _MUL)
    def __rmul__(self, o: Any) -> Sym: return self._bin(o, "*", _MUL, True)
    def __truediv__(self, o: Any) -> Sym: return self._bin(o, "/", _MUL)
    def __rtruediv__(self, o: Any) -> Sym: return self._bin(o, "/", _MUL, True)
    def __gt__(self, o: Any) -> Sym: return self._bin(o, ">", _CMP)
    def __lt__(self, o: Any) -> Sym: return self._bin(o, "<", _CMP)

    def __neg__(self) -> Sym:
        return Sym(f"-{self.text}" if self.prec > _UNARY else f"-({self.text})", _UNARY)

    def __pos__(self) -> Sym:
        return self


def _sym(x: Any) -> Sym:
    """A number or a Sym as a Sym (a number written as Python writes it: 1.0, -2.5)."""
    if isinstance(x, Sym):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"not a number: {x!r}")
    text = repr(float(x))
    if text in ("inf", "-inf", "nan"):
        text = f"float({text!r})"
    return Sym(text, _UNARY if text.startswith("-") else _ATOM)


def _call(name: str) -> Callable[..., Sym]:
    return lambda *args: Sym(f"{name}({', '.join(_sym(a).text for a in args)})")


class SymMath:
    """The ``m`` of a rule, writing text: ``m.exp(x)`` gives ``"exp(x)"`` (names prefixed with
    ``prefix`` for generated code, e.g. ``"_m."``)."""

    def __init__(self, prefix: str = "") -> None:
        for name in ("exp", "log", "sin", "cos", "pow", "sigmoid", "step"):
            setattr(self, name, _call(prefix + name))


class _Decided(Sym):
    """A name whose comparisons (``out.data > 0``) are decided by its number."""

    __slots__ = ("number",)

    def __init__(self, text: str, number: float) -> None:
        super().__init__(text)
        self.number = number

    def __gt__(self, o: Any) -> bool: return self.number > _number_of(o)  # type: ignore[override]
    def __lt__(self, o: Any) -> bool: return self.number < _number_of(o)  # type: ignore[override]
    def __ge__(self, o: Any) -> bool: return self.number >= _number_of(o)
    def __le__(self, o: Any) -> bool: return self.number <= _number_of(o)


def _number_of(x: Any) -> float:
    if isinstance(x, _Decided):
        return x.number
    if isinstance(x, Sym):
        raise TypeError("a comparison with an expression: no formula")
    return x


class _Node:
    """What a rule reads of a node: ``data``, ``children`` (each with ``data``), ``_arg``."""

    __slots__ = ("data", "children", "_arg")

    def __init__(self, data: Any, children: Sequence[Any] = (), arg: Any = None) -> None:
        self.data, self.children, self._arg = data, tuple(children), arg


def formula(node: Any, out: str, inputs: Sequence[str], m: Any = None,
            numbers: Sequence[float] | None = None) -> tuple[Sym, ...] | None:
    """The local derivatives of ``node`` as expressions in the names ``out`` (its result) and
    ``inputs`` (one per child), or None when its rule has no formula (see the module text).
    ``node._arg`` goes in as the number it is (the ``k`` of ``a ** k``); ``numbers`` (out's,
    then each input's) decide the comparisons the rule makes."""
    rule, arg = getattr(node, "_rule", None), getattr(node, "_arg", None)
    if rule is None or getattr(node, "_closure", None) is not None:
        return None
    if arg is not None and (isinstance(arg, bool) or not isinstance(arg, (int, float))):
        return None  # (a Function's ctx: its backward computes on this example's numbers)
    names = [out, *inputs]
    syms = [Sym(t) for t in names] if numbers is None else [
        _Decided(t, x) for t, x in zip(names, numbers, strict=True)]
    fake = _Node(syms[0], [_Node(s) for s in syms[1:]], node._arg)
    try:
        locals_ = tuple(rule(fake, m if m is not None else SymMath()))
    except (TypeError, AttributeError, ValueError, ArithmeticError):
        return None
    if not locals_:  # (): nothing to pass on, every local derivative is 0
        locals_ = (0.0,) * len(inputs)
    if len(locals_) != len(inputs):
        return None
    try:
        return tuple(_sym(d) for d in locals_)
    except TypeError:
        return None
