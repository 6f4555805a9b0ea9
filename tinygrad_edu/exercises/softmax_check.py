"""``check_softmax_nll(softmax, nll)``: softmax and negative log-likelihood by hand (E4).

The learner writes ``softmax(logits)`` (a list of Values in, a list of Values out) and
``nll(probs, target)`` (``-log probs[target]``). Together they must give the library's
``tinygrad_edu.losses.cross_entropy``: the same loss and the same gradients on the logits,
``softmax_j - [j == target]``, also for logits as large as 1000.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinygrad_edu.engine import Value
from tinygrad_edu.exercises._guard import DEFAULT_TIMEOUT, time_limit
from tinygrad_edu.exercises._report import (
    Mismatch,
    Report,
    Result,
    attempt,
    close,
    error_text,
    fmt,
    is_not_implemented,
    message,
    new_report,
    todo_detail,
)
from tinygrad_edu.losses import cross_entropy as _cross_entropy
from tinygrad_edu.losses import softmax as _softmax

__all__ = ["check_softmax_nll"]

_GRAPH_HINT = (
    "compute with Value operations (z.exp(), +, /, .log()) on the Values you were given, not "
    "with math.exp(z.data) or floats: only Value operations record the graph that gradients "
    "flow back through."
)

_OVERFLOW_HINT = (
    "e^1000 is too large for a float. Subtract the largest logit first: with "
    "m = max(z.data for z in logits), softmax(z) = softmax(z - m) gives the same "
    "probabilities, and every e^(z_j - m) is at most 1."
)


def check_softmax_nll(softmax: Callable[[list[Value]], Any],
                      nll: Callable[[Any, int], Any] | None = None,
                      quiet: bool = False, timeout: float | None = DEFAULT_TIMEOUT) -> Report:
    """Check your ``softmax(logits)`` and ``nll(probs, target)``; print a ✓/✗ line per case.

    ``nll`` may be left out while you write ``softmax``. With both, the last cases compare
    ``nll(softmax(z), k)`` with ``cross_entropy(z, k)``: the loss and the gradient of every
    logit, also for logits as large as 1000. Each case may run ``timeout`` seconds (None: no
    limit); an error in your code, or a loop that never ends, is a ✗ too, never a traceback.
    """
    timeout = time_limit(timeout, "check_softmax_nll")
    report = new_report("check_softmax_nll: softmax and negative log-likelihood", quiet,
                        timeout)
    doing = "calling softmax(logits)"
    small, large = [2.0, 1.0, 0.1], [1000.0, 999.0, 998.0]
    parts = [report.case(_values_name(small), lambda: _softmax_values(softmax, small), doing),
             report.case(_GRADS, lambda: _softmax_grads(softmax, small),
                         "calling softmax(logits)[0].backward()"),
             report.case(_values_name(large), lambda: _softmax_values(softmax, large), doing)]
    if nll is None:
        return report.finish()
    ps, k = [0.7, 0.2, 0.1], 0
    parts.append(report.case(_nll_name(ps, k), lambda: _nll_case(nll, ps, k),
                             "calling nll(probs, target) and backward()"))
    broken = list(dict.fromkeys(r.name.split("(")[0] for r in parts if r.status == "fail"))
    for zs, k in (([2.0, 1.0, 0.1], 0), ([0.5, -1.0, 3.0, 0.0], 1), (large, 2)):
        report.case(_cross_entropy_name(zs, k),
                    lambda zs=zs, k=k: _cross_entropy_case(softmax, nll, zs, k, broken),
                    "calling nll(softmax(z), k) and backward()")
    return report.finish()


def _values_name(zs: list[float]) -> str:
    if max(abs(v) for v in zs) > 700:
        return f"softmax({zs}) without overflow"
    return f"softmax({zs}): one probability per class, summing to 1"


_GRADS = "softmax keeps the graph: backward() from softmax(z)[0] reaches every logit"


def _nll_name(ps: list[float], k: int) -> str:
    return f"nll(probs = {ps}, target = {k}) = -log(probs[{k}])"


def _cross_entropy_name(zs: list[float], k: int) -> str:
    return f"nll(softmax(z), {k}) equals cross_entropy(z, {k}) for z = {zs}: loss and grads"


def _todo_or_fail(name: str, err: BaseException, what: str) -> Result:
    if is_not_implemented(err):
        return Result(name, "todo", detail=todo_detail(err))
    return Result(name, "fail", detail=f"{what} raised {error_text(err)}",
                  hint="the line shown is where it went wrong")


def _as_values(out: Any, n: int, what: str) -> tuple[list[Any] | None, Result | None]:
    """``out`` as a list of n items, or the ✗ that says why it is not one."""
    if isinstance(out, Value) or not hasattr(out, "__len__") or len(out) != n:
        length = f"{len(out)} items" if hasattr(out, "__len__") else fmt(out)
        return None, Result(what, "fail", detail=f"softmax returned {length}",
                            hint=f"return a list with one probability (a Value) for each of "
                                 f"the {n} logits")
    return list(out), None


def _softmax_values(softmax: Callable[..., Any], zs: list[float]) -> Result:
    name = _values_name(zs)
    out, err = attempt(lambda: softmax([Value(z) for z in zs]))
    if err is not None:
        if isinstance(err, OverflowError) and not is_not_implemented(err):
            return Result(name, "fail", detail=error_text(err), mistake="overflow",
                          hint=_OVERFLOW_HINT)
        return _todo_or_fail(name, err, "softmax")
    probs, bad = _as_values(out, len(zs), name)
    if bad is not None:
        return bad
    if not all(isinstance(p, Value) for p in probs):
        return Result(name, "fail", detail=f"softmax returned {fmt(probs[0])} items",
                      hint="return Values, not floats: " + _GRAPH_HINT)
    want = [p.data for p in _softmax([Value(z) for z in zs])]
    got = [p.data for p in probs]
    wrong = [Mismatch(f"probability {i}", w, g) for i, (w, g) in enumerate(zip(want, got))
             if not close(g, w)]
    if not wrong:
        return Result(name, "pass")
    exps = [math.exp(z) for z in zs]
    if all(close(g, e) for g, e in zip(got, exps)):
        hint = ("these are e^z, not yet probabilities: divide each one by the sum of all of "
                "them, so they add up to 1.")
    elif close(sum(got), 1.0):
        hint = "they sum to 1, but the values are off: softmax_k = e^(z_k) / sum_j e^(z_j)."
    else:
        hint = f"they sum to {sum(got):.6g}, not 1: softmax_k = e^(z_k) / sum_j e^(z_j)."
    return Result(name, "fail", wrong, hint=hint)


def _softmax_grads(softmax: Callable[..., Any], zs: list[float]) -> Result:
    name = _GRADS
    z = [Value(v) for v in zs]

    def run() -> Any:
        probs = softmax(z)
        probs[0].backward()
        return probs

    _, err = attempt(run)
    if err is not None:
        if isinstance(err, AttributeError) and "backward" in message(err):
            return Result(name, "fail", detail=error_text(err), hint=_GRAPH_HINT)
        return _todo_or_fail(name, err, "softmax")
    ref = [Value(v) for v in zs]
    _softmax(ref)[0].backward()
    wrong = [Mismatch(f"z{i}.grad", r.grad, g.grad) for i, (r, g) in enumerate(zip(ref, z))
             if not close(g.grad, r.grad)]
    if not wrong:
        return Result(name, "pass")
    if all(g.grad == 0.0 for g in z):
        return Result(name, "fail", wrong, hint="no gradient reached the logits: " + _GRAPH_HINT)
    return Result(name, "fail", wrong, hint=(
        "d softmax_0 / d z_j is s_0 (1 - s_0) for j = 0 and -s_0 s_j otherwise; build softmax "
        "from Value operations and backward() works this out for you."))


def _nll_case(nll: Callable[..., Any], ps: list[float], k: int) -> Result:
    name = _nll_name(ps, k)
    probs = [Value(p) for p in ps]

    def run() -> Any:
        loss = nll(probs, k)
        if isinstance(loss, Value):
            loss.backward()
        return loss

    loss, err = attempt(run)
    if err is not None:
        return _todo_or_fail(name, err, "nll")
    if not isinstance(loss, Value):
        return Result(name, "fail", detail=f"nll returned {fmt(loss)}",
                      hint="return a Value: -probs[target].log(). " + _GRAPH_HINT)
    want = -math.log(ps[k])
    wrong = []
    if not close(loss.data, want):
        wrong.append(Mismatch("loss", want, loss.data, f"-log({ps[k]})"))
    if not close(probs[k].grad, -1.0 / ps[k]):
        wrong.append(Mismatch(f"probs[{k}].grad", -1.0 / ps[k], probs[k].grad,
                              f"-1 / {ps[k]}"))
    if not wrong:
        return Result(name, "pass")
    got = loss.data
    if close(got, -want):
        hint = ("that is log(p), a negative number. The negative log-likelihood is MINUS the "
                "log: -probs[target].log(), so a confident right answer costs almost 0.")
    elif any(close(got, -math.log(p)) for i, p in enumerate(ps) if i != k):
        hint = "that is -log of another class's probability: use probs[target]."
    elif close(got, -math.log10(ps[k])):
        hint = "that is the base-10 log: use the natural log, .log()."
    else:
        hint = "nll(probs, target) is -log(probs[target]), computed with Value operations."
    return Result(name, "fail", wrong, hint=hint)


def _cross_entropy_case(softmax: Callable[..., Any], nll: Callable[..., Any],
                        zs: list[float], k: int, broken: list[str]) -> Result:
    name = _cross_entropy_name(zs, k)
    z = [Value(v) for v in zs]

    def run() -> Any:
        loss = nll(softmax(z), k)
        loss.backward()
        return loss

    loss, err = attempt(run)
    if err is not None:
        if isinstance(err, OverflowError) and not is_not_implemented(err):
            return Result(name, "fail", detail=error_text(err), mistake="overflow",
                          hint=_OVERFLOW_HINT)
        return _todo_or_fail(name, err, "nll(softmax(z), k)")
    ref = [Value(v) for v in zs]
    ref_loss = _cross_entropy(ref, k)
    ref_loss.backward()
    got_loss = getattr(loss, "data", loss)
    wrong = []
    if not close(got_loss, ref_loss.data, rel=1e-9, abs_=1e-9):
        wrong.append(Mismatch("loss", ref_loss.data, got_loss))
    probs = [p.data for p in _softmax([Value(v) for v in zs])]
    for i, (r, g) in enumerate(zip(ref, z)):
        if not close(g.grad, r.grad, rel=1e-9, abs_=1e-9):
            why = f"softmax_{i} - 1" if i == k else f"softmax_{i}"
            wrong.append(Mismatch(f"z{i}.grad", r.grad, g.grad, f"{why} = "
                                  f"{probs[i]:.6g}{' - 1' if i == k else ''}"))
    if not wrong:
        return Result(name, "pass")
    if broken:
        return Result(name, "fail", wrong[:2], hint=(
            f"this uses your {' and '.join(broken)}: fix the ✗ above first."))
    return Result(name, "fail", wrong, hint=(
        "cross_entropy(z, k) = -log softmax(z)_k, and its gradient is softmax_j - 1 for the "
        "target class and softmax_j for the others. If the softmax and nll cases above pass, "
        "check that nll gets softmax's output and the target index."))
