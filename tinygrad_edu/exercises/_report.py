"""What every checker returns: a ``Report`` of results, printed one ✓/✗ line per case.

A result is one of three things:

- ``✓`` pass;
- ``✗`` fail: the case, the expected and the received numbers, and a hint (when a classic
  mistake is recognised, ``mistake`` names it and the hint says what to change);
- ``○`` not implemented yet: the learner has not written that part (a blank still raises
  ``NotImplementedError``, or the method does not exist). Never a traceback.
"""

from __future__ import annotations

import math
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TextIO

Status = Literal["pass", "fail", "todo"]

MARK = {"pass": "✓", "fail": "✗", "todo": "○"}
WIDTH = 80  # wrap hints so a line fits a notebook output at 1200 px, and a terminal

# A learner's own code is any frame outside the tinygrad_edu package.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Mismatch:
    """One number that came out wrong: ``what`` (e.g. ``"a.grad"``), expected, got, and why."""

    what: str
    expected: Any
    got: Any
    why: str = ""  # how the expected number is made, e.g. "b × out.grad = -3.0 × 10.0"
    plain: bool = False  # just the text of `what` (e.g. "... and 9 more parameters")

    def lines(self) -> list[str]:
        if self.plain:
            return [self.what]
        why = f"   ({self.why})" if self.why else ""
        # as few digits as tell the two numbers apart (a beginner reads 0.356675, not 17 digits)
        digits = next((d for d in (6, 9, 12) if fmt(self.expected, d) != fmt(self.got, d)), 17)
        return [f"{self.what}: expected {fmt(self.expected, digits)}{why}",
                f"{' ' * len(self.what)}  got      {fmt(self.got, digits)}"]


@dataclass
class Result:
    """The outcome of one case of a checker."""

    name: str
    status: Status
    mismatches: list[Mismatch] = field(default_factory=list)
    hint: str = ""
    mistake: str | None = None  # tag of a recognised classic mistake, e.g. "assign-not-add"
    detail: str = ""  # one line shown under the case (what raised, what is missing)
    waiting: str = ""  # a todo that is not run until another case passes: which one

    def __bool__(self) -> bool:
        return self.status == "pass"

    def text(self) -> str:
        if self.status == "pass":
            return f"{MARK['pass']} {self.name}"
        if self.status == "todo" and self.waiting:
            lines = _wrap(f"{MARK['todo']} {self.name}: not checked yet", "", "    ")
            lines += [f"    (it waits for {self.waiting} to pass)"]
        elif self.status == "todo":
            lines = _wrap(f"{MARK['todo']} {self.name}: not implemented yet", "", "    ")
        else:
            lines = _wrap(f"{MARK['fail']} {self.name}", "", "    ")
        if self.detail:
            lines += _wrap(self.detail, "    ")
        for m in self.mismatches:
            lines += ["    " + line for line in m.lines()]
        if self.hint:
            lines += _wrap(self.hint, "    hint: ", "          ")
        return "\n".join(lines)


class Report:
    """All results of one checker call, in order; truthy only when every case passes.

    ``report["a * b"]`` is the result of that case; ``report.mistakes`` the recognised classic
    mistakes; ``print(report)`` shows everything again.
    """

    def __init__(self, title: str, stream: TextIO | None = None) -> None:
        self.title = title
        self.results: list[Result] = []
        self.notes: list[str] = []  # extra text printed with the report (tables, advice)
        self._stream = stream
        self._todo_details: set[str] = set()

    # ---- building ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Print a line that belongs to the report (a heading, a table) and keep it."""
        self.notes.append(text)
        self._emit(text)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        shown = result
        if result.status == "todo" and result.detail:
            # one blank stops many cases: say what to write once, at its first case
            if result.detail in self._todo_details:
                shown = replace(result, detail="")
            self._todo_details.add(result.detail)
        self._emit(_indent(shown.text(), "  "))
        return result

    def finish(self) -> Report:
        self._emit(self.summary())
        return self

    def _emit(self, text: str) -> None:
        if self._stream is not None:
            print(text, file=self._stream, flush=True)

    # ---- reading -------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self.results) and all(r.status == "pass" for r in self.results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, name: str) -> Result:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no case named {name!r}; the cases are: "
                       + ", ".join(repr(r.name) for r in self.results))

    @property
    def passed(self) -> list[Result]:
        return [r for r in self.results if r.status == "pass"]

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "fail"]

    @property
    def not_implemented(self) -> list[Result]:
        return [r for r in self.results if r.status == "todo" and not r.waiting]

    @property
    def waiting(self) -> list[Result]:
        """Cases not run yet because they build on a case that does not pass."""
        return [r for r in self.results if r.status == "todo" and r.waiting]

    @property
    def mistakes(self) -> set[str]:
        return {r.mistake for r in self.results if r.mistake}

    def summary(self) -> str:
        n = len(self.results)
        if self:
            return f"All {n} checks pass ✓"
        parts = [f"{len(self.passed)} of {n} checks pass"]
        if self.failed:
            parts.append(f"{len(self.failed)} ✗")
        if self.not_implemented:
            parts.append(f"{len(self.not_implemented)} not implemented yet")
        if self.waiting:
            parts.append(f"{len(self.waiting)} not checked yet")
        return ", ".join(parts)

    def __str__(self) -> str:
        body = [self.title, *(_indent(r.text(), "  ") for r in self.results), self.summary()]
        return "\n".join(body)

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {self.summary()}>"


def new_report(title: str, quiet: bool) -> Report:
    report = Report(title, None if quiet else sys.stdout)
    report._emit(title)
    return report


# ---- formatting --------------------------------------------------------------------------
def fmt(x: Any, digits: int = 12) -> str:
    """A number as a beginner reads it: 6.0, -0.125, 7.86448; anything else by type."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        if x is None:
            return "None (nothing was returned or set)"
        return f"{_short(repr(x))} (a {type(x).__name__}, not a number)"
    if type(x) is int and not -sys.float_info.max <= x <= sys.float_info.max:  # float() fails
        return f"an int of {len(str(abs(x)))} digits (too large for a float)"
    text = f"{float(x):.{digits}g}"
    return text if any(c in text for c in ".en") else text + ".0"  # 14 -> 14.0, as Python


def close(got: Any, expected: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    """``got`` is a real number equal to ``expected`` up to float rounding."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if not -sys.float_info.max <= got <= sys.float_info.max:  # inf, NaN, or too large an int
        return False
    return math.isclose(float(got), expected, rel_tol=rel, abs_tol=abs_)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _wrap(text: str, first: str, rest: str | None = None) -> list[str]:
    rest = " " * len(first) if rest is None else rest
    out: list[str] = []
    for i, para in enumerate(text.split("\n")):
        out += textwrap.wrap(para, WIDTH, initial_indent=first if i == 0 else rest,
                             subsequent_indent=rest, break_on_hyphens=False,
                             break_long_words=False) or [rest]
    return out


# ---- running the learner's code ----------------------------------------------------------
def is_not_implemented(err: BaseException) -> bool:
    """A blank the learner has not filled in: NotImplementedError, also as a cause."""
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        if isinstance(e, NotImplementedError):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def where(err: BaseException) -> str:
    """The learner's line where ``err`` happened: "in __mul__: out = ..." ('' if none)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not _in_package(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    code = f": `{f.line.strip()}`" if f.line else ""
    return f"in {f.name}, line {f.lineno}{code}"


def error_text(err: BaseException) -> str:
    """'ZeroDivisionError: float division by zero, in __mul__, line 3: `...`'."""
    msg = str(err)
    text = f"{type(err).__name__}: {_short(msg, 200)}" if msg else type(err).__name__
    loc = where(err)
    return f"{text} ({loc})" if loc else text


def todo_detail(err: BaseException) -> str:
    """What is not written yet: the blank to replace, or the library's own message."""
    e: BaseException | None = err
    while e is not None and not isinstance(e, NotImplementedError):
        e = e.__cause__ or e.__context__
    msg = str(e) if e is not None else ""
    frames = traceback.extract_tb(e.__traceback__) if e is not None else []
    raised_by_you = bool(frames) and not _in_package(frames[-1].filename)
    if msg and raised_by_you:
        return f"{_short(msg)} (replace the `raise` line with your code)"
    if msg:  # e.g. the library's "Sin.forward is missing: define it as ..."
        return _short(msg, 200)
    loc = where(err)
    return f"NotImplementedError {loc}" if loc else "it raises NotImplementedError"


def _in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def attempt(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run learner code: (result, None) or (None, the exception). KeyboardInterrupt passes."""
    try:
        return fn(), None
    except Exception as err:  # the learner's code may raise anything (RecursionError too)
        return None, err
