"""Training loop: ``fit`` runs gradient descent over a data set and records the loss.

One *step* is: predict a batch, compute the batch's mean loss ``J``, clear gradients,
``J.backward()``, ``optimizer.step()``. One *epoch* is a pass over all ``N`` examples:

- ``batch_size=None``: full-batch gradient descent, 1 step per epoch on all examples;
- ``batch_size=1``: stochastic gradient descent, ``N`` steps of one example each;
- ``batch_size=k``: mini-batch gradient descent, ``ceil(N / k)`` steps (the last may be smaller).

The recorded ``"loss"`` of an epoch is the mean training loss over its examples: the batch
losses weighted by batch size, ``sum_b |b| * J_b / N`` (exactly the empirical loss for full-batch
training; for smaller batches, measured while the weights were moving).
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

from tinygrad_edu import losses as _losses
from tinygrad_edu.engine import Value, no_grad

__all__ = ["History", "fit", "predict", "accuracy"]

Metric = Callable[[Any, Sequence[Any], Sequence[Any]], float]


class History:
    """What ``fit`` measured: ``history["loss"][e]`` is the mean training loss of epoch ``e+1``.

    ``.history`` maps ``"loss"`` and each metric name (e.g. ``"accuracy"``) to a list with one
    float per epoch; ``.epoch`` lists the epoch numbers (1, 2, ...); ``.params`` records the
    settings of the run. ``history["loss"]`` is a shortcut for ``history.history["loss"]``.
    """

    def __init__(self, names: Sequence[str] = ("loss",), params: Mapping[str, Any] | None = None):
        self.history: dict[str, list[float]] = {name: [] for name in names}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = dict(params or {})

    def __getitem__(self, name: str) -> list[float]:
        return self.history[name]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs{': ' + last if last else ''})"


# ---------------------------------------------------------------------------------------------
# Predictions and accuracy
# ---------------------------------------------------------------------------------------------
def _as_list(X: Any, what: str) -> list[Any]:
    if hasattr(X, "tolist") and not isinstance(X, (list, tuple)):
        X = X.tolist()
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"{what} must be a list, got {type(X).__name__}")
    return list(X)


def predict(model: Callable[[Any], Any], X: Sequence[Any]) -> list[Any]:
    """The model's outputs for every row of ``X`` as plain floats (no graph is recorded).

    One float per row for a model with one output, a list of floats per row otherwise.
    """
    rows = _as_list(X, "predict: X")
    out: list[Any] = []
    with no_grad():
        for x in rows:
            o = model(x)
            out.append(o.data if isinstance(o, Value) else [v.data for v in o])
    return out


def _binary_label(t: Any, i: int) -> bool:
    if isinstance(t, bool) or not isinstance(t, Real) or t not in (0, 1, -1):
        raise ValueError(
            f"accuracy: label {i} is {t!r}; a model with one output needs labels 0/1 or -1/+1 "
            "(for classes 0..K-1 the model needs K outputs)"
        )
    return t > 0


def accuracy(model: Callable[[Any], Any], X: Sequence[Any], y: Sequence[Any],
             threshold: float = 0.5) -> float:
    """Fraction of rows classified correctly.

    - One output: the prediction is positive when ``output > threshold`` (0.5 for sigmoid
      probabilities; use 0 for raw scores, tanh outputs or ±1 labels). Labels 0/1 or -1/+1;
      positive means label > 0.
    - Several outputs: the predicted class is the index of the largest output (argmax),
      compared with integer labels ``0 .. K-1``.
    """
    rows = _as_list(X, "accuracy: X")
    labels = _as_list(y, "accuracy: y")
    if len(rows) != len(labels):
        raise ValueError(f"accuracy: {len(rows)} rows in X but {len(labels)} labels in y")
    if not rows:
        raise ValueError("accuracy: X is empty")
    correct = 0
    for i, (out, t) in enumerate(zip(predict(model, rows), labels)):
        if isinstance(out, list):
            best = max(range(len(out)), key=out.__getitem__)
            if (isinstance(t, bool) or not isinstance(t, Real) or not 0 <= t < len(out)
                    or not float(t).is_integer()):
                raise ValueError(
                    f"accuracy: label {i} is {t!r}; with {len(out)} outputs labels must be class "
                    f"indices 0..{len(out) - 1}"
                )
            correct += best == t
        else:
            correct += (out > threshold) == _binary_label(t, i)
    return correct / len(rows)


# ---------------------------------------------------------------------------------------------
# Progress display: tqdm when installed (terminal or Jupyter), else a one-line text bar.
# ---------------------------------------------------------------------------------------------
class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_description_str(self, text: str, refresh: bool = False) -> None:
        pass

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


class _TextBar(_NoBar):
    """A minimal progress line on stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, unit: str) -> None:
        self.total, self.unit, self.n = total, unit, 0
        self.desc, self.postfix = "fit", ""
        self._last = 0.0
        self._stream = sys.stderr

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= 0.1 or self.n >= self.total:
            self._last = now
            self._draw()

    def set_description_str(self, text: str, refresh: bool = False) -> None:
        self.desc = text

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.postfix = text

    def _draw(self) -> None:
        width = 24
        filled = int(width * self.n / self.total)
        bar = "#" * filled + "." * (width - filled)
        line = f"\r{self.desc}: [{bar}] {self.n}/{self.total} {self.unit}s  {self.postfix}"
        self._stream.write(line)
        self._stream.flush()

    def close(self) -> None:
        self._draw()
        self._stream.write("\n")
        self._stream.flush()


def _progress_bar(total: int, unit: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextBar(total, unit)
    return tqdm(total=total, unit=unit, desc="fit", leave=True, dynamic_ncols=True)


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
_LOSS_NAMES = {
    name: getattr(_losses, name)
    for name in ("mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                 "cross_entropy", "hinge_loss")
}


def _resolve_loss(loss: Any) -> Callable[[Any, Any], Value]:
    if isinstance(loss, str):
        if loss not in _LOSS_NAMES:
            raise ValueError(f"fit: unknown loss {loss!r}; use one of {', '.join(_LOSS_NAMES)} "
                             "or pass a function loss(preds, targets)")
        return _LOSS_NAMES[loss]
    if not callable(loss):
        raise TypeError(f"fit: loss must be a function loss(preds, targets), got {loss!r}")
    return loss


def _resolve_metrics(metrics: Any, loss: Any, y: list[Any]) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    resolved: dict[str, Metric] = {}
    for name, m in items:
        if m in ("accuracy", "acc"):
            # Raw scores (hinge loss, logits) and ±1 labels are split at 0, probabilities at 0.5.
            raw = loss in (_losses.hinge_loss, _losses.binary_cross_entropy_with_logits)
            pm1 = any(isinstance(t, Real) and t == -1 for t in y)
            threshold = 0.0 if raw or pm1 else 0.5

            def acc(model: Any, X: Any, y: Any, _t: float = threshold) -> float:
                return accuracy(model, X, y, _t)

            resolved[name or "accuracy"] = acc
        elif callable(m):
            resolved[name or getattr(m, "__name__", f"metric{len(resolved)}")] = m
        else:
            raise ValueError(
                f"fit: unknown metric {m!r}; use \"accuracy\" or a function "
                "metric(model, X, y) -> float"
            )
    if "loss" in resolved:
        raise ValueError("fit: a metric may not be called 'loss' (that name is the training loss)")
    return resolved


def _check_row(x: Any, i: int) -> Any:
    if isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool)):
        return x
    if hasattr(x, "tolist") and not isinstance(x, (list, tuple)):
        x = x.tolist()
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"fit: X[{i}] must be a list of numbers, got {type(x).__name__} {x!r}")
    for v in x:
        if not isinstance(v, Value) and (isinstance(v, bool) or not isinstance(v, Real)):
            raise TypeError(f"fit: X[{i}] holds {v!r} ({type(v).__name__}), not a number")
    return x


def _diverged(epoch: int, epochs: int, step: int, steps: int, what: str, optimizer: Any,
              ) -> FloatingPointError:
    lr = getattr(optimizer, "lr", None)
    lr_text = f" (now lr={lr:g})" if isinstance(lr, float) else ""
    return FloatingPointError(
        f"training diverged at epoch {epoch}/{epochs}, step {step}/{steps}: {what}. "
        f"The updates are too large; try a smaller learning rate{lr_text}, "
        "or scale the inputs (see tinygrad_edu.data.standardize)."
    )


def fit(
    model: Any,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: Callable[[Any, Any], Value] | str,
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    progress: bool = True,
    metrics: Sequence[str | Metric] | Mapping[str, Metric] | None = None,
) -> History:
    """Train ``model`` on rows ``X`` with targets ``y``; return the per-epoch ``History``.

    ``loss(preds, targets)`` is e.g. ``tinygrad_edu.losses.binary_cross_entropy`` (or its
    name as a string); ``optimizer`` e.g. ``SGD(model.parameters(), lr=0.1)``. ``batch_size``:
    ``None`` full batch, ``1`` stochastic, ``k`` mini-batches; with ``shuffle`` the order of
    the examples is reshuffled every epoch from ``random.Random(seed)``. ``progress`` shows a
    bar (tqdm when installed) with the epoch and loss; ``progress=False`` prints nothing.
    ``metrics``: ``["accuracy"]`` and/or functions ``metric(model, X, y) -> float``, measured
    on ``X, y`` after every epoch and stored in the history under their names.

    Raises ``FloatingPointError`` naming the epoch and step if the loss becomes NaN or
    infinite (or a number overflows): the usual cure is a smaller learning rate.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(
            f"fit: batch_size must be None (full batch) or a whole number >= 1, got {batch_size!r}"
        )
    rows = _as_list(X, "fit: X")
    targets = _as_list(y, "fit: y")
    if not rows:
        raise ValueError("fit: X is empty; there is nothing to train on")
    if len(rows) != len(targets):
        raise ValueError(
            f"fit: X has {len(rows)} rows but y has {len(targets)} targets; they must match"
        )
    rows = [_check_row(x, i) for i, x in enumerate(rows)]
    loss_fn = _resolve_loss(loss)
    if not (callable(getattr(optimizer, "step", None))
            and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(
            "fit: optimizer must have step() and zero_grad(), e.g. "
            "tinygrad_edu.optim.SGD(model.parameters(), lr=0.1)"
        )
    metric_fns = _resolve_metrics(metrics, loss_fn, targets)

    n = len(rows)
    bs = n if batch_size is None else min(batch_size, n)
    steps = math.ceil(n / bs)
    history = History(
        ["loss", *metric_fns],
        {"epochs": epochs, "batch_size": batch_size, "steps_per_epoch": steps, "n": n},
    )
    order = list(range(n))
    rng = random.Random(seed)
    unit = "epoch" if steps == 1 else "step"
    bar = _progress_bar(epochs * steps, unit, progress)
    try:
        for epoch in range(1, epochs + 1):
            if shuffle and steps > 1:
                rng.shuffle(order)
            bar.set_description_str(f"epoch {epoch}/{epochs}", refresh=False)
            total = 0.0
            for step in range(1, steps + 1):
                idx = order[(step - 1) * bs: step * bs]
                try:
                    J = loss_fn([model(rows[i]) for i in idx], [targets[i] for i in idx])
                    if not isinstance(J, Value):
                        raise TypeError(
                            f"fit: the loss must return a Value, got {type(J).__name__}"
                        )
                    value = J.data
                    if not -math.inf < value < math.inf:
                        raise _diverged(epoch, epochs, step, steps, f"the loss is {value}",
                                        optimizer)
                    optimizer.zero_grad()
                    J.backward()
                    optimizer.step()
                except OverflowError as err:
                    raise _diverged(epoch, epochs, step, steps, f"a number overflowed ({err})",
                                    optimizer) from err
                except FloatingPointError as err:
                    if str(err).startswith("training diverged"):
                        raise
                    raise _diverged(epoch, epochs, step, steps, str(err), optimizer) from err
                total += value * len(idx)
                if step < steps:
                    bar.update(1)
            epoch_loss = total / n
            history.history["loss"].append(epoch_loss)
            history.epoch.append(epoch)
            shown = [f"loss={epoch_loss:.4g}"]
            for name, fn in metric_fns.items():
                with no_grad():
                    score = float(fn(model, rows, targets))
                history.history[name].append(score)
                shown.append(f"{name}={score:.4g}")
            bar.set_postfix_str(", ".join(shown), refresh=False)
            bar.update(1)  # the epoch's last step, drawn with the epoch's numbers
    finally:
        bar.close()
    return history
