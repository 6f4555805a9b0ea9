"""Argument checks shared by everything above the engine, each written once.

Each takes the argument and a ``what`` naming it as the user wrote it (``"fit: epochs"``) and
returns it in a normal form, or raises an error that says what was given and what is expected.
They are for arguments (cold paths), not for the engine's hot loops (those are in checks.py).
"""

from __future__ import annotations

import itertools
import math
import operator
import random
import reprlib
import sys
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

from tinygrad_edu.checks import digits

__all__ = ["short", "scalar", "whole", "number", "flag", "rng", "length", "at_most", "items",
           "plain",
           "digits", "without_numbers", "MAX_ITEMS", "positive", "sequence", "pair", "span",
           "names", "title", "function"]

#: The longest list an argument may be (rows, labels, parameters, class scores): a scalar
#: engine holds each item as a Python object, so more is a typo such as ``range(10**18)``.
MAX_ITEMS = 10_000_000

_REPR = reprlib.Repr()  # (its limits are attributes: Python 3.11 takes no arguments)
_REPR.maxlevel, _REPR.maxstring, _REPR.maxlong, _REPR.maxother = 3, 60, 40, 60
_REPR.maxtuple = _REPR.maxlist = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 8


def short(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters: a huge input never floods a message (nor
    takes long: a long list shows its first items only)."""
    if type(x) is int and abs(x) >= 10**40:
        return f"an int of {digits(x):,} digits"
    try:
        text = _REPR.repr(x)
    except Exception:  # noqa: BLE001 - a __repr__ that raises
        return f"a {type(x).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def without_numbers(x: Any) -> str:
    """Why an array or tensor cannot give its numbers, as the end of a sentence that names it
    ("is a sparse tensor; ..."); '' when it can."""
    if getattr(x, "is_meta", False):
        return ("is a tensor on PyTorch's 'meta' device, which has a shape but no numbers; "
                "create it (or load its numbers) on a real device such as 'cpu'")
    if getattr(x, "is_sparse", False) or str(getattr(x, "layout", "torch.strided")) not in (
            "torch.strided", "torch._mkldnn"):
        return "is a sparse tensor; pass it as a dense one (t.to_dense())"
    if getattr(x, "is_quantized", False):
        return "is a quantized tensor; pass it dequantized (t.dequantize())"
    dtype = getattr(x, "dtype", None)
    if getattr(dtype, "is_complex", False) or getattr(dtype, "kind", "") == "c":
        return f"holds complex numbers ({dtype}); only real numbers are used"
    return ""


def scalar(x: Any, what: str = "a number") -> Any:
    """A 0-d array (NumPy, torch) or NumPy scalar as the Python number it holds; anything
    else unchanged. A 0-d tensor without a number (PyTorch's 'meta' device) is a ValueError
    naming ``what``."""
    if getattr(x, "ndim", None) == 0 and hasattr(x, "item"):
        why = without_numbers(x)
        if why:
            raise ValueError(f"{what} {why}")
        return x.item()
    return x


def plain(x: Any, what: str, most: int = MAX_ITEMS) -> Any:
    """A NumPy array or torch tensor as nested Python lists (0-d: its number); anything else
    unchanged. One without numbers (meta, sparse, quantized, complex) or of more than ``most``
    numbers is a ValueError naming ``what``, before anything is copied."""
    if not hasattr(x, "tolist") or isinstance(x, (list, tuple, str, bytes)):
        return x
    why = without_numbers(x)
    if why:
        raise ValueError(f"{what} {why}")
    size = getattr(x, "size", None)
    size = x.numel() if callable(getattr(x, "numel", None)) else size
    if isinstance(size, int) and size > most:
        raise ValueError(f"{what} holds {size:,} numbers, more than the {most:,} a scalar "
                         "engine can use")
    return x.tolist()


def length(x: Any) -> int | None:
    """``len(x)``, asked without reading ``x``; None when ``x`` has no length (an iterator, a
    number). A length ``len()`` cannot count (``range(10**20)``) is given as ``sys.maxsize+1``
    unless it is a range, whose exact length is worked out."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        return None
    try:
        return len(x)
    except OverflowError:
        if isinstance(x, range):
            return max(0, -((x.start - x.stop) // x.step))
        return sys.maxsize + 1
    except Exception:  # noqa: BLE001 - e.g. len() of a 0-d array, a broken __len__
        return None


def at_most(x: Any, what: str, most: int = MAX_ITEMS, unit: str = "items") -> int | None:
    """``length(x)`` (asked without reading ``x``), or a ValueError when it is over ``most``:
    ``range(10**18)`` is refused, not read."""
    k = length(x)
    if k is not None and k > most:
        raise _too_many(what, f"{k:,}", most, unit)
    return k


def _too_many(what: str, shown: str, most: int, unit: str = "items") -> ValueError:
    return ValueError(f"{what} holds {shown} {unit}; a scalar engine uses at most {most:,} "
                      "(a typo such as range(10**18)?)")


def items(x: Any, what: str, n: int | None = None, most: int = MAX_ITEMS,
          each: Callable[[int, Any], Any] | None = None) -> list[Any]:
    """``x`` (a list, tuple, range, array, tensor, or an iterator such as a generator) as a
    list: exactly ``n`` items when ``n`` is given, else at most ``most``. The length is known
    before anything is read (an iterator is read one item past the limit, no further), so
    ``range(10**18)`` is a ValueError naming the expected length, not a hang or a MemoryError.
    ``each(i, item)``, if given, checks (and may convert) every item as it is read, so an
    endless iterator of junk stops at its first item. Not a sequence: a TypeError."""
    x = plain(x, what, most if n is None else n)
    if isinstance(x, (str, bytes, dict)) or not hasattr(x, "__iter__"):
        raise TypeError(f"{what} must be a list, got {type(x).__name__} {short(x)}")
    limit = most if n is None else n
    k = length(x)
    if k is None:  # an iterator: read no further than one past the limit
        got = [v if each is None else each(i, v)
               for i, v in enumerate(itertools.islice(x, limit + 1))]
        if len(got) <= limit and (n is None or len(got) == n):
            return got
        k = len(got)
        shown = f"more than {limit:,}" if k > limit else f"{k:,}"
    else:
        shown = f"{k:,}"
    if n is not None and k != n:
        raise ValueError(f"{what} must hold {n:,} items, got {shown}")
    if k > most:
        raise _too_many(what, shown, most)
    return [v if each is None else each(i, v) for i, v in enumerate(x)]


def whole(value: Any, what: str, low: int | None = 0, high: int | None = None) -> int:
    """An integer-like argument (int, NumPy integer, 0-d array; not a bool or a float) as an
    int in ``[low, high]`` (``low=None``: any int, e.g. a seed)."""
    value = scalar(value, what)
    n = None
    if not isinstance(value, bool):
        try:
            n = operator.index(value)
        except TypeError:
            n = None
    kind = ("a whole number" if low is None else "a positive int" if low == 1 else
            f"a whole number >= {low}")
    if n is None:
        raise TypeError(f"{what} must be {kind}, got {type(value).__name__} {short(value)}")
    if (low is not None and n < low) or (high is not None and n > high):
        bound = (kind if high is None else f"{kind} of at most {high:,}" if low == 1 else
                 f"a whole number from {low} to {high:,}")
        shown = f"{n:,}" if abs(n) < 10**30 else f"an int of {digits(n):,} digits"
        raise ValueError(f"{what} must be {bound}, got {shown}")
    return n


def number(value: Any, what: str, finite: bool = True) -> float:
    """A real number (int, float, NumPy scalar, 0-d array, or a Value's data) as a float."""
    value = scalar(value, what)
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
    value = scalar(value, what)
    if isinstance(value, Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{what} must be True or False, got {type(value).__name__} {short(value)}")


def rng(seed: Any, what: str = "seed") -> Any:
    """A source of random numbers: ``Random(seed)`` for an int, a given ``random.Random``, or
    (``None``) Python's global ``random`` module, so that ``random.seed(k)`` reproduces."""
    seed = scalar(seed, what)
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"{what} must be an int, a random.Random or None, got "
                        f"{type(seed).__name__} {short(seed)}")
    return random.Random(operator.index(seed))


def positive(value: Any, what: str) -> float:
    """A finite number > 0."""
    f = number(value, what)
    if f <= 0:
        raise ValueError(f"{what} must be > 0, got {f}")
    return f


def sequence(x: Any, what: str) -> list[Any]:
    """A list, tuple or NumPy array as a list, or a clear TypeError (not str, dict, set...)."""
    if hasattr(x, "tolist") and callable(x.tolist) and not isinstance(x, (list, tuple)):
        x = x.tolist()
    if isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Sequence):
        raise TypeError(f"{what} must be a list, got {type(x).__name__} {short(x)}")
    return items(x, what)  # (its length is asked first: range(10**18) is refused, not read)


def pair(x: Any, what: str) -> tuple[float, float]:
    """Two finite numbers, e.g. a point (w0, w1) or a range (low, high)."""
    items = sequence(x, what)
    if len(items) != 2:
        raise ValueError(f"{what} must be two numbers, got {len(items)}: {short(x)}")
    return number(items[0], f"{what}[0]"), number(items[1], f"{what}[1]")


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
    """A title: a str or None."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"title must be a str or None, got {type(value).__name__} {short(value)}")


def function(fn: Any, what: str) -> None:
    """Something callable, or a TypeError naming ``what``."""
    if not callable(fn):
        raise TypeError(f"{what} must be a function, got {type(fn).__name__} {short(fn)}")
