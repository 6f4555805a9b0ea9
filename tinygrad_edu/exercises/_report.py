"""What every checker returns: a ``Report`` of results, printed one ✓/✗ line per case.

A result is one of four things:

- ``✓`` pass;
- ``✗`` fail: the case, the expected and the received numbers, and a hint (when a classic
  mistake is recognised, ``mistake`` names it and the hint says what to change); also any
  error the learner's code raised, and a case that ran out of time;
- ``○`` not implemented yet: the learner has not written that part (a blank still raises
  ``NotImplementedError``, or the method does not exist);
- ``○`` a note: the code works, and differs from PyTorch in a way worth knowing (a note does
  not make the report fail).

Never a traceback: each case runs under ``_guard.run`` and whatever escapes it becomes a ✗.
In Jupyter the report is shown as it fills in, with ✓/✗/○ in colour.
"""

from __future__ import annotations

import html
import itertools
import math
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TextIO

from tinygrad_edu import checks
from tinygrad_edu.exercises._guard import DEFAULT_TIMEOUT, TimeLimit, in_package, learner_line
from tinygrad_edu.exercises._guard import run as run_limited

Status = Literal["pass", "fail", "todo", "note"]

MARK = {"pass": "✓", "fail": "✗", "todo": "○", "note": "○"}
WIDTH = 80  # wrap hints so a line fits a notebook output at 1200 px, and a terminal
# colours that read on a light and on a dark notebook theme
COLOUR = {"✓": "#1a7f37", "✗": "#cf222e", "○": "#9a6700"}


@dataclass
class Mismatch:
    """One number that came out wrong: ``what`` (e.g. ``"a.grad"``), expected, got, and why."""

    what: str
    expected: Any
    got: Any
    why: str = ""  # how the expected number is made, e.g. "b × out.grad = -3.0 × 10.0"
    plain: bool = False  # just the text of `what` (e.g. "... and 9 more parameters")

    def __post_init__(self) -> None:
        # turned into plain numbers or text now, while the case runs under its time limit:
        # printing the report later never calls the learner's __repr__ or __float__
        self.expected, self.got = _settled(self.expected), _settled(self.got)

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
        if self.status == "note":
            lines = _wrap(f"{MARK['note']} {self.name}: a note", "", "    ")
        elif self.status == "todo" and self.waiting:
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
            first = "    note: " if self.status == "note" else "    hint: "
            lines += _wrap(self.hint, first, "          ")
        return "\n".join(lines)


class Report:
    """All results of one checker call, in order; truthy only when every case passes.

    ``report["a * b"]`` is the result of that case; ``report.mistakes`` the recognised classic
    mistakes; ``print(report)`` shows everything again (in Jupyter, ``report`` in a cell
    shows it in colour).
    """

    def __init__(self, title: str, stream: TextIO | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.title = title
        self.results: list[Result] = []
        self.notes: list[str] = []  # extra text printed with the report (tables, advice)
        self.timeout = timeout  # seconds each case may run (None: no limit)
        self._stream = stream
        self._todo_details: set[str] = set()
        self._transcript: list[str] = []  # everything shown, in order (for the HTML view)
        self._live: Any = None  # the Jupyter display the report fills in as it runs
        self._stuck = ""  # the first case that ran out of time: later ones wait for it

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

    def case(self, name: str, run: Callable[[], Result], doing: str) -> Result:
        """Run one case (``run`` returns its Result) under the time limit and add it; an error
        escaping it, or running out of time, becomes a ✗ that says so. ``doing`` says what
        the case does, for the hint ("calling out._backward()"). After a case runs out of
        time the later ones wait (○): each would likely wait out its limit in the same loop."""
        if self._stuck:
            return self.add(Result(name, "todo", waiting=self._stuck))
        result, err = run_limited(run, self.timeout)
        if err is not None:
            result = escaped(name, err, doing, self.timeout)
            if isinstance(err, TimeLimit):
                self._stuck = f"{_short(result.name, 50)}, which ran out of time,"
        return self.add(result)

    def finish(self) -> Report:
        self._emit(self.summary())
        return self

    def _emit(self, text: str) -> None:
        self._transcript.append(text)
        if self._live is not None:
            self._live.update(self._bundle(), raw=True)
        elif self._stream is not None:
            print(text, file=self._stream, flush=True)

    def _show_live(self) -> bool:
        """In a Jupyter kernel: show the report as one coloured output that fills in."""
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        if getattr(shell, "kernel", None) is None:
            return False
        from IPython.display import display  # only in a kernel, where IPython is loaded

        self._live = display(self._bundle(), raw=True, display_id=True)
        return self._live is not None

    def _bundle(self) -> dict[str, str]:
        return {"text/plain": "\n".join(self._transcript),
                "text/html": _html(self._transcript)}

    def _repr_html_(self) -> str | None:
        if self._live is not None:  # already on screen, in colour: the one-line repr will do
            return None
        return _html(self._transcript or str(self).splitlines())

    # ---- reading -------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self.results) and all(r.status in ("pass", "note") for r in self.results)

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
    def noted(self) -> list[Result]:
        """Notes: cases that work, where the code differs from PyTorch in a way worth knowing."""
        return [r for r in self.results if r.status == "note"]

    @property
    def mistakes(self) -> set[str]:
        return {r.mistake for r in self.results if r.mistake and r.status != "note"}

    def summary(self) -> str:
        n = len(self.results) - len(self.noted)
        notes = (f" ({len(self.noted)} note{'s' * (len(self.noted) > 1)} ○ above)"
                 if self.noted else "")
        if self:
            return f"All {n} checks pass ✓{notes}"
        parts = [f"{len(self.passed)} of {n} checks pass"]
        if self.failed:
            parts.append(f"{len(self.failed)} ✗")
        if self.not_implemented:
            parts.append(f"{len(self.not_implemented)} not implemented yet")
        if self.waiting:
            parts.append(f"{len(self.waiting)} not checked yet")
        return ", ".join(parts) + notes

    def __str__(self) -> str:
        body = [self.title, *(_indent(r.text(), "  ") for r in self.results), self.summary()]
        return "\n".join(body)

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {self.summary()}>"


def new_report(title: str, quiet: bool, timeout: float | None = DEFAULT_TIMEOUT
               ) -> Report:
    report = Report(title, None if quiet else sys.stdout, timeout)
    if not quiet:
        report._show_live()
    report._emit(title)
    return report


def escaped(name: str, err: BaseException, doing: str, timeout: float | None) -> Result:
    """The ✗ (or ○) for an error that escaped a case, or for a case that ran out of time."""
    if isinstance(err, TimeLimit):
        place = err.place
        func = place[3:].split(",")[0] if place.startswith("in ") else "your code"
        return Result(name, "fail", mistake="timeout",
                      detail=f"{err} while {doing}" + (f", {place}" if place else ""), hint=(
                          f"an infinite loop in {func}? This case takes a fraction of a "
                          "second when the code is right. Look for a `while` loop whose "
                          "condition never changes, or a loop over a list that grows as it "
                          f"runs. (The limit is {timeout:g} s a case; a slow but right "
                          "solution can ask for more with timeout=.)"))
    if is_not_implemented(err):
        return Result(name, "todo", detail=todo_detail(err))
    if isinstance(err, RecursionError):
        return Result(name, "fail", detail=f"{error_text(err)}, while {doing}", hint=(
            "a function kept calling itself. Common causes: an r-operator written as "
            "`other * self` (Python asks the number, which asks your __rmul__ again), or a "
            "property that reads itself (self.data inside the data property)."))
    if where(err):
        return Result(name, "fail", detail=error_text(err), hint=(
            f"your code raised this error while {doing}; the line shown is where."))
    return Result(name, "fail", detail=f"{error_text(err)}, while {doing}", hint=(
        "the check could not use what your code returned or stored: it expected a number "
        "(or a Value) there. Look at what your code returns and sets."))


# ---- formatting --------------------------------------------------------------------------
def fmt(x: Any, digits: int = 12) -> str:
    """A number as a beginner reads it: 6.0, -0.125, 7.86448; anything else by type."""
    if isinstance(x, _Text):
        return str(x)
    if isinstance(x, bool) or type(x) not in (int, float):
        if x is None:
            return "None (nothing was returned or set)"
        if isinstance(x, (int, float)) and type(x).__module__ == "numpy":
            return fmt(x.item(), digits)
        return f"{_short(_repr(x))} (a {type(x).__name__}, not a number)"
    if type(x) is int and not -sys.float_info.max <= x <= sys.float_info.max:  # float() fails
        return f"an int of {checks.digits(x)} digits (too large for a float)"
    text = f"{float(x):.{digits}g}"
    return text if any(c in text for c in ".en") else text + ".0"  # 14 -> 14.0, as Python


class _Text(str):
    """Something the learner's code gave that is not a number, already written out."""


def _settled(x: Any) -> Any:
    """A number as a plain int or float (None stays None); anything else as its text."""
    if x is None or type(x) in (int, float, bool):
        return x
    if isinstance(x, (int, float)) and type(x).__module__ == "numpy":
        return x.item()
    return _Text(fmt(x))


def _repr(x: Any, depth: int = 0) -> str:
    """``repr(x)`` that never runs the learner's code (their class's __repr__ may raise or
    loop): their objects show as <ClassName object>, containers item by item."""
    t = type(x)
    if x is None or t in (bool, float, complex, str, bytes):
        return repr(x)
    if t is int:
        return repr(x) if abs(x) < 10**30 else f"<an int of {checks.digits(x)} digits>"
    if t in (list, tuple, set, frozenset) and depth < 2:
        items = [_repr(e, depth + 1) for e in itertools.islice(x, 4)]
        items += ["..."] if len(x) > 4 else []
        text = ", ".join(items) + ("," if t is tuple and len(x) == 1 else "")
        return {list: "[{}]", tuple: "({})"}.get(t, "{{{}}}").format(text)
    if t is dict and depth < 2:
        pairs = [f"{_repr(k, 2)}: {_repr(v, depth + 1)}"
                 for k, v in itertools.islice(x.items(), 4)]
        return "{" + ", ".join(pairs + (["..."] if len(x) > 4 else [])) + "}"
    if t.__module__.split(".")[0] in ("numpy", "torch", "fractions", "decimal"):
        try:
            return repr(x)
        except Exception:  # noqa: BLE001 - a broken array subclass
            pass
    return f"<{t.__name__} object>"


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


def _html(lines: list[str]) -> str:
    """The report's text as HTML, each ✓/✗/○ line in its colour, hints and notes muted."""
    out = []
    for text in "\n".join(lines).splitlines():
        body = html.escape(text)
        mark = text.lstrip()[:1]
        if mark in COLOUR and text.rstrip().endswith(": not checked yet"):
            body = f'<span style="opacity:0.6">{body}</span>'  # waits: not the learner's to fix
        elif mark in COLOUR:
            body = f'<span style="color:{COLOUR[mark]};font-weight:bold">{body}</span>'
        elif text.lstrip().startswith(("hint:", "note:")):
            body = f'<span style="opacity:0.8">{body}</span>'
        elif text.startswith("All ") and text.rstrip().endswith(("✓", "above)")):
            body = f'<span style="color:{COLOUR["✓"]};font-weight:bold">{body}</span>'
        out.append(body)
    return ('<pre style="white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace);'
            'font-size:13px;line-height:1.35;margin:0">' + "\n".join(out) + "</pre>")


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
    return learner_line(traceback.extract_tb(err.__traceback__))


def error_text(err: BaseException) -> str:
    """'ZeroDivisionError: float division by zero, in __mul__, line 3: `...`'."""
    msg = message(err)
    text = f"{type(err).__name__}: {_short(msg, 200)}" if msg else type(err).__name__
    loc = where(err)
    return f"{text} ({loc})" if loc else text


def message(err: BaseException) -> str:
    """``str(err)``, or "" when the learner's exception class cannot print itself."""
    try:
        return str(err)
    except Exception:  # noqa: BLE001 - the learner's exception class may break its own str()
        return ""


def todo_detail(err: BaseException) -> str:
    """What is not written yet: the blank to replace, or the library's own message."""
    e: BaseException | None = err
    while e is not None and not isinstance(e, NotImplementedError):
        e = e.__cause__ or e.__context__
    msg = message(e) if e is not None else ""
    frames = traceback.extract_tb(e.__traceback__) if e is not None else []
    raised_by_you = bool(frames) and not in_package(frames[-1].filename)
    if msg and raised_by_you:
        return f"{_short(msg)} (replace the `raise` line with your code)"
    if msg:  # e.g. the library's "Sin.forward is missing: define it as ..."
        return _short(msg, 200)
    loc = where(err)
    return f"NotImplementedError {loc}" if loc else "it raises NotImplementedError"


def attempt(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run learner code inside a case: (result, None) or (None, the exception). The time
    limit (a BaseException), KeyboardInterrupt and SystemExit pass."""
    try:
        return fn(), None
    except Exception as err:  # the learner's code may raise anything (RecursionError too)
        return None, err
