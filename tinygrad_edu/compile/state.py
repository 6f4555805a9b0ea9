"""What compiled code assumes stays the same between calls: the model's attributes.

Compiled code freezes what Python decided from plain attributes (``model.activation``, a
flag, a counter): it never runs that Python again. A ``Snapshot`` holds a shallow copy of
every object and container reachable from some roots (a model: its modules, lists, dicts;
Values, functions and classes count by identity, their insides are not copied), so that
``unchanged()`` is one quick comparison per object. ``trace``/``compile_step`` take one
before the recorded call and check it after (a forward that changes its own state, as a call
counter does, cannot be compiled), and check it before trusting compiled code (a callback
that set ``model.activation = "tanh"`` makes them record again).
"""

from __future__ import annotations

import contextlib
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

from tinygrad_edu.engine import Value

__all__ = ["Snapshot", "watched"]

_ATOMS = (int, float, complex, str, bytes, bool, type(None))
_OPAQUE = (Value, type, ModuleType, FunctionType, BuiltinFunctionType, MethodType)
_MOST = 5_000  # objects and containers copied; a container longer than _LONG counts by length
_LONG = 10_000


def _same(a: Any, b: Any) -> bool:
    """``a == b``; for dicts holding arrays (whose == is an array), item by item."""
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(x is y or (type(x) in _ATOMS and x == y)
                                                for x, y in zip(a.values(), b.values()))
        return False


def _walked(obj: Any) -> bool:
    """Whether the snapshot looks inside: modules, lists, dicts, other objects (not numbers,
    strings, Values, functions, classes)."""
    return type(obj) not in _ATOMS and not isinstance(obj, _OPAQUE)


def _inside(path: str, items: Any, key: str) -> list[tuple[str, Any]]:
    """What to walk next below ``path``, the first on top of the stack."""
    return [(path + key.format(k), v) for k, v in reversed(list(items)) if _walked(v)]


class Snapshot:
    """The attributes reachable from ``roots()`` (a function giving name -> object, called
    again on each check: a global may be rebound) at the moment it was taken."""

    def __init__(self, roots: Any) -> None:
        self._roots = roots
        self.top = roots()
        self.objects: list[tuple[Any, dict[str, Any], str]] = []  # (object, vars copy, path)
        self.containers: list[tuple[Any, Any, str]] = []  # (list or dict, its copy, path)
        seen: set[int] = set()
        stack = _inside("", self.top.items(), "{}")
        while stack and len(self.objects) + len(self.containers) < _MOST:
            path, obj = stack.pop()
            kind = type(obj)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if kind is list or kind is tuple:
                if kind is list:  # (a tuple cannot change; what it holds is walked)
                    self.containers.append((obj, list(obj) if len(obj) <= _LONG else None,
                                            path))
                if len(obj) <= _LONG:
                    stack += _inside(path, enumerate(obj), "[{}]")
            elif kind is dict:
                self.containers.append((obj, dict(obj), path))
                stack += _inside(path, obj.items(), "[{!r}]")
            elif hasattr(obj, "__dict__"):
                self.objects.append((obj, dict(vars(obj)), path))
                stack += _inside(path, vars(obj).items(), ".{}")
        # the same, as parallel lists: unchanged() compares them in one == each (C loops)
        self._owners = [o for o, _, _ in self.objects]
        self._attrs = [c for _, c, _ in self.objects]
        self._live = [o for o, c, _ in self.containers if c is not None]
        self._copies = [c for _, c, _ in self.containers if c is not None]

    def unchanged(self) -> bool:
        try:
            return (self._roots() == self.top and list(map(vars, self._owners)) == self._attrs
                    and self._live == self._copies)
        except Exception:  # noqa: BLE001 (arrays among the attributes: the careful way)
            return not self.changed()

    def restore(self) -> None:
        """Put every attribute, list and dict back as it was (after a call that changed them:
        trying to compile must not change the model the eager engine then trains)."""
        now = self._roots()
        for name in getattr(now, "homes", {}):
            if name in self.top and not _same(now[name], self.top[name]):
                now.put(name, self.top[name])  # a global or closure variable the call rebound
        for obj, copy, _ in self.objects:
            if not _same(vars(obj), copy):
                vars(obj).clear()
                vars(obj).update(copy)
        for obj, copy, _ in self.containers:
            if copy is None or _same(obj, copy):
                continue
            if isinstance(obj, list):
                obj[:] = copy
            else:
                obj.clear()
                obj.update(copy)

    def changed(self) -> str:
        """The first attribute that differs, in words (``model.calls (from 3 to 4)``), or ""."""
        now = self._roots()
        for name in list(self.top) + [k for k in now if k not in self.top]:
            if not _same(now.get(name), self.top.get(name)):
                return name
        parts = [(vars(o), c, p, False) for o, c, p in self.objects]
        parts += [(o, c, p, isinstance(o, dict)) for o, c, p in self.containers]
        for new, copy, path, keyed in parts:
            if copy is None or _same(new, copy):
                continue
            if isinstance(copy, list) and len(copy) == len(new):
                copy, new, keyed = dict(enumerate(copy)), dict(enumerate(new)), True
            if isinstance(copy, dict):
                for k in list(copy) + [k for k in new if k not in copy]:
                    a, b = copy.get(k), new.get(k)
                    if a is not b and not _same(a, b):
                        shown = f" (from {a!r:.40} to {b!r:.40})" if type(b) in _ATOMS else ""
                        key = f"[{k!r}]" if keyed else f".{k}"
                        return f"{path}{key}{shown}"
            return path
        return ""


class Roots(dict):  # type: ignore[type-arg]
    """Name -> object, and for a global or a closure variable where it lives (``homes``: the
    globals dict or the cell), to put its value back."""

    def __init__(self) -> None:
        super().__init__()
        self.homes: dict[str, Any] = {}

    def put(self, name: str, value: Any) -> None:
        home = self.homes[name]
        if type(home) is dict:
            home[name] = value
        else:
            home.cell_contents = value


def watched(fn: Any) -> Roots:
    """What a function reads besides its arguments: its bound object, closure cells, default
    values and the globals its code names."""
    roots = Roots()
    if isinstance(fn, MethodType):
        roots["self"] = fn.__self__
        fn = fn.__func__
    if not isinstance(fn, FunctionType):  # a callable object (a Module, a partial ...)
        roots["fn"] = fn
        fn = vars(type(fn)).get("__call__")  # (its class's own method, if written in Python)
        if not isinstance(fn, FunctionType):
            return roots
    code = fn.__code__
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        with contextlib.suppress(ValueError):  # (a cell not filled yet)
            roots[name] = cell.cell_contents
            roots.homes[name] = cell
    env = fn.__globals__
    for name in code.co_names:
        if name in env:
            roots[name] = env[name]
            roots.homes[name] = env
    if fn.__defaults__:
        roots["defaults"] = fn.__defaults__
    return roots
