"""``check_nudging(one_sided, central)``: derivatives by nudging (exercise E1).

The learner writes ``one_sided(f, x, h) = (f(x + h) - f(x)) / h`` and
``central(f, x, h) = (f(x + h) - f(x - h)) / (2 h)``. The checks compare their numbers with
those formulas, then measure how the error shrinks with ``h`` on ``f(x) = x**3`` at ``x = 2``
(exact slope 12), where both errors are known exactly:

    one-sided:  ((2 + h)**3 - 8) / h - 12  =  6 h + h**2      (order 1: error ~ h)
    central:    ((2 + h)**3 - (2 - h)**3) / (2 h) - 12  =  h**2   (order 2: error ~ h**2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinygrad_edu.exercises._guard import DEFAULT_TIMEOUT, TimeLimit, time_limit
from tinygrad_edu.exercises._guard import run as run_limited
from tinygrad_edu.exercises._report import (
    Mismatch,
    Report,
    Result,
    attempt,
    close,
    error_text,
    escaped,
    is_not_implemented,
    new_report,
    todo_detail,
)

__all__ = ["check_nudging"]

Fn = Callable[[float], float]


def _quadratic(x: float) -> float:  # the lecture's first function; f'(3) = 14
    return 3 * x**2 - 4 * x + 5


def _cube(x: float) -> float:  # f'(2) = 12, f''(2) = 12, f''' = 6
    return x**3


def _one(f: Fn, x: float, h: float) -> float:
    return (f(x + h) - f(x)) / h


def _two(f: Fn, x: float, h: float) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


HS = (0.1, 0.01, 0.001, 0.0001)  # each 10 times smaller than the one before


def check_nudging(one_sided: Callable[..., Any], central: Callable[..., Any] | None = None,
                  quiet: bool = False, timeout: float | None = DEFAULT_TIMEOUT) -> Report:
    """Check your ``one_sided(f, x, h)`` and ``central(f, x, h)``; print a ✓/✗ line per case.

    ``central`` may be left out while you write ``one_sided``. When both work, the check also
    measures how their errors shrink as ``h`` gets 10 times smaller: the one-sided error 10
    times (order 1), the central error 100 times (order 2). Each case may run ``timeout``
    seconds (None: no limit); an error in your code, or a loop that never ends, is a ✗ too,
    never a traceback.
    """
    timeout = time_limit(timeout, "check_nudging")
    report = new_report("check_nudging: slopes by nudging x a little", quiet, timeout)
    quad = "f(x) = 3x² - 4x + 5 at x = 3, h = 0.001 (exact slope 14)"
    cube = "f(x) = x³ at x = 2, h = 0.1 and h = 0.01 (exact slope 12)"
    ok = []
    for label, fn, kind in (("one_sided", one_sided, "one"), ("central", central, "two")):
        if fn is None:
            continue
        for case, where in ((f"{label}: {quad}", [(_quadratic, 3.0, 0.001)]),
                            (f"{label}: {cube}", [(_cube, 2.0, 0.1), (_cube, 2.0, 0.01)])):
            ok.append(report.case(case, lambda case=case, fn=fn, label=label, kind=kind,
                                  where=where: _value_case(case, label, fn, kind, where),
                                  f"calling {label}(f, x, h)"))
    if central is None:
        return report.finish()
    if all(ok):
        _orders(report, one_sided, central)
    else:
        for label, shape, order in (("one-sided", "h", 1), ("central", "h²", 2)):
            report.add(Result(f"error of the {label} difference shrinks like {shape} "
                              f"(order {order})", "todo",
                              waiting="the cases of one_sided and central above"))
    return report.finish()


def _mistakes(kind: str, f: Fn, x: float, h: float) -> list[tuple[float, str]]:
    """What the usual slips give, with the hint that names each."""
    one, two = _one(f, x, h), _two(f, x, h)
    if kind == "one":
        return [
            (f(x + h) - f(x), "divide by h: the slope is (f(x + h) - f(x)) / h, the rise over "
                              "the run."),
            (-one, "the sign is flipped: it is f(x + h) - f(x), the new value minus the old."),
            (two, "that is the central difference; this one nudges one way only: "
                  "(f(x + h) - f(x)) / h."),
        ]
    return [
        (2 * two, "the two points x - h and x + h are 2h apart: divide by 2 * h, not h "
                  "(write (2 * h) with brackets: / 2 * h multiplies by h)."),
        (two * h * h, "the two points x - h and x + h are 2h apart: divide by (2 * h), with "
                      "the brackets. Without them, / 2 * h divides by 2 and multiplies by h."),
        (one, "that is the one-sided difference; central nudges both ways: "
              "(f(x + h) - f(x - h)) / (2 * h)."),
        (f(x + h) - f(x - h), "divide by the distance between the two points, 2 * h."),
        (-two, "the sign is flipped: it is f(x + h) - f(x - h)."),
    ]


def _value_case(name: str, label: str, fn: Callable[..., Any], kind: str,
                where: list[tuple[Fn, float, float]]) -> Result:
    bad: list[Mismatch] = []
    hint = ""
    formula = "(f(x + h) - f(x)) / h" if kind == "one" else "(f(x + h) - f(x - h)) / (2 * h)"
    for f, x, h in where:
        got, err = attempt(lambda f=f, x=x, h=h: fn(f, x, h))
        if err is not None:
            if is_not_implemented(err):
                return Result(name, "todo", detail=todo_detail(err))
            return Result(name, "fail", detail=f"{label}(f, {x:g}, {h:g}) raised "
                          f"{error_text(err)}", hint=f"it should return one number: {formula}")
        want = (_one if kind == "one" else _two)(f, x, h)
        if not close(got, want, rel=1e-9, abs_=1e-9):
            bad.append(Mismatch(f"{label}(f, {x:g}, {h:g})", want, got))
            if got is None:
                hint = hint or f"the function must return the number: return {formula}"
            hint = hint or next((text for value, text in _mistakes(kind, f, x, h)
                                 if close(got, value, rel=1e-9, abs_=1e-9)), "")
    if not bad:
        return Result(name, "pass")
    return Result(name, "fail", bad, hint=hint or f"compare with the formula: {formula}")


def _orders(report: Report, one_sided: Callable[..., Any], central: Callable[..., Any]) -> None:
    def measure() -> dict[str, list[float]]:
        return {"one": [abs(float(one_sided(_cube, 2.0, h)) - 12.0) for h in HS],
                "two": [abs(float(central(_cube, 2.0, h)) - 12.0) for h in HS]}

    errors, err = run_limited(measure, report.timeout)
    if isinstance(err, TimeLimit):
        report.add(escaped("error orders", err, "calling one_sided and central for 4 h's",
                           report.timeout))
        return
    if err is not None or not all(0 < e < math.inf for es in errors.values() for e in es):
        why = (error_text(err) if err is not None else
               "an error came out exactly 0, infinite or not a number")
        report.add(Result("error orders", "fail", detail=f"could not measure: {why}",
                          hint="the two functions must return the nudged slope for any f, x "
                               "and h"))
        return
    report.say("  how far each estimate of f'(2) = 12 is off, for f(x) = x³:")
    report.say(f"  {'h':>9}   {'one-sided error':>15}   {'central error':>13}")
    for h, e1, e2 in zip(HS, errors["one"], errors["two"]):
        report.say(f"  {h:>9g}   {e1:>15.3g}   {e2:>13.3g}")
    for kind, order, shape in (("one", 1, "h"), ("two", 2, "h²")):
        errs = errors[kind]
        # the order is log10 of how many times smaller the error gets per 10x smaller h
        slopes = [max(-300.0, min(300.0, math.log10(a / b))) for a, b in zip(errs, errs[1:])]
        label = "one-sided" if kind == "one" else "central"
        name = f"error of the {label} difference shrinks like {shape} (order {order})"
        factors = ", ".join(f"{10**s:.0f}x" for s in slopes)
        if all(abs(s - order) < 0.1 for s in slopes):
            report.add(Result(name, "pass"))
            report.say(f"      each 10x smaller h: the error gets {factors} smaller")
        else:
            report.add(Result(name, "fail", [Mismatch("error ratio per 10x smaller h",
                                                      10.0**order, 10 ** slopes[0])],
                              detail=f"the error got {factors} smaller",
                              hint=f"expected about {10**order}x per step: the {label} "
                                   f"difference's error is about {'6h' if order == 1 else 'h²'} "
                                   "here. Check the formula."))
    report.say(
        "  Why central is better: the curvature term (f''(x) h / 2) cancels when you nudge "
        "both ways,\n  so its error shrinks like h² instead of h. At h = 0.001 that is "
        f"{errors['two'][2]:.2g} instead of {errors['one'][2]:.2g}.")

