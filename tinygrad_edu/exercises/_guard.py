"""Running a learner's code for a checker: under a time limit, every exception caught.

Each case runs in a worker thread while the checker waits at most ``timeout`` seconds. When the
time is up, a ``TimeLimit`` exception is raised inside the worker (CPython's
``PyThreadState_SetAsyncExc``), which ends a Python loop at its next step; the case becomes a ✗
naming the line the code was stuck on, and the notebook's kernel keeps running.

Limits: in a browser (JupyterLite's Pyodide) Python has no threads, and the cases run without
a limit. Code stuck inside one long C call (``sum(range(10**18))``, ``time.sleep(10**6)``)
cannot be interrupted there; it is reported as a ✗ all the same, and its thread is left to run
in the background (a daemon thread: it ends when Python does). Code that catches
``BaseException`` (or uses a bare ``except:``) inside its loop is told to stop a few more times
before it is left in the same way.

``KeyboardInterrupt`` (the notebook's stop button) and ``SystemExit`` are never caught: they stop
the learner's code and then the checker.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

from tinygrad_edu import args

DEFAULT_TIMEOUT = 5.0  # seconds per case: each case takes milliseconds when the code is right
_GRACE = 1.0  # seconds the stopped code has to unwind (its `finally` blocks) before we go on
_STACK = 64 * 1024 * 1024  # the worker's stack: deep recursion gives RecursionError, not a crash
_PROPAGATE = (KeyboardInterrupt, SystemExit)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TimeLimit(BaseException):
    """A case ran out of time. A ``BaseException``, so the learner's ``except Exception:``
    cannot swallow it; ``place`` is the learner's line it was stopped on ('' if unknown)."""

    place = ""


def time_limit(timeout: Any, who: str) -> float | None:
    """A checker's ``timeout=`` argument: seconds (a positive number) or None for no limit."""
    if timeout is None:
        return None
    seconds = args.number(timeout, f"{who}: timeout")
    if seconds <= 0:
        raise ValueError(f"{who}: timeout must be a positive number of seconds (or None for no "
                         f"limit), got {seconds:g}")
    return seconds


def run(fn: Callable[[], Any], timeout: float | None) -> tuple[Any, BaseException | None]:
    """``fn()`` under the limit: (result, None), or (None, what it raised), or (None, a
    ``TimeLimit``) when it ran out of time. KeyboardInterrupt and SystemExit propagate."""
    if timeout is None or not _threads():
        try:
            return fn(), None
        except _PROPAGATE:
            raise
        except BaseException as err:  # noqa: BLE001 - the learner's code may raise anything
            return None, err
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            try:
                box["value"] = fn()
            except BaseException as err:  # noqa: BLE001 - handed to the checker's thread
                box["error"] = err
        except TimeLimit:  # the stop arrived just as fn ended
            pass

    worker = threading.Thread(target=work, name="tinygrad_edu checker", daemon=True)
    _start(worker)
    try:
        worker.join(timeout)
    except BaseException:  # the stop button, pressed while the learner's code runs
        _stop(worker)
        raise
    if worker.is_alive():
        err = TimeLimit(f"stopped after {timeout:g} s")
        err.place = _stuck_at(worker)
        _stop(worker)
        return None, err
    if "error" in box:
        if isinstance(box["error"], _PROPAGATE):
            raise box["error"]
        return None, box["error"]
    return box.get("value"), None


def _threads() -> bool:
    """Whether this Python can start a thread (Pyodide, in JupyterLite, cannot: there the
    cases run without a time limit)."""
    return sys.platform != "emscripten"


def _start(worker: threading.Thread) -> None:
    try:
        old = threading.stack_size(_STACK)
    except (ValueError, RuntimeError):  # a platform that does not let us choose
        worker.start()
        return
    try:
        worker.start()
    finally:
        threading.stack_size(old)


def _stop(worker: threading.Thread) -> None:
    """Raise TimeLimit inside the worker until it ends, for at most _GRACE seconds."""
    import ctypes  # (only here: a Python without threads never gets this far)

    ident = worker.ident
    for _ in range(10):
        if not worker.is_alive() or ident is None:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                                   ctypes.py_object(TimeLimit))
        worker.join(_GRACE / 10)
    if worker.is_alive():  # stuck in C code or swallowing the stop: leave it, take back the stop
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)


def _stuck_at(worker: threading.Thread, samples: int = 6, gap: float = 0.002) -> str:
    """Where the worker is stuck: the innermost frame of the learner's code that is in every
    one of a few looks at its stack. A loop that keeps calling a helper (``while topo:
    topo[-1]._backward()``) is named, not whichever helper it was inside at one instant."""
    stacks: list[list[types.FrameType]] = []
    for i in range(samples):
        frame = sys._current_frames().get(worker.ident or -1)
        if frame is None:
            break
        stacks.append([f for f, _ in traceback.walk_stack(frame)
                       if not in_package(f.f_code.co_filename)])  # innermost first
        del frame
        if i < samples - 1:
            time.sleep(gap)
    if not stacks or not stacks[-1]:
        return ""
    # the same running call is the same frame object in every look (they are all alive here)
    stuck = next((f for f in stacks[-1] if all(any(f is g for g in s) for s in stacks)),
                 stacks[-1][0])
    where = traceback.FrameSummary(stuck.f_code.co_filename, stuck.f_lineno, stuck.f_code.co_name)
    stacks.clear()  # let the frames go
    return learner_line([where])


def learner_line(frames: list[traceback.FrameSummary]) -> str:
    """The last of ``frames`` in the learner's code (outside this package), as
    "in __mul__, line 3: `out = ...`" ('' when there is none)."""
    mine = [f for f in frames if not in_package(f.filename)]
    if not mine:
        return ""
    f = mine[-1]
    line = f.line.strip() if f.line else ""
    code = f": `{line if len(line) <= 80 else line[:77] + '...'}`" if line else ""
    return f"in {f.name}, line {f.lineno}{code}"


def in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)
