"""The recording switch: ``no_grad()`` turns graph recording off, per thread (as PyTorch's).

Each thread counts its own open ``no_grad`` blocks, so an evaluation in one thread never
switches recording off for a training loop in another, and blocks may close in any order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_grad", "is_grad_enabled"]


class _Depth:
    """How many no_grad blocks are open in one thread."""

    def __init__(self) -> None:
        self.n = 0


class _PerThread(threading.local):
    def __init__(self) -> None:  # runs once in every thread that looks
        self.depth = _Depth()


_this_thread = _PerThread()


def is_grad_enabled() -> bool:
    """True when operations in this thread record the graph (as ``torch.is_grad_enabled``)."""
    return _this_thread.depth.n == 0


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside ``with no_grad():`` operations compute values but record no graph.

    Results are leaves (no children, ``op == ""``), so nothing is kept alive for backward.
    Same as PyTorch's ``torch.no_grad()``: use it for evaluation and parameter updates. It
    affects only the thread that enters it.
    """
    depth = _this_thread.depth  # (kept: a generator may close this block in another thread)
    depth.n += 1
    try:
        yield
    finally:
        depth.n -= 1
