"""``check_function(op)``: checks a new op against finite differences (exercise E3).

``op`` is either a ``tinygrad_edu.Function`` subclass (used as ``op.apply(*values)``) or a
plain function of Values (``softplus(x) = (1 + x.exp()).log()``). The gradient the op's
backward gives is compared with central differences of the op's own forward,

    (f(x + eps) - f(x - eps)) / (2 eps),

so no formula for the derivative is needed; ``expected=`` (a function of floats) also checks
the forward values. For a ``Function``, ``backward`` is also called directly with a grad of
2.5: ``backward()`` on a graph asks it for local derivatives with grad 1.0 (and multiplies
by the output's grad itself), so only a direct call shows a backward that ignores ``grad``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu import args
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
from tinygrad_edu.grad_mode import no_grad

__all__ = ["check_function"]

DEFAULT_POINTS = {1: [-1.5, -0.4, 0.3, 1.2, 2.5],
                  2: [(0.5, -1.2), (1.3, 0.7), (-0.8, 2.0)]}
UPSTREAM = 3.0  # the chain-rule case computes L = 3 * op(x) (a function of Values)
GRAD = 2.5  # the chain-rule case calls a Function's backward(ctx, 2.5) directly
MAX_POINTS = 1000


def _is_function_class(op: Any) -> bool:
    return isinstance(op, type) and callable(getattr(op, "apply", None))


def _nargs(op: Any) -> int:
    fn = op.forward if _is_function_class(op) else op
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return 1
    if _is_function_class(op):
        params = params[1:]  # ctx
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 1
    return max(1, sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                          p.POSITIONAL_OR_KEYWORD)
                      for p in params))


def check_function(op: Any, points: Sequence[Any] | None = None, *,
                   expected: Callable[..., float] | None = None, eps: float = 1e-6,
                   atol: float = 1e-6, rtol: float = 1e-4, quiet: bool = False,
                   timeout: float | None = DEFAULT_TIMEOUT) -> Report:
    """Check an op's backward against finite differences; print a ✓/✗ line per case.

    ``op``: a ``Function`` subclass (``class Sin(Function)``) or a function of Values.
    ``points``: the inputs to try (numbers for a one-input op, tuples for more); a few
    ordinary numbers by default. ``expected``: optionally the true forward as a function of
    floats (``math.sin``), to check forward values too. Each case may run ``timeout``
    seconds (None: no limit); an error in your code, or a loop that never ends, is a ✗ too,
    never a traceback. Returns a ``Report``.
    """
    timeout = time_limit(timeout, "check_function")
    name = getattr(op, "__name__", None)
    name = name[:40] if isinstance(name, str) else type(op).__name__
    is_fn = _is_function_class(op)
    if not is_fn and not callable(op):
        report = new_report(f"check_function({name}): forward and backward of your op", quiet,
                            timeout)
        report.add(Result(f"{name} is an op", "fail", detail=f"got {fmt(op)}",
                          hint="pass your Function subclass (check_function(Sin)) or a "
                               "function of Values (check_function(softplus))"))
        return report.finish()
    n = _nargs(op)
    pts = _points(points if points is not None else DEFAULT_POINTS.get(n, DEFAULT_POINTS[2]))
    eps, atol, rtol = (args.number(v, f"check_function: {k}")
                       for k, v in (("eps", eps), ("atol", atol), ("rtol", rtol)))
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"check_function: eps must be > 0 and atol, rtol >= 0, got eps={eps}, "
                         f"atol={atol}, rtol={rtol}")
    if expected is not None and not callable(expected):
        raise TypeError(f"check_function: expected must be a function of floats (math.sin), "
                        f"got {type(expected).__name__} {args.short(expected)}")
    report = new_report(f"check_function({name}): forward and backward of your op", quiet,
                        timeout)
    call = (lambda *xs: op.apply(*xs)) if is_fn else op
    names = ", ".join("xyzw"[i] if i < 4 else f"x{i}" for i in range(n))
    shown = (", ".join(f"{p[0]:g}" for p in pts[:8]) if n == 1 else
             ", ".join("(" + ", ".join(f"{v:g}" for v in p) + ")" for p in pts[:8]))
    shown += ", ..." if len(pts) > 8 else ""
    at = f"{names} = {shown}" if n == 1 else f"({names}) = {shown}"
    two_calls = is_fn and n == 1 and len(pts) >= 2
    grad_case = (f"backward: the gradient of {name}({names}) matches nudging (central "
                 f"differences, eps = {eps:g})")
    chain_case = (f"backward multiplies by the incoming grad: {name}.backward(ctx, {GRAD:g}) "
                  f"= {GRAD:g} × the local derivative" if is_fn else
                  f"backward multiplies by the incoming grad: L = {UPSTREAM:g} * {name}({names})")
    two_name = f"two calls in one graph keep their own inputs: L = {name}(a) * {name}(b)"

    forward = report.case(f"forward: {name}({names}) at {at}",
                          lambda: _forward_case(f"forward: {name}({names}) at {at}", call, pts,
                                                expected, is_fn),
                          f"computing {name}({names})")
    if not forward:
        for case in (grad_case, chain_case):
            report.add(Result(case, "todo", waiting="the forward case"))
        if two_calls:
            report.add(Result(two_name, "todo", waiting="the forward case"))
        return report.finish()
    doing = f"computing {name}({names}) and calling backward()"
    grads_ok = [
        report.case(grad_case, lambda: _gradient_case(grad_case, call, pts, eps, atol, rtol,
                                                      1.0), doing),
        report.case(chain_case, lambda: (
            _grad_argument_case(chain_case, op, pts, eps, atol, rtol) if is_fn else
            _gradient_case(chain_case, call, pts, eps, atol, rtol, UPSTREAM)),
            f"calling {name}.backward(ctx, {GRAD:g})" if is_fn else doing),
    ]
    if two_calls and all(grads_ok):
        report.case(two_name, lambda: _two_calls_case(two_name, call, pts[0][0], pts[-1][0],
                                                      eps, atol, rtol),
                    f"computing {name}(a) * {name}(b) and calling backward()")
    elif two_calls:
        report.add(Result(two_name, "todo", waiting="the backward cases"))
    return report.finish()


def _value_of(out: Any) -> Any:
    return out.data if isinstance(out, Value) else out


def _points(points: Any) -> list[tuple[float, ...]]:
    """``points`` as a list of input tuples of floats, or a clear error saying what to pass."""
    want = "a list of inputs: numbers for a one-input op ([0.5, 1.2]) or tuples ([(0.5, 1.0)])"
    points = args.scalar(points)
    if isinstance(points, (str, bytes, dict)) or not hasattr(points, "__len__"):
        raise TypeError(f"check_function: points must be {want}, got {type(points).__name__} "
                        f"{args.short(points)}")
    if len(points) > MAX_POINTS:  # (asked before looking inside: range(10**18) has a len)
        raise ValueError(f"check_function: points must be {want} of at most {MAX_POINTS:,} "
                         f"inputs, got {len(points):,}")
    pts = [tuple(p) if isinstance(p, (tuple, list)) else (p,) for p in points]
    if not pts or not all(pts):
        raise ValueError(f"check_function: points must be {want}, not empty")
    if any(len(p) > 16 for p in pts):
        raise ValueError(f"check_function: each point holds one number per input of the op "
                         f"(at most 16), got one of {max(len(p) for p in pts):,}")
    return [tuple(args.number(v, f"check_function: points[{i}]") for v in p)
            for i, p in enumerate(pts)]


def _forward_case(name: str, call: Callable[..., Any], pts: list[Sequence[float]],
                  expected: Callable[..., float] | None, is_fn: bool) -> Result:
    bad: list[Mismatch] = []
    for p in pts:
        out, err = attempt(lambda p=p: call(*(Value(v) for v in p)))
        if err is not None:
            if is_not_implemented(err):
                return Result(name, "todo", detail=todo_detail(err))
            if isinstance(err, OverflowError):
                return Result(name, "fail", detail=f"at {_at(p)}: {error_text(err)}",
                              mistake="overflow", hint=(
                                  "a number on the way got too large for a float (math.exp "
                                  "of more than about 709 does). Rewrite the formula so that "
                                  "no step overflows; the exercise shows how."))
            return Result(name, "fail", detail=f"at {_at(p)}: {error_text(err)}", hint=(
                "forward(ctx, x) receives plain floats and must return one float, e.g. "
                "math.sin(x)" if is_fn else
                "the function receives Values and must return a Value built with Value "
                "operations (x.exp(), x.log(), +, * ...)"))
        if not isinstance(out, Value):
            return Result(name, "fail", detail=f"at {_at(p)} it returned {fmt(out)}",
                          hint="the op must return a Value (use Value operations on the "
                               "inputs, not their .data)")
        if expected is not None:
            want, err = attempt(lambda p=p: float(expected(*p)))
            if err is None and not close(out.data, want, rel=1e-9, abs_=1e-12):
                bad.append(Mismatch(f"value at {_at(p)}", want, out.data))
    if bad:
        return Result(name, "fail", bad, hint="the forward value is wrong: compare your "
                                              "formula with the one in the exercise")
    return Result(name, "pass")


def _at(p: Sequence[float]) -> str:
    names = "xyzw"
    return ", ".join(f"{names[i] if i < 4 else f'x{i}'} = {v:g}" for i, v in enumerate(p))


def _numeric(call: Callable[..., Any], p: Sequence[float], i: int, eps: float) -> float:
    def f(delta: float) -> float:
        with no_grad():
            out = call(*(Value(v + delta if j == i else v) for j, v in enumerate(p)))
        return out.data

    return (f(eps) - f(-eps)) / (2 * eps)


def _gradient_case(name: str, call: Callable[..., Any], pts: list[Sequence[float]], eps: float,
                   atol: float, rtol: float, upstream: float) -> Result:
    bad: list[Mismatch] = []
    hint, tag = "", None
    for p in pts:
        xs = [Value(v) for v in p]

        def run(xs: list[Value] = xs) -> None:
            out = call(*xs)
            (out * upstream if upstream != 1.0 else out).backward()

        _, err = attempt(run)
        if err is not None:
            if is_not_implemented(err):
                return Result(name, "todo", detail=todo_detail(err))
            return Result(name, "fail", detail=f"at {_at(p)}: {error_text(err)}",
                          hint=_backward_error_hint(err))
        for i, x in enumerate(xs):
            numeric = upstream * _numeric(call, p, i, eps)
            got = x.grad
            if abs(got - numeric) <= atol + rtol * abs(numeric):
                continue
            what = f"d/d{'xyzw'[i] if i < 4 else f'x{i}'} at {_at(p)}"
            why = "nudging" if upstream == 1.0 else f"{upstream:g} × nudging"
            bad.append(Mismatch(what, numeric, got, why))
            if not hint:
                tag, hint = _diagnose(call, p, i, got, numeric, upstream, eps, atol, rtol)
    if not bad:
        return Result(name, "pass")
    return Result(name, "fail", bad[:2], hint=hint, mistake=tag)


def _grad_argument_case(name: str, op: Any, pts: list[Sequence[float]], eps: float,
                        atol: float, rtol: float) -> Result:
    """``op.backward(ctx, GRAD)`` called directly must give GRAD × the local derivatives."""
    bad: list[Mismatch] = []
    hint, tag = "", None
    for p in pts:
        out = op.apply(*(Value(v) for v in p))
        grads, err = attempt(lambda out=out: op.backward(out._arg, GRAD))
        if err is not None:
            if is_not_implemented(err):
                return Result(name, "todo", detail=todo_detail(err))
            return Result(name, "fail", detail=f"at {_at(p)}: {error_text(err)}",
                          hint=_backward_error_hint(err))
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(p):
            return Result(name, "fail", detail=f"at {_at(p)} backward returned {len(grads)} "
                          f"gradient(s) for {len(p)} input(s)",
                          hint="return one gradient per input of apply(), as a tuple when "
                               "there are several")
        for i, got in enumerate(grads):
            numeric = GRAD * _numeric(op.apply, p, i, eps)
            got = 0.0 if got is None else got  # None: "no gradient", as in PyTorch
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return Result(name, "fail", detail=f"at {_at(p)} backward returned {fmt(got)}",
                              hint="backward returns plain numbers (floats), one per input: "
                                   "grad * local derivative")
            if abs(got - numeric) <= atol + rtol * abs(numeric):
                continue
            what = f"gradient of {'xyzw'[i] if i < 4 else f'x{i}'} at {_at(p)}"
            bad.append(Mismatch(what, numeric, got, f"{GRAD:g} × nudging"))
            if not hint:
                tag, hint = _diagnose(op.apply, p, i, got, numeric, GRAD, eps, atol, rtol)
    if not bad:
        return Result(name, "pass")
    return Result(name, "fail", bad[:2], hint=hint, mistake=tag)


def _backward_error_hint(err: BaseException) -> str:
    text = message(err)
    if isinstance(err, (ValueError, TypeError)) and "unpack" in text:
        return ("backward could not unpack what forward saved: in forward call "
                "ctx.save_for_backward(x) (every input backward needs), and in backward read "
                "them back with (x,) = ctx.saved_values.")
    return ("backward(ctx, grad) raised this error. It receives the gradient of the output "
            "and returns the gradient of each input: grad * (local derivative).")


def _diagnose(call: Callable[..., Any], p: Sequence[float], i: int, got: float,
              numeric: float, upstream: float, eps: float, atol: float,
              rtol: float) -> tuple[str | None, str]:
    def near(a: float, b: float) -> bool:
        return abs(a - b) <= atol + rtol * abs(b)

    if upstream != 1.0 and near(got, numeric / upstream):
        return "missing-out-grad", (
            f"backward got grad = {upstream:g} (the gradient of the loss with respect to the "
            "op's output, passed down from the nodes above) but returned the bare local "
            "derivative. Return grad * local derivative: the chain rule. (backward() on a "
            "graph asks backward(ctx, 1.0), where the two are the same number, so only a "
            "call with another grad shows this.)")
    if near(got, -numeric):
        return "sign", "the sign is flipped: check the derivative formula's sign."
    if near(got, upstream):
        return "no-local-derivative", (
            "backward returned grad unchanged: multiply it by the local derivative, "
            "d(output)/d(input) at the saved input.")
    if len(p) == 1:
        with no_grad():
            y = call(Value(p[0])).data
        at_output, err = attempt(lambda: upstream * _numeric(call, [y], 0, eps))
        if err is None and near(got, at_output):
            return "wrong-node", (
                "that is the derivative evaluated at the op's OUTPUT. The local derivative "
                "uses the input: save x in forward with ctx.save_for_backward(x) and use it "
                "in backward (e.g. for sin: cos(x), not cos(sin(x))).")
    return None, ("backward should return grad * (the derivative of forward at the saved "
                  "input). Compare your formula with the derivative worked out by hand.")


def _two_calls_case(case: str, call: Callable[..., Any], a0: float, b0: float, eps: float,
                    atol: float, rtol: float) -> Result:
    a, b = Value(a0), Value(b0)

    def run() -> None:
        (call(a) * call(b)).backward()

    _, err = attempt(run)
    if err is not None:
        return Result(case, "fail", detail=error_text(err), hint=_backward_error_hint(err))
    with no_grad():
        fa, fb = call(Value(a0)).data, call(Value(b0)).data
    want = {"a": _numeric(call, [a0], 0, eps) * fb, "b": fa * _numeric(call, [b0], 0, eps)}
    bad = [Mismatch(f"{k}.grad", w, g.grad) for (k, w), g in zip(want.items(), (a, b))
           if not abs(g.grad - w) <= atol + rtol * abs(w)]
    if not bad:
        return Result(case, "pass")
    return Result(case, "fail", bad, mistake="shared-state", hint=(
        "each call must keep its own inputs. Save them on ctx, which is new for every call "
        "(ctx.save_for_backward(x), then ctx.saved_values in backward), not on the class or "
        "in a global variable: there the second call overwrites the first one's."))

