"""Argument checks shared by the modules above the engine: each says what was wrong and what
was expected (``short`` keeps a huge input from flooding a message)."""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

from tinygrad_edu.engine import Value

__all__ = ["short", "flag", "whole", "real", "positive", "sequence", "pair", "span", "names",
           "title", "function"]


def short(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters, for error messages (a huge input never floods
    one; an int too long to print becomes its type)."""
    try:
        text = repr(x)
    except Exception:  # e.g. an int of more than 4300 digits
        return f"a {type(x).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def flag(value: Any, what: str) -> bool:
    """True or False (a NumPy bool too), or a clear TypeError: an array's truth is ambiguous."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_" and hasattr(value, "item"):
        return bool(value.item())
    raise TypeError(f"{what} must be True or False, got {type(value).__name__} {short(value)}")


def whole(value: Any, what: str, low: int, high: int | None = None) -> int:
    """An integer-like argument (int, NumPy integer; not bool or float) from low to high."""
    n = None
    if not isinstance(value, bool):
        try:
            n = operator.index(value)
        except TypeError:
            n = None
    if n is None or n < low or (high is not None and n > high):
        bounds = f">= {low}" if high is None else f"from {low} to {high}"
        raise ValueError(f"{what} must be a whole number {bounds}, got {short(value)}")
    return n


def real(value: Any, what: str, finite: bool = True) -> float:
    """A real number (int, float, NumPy scalar or Value) as a float, or a clear error."""
    if isinstance(value, Value):
        value = value.data
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {short(value)}")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float") from None
    if finite and not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, got {f}")
    return f


def positive(value: Any, what: str) -> float:
    f = real(value, what)
    if f <= 0:
        raise ValueError(f"{what} must be > 0, got {f}")
    return f


def sequence(x: Any, what: str) -> list[Any]:
    """A list, tuple or NumPy array as a list, or a clear TypeError (not str, dict, set...)."""
    if hasattr(x, "tolist") and callable(x.tolist) and not isinstance(x, (list, tuple)):
        x = x.tolist()
    if isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Sequence):
        raise TypeError(f"{what} must be a list, got {type(x).__name__} {short(x)}")
    return list(x)


def pair(x: Any, what: str) -> tuple[float, float]:
    """Two finite numbers, e.g. a point (w0, w1) or a range (low, high)."""
    items = sequence(x, what)
    if len(items) != 2:
        raise ValueError(f"{what} must be two numbers, got {len(items)}: {short(x)}")
    return real(items[0], f"{what}[0]"), real(items[1], f"{what}[1]")


def span(x: Any, what: str) -> tuple[float, float]:
    """A range (low, high) with low < high."""
    lo, hi = pair(x, what)
    if not lo < hi:
        raise ValueError(f"{what} must be (low, high) with low < high, got {short(x)}")
    return lo, hi


def names(x: Any, what: str, n: int | None = None) -> list[str]:
    """A list of str (axis labels, class names); a single str is not a list of names."""
    items = sequence(x, what)
    if n is not None and len(items) != n:
        raise ValueError(f"{what} must be {n} names, got {len(items)}: {short(x)}")
    for i, name in enumerate(items):
        if not isinstance(name, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(name).__name__}")
    return items


def title(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"title must be a str or None, got {type(value).__name__} {short(value)}")


def function(fn: Any, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} must be a function, got {type(fn).__name__} {short(fn)}")
