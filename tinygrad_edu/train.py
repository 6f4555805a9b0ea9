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
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

from tinygrad_edu import args, checks
from tinygrad_edu import losses as _losses
from tinygrad_edu.compile import TraceError, compile_step
from tinygrad_edu.engine import Value
from tinygrad_edu.grad_mode import no_grad

__all__ = ["History", "fit", "predict", "accuracy"]

Metric = Callable[[Any, Sequence[Any], Sequence[Any]], float]


class History:
    """What ``fit`` measured: ``history["loss"][e]`` is the mean training loss of epoch ``e+1``.

    ``.history`` maps ``"loss"`` and each metric name (e.g. ``"accuracy"``) to a list with one
    float per epoch; ``.epoch`` lists the epoch numbers (1, 2, ...); ``.params`` records the
    settings of the run. ``history["loss"]`` is a shortcut for ``history.history["loss"]``.
    """

    def __init__(self, names: Sequence[str] = ("loss",), params: Mapping[str, Any] | None = None):
        if isinstance(names, (str, bytes, Mapping, set, frozenset)) or \
                not isinstance(names, Iterable):
            raise TypeError(f"History: names must be a list of str like ['loss', 'accuracy'], "
                            f"got {type(names).__name__}")

        def name_of(i: int, name: object) -> str:
            if not isinstance(name, str):
                raise TypeError(f"History: names must be str, got {type(name).__name__}")
            return name

        names = args.items(names, "History: names", each=name_of)  # (range(10**20): refused)
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"History: params must be a dict or None, got {type(params).__name__}")
        if params is not None and _nan_inside(params):
            raise ValueError("History: params holds a NaN; record the settings of the run")
        self.history: dict[str, list[float]] = {name: [] for name in names}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = dict(params or {})

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.history:
            # KeyError, as for a dict; the message says what there is
            raise KeyError(f"no {name!r} in this History; it has {list(self.history)}")
        return self.history[name]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        def shown(v: Any) -> str:
            try:
                return format(v, ".4g")
            except (TypeError, ValueError, OverflowError):  # filled in by hand with anything
                return args.short(v)

        last = ", ".join(f"{k}={shown(v[-1])}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs{': ' + last if last else ''})"


# ---------------------------------------------------------------------------------------------
# Predictions and accuracy
# ---------------------------------------------------------------------------------------------
def _flag(value: Any, what: str) -> bool:
    """True or False (a NumPy bool too), or a clear TypeError: an array's truth is ambiguous."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_" and hasattr(value, "item"):
        return bool(value.item())
    raise TypeError(f"{what} must be True or False, got {type(value).__name__} "
                    f"{args.short(value)}")


def _nan_inside(obj: Any, depth: int = 0) -> bool:
    """A float NaN somewhere in (nested) lists, tuples or dicts."""
    if isinstance(obj, float) or type(obj).__name__.startswith("float"):
        return obj != obj
    if depth < 6 and isinstance(obj, (list, tuple)):
        return any(_nan_inside(v, depth + 1) for v in obj)
    if depth < 6 and isinstance(obj, Mapping):
        return any(_nan_inside(v, depth + 1) for v in obj.values())
    if hasattr(obj, "dtype") and hasattr(obj, "tolist"):  # a NumPy array or scalar
        return _nan_inside(obj.tolist(), depth + 1)
    return False


def _as_list(X: Any, what: str) -> list[Any]:
    X = args.plain(X, what)
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"{what} must be a list, got {type(X).__name__}")
    return args.items(X, what)  # (its length is asked first: range(10**18) is not read)


def _same_length(X: Any, y: Any, message: str) -> None:
    """Refuse rows and labels of different lengths before reading either (range(10**18))."""
    nx, ny = args.length(X), args.length(y)
    if nx is not None and ny is not None and nx != ny:
        raise ValueError(message.format(f"{nx:,}", f"{ny:,}"))


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
            f"accuracy: label {i} is {args.short(t)}; a model with one output needs labels 0/1 or "
            "-1/+1 (for classes 0..K-1 the model needs K outputs)"
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
    threshold = args.number(threshold, "accuracy: threshold")
    _same_length(X, y, "accuracy: {} rows in X but {} labels in y")
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
                    f"accuracy: label {i} is {args.short(t)}; with {len(out)} outputs labels "
                    f"must be class indices 0..{len(out) - 1}"
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
            raise ValueError(f"fit: unknown loss {args.short(loss)}; use one of "
                             f"{', '.join(_LOSS_NAMES)} or pass a function loss(preds, targets)")
        return _LOSS_NAMES[loss]
    if not callable(loss) or isinstance(loss, type):  # a class makes objects, not a loss
        raise TypeError(f"fit: loss must be a function loss(preds, targets), got "
                        f"{'the class ' if isinstance(loss, type) else ''}{args.short(loss)}")
    return loss


def _resolve_metrics(metrics: Any, loss: Any, y: list[Any]) -> dict[str, Metric]:
    metrics = args.scalar(metrics, "fit: metrics")  # (a 0-d array is one item, not a list)
    if metrics is None:
        return {}
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = [metrics]
    if not isinstance(metrics, Iterable):
        raise TypeError(f"fit: metrics must be a list like ['accuracy'], got "
                        f"{type(metrics).__name__} {args.short(metrics)}")
    items = metrics.items() if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    resolved: dict[str, Metric] = {}
    for name, m in items:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"fit: metric names must be str, got {type(name).__name__} "
                            f"{args.short(name)}")
        if isinstance(m, str) and m in ("accuracy", "acc"):
            # Raw scores (hinge loss, logits) and ±1 labels are split at 0, probabilities at 0.5.
            raw = loss in (_losses.hinge_loss, _losses.binary_cross_entropy_with_logits)
            pm1 = any(isinstance(t, Real) and t == -1 for t in y)
            threshold = 0.0 if raw or pm1 else 0.5

            def acc(model: Any, X: Any, y: Any, _t: float = threshold) -> float:
                return accuracy(model, X, y, _t)

            resolved[name or "accuracy"] = acc
        elif callable(m):
            resolved[name or str(getattr(m, "__name__", f"metric{len(resolved)}"))] = m
        else:
            raise ValueError(
                f"fit: unknown metric {args.short(m)}; use \"accuracy\" or a function "
                "metric(model, X, y) -> float"
            )
    if "loss" in resolved:
        raise ValueError("fit: a metric may not be called 'loss' (that name is the training loss)")
    return resolved


# ---------------------------------------------------------------------------------------------
# Checking what fit is given. Messages name rows as in the X and y the user passed (row 9 is
# X[9], y[9]), never as positions inside a shuffled batch.
# ---------------------------------------------------------------------------------------------
def _check_row(x: Any, i: int, where: str) -> Any:
    """Row ``i`` of ``where`` (e.g. "X") as given, or a clear error naming it."""
    x = args.plain(x, f"fit: {where}[{i}]")  # a NumPy row, a 0-d array or a NumPy scalar
    if isinstance(x, Value) or (isinstance(x, Real) and not isinstance(x, bool)):
        cells: Sequence[Any] = [x]
    elif isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"fit: {where}[{i}] must be a list of numbers, got {type(x).__name__} "
                        f"{args.short(x)}")
    else:
        cells = x
    for j, v in enumerate(cells):
        number = v.data if isinstance(v, Value) else v
        if isinstance(number, bool) or not isinstance(number, Real):
            raise TypeError(f"fit: {where}[{i}] holds {args.short(v)} ({type(v).__name__}), "
                            "not a number")
        if not -math.inf < number < math.inf:
            at = f"{where}[{i}]" if cells is not x else f"{where}[{i}][{j}]"
            raise ValueError(
                f"fit: {at} is {number}; inputs must be finite numbers (a missing value? drop "
                "that row or fill it in)"
            )
    return x


def _width(x: Any) -> int:
    return len(x) if isinstance(x, Sequence) else 1


def _validation_data(data: Any, width: int) -> tuple[list[Any], list[Any]]:
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or \
            hasattr(data, "shape"):
        raise TypeError(
            f"fit: validation_data must be a pair (X_val, y_val), got {type(data).__name__}"
        )
    if len(data) != 2:
        raise ValueError(
            f"fit: validation_data must be a pair (X_val, y_val), got {len(data)} items"
        )
    rows = _as_list(data[0], "fit: validation_data X_val")
    targets = _as_list(data[1], "fit: validation_data y_val")
    if not rows:
        raise ValueError("fit: validation_data X_val is empty")
    if len(rows) != len(targets):
        raise ValueError(
            f"fit: validation_data has {len(rows)} rows in X_val but {len(targets)} targets in "
            "y_val; they must match"
        )
    rows = [_check_row(x, i, "X_val") for i, x in enumerate(rows)]
    for i, x in enumerate(rows):
        if _width(x) != width:
            raise ValueError(
                f"fit: validation_data X_val[{i}] has {_width(x)} features but the rows of X "
                f"have {width}; validation rows must look like training rows"
            )
    return rows, targets


_HOOKS = ("on_train_begin", "on_epoch_end", "on_step_end")


def _resolve_callbacks(callbacks: Any) -> dict[str, list[Callable[..., Any]]]:
    """Each callback's hooks by name: a plain function is an ``on_epoch_end``."""
    hooks: dict[str, list[Callable[..., Any]]] = {name: [] for name in _HOOKS}
    if callbacks is None:
        return hooks
    if callable(callbacks) or any(hasattr(callbacks, h) for h in _HOOKS):
        callbacks = [callbacks]  # one callback given without its list
    if isinstance(callbacks, (str, bytes, Mapping)) or not isinstance(callbacks, Iterable):
        raise TypeError(
            f"fit: callbacks must be a list of callbacks, got {type(callbacks).__name__} "
            f"{args.short(callbacks)}"
        )
    for k, cb in enumerate(callbacks):
        methods = {h: getattr(cb, h) for h in _HOOKS if callable(getattr(cb, h, None))}
        if methods:
            for h, method in methods.items():
                hooks[h].append(method)
        elif callable(cb):
            hooks["on_epoch_end"].append(cb)
        else:
            raise TypeError(
                f"fit: callbacks[{k}] is {type(cb).__name__} {args.short(cb)}, which is not "
                "callable. A callback is a function callback(epoch, model, history), or an "
                "object with on_epoch_end(epoch, model, history) and/or on_step_end(epoch, step, "
                "model, loss) methods"
            )
    return hooks


def _reraise(err: Exception, message: str) -> Exception:
    """``err``'s kind of exception with a new message (its builtin base if that is awkward)."""
    for kind in (type(err), *type(err).__mro__[1:]):
        try:
            return kind(message)
        except Exception:
            continue
    return RuntimeError(message)  # pragma: no cover - Exception(message) always works


def _forward(model: Any, x: Any, i: int, where: str) -> Any:
    try:
        return model(x)
    except ArithmeticError:
        raise  # a numeric blow-up: fit reports it as divergence, with the epoch and step
    except (TypeError, ValueError, IndexError) as err:
        raise _reraise(err, f"fit: {where}[{i}]: {err}") from err


_POSITION = re.compile(r"\b(target|example|prediction) (\d+)\b")


def _call_loss(loss_fn: Callable[[Any, Any], Value], preds: list[Any], idx: Sequence[int],
               targets: Sequence[Any], xname: str, yname: str) -> Value:
    """The batch loss; the loss's own messages about "target 2" name that row's y[i]."""
    try:
        J = loss_fn(preds, [targets[i] for i in idx])
    except ArithmeticError:
        raise
    except (TypeError, ValueError, IndexError) as err:
        def row(m: re.Match[str]) -> str:
            j = int(m.group(2))
            if j >= len(idx):
                return m.group(0)
            i = idx[j]
            return {"target": f"{yname}[{i}]", "example": f"row {i}",
                    "prediction": f"the prediction for {xname}[{i}]"}[m.group(1)]

        text, found = _POSITION.subn(row, str(err))
        if not found:
            raise
        raise _reraise(err, f"fit: {text}") from err
    if not isinstance(J, Value):
        raise TypeError(f"fit: the loss must return a Value, got {type(J).__name__}")
    return J


def _progress_bar(total: int, unit: str, enabled: bool) -> Any:
    """tqdm's widget bar in Jupyter when ipywidgets imports, else its text bar, else ours.

    tqdm.auto would pick the widget bar in Jupyter even without ipywidgets and print
    "TqdmWarning: IProgress not found"; this never does.
    """
    if not enabled:
        return _NoBar()
    bar_class = _bar_class()
    if bar_class is None:
        return _TextBar(total, unit)
    return bar_class(total=total, unit=unit, desc="fit", leave=True, dynamic_ncols=True)


def _bar_class() -> Any:
    """The tqdm class to use here, or None without tqdm."""
    try:
        from tqdm import std
    except ImportError:
        return None
    if _in_jupyter():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm as notebook_bar
        except ImportError:
            pass
        else:
            return notebook_bar
    return std.tqdm


def _in_jupyter() -> bool:
    """Running in a Jupyter kernel (where tqdm.auto would choose the widget bar)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------
def _diverged(at: str, what: str, optimizer: Any) -> FloatingPointError:
    lr = getattr(optimizer, "lr", None)
    lr_text = f" (now lr={lr:g})" if isinstance(lr, float) else ""
    advice = ("" if "smaller learning rate" in what else  # (the error said it already)
              f" The updates are too large; try a smaller learning rate{lr_text}, or scale the "
              "inputs (see tinygrad_edu.data.standardize).")
    return FloatingPointError(f"training diverged at {at}: {what}.{advice} The history up to "
                              "the last whole epoch is in err.history.")


def _what_blew_up(err: ArithmeticError) -> str:
    text = str(err).removesuffix(" " + checks.TOO_LARGE_ADVICE).removesuffix(".")  # (advice: below)
    if isinstance(err, OverflowError):
        return f"a number overflowed ({text})"
    if isinstance(err, ZeroDivisionError):
        return f"a division by zero ({text})"
    return text


def fit(
    model: Any,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: Callable[[Any, Any], Value] | str,
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = 0,
    progress: bool = True,
    metrics: Sequence[str | Metric] | Mapping[str, Metric] | None = None,
    validation_data: tuple[Sequence[Any], Sequence[Any]] | None = None,
    callbacks: Sequence[Any] | None = None,
    compiled: bool | str = "auto",
) -> History:
    """Train ``model`` on rows ``X`` with targets ``y``; return the per-epoch ``History``.

    ``loss(preds, targets)`` is e.g. ``tinygrad_edu.losses.binary_cross_entropy`` (or its
    name as a string); ``optimizer`` e.g. ``SGD(model.parameters(), lr=0.1)``. ``batch_size``:
    ``None`` full batch, ``1`` stochastic, ``k`` mini-batches; with ``shuffle`` the order of
    the examples is reshuffled every epoch from ``random.Random(seed)``. ``progress`` shows a
    bar (tqdm when installed) with the epoch and loss; ``progress=False`` prints nothing.
    ``metrics``: ``["accuracy"]`` and/or functions ``metric(model, X, y) -> float``, measured
    on ``X, y`` after every epoch and stored in the history under their names.

    ``validation_data=(X_val, y_val)``: after every epoch the loss and each metric are also
    measured on these rows (no training on them) and stored as ``"val_loss"`` and
    ``"val_<metric>"``, as in Keras.

    ``callbacks``: a list of functions ``callback(epoch, model, history)``, called after every
    epoch (epochs count from 1; ``history`` already holds that epoch). A callback may instead
    be an object with any of these methods:

    - ``on_train_begin(model, history)``: once, before the first step;
    - ``on_epoch_end(epoch, model, history)``: after every epoch;
    - ``on_step_end(epoch, step, model, loss)``: after every optimizer step (steps count from
      1 within the epoch; ``loss`` is that batch's loss, a float, before the step).

    ``compiled="auto"`` (the default) records forward and backward once with
    ``tinygrad_edu.compile.compile_step`` and runs that generated code for every batch: the
    eager engine's numbers, several times faster. A model or loss it cannot compile (a
    micrograd closure op, a forward that keeps state between calls) trains eagerly instead;
    ``compiled=True`` raises ``tinygrad_edu.compile.TraceError`` then, ``compiled=False``
    always trains on the graph.

    Raises ``FloatingPointError`` naming the epoch and step if the loss becomes NaN or
    infinite, or any number overflows (also inside fused layers, or in the optimizer): the
    usual cure is a smaller learning rate. The error's ``history`` attribute is the History of
    the epochs completed before it (to plot the loss blowing up); ``epoch`` and ``step`` say
    where it happened.
    """
    epochs = args.whole(epochs, "fit: epochs", 1)
    if batch_size is not None:
        try:
            batch_size = args.whole(batch_size, "fit: batch_size", 1)
        except (TypeError, ValueError) as err:
            raise type(err)("fit: batch_size must be None (full batch) or a positive int, "
                            f"got {args.short(batch_size)}") from None
    if seed is not None:
        try:
            seed = args.whole(seed, "fit: seed", low=None)
        except TypeError:
            raise TypeError("fit: seed must be a whole number or None, got "
                            f"{type(seed).__name__} {args.short(seed)}") from None
    if not (isinstance(compiled, str) and compiled == "auto"):
        compiled = _flag(compiled, 'fit: compiled (True, False or "auto")')
    shuffle = _flag(shuffle, "fit: shuffle")
    progress = _flag(progress, "fit: progress")
    _same_length(X, y, "fit: X has {} rows but y has {} targets; they must match")
    rows = _as_list(X, "fit: X")
    targets = _as_list(y, "fit: y")
    if not rows:
        raise ValueError("fit: X is empty; there is nothing to train on")
    if len(rows) != len(targets):
        raise ValueError(
            f"fit: X has {len(rows)} rows but y has {len(targets)} targets; they must match"
        )
    rows = [_check_row(x, i, "X") for i, x in enumerate(rows)]
    loss_fn = _resolve_loss(loss)
    if not (callable(getattr(optimizer, "step", None))
            and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(
            "fit: optimizer must have step() and zero_grad(), e.g. "
            "tinygrad_edu.optim.SGD(model.parameters(), lr=0.1)"
        )
    metric_fns = _resolve_metrics(metrics, loss_fn, targets)
    val = None if validation_data is None else _validation_data(validation_data, _width(rows[0]))
    hooks = _resolve_callbacks(callbacks)
    step_fn = None
    if compiled is not False:
        try:
            step_fn = compile_step(model, loss_fn, rows[:8], targets[:8])  # recorded, checked
        except TraceError:
            if compiled is True:
                raise
        except Exception:  # noqa: BLE001 (bad data, a model that raises: the graph path
            pass  # below reports it in fit's words, naming the row)

    n = len(rows)
    bs = n if batch_size is None else min(batch_size, n)
    steps = math.ceil(n / bs)
    names = ["loss", *metric_fns]
    if val is not None:
        names += [f"val_{name}" for name in names]
    history = History(
        names,
        {"epochs": epochs, "batch_size": batch_size, "steps_per_epoch": steps, "n": n,
         "validation": None if val is None else len(val[0]), "compiled": step_fn is not None},
    )

    def graph_step(idx: list[int]) -> float:
        """The batch's graph and ``backward()``: the loss, and (if finite) the gradients."""
        preds = [_forward(model, rows[i], i, "X") for i in idx]
        J = _call_loss(loss_fn, preds, idx, targets, "X", "y")
        value = J.data
        if math.isfinite(value):
            optimizer.zero_grad()
            J.backward()
        return value

    def train_step(idx: list[int]) -> float:
        """One step on rows ``idx``: the batch loss, gradients, and (if finite) the update."""
        if step_fn is not None:  # (it runs graph_step where its code cannot: same numbers)
            optimizer.zero_grad()
            value = step_fn.run([rows[i] for i in idx], [targets[i] for i in idx],
                                eager=lambda: graph_step(idx))
        else:
            value = graph_step(idx)
        if math.isfinite(value):
            optimizer.step()
        return value

    def measure(epoch: int) -> list[str]:
        """Metrics (and validation numbers) after an epoch, stored in the history."""
        shown = []
        for name, fn in metric_fns.items():
            with no_grad():
                score = float(fn(model, rows, targets))
            history.history[name].append(score)
            shown.append(f"{name}={score:.4g}")
        if val is None:
            return shown
        vrows, vtargets = val
        try:
            with no_grad():
                preds = [_forward(model, x, i, "X_val") for i, x in enumerate(vrows)]
                vloss = _call_loss(loss_fn, preds, range(len(vrows)), vtargets, "X_val",
                                   "y_val").data
        except ArithmeticError as err:
            raise fail(f"epoch {epoch}/{epochs}, measuring the validation loss",
                       _what_blew_up(err), epoch, None) from err
        history.history["val_loss"].append(vloss)
        shown.append(f"val_loss={vloss:.4g}")
        for name, fn in metric_fns.items():
            with no_grad():
                score = float(fn(model, vrows, vtargets))
            history.history[f"val_{name}"].append(score)
            shown.append(f"val_{name}={score:.4g}")
        return shown

    def fail(at: str, what: str, epoch: int, step: int | None) -> FloatingPointError:
        err = _diverged(at, what, optimizer)
        err.history = history  # type: ignore[attr-defined]
        err.epoch, err.step = epoch, step  # type: ignore[attr-defined]
        # metrics of an epoch cut short are not kept: every list holds whole epochs only
        for series in history.history.values():
            del series[len(history.epoch):]
        return err

    order = list(range(n))
    rng = random.Random(seed)
    unit = "epoch" if steps == 1 else "step"
    for hook in hooks["on_train_begin"]:
        hook(model, history)
    bar = _progress_bar(epochs * steps, unit, progress)
    try:
        for epoch in range(1, epochs + 1):
            if shuffle and steps > 1:
                rng.shuffle(order)
            bar.set_description_str(f"epoch {epoch}/{epochs}", refresh=False)
            total = 0.0
            for step in range(1, steps + 1):
                idx = order[(step - 1) * bs: step * bs]
                at = f"epoch {epoch}/{epochs}, step {step}/{steps}"
                try:
                    value = train_step(idx)
                except ArithmeticError as err:  # overflow, NaN, 0-division, refused update
                    raise fail(at, _what_blew_up(err), epoch, step) from err
                if not math.isfinite(value):
                    raise fail(at, f"the loss is {value}", epoch, step)
                total += value * len(idx)
                for hook in hooks["on_step_end"]:
                    hook(epoch, step, model, value)
                if step < steps:
                    bar.update(1)
            shown = [f"loss={total / n:.4g}"]
            history.history["loss"].append(total / n)
            shown += measure(epoch)
            history.epoch.append(epoch)
            bar.set_postfix_str(", ".join(shown), refresh=False)
            bar.update(1)  # the epoch's last step, drawn with the epoch's numbers
            for hook in hooks["on_epoch_end"]:
                hook(epoch, model, history)
    finally:
        bar.close()
    return history
