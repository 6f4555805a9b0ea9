"""Argument checks shared by everything above the engine, each written once.

Each takes the argument and a ``what`` naming it as the user wrote it (``"fit: epochs"``) and
returns it in a normal form, or raises an error that says what was given and what is expected.
They are for arguments (cold paths), not for the engine's hot loops (those are in checks.py).
"""

from __future__ import annotations

import math
import operator
import random
from numbers import Integral, Real
from typing import Any

__all__ = ["short", "scalar", "whole", "number", "flag", "rng"]


def short(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters: a huge input never floods a message."""
    try:
        text = repr(x)
    except Exception:  # e.g. an int of more than 4300 digits
        return f"a {type(x).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def scalar(x: Any) -> Any:
    """A 0-d array (NumPy, torch) or NumPy scalar as the Python number it holds; anything
    else unchanged."""
    if getattr(x, "ndim", None) == 0 and hasattr(x, "item"):
        return x.item()
    return x


def whole(value: Any, what: str, low: int = 0, high: int | None = None) -> int:
    """An integer-like argument (int, NumPy integer, 0-d array; not a bool or a float) as an
    int in ``[low, high]``."""
    value = scalar(value)
    n = None
    if not isinstance(value, bool):
        try:
            n = operator.index(value)
        except TypeError:
            n = None
    kind = "a positive int" if low == 1 and high is None else f"a whole number >= {low}"
    if n is None:
        raise TypeError(f"{what} must be {kind}, got {type(value).__name__} {short(value)}")
    if n < low or (high is not None and n > high):
        bound = kind if high is None else f"a whole number from {low} to {high:,}"
        shown = f"{n:,}" if abs(n) < 10**30 else f"an int of {len(str(abs(n)))} digits"
        raise ValueError(f"{what} must be {bound}, got {shown}")
    return n


def number(value: Any, what: str, finite: bool = True) -> float:
    """A real number (int, float, NumPy scalar, 0-d array, or a Value's data) as a float."""
    value = scalar(value)
    if hasattr(type(value), "_backward") and hasattr(value, "data"):  # a Value: its number
        value = value.data
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {short(value)}")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float: {short(value)}") from None
    if finite and not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, got {f}")
    return f


def flag(value: Any, what: str) -> bool:
    """True or False (also NumPy's bools and 0/1), not any object that happens to be truthy."""
    value = scalar(value)
    if isinstance(value, Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{what} must be True or False, got {type(value).__name__} {short(value)}")


def rng(seed: Any, what: str = "seed") -> Any:
    """A source of random numbers: ``Random(seed)`` for an int, a given ``random.Random``, or
    (``None``) Python's global ``random`` module, so that ``random.seed(k)`` reproduces."""
    seed = scalar(seed)
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"{what} must be an int, a random.Random or None, got "
                        f"{type(seed).__name__} {short(seed)}")
    return random.Random(operator.index(seed))
