"""Identifiers for generated code, and labels shown beside it.

Python normalises identifiers (NFKC) before comparing them: ``ﬁ`` and ``fi`` are one variable.
So every name here is plain ASCII (``[A-Za-z0-9_]``), made from a hint (a label, an argument
name) by NFKC and then dropping what is not ASCII, and kept unique by a numeric suffix.
Names the code itself needs (``_m``, ``_X``, ...) start with ``_``, which a name made from a
hint never does; a value's gradient is ``g_`` + its name, and no value name starts with
``g_``. A label itself reaches the code only inside a comment, escaped by ``repr``.
"""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata

__all__ = ["Names", "comment", "op_word"]

_NOT_ASCII_WORD = re.compile(r"[^A-Za-z0-9_]+")


class Names:
    """Hands out identifiers: ``value("e")`` gives ``e``, then ``e_2``; ``grad(name)`` its
    gradient's name."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self._next: dict[str, int] = {}  # base -> the suffix to try next

    def value(self, *hints: object, fallback: str = "v") -> str:
        """A new name from the first hint that gives one (else ``fallback``), e.g. a label."""
        base = next((b for b in map(_ascii_word, hints) if b), fallback)
        name, k = base, self._next.get(base, 1)
        if k > 1:
            name = f"{base}_{k}"
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self._next[base] = k + 1
        self.used.add(name)
        self.used.add("g_" + name)
        return name

    @staticmethod
    def grad(name: str) -> str:
        return "g_" + name


def _ascii_word(hint: object) -> str:
    """``hint`` as an ASCII identifier that is not a keyword, ``_``-free at the start and not
    starting with ``g_`` (gradients' names), or "" if nothing usable is left."""
    if not isinstance(hint, str):
        return ""
    return _word(hint) if type(hint) is str else _word.__wrapped__(hint)


@functools.lru_cache(maxsize=4096)  # (labels repeat: every neuron has a b and a w0)
def _word(hint: str) -> str:
    text = _NOT_ASCII_WORD.sub("_", unicodedata.normalize("NFKC", hint)).strip("_")
    if not text:
        return ""
    if text[0].isdigit() or text.startswith("g_") or keyword.iskeyword(text):
        text = "v_" + text
    return text[:40].rstrip("_")


def comment(label: object, limit: int = 40) -> str:
    """A label as it may appear after ``#``: ``repr`` escapes newlines and other controls."""
    text = repr(label)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


_OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "c**": "cpow"}


def op_word(op: str) -> str:
    """A hint for naming a node made by ``op`` (``"*"`` -> ``mul``; ``"tanh"`` stays)."""
    return _OP_WORDS.get(op, op)
