"""``check_training_step(train_step)``: one gradient-descent step by hand (exercise E5).

The learner writes ``train_step(model, X, y, lr)``: predictions for every row, the mean
binary cross-entropy, zero the grads, ``backward()``, ``p.data -= lr * p.grad`` for every
parameter, and return the loss. It is run on the pass/fail model of notebook 4
(``MLP(2, [3, 1])`` with sigmoids, standardized ``make_pass_fail`` data) and compared with one
step of ``fit(..., epochs=1)`` (full batch, ``SGD``), then with a second step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_edu.data import make_pass_fail, standardize
from tinygrad_edu.exercises._guard import DEFAULT_TIMEOUT, time_limit
from tinygrad_edu.exercises._guard import run as run_limited
from tinygrad_edu.exercises._report import (
    Mismatch,
    Report,
    Result,
    close,
    escaped,
    is_not_implemented,
    new_report,
    todo_detail,
)
from tinygrad_edu.losses import binary_cross_entropy
from tinygrad_edu.nn import MLP
from tinygrad_edu.optim import SGD
from tinygrad_edu.train import fit

__all__ = ["check_training_step", "pass_fail_model", "pass_fail_data", "LR"]

LR = 0.5  # not 1.0, so a step that forgets the learning rate shows


def pass_fail_model() -> MLP:
    """Notebook 4's model: 2 inputs, 3 sigmoid hidden units, 1 sigmoid output, seed 4."""
    return MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=4)


def pass_fail_data() -> tuple[list[list[float]], list[int]]:
    """Notebook 4's data: 100 students, features standardized."""
    X, y = make_pass_fail(n=100, seed=0)
    Xs, _ = standardize(X)
    return Xs, y


def _param_names(model: MLP) -> list[str]:
    return [f"layer {li + 1}, neuron {ni + 1}, {'w' + str(pi) if pi < len(n.w) else 'b'}"
            for li, layer in enumerate(model.layers) for ni, n in enumerate(layer.neurons)
            for pi in range(len(n.w) + 1)]


def check_training_step(train_step: Callable[..., Any], quiet: bool = False,
                        timeout: float | None = DEFAULT_TIMEOUT) -> Report:
    """Check your ``train_step(model, X, y, lr)`` against ``fit``; print a ✓/✗ line per case.

    Two steps are taken on notebook 4's pass/fail model with ``lr = 0.5``; after each, the
    returned loss, every parameter and every ``p.grad`` are compared with ``fit``'s. Each
    step may run ``timeout`` seconds (None: no limit); an error in your code, or a loop that
    never ends, is a ✗ too, never a traceback.
    """
    timeout = time_limit(timeout, "check_training_step")
    report = new_report("check_training_step: one step of gradient descent by hand", quiet,
                        timeout)
    X, y = pass_fail_data()
    ref = pass_fail_model()
    p0 = [p.data for p in ref.parameters()]
    steps = []
    for _ in range(2):  # fit one epoch at a time: the state after each full-batch step
        history = fit(ref, X, y, binary_cross_entropy, SGD(ref.parameters(), lr=LR),
                      epochs=1, progress=False)
        steps.append((history["loss"][0], [p.data for p in ref.parameters()],
                      [p.grad for p in ref.parameters()]))
    (J0, p1, g1), (J1, p2, g2) = steps

    model = pass_fail_model()
    names = _param_names(model)
    first = f"step 1: train_step(model, X, y, lr={LR})"
    loss, err = run_limited(lambda: train_step(model, X, y, LR), timeout)
    if err is not None:
        cases = ("step 1: the loss it returns", "step 1: every parameter moved",
                 "step 1: p.grad", "step 2")
        if is_not_implemented(err):
            report.add(Result(cases[0], "todo", detail=todo_detail(err)))
            for c in cases[1:]:
                report.add(Result(c, "todo", waiting="train_step to run"))
        else:
            report.add(escaped(first, err, "running train_step the first time", timeout))
        return report.finish()
    params, grads = _numbers(model, "data"), _numbers(model, "grad")
    report.case("step 1: returns the loss before the update (fit's epoch-1 loss)",
                lambda: _loss_case("step 1: returns the loss before the update (fit's epoch-1 "
                                   "loss)", loss, J0, J1), "reading the loss train_step returned")
    moved = ("step 1: every parameter moves to p - lr * p.grad, as fit(..., epochs=1) with "
             "SGD(lr=0.5)")
    report.case(moved, lambda: _params_case(moved, params, p0, p1, g1, grads, names),
                "reading the parameters")
    after_grads = "step 1: afterwards p.grad holds this step's gradient"
    report.case(after_grads, lambda: _grads_case(after_grads, grads, g1, names),
                "reading p.grad")
    name = "step 2 (the grads of step 1 are still there): the same update as fit's second epoch"
    _, err = run_limited(lambda: train_step(model, X, y, LR), timeout)
    if err is not None:
        report.add(escaped(name, err, "running train_step the second time", timeout))
        return report.finish()
    after = _numbers(model, "data")
    report.case(name, lambda: _second_step(name, after, p2, params, grads, g2, names),
                "reading the parameters")
    return report.finish()


def _numbers(model: MLP, attr: str) -> list[Any]:
    """Each parameter's .data or .grad, whatever the learner's code left there."""
    return [getattr(p, attr, None) for p in model.parameters()]


def _second_step(name: str, after: list[Any], p2: list[float], params: list[Any],
                 grads: list[Any], g2: list[float], names: list[str]) -> Result:
    if all(close(a, w) for a, w in zip(after, p2)):
        return Result(name, "pass")
    bad = _first_mismatches(after, p2, names)
    numbers = all(close(v, v) for v in params + grads)  # real numbers, not None
    if numbers and all(close(a, p - LR * (g + b))
                       for a, p, g, b in zip(after, params, grads, g2)):
        return Result(name, "fail", bad, mistake="no-zero-grad", hint=(
            "step 2 used step 1's gradient plus its own: grads add up until you clear "
            "them. Set p.grad = 0.0 for every parameter (or model.zero_grad()) before "
            "loss.backward()."))
    return Result(name, "fail", bad, hint=(
        "the first step matched only partly; fix the ✗ above first, then this one "
        "usually follows."))


def _first_mismatches(got: list[float], want: list[float], names: list[str],
                      why: list[str] | None = None) -> list[Mismatch]:
    bad = [Mismatch(names[i], w, g, why[i] if why else "") for i, (g, w) in
           enumerate(zip(got, want)) if not close(g, w)]
    if len(bad) > 3:
        bad = [*bad[:3], Mismatch(f"... and {len(bad) - 3} more parameters", None, None,
                                  plain=True)]
    return bad


def _loss_case(name: str, loss: Any, J0: float, J1: float) -> Result:
    value = getattr(loss, "data", loss)
    if close(value, J0):
        return Result(name, "pass")
    if loss is None:
        return Result(name, "fail", [Mismatch("loss", J0, None)],
                      hint="return the loss at the end: `return loss`")
    if close(value, J1):
        return Result(name, "fail", [Mismatch("loss", J0, value)], hint=(
            "that is the loss after the update. Return the loss you computed at the start "
            "(the one you called backward() on)."))
    if not isinstance(value, (int, float)):
        return Result(name, "fail", [Mismatch("loss", J0, value)],
                      hint="return the loss, a Value (or its .data)")
    return Result(name, "fail", [Mismatch("loss", J0, value)], hint=(
        "the loss is binary_cross_entropy(preds, y): preds = [model(x) for x in X], the mean "
        "over ALL rows of X."))


def _params_case(name: str, params: list[float], p0: list[float], p1: list[float],
                 g1: list[float], grads: list[float], names: list[str]) -> Result:
    if all(close(a, w) for a, w in zip(params, p1)):
        return Result(name, "pass")
    why = [f"{p:.6g} - {LR} × {g:.6g}" for p, g in zip(p0, g1)]
    bad = _first_mismatches(params, p1, names, why)

    def matches(values: list[float]) -> bool:
        return all(close(a, v) for a, v in zip(params, values))

    if matches(p0):
        if all(g == 0.0 for g in grads):
            return Result(name, "fail", bad, mistake="zero-after-backward", hint=(
                "no parameter moved, and every p.grad is 0: the grads were cleared after "
                "backward() and before the update. Clear them first, then backward(), then "
                "update."))
        return Result(name, "fail", bad, mistake="no-update", hint=(
            "no parameter moved. Change each parameter's .data in place: "
            "`for p in model.parameters(): p.data -= lr * p.grad` (rebinding a name, "
            "p = p - ..., changes nothing in the model)."))
    if matches([p + LR * g for p, g in zip(p0, g1)]):
        return Result(name, "fail", bad, mistake="uphill", hint=(
            "the parameters moved uphill: the gradient points to where the loss grows. "
            "Subtract it: p.data -= lr * p.grad."))
    if matches([p - g for p, g in zip(p0, g1)]):
        return Result(name, "fail", bad, mistake="no-lr", hint=(
            "the step is the whole gradient: multiply it by the learning rate, "
            "p.data -= lr * p.grad."))
    return Result(name, "fail", bad, hint=(
        "each parameter should end at p - lr * p.grad, with p.grad the gradient of the mean "
        "binary cross-entropy over all rows (see the numbers above)."))


def _grads_case(name: str, grads: list[float], g1: list[float], names: list[str]) -> Result:
    if all(close(a, w) for a, w in zip(grads, g1)):
        return Result(name, "pass")
    bad = _first_mismatches(grads, g1, names)
    if all(g == 0.0 for g in grads):
        return Result(name, "fail", bad, hint=(
            "every p.grad is 0 after the step: clear the grads before backward(), not after "
            "(fit leaves this step's gradient in p.grad)."))
    return Result(name, "fail", bad, hint=(
        "p.grad should be d(loss)/d(p) for this step's loss: zero the grads, then call "
        "loss.backward() once."))

