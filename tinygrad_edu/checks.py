"""Input checks and error messages for the engine.

Bad input fails where it enters, with a message that says what was wrong and what to do,
instead of turning into a NaN many steps later. ``engine.py`` calls these; they are kept here
so that the textbook file shows only the maths.

Errors, by kind (catch ``ArithmeticError`` to catch every numeric blow-up):

- ``TypeError``: not a number (a ``str``, ``None``, a ``bool``, a list ...).
- ``ValueError``: outside the domain (``log`` of 0, a negative base to a fractional power,
  a non-finite number given to ``Value``).
- ``OverflowError``: a result, or a gradient in ``backward()``, too large for a float.
- ``ZeroDivisionError``: division by zero, an infinite derivative at 0.
- ``NotANumberError`` (a ``ValueError`` and a ``FloatingPointError``): a result is NaN.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Iterable
from numbers import Real
from typing import Any

__all__ = ["NotANumberError"]

EXP_MAX = 709.782712893384  # log of the largest float: exp() of more overflows


class NotANumberError(ValueError, FloatingPointError):
    """A result is NaN (not a number). Both a ``ValueError`` and a ``FloatingPointError``."""


def _not_a_real(x: object) -> bool:
    # (plain int/float skip the isinstance(x, Real) test, which is slow: Real is an ABC)
    return type(x) not in (float, int) and (isinstance(x, bool) or not isinstance(x, Real))


def digits(n: int) -> int:
    """How many decimal digits ``abs(n)`` has (``str()`` refuses ints of over 4300 digits)."""
    n = abs(n)
    if n < 10**4000:
        return len(str(n))
    estimate = int(n.bit_length() * math.log10(2))  # may be one short
    return estimate + (n >= 10**estimate)


def as_float(x: object, what: str) -> float:
    """``x`` as a finite float, or a clear error saying what was wrong."""
    if type(x) is float and -math.inf < x < math.inf:  # (the common case, first)
        return x
    if _not_a_real(x):
        if is_value(x):
            raise TypeError(f"{what} is already a Value ({x!r}); use it directly")
        raise TypeError(
            f"{what} must be a real number (int or float), got {type(x).__name__} {x!r}"
        )
    try:
        f = float(x)  # type: ignore[arg-type]
    except OverflowError:  # an int beyond the largest float (~1.8e308)
        f = math.inf
    if not -math.inf < f < math.inf:
        shown = f if type(x) is not int else f"an int of {digits(x)} digits"
        raise ValueError(f"{what} must be a finite number, got {shown}")
    return f


def number(x: object, what: str, *, finite: bool = True,
           error: type[ArithmeticError] | type[ValueError] = ValueError) -> float:
    """Any user number ``x`` (int, float, NumPy scalar, Fraction, Decimal) as a float, or a
    clear error naming ``what`` (e.g. ``"gradcheck: atol"``) and saying what to do.

    ``TypeError`` when ``x`` is not a real number. ``error`` (``ValueError`` unless told,
    e.g. ``OverflowError``) when it is too large for a float (an int of 400 digits: Python's
    own ``float()`` says only "int too large to convert to float") or, with ``finite``, when
    it is inf or NaN. Cold path: for checking arguments, not inside the engine's ops.
    """
    if _not_a_real(x):
        raise TypeError(
            f"{what} must be a real number (int or float), got {type(x).__name__} "
            f"{repr(x)[:60]}"
        )
    try:
        f = float(x)  # type: ignore[arg-type]
    except OverflowError:  # an int (or Fraction, Decimal) beyond the largest float, ~1.8e308
        shown = f"an int of {digits(x)} digits" if type(x) is int else repr(x)[:60]
        raise error(f"{what} is too large for a float: got {shown} (floats end near "
                    "1.8e308); use a smaller number") from None
    if finite and not -math.inf < f < math.inf:
        raise error(f"{what} must be a finite number, got {f}")
    return f


def hand_set(nodes: Iterable[Any]) -> TypeError | ValueError | None:
    """The error for the first node whose ``.data`` or ``.grad`` is not a finite number, or
    None. Only a value set by hand can be one (``v.grad = None``): the engine never makes one
    and does not check attributes on every use (that would slow every op), so ``backward()``
    calls this on its cold path, after an error, to say which node and what to do."""
    top = sys.float_info.max
    for node in nodes:
        for attr in ("data", "grad"):
            x = getattr(node, attr)
            if isinstance(x, bool) or not isinstance(x, (float, int)) or not -top <= x <= top:
                kind = TypeError if isinstance(x, bool) or not isinstance(x, Real) else ValueError
                return kind(
                    f"{name_of(node)} has .{attr} = {shown_number(x)}: .{attr} must be a "
                    f"finite float (set by hand? give it a number, e.g. v.{attr} = 0.0)"
                )
    return None


def is_value(x: object) -> bool:
    """``x`` is a Value (ours, a subclass, or one shaped like it)."""
    return hasattr(type(x), "_backward") and hasattr(x, "children") and hasattr(x, "data")


def name_of(node: Any) -> str:
    """A node as a message names it: its label, else its op, else its data."""
    if isinstance(node.label, str) and node.label:
        return f"the Value {node.label!r}"
    return f"a '{node.op}' node" if node.op else "a leaf Value"


def shown_number(x: object) -> str:
    """``repr(x)``, short: an int of 400 digits or a long array does not fill the screen."""
    if type(x) is int and len(text := str(x)) > 30:
        return f"an int of {len(text.lstrip('-'))} digits"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def value_repr(v: Any) -> str:
    """``repr(Value)``, also for a .data, .grad or .label set by hand to anything."""

    def num(x: object) -> str:
        if isinstance(x, bool) or not isinstance(x, (float, int)):
            return shown_number(x)
        try:
            return format(x, ".6g")
        except OverflowError:  # an int of 400 digits
            return shown_number(x)

    label = v.label
    name = (f", label={label!r}" if label else "") if isinstance(label, str) else (
        f", label={shown_number(label)}")
    return f"Value(data={num(v.data)}, grad={num(v.grad)}{name})"


def label(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"label must be a str, got {type(text).__name__} {text!r}")
    return text


def node(x: Any, who: str) -> Any:
    """``x`` itself when it is a Value (a graph node), else a TypeError naming ``who``."""
    if not is_value(x):
        raise not_a_node(x, who)
    return x


def operand(x: Any, op: str) -> Any:
    """``x`` itself when it is a number that may meet a Value in ``op``, else a TypeError."""
    if _not_a_real(x):
        raise TypeError(
            f"unsupported operand for '{op}': a Value combines with numbers (int, float) or "
            f"other Values, got {type(x).__name__} {x!r}"
        )
    return x


def compared(x: Any, op: str) -> float:
    """What a Value is compared with: the other Value's data, or a number."""
    return x.data if is_value(x) else operand(x, op)


def describe(op: str, children: tuple[Any, ...], arg: object, most: int = 8
             ) -> tuple[str, tuple[float, ...], str]:
    """How a node shows in a message: its op, its input numbers, and them as text."""
    inputs = tuple(c.data for c in children) + ((arg,) if isinstance(arg, float) else ())
    if op == "c**":  # c ** a: show it as the ** it is, base first
        op, inputs = "**", inputs[::-1]
    shown = ", ".join(repr(i) for i in inputs[:most]) + (", ..." if len(inputs) > most else "")
    return op, inputs, shown


TOO_LARGE_ADVICE = "Scale the inputs down or use a smaller learning rate."


def bad_result(op: str, children: tuple[Any, ...], arg: object, result: float
               ) -> ArithmeticError:
    """The error for a result of ``op`` that is not a finite float: overflow, or NaN."""
    op, inputs, shown = describe(op, children, arg, most=len(children) + 1)
    if result != result:
        if any(i != i for i in inputs):
            return NotANumberError(
                f"'{op}' of ({shown}) is nan: an input is not a number. Was a .data set to NaN?"
            )
        return NotANumberError(
            f"'{op}' of ({shown}) is nan: the numbers are too large for a float (their "
            f"products overflow to +inf and -inf, which cancel to nan). {TOO_LARGE_ADVICE}"
        )
    return OverflowError(
        f"'{op}' of ({shown}) overflows to {result}: the numbers are too large for a float. "
        + TOO_LARGE_ADVICE
    )


def division_by_zero(a: object, b: object) -> ZeroDivisionError:
    return ZeroDivisionError(f"division by zero: {a!r} / {b!r}; the divisor must not be 0")


def exp_argument(x: float) -> None:
    if x > EXP_MAX:
        raise OverflowError(
            f"exp({x}) is larger than the largest float (exp overflows above "
            "709.78); for softmax or cross-entropy use tinygrad_edu.losses, which are stable"
        )


def log_argument(x: float) -> None:
    if not x > 0:
        raise ValueError(f"log({x}): the logarithm needs a positive number")


def exponent(x: float, k: object) -> float:
    """The exponent of ``x ** k`` as a float, when ``x ** k`` is a real number."""
    if is_value(k):
        raise TypeError(
            "the exponent of ** must be a number (int or float), not a Value; "
            "for a learnable exponent write (k * a.log()).exp()"
        )
    k = as_float(k, "the exponent of **")
    if x < 0 and not k.is_integer():
        raise ValueError(f"{x} ** {k}: a negative base to a non-integer power is not a real number")
    if x == 0 and k < 0:
        raise ZeroDivisionError(f"0.0 ** {k}: zero to a negative power divides by zero")
    return k


def base(c: object) -> float:
    """The base of ``c ** Value``: a positive number."""
    c = as_float(c, "the base of **")
    if c <= 0:
        raise ValueError(f"{c} ** Value: the base must be positive (it is raised to a real)")
    return c


def float_pow(x: float, k: float) -> float:
    """``x ** k``, inf where it overflows (float ** raises a terse OverflowError instead)."""
    try:
        return x**k
    except OverflowError:
        return math.inf
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"0.0 ** {k} divides by zero: the gradient of x ** {k + 1} at x = 0 is infinite; "
            "keep x away from 0 (e.g. (x + 1e-12) ** k)") from None


# ---- the math a rule may use (engine.Math) ----------------------------------------------------
def sigmoid(x: float) -> float:
    """``1 / (1 + e^-x)`` in the form whose exp never overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def step(x: float) -> float:
    """1.0 where ``x > 0``, else 0.0: relu's derivative (0 at 0, as PyTorch)."""
    return 1.0 if x > 0 else 0.0


# ---- hand-made nodes (micrograd's constructor) -------------------------------------------------
def children(kids: Any) -> tuple[Any, ...]:
    """micrograd's ``_children`` (a tuple, list or set of Values) as a tuple, or a TypeError."""
    if not isinstance(kids, (tuple, list, set, frozenset)):
        raise TypeError(f"Value(data, _children): _children must be a tuple of Values (the "
                        f"inputs), got {type(kids).__name__} {repr(kids)[:60]}")
    kids = tuple(kids)
    for k in kids:
        if not is_value(k):
            raise TypeError(f"Value(data, _children): every input must be a Value, got "
                            f"{type(k).__name__} {repr(k)[:60]}; wrap numbers: Value(2.0)")
    return kids


def op_name(op: object) -> str:
    if not isinstance(op, str):
        raise TypeError(f"Value(data, _children, _op): _op must be a str naming the operation "
                        f"(e.g. '+'), got {type(op).__name__} {repr(op)[:60]}")
    return op


def closure(fn: object) -> Any:
    if not callable(fn):
        raise TypeError(f"_backward must be a function of no arguments (a closure that adds "
                        f"to the inputs' grads), got {type(fn).__name__} {repr(fn)[:60]}")
    return fn


def rule_of(node: Any) -> Any:
    """The node's rule, or an error saying how to give it one."""
    if node._rule is None:
        raise no_rule(node)
    return node._rule


def no_rule(node: Any) -> TypeError:
    return TypeError(
        f"{name_of(node)} has inputs but no chain-rule step: the op {node.op!r} has no rule. "
        "Give the node one as micrograd does (out._backward = a function that adds to the "
        "inputs' grads), add a rule (engine.RULES[op] = lambda out, m=Math: (...,)), or "
        "subclass tinygrad_edu.Function."
    )


def not_a_node(x: Any, who: str) -> TypeError:
    return TypeError(f"{who} needs a Value (a node of a graph), got {type(x).__name__} "
                     f"{repr(x)[:60]}")


def observe_closure(node: Any) -> tuple[float, ...]:
    """The local derivatives of a node whose step is a micrograd closure: run it once with
    ``node.grad = 1`` and its inputs' grads at 0, read what it added, put every grad back.
    An input that appears twice (``a * a``) gets the whole amount at its first place."""
    kids = node.children
    saved = [node.grad] + [k.grad for k in kids]
    try:
        for k in kids:
            k.grad = 0.0
        node.grad = 1.0
        node._closure()
        seen: set[int] = set()
        out = []
        for k in kids:
            out.append(0.0 if id(k) in seen else float(k.grad))
            seen.add(id(k))
        return tuple(out)
    finally:
        node.grad = saved[0]
        for k, g in zip(kids, saved[1:]):
            k.grad = g


def linear_inputs(w: Any, x: Any, b: Any, lift: Any) -> Any:
    """linear's inputs checked: ``x`` as Values (numbers become constants), else an error."""
    try:
        nw, nx = len(w), len(x)
    except TypeError:
        raise TypeError(f"linear: w and x must be lists (of Values, of Values or numbers), got "
                        f"{type(w).__name__} and {type(x).__name__}") from None
    if nw != nx:
        raise ValueError(f"linear: {nw} weights but {nx} inputs; they must match")
    bad = [repr(v)[:40] for v in (*w, b) if not is_value(v)][:3]
    if bad:
        raise TypeError(f"linear: the weights w and the bias b must be Values (the parameters); "
                        f"got {', '.join(bad)}. Only the inputs x may be plain numbers.")
    return [xi if is_value(xi) else lift(xi, "linear") for xi in x]


def value_list(zs: Any, who: str) -> list[Any]:
    try:
        zs = list(zs)
    except TypeError:
        raise TypeError(f"{who} needs a list of Values, got {type(zs).__name__}") from None
    if not zs or not all(is_value(z) for z in zs):
        raise TypeError(f"{who} needs a non-empty list of Values")
    return zs


# ---- backward's cold path: put grads back, say what went wrong --------------------------------
def put_back(order: list[Any], grads: list[float]) -> None:
    for node, g in zip(order, grads):
        node.grad = g


def blame_hand_set(order: list[Any], err: BaseException) -> None:
    """After a rule raised: a clearer error if a node holds a .data/.grad set by hand."""
    bad = hand_set(order)
    if bad is not None:
        raise bad from err


def surely_finite(numbers: Iterable[float]) -> bool:
    """True when every number is finite, told by one C-speed sum (a sum is inf or NaN when an
    item is). False also for finite numbers whose sum overflows, or an item that is not a
    number: callers then look item by item (the cold path that names the culprit)."""
    try:
        return -math.inf < math.fsum(numbers) < math.inf
    except (OverflowError, TypeError, ValueError):
        return False


_grad = operator.attrgetter("grad")


def finite_grads(order: list[Any], before: list[float], local_derivatives: Any) -> None:
    """After backward's walk: if a gradient is inf or NaN, put every grad back and raise
    ``OverflowError`` naming the op that made it (a gradient is never left inf or NaN)."""
    if surely_finite(map(_grad, order)):  # (the common case, in one pass)
        return
    top = sys.float_info.max
    for i, node in enumerate(order):
        grad = node.grad
        if type(grad) is float and -top <= grad <= top:
            continue
        users = [u for u in order[:i] if any(c is node for c in u.children)]
        user_grad = users[-1].grad if users else None
        put_back(order, before)
        bad = hand_set(order)
        if bad is not None:
            raise bad
        name = f" '{node.label}'" if isinstance(node.label, str) and node.label else ""
        if not users:
            raise OverflowError(f"backward(): the gradient of {node!r} is {grad}: too large "
                                "for a float. No grad was changed.")
        user = users[-1]
        try:
            local: object = local_derivatives(user)[[id(c) for c in user.children].index(id(node))]
        except (ArithmeticError, ValueError, TypeError):
            local = "?"
        op, _, shown = describe(user.op, user.children, user._arg, most=4)
        raise OverflowError(
            f"backward(): '{op}' of ({shown}) = {user.data!r} would make the gradient of its "
            f"input{name} {grad}: its gradient {user_grad!r} x {local!r} (its local "
            "derivative) is too large for a float. No grad was changed. Keep the values away "
            "from where the derivative blows up, or scale the inputs."
        )
