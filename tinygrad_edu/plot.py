"""Training plots with matplotlib: loss curves, decision boundaries, loss landscapes.

Every function returns the matplotlib ``Figure`` it drew on, so a notebook shows it by leaving
it as the last expression of a cell, and a script saves it with ``fig.savefig("loss.png")``.
Pass ``ax=`` to draw into axes you made yourself (the function then returns ``ax.figure``).
Nothing here calls ``plt.show()``; figures made here are not kept open by pyplot (no "too many
open figures" warnings from loops).

Needs matplotlib: ``pip install 'tinygrad_edu[plot]'``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import operator
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

try:
    import matplotlib
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
except ImportError as _err:  # pragma: no cover - exercised by a test that blocks the import
    raise ImportError(
        "tinygrad_edu.plot needs matplotlib, which is part of the 'plot' extra: "
        "pip install 'tinygrad_edu[plot]' (or pip install matplotlib)"
    ) from _err

from tinygrad_edu.engine import Value
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.train import _flag, _short

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_loss_landscape",
    "descent_path",
    "batch_descent_path",
    "plot_activations",
    "plot_neuron_maps",
    "FrameAnimation",
    "TrainingRecorder",
    "DescentAnimation",
    "animate_descent_paths",
]

_PASS = "#2ca02c"  # green
_FAIL = "#d62728"  # red
_PASS_BG = "#c7ecc7"
_FAIL_BG = "#f6caca"


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax`` itself, or the axes of a new figure that pyplot does not track."""
    if ax is not None:
        return ax
    fig = _new_figure(figsize)
    return fig.add_subplot()


def _axes_list(ax: Any) -> list[Any]:
    """A flat list of Axes from a list or (nested) array of Axes, as ``plt.subplots`` gives."""
    out: list[Any] = []
    stack = [ax]
    while stack:
        item = stack.pop()
        if hasattr(item, "plot"):
            out.append(item)
        else:
            stack.extend(reversed(list(item)))
    return out


def _new_figure(figsize: tuple[float, float]) -> Figure:
    """A new Figure that pyplot does not keep open.

    Made by pyplot, so the active backend is loaded (in Jupyter that is what makes a returned
    Figure display inline), then closed at once: pyplot forgets it (no "too many open
    figures", no second copy shown at the end of the cell), yet it can still be displayed,
    drawn on and saved.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig


def _legend_outside(ax: Any, fontsize: float = 8) -> Any:
    """A legend just right of the axes (outside, so it covers no data).

    Constrained layout (figures made here) and ``tight_layout`` make room for it.
    """
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     fontsize=fontsize, framealpha=0.9)


def _whole(value: Any, what: str, low: int) -> int:
    """An integer-like argument (int, NumPy integer; not bool or float) as an int >= low."""
    n = None
    if not isinstance(value, bool):
        try:
            n = operator.index(value)
        except TypeError:
            n = None
    if n is None or n < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {_short(value)}")
    return n


def _number(value: Any, what: str, finite: bool = True) -> float:
    """A real number (int, float, NumPy scalar or Value) as a float, or a clear error."""
    if isinstance(value, Value):
        value = value.data
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {_short(value)}")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float") from None
    if finite and not math.isfinite(f):
        raise ValueError(f"{what} must be a finite number, got {f}")
    return f


def _sequence(x: Any, what: str) -> list[Any]:
    """A list, tuple or NumPy array as a list, or a clear TypeError (not str, dict, set...)."""
    if hasattr(x, "tolist") and callable(x.tolist) and not isinstance(x, (list, tuple)):
        x = x.tolist()
    if isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Sequence):
        raise TypeError(f"{what} must be a list, got {type(x).__name__} {_short(x)}")
    return list(x)


def _pair(x: Any, what: str) -> tuple[float, float]:
    """Two finite numbers, e.g. a point (w0, w1) or a range (low, high)."""
    items = _sequence(x, what)
    if len(items) != 2:
        raise ValueError(f"{what} must be two numbers, got {len(items)}: {_short(x)}")
    return _number(items[0], f"{what}[0]"), _number(items[1], f"{what}[1]")


def _range(x: Any, what: str) -> tuple[float, float]:
    lo, hi = _pair(x, what)
    if not lo < hi:
        raise ValueError(f"{what} must be (low, high) with low < high, got {_short(x)}")
    return lo, hi


def _names(x: Any, what: str, n: int | None = None) -> list[str]:
    """A list of str (axis labels, class names); a single str is not a list of names."""
    items = _sequence(x, what)
    if n is not None and len(items) != n:
        raise ValueError(f"{what} must be {n} names, got {len(items)}: {_short(x)}")
    for i, name in enumerate(items):
        if not isinstance(name, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(name).__name__}")
    return items


def _callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} must be a function, got {type(fn).__name__} {_short(fn)}")


def _title(title: Any) -> str | None:
    if title is None or isinstance(title, str):
        return title
    raise TypeError(f"title must be a str or None, got {type(title).__name__} {_short(title)}")


def _positive(value: Any, what: str) -> float:
    f = _number(value, what)
    if f <= 0:
        raise ValueError(f"{what} must be > 0, got {f}")
    return f


# ---------------------------------------------------------------------------------------------
# Loss and metrics per epoch
# ---------------------------------------------------------------------------------------------
def _series(values: Any, where: str) -> list[float]:
    """One per-epoch series (a list, tuple or NumPy array of numbers) as floats."""
    if hasattr(values, "tolist") and callable(values.tolist) and \
            not isinstance(values, (list, tuple)):
        values = values.tolist()
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(
            f"{where} must be a list of numbers (one per epoch), got {type(values).__name__}"
        )
    out = []
    for k, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{where}[{k}] is {_short(v)} ({type(v).__name__}), not a number")
        out.append(_number(v, f"{where}[{k}]", finite=False))  # a gap in the curve: fine
    return out


def _as_series(h: Any, what: str) -> dict[str, list[float]]:
    data = getattr(h, "history", h)
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{what} must be a train.History (with .history) or a dict mapping names like "
            f"'loss' to per-epoch lists of numbers, got {type(h).__name__}"
        )
    return {str(key): _series(values, f"{what}[{_short(key)}]") for key, values in data.items()}


def _is_run(value: Any) -> bool:
    """A whole run (a History or a dict of series), as opposed to one series."""
    return hasattr(value, "history") or isinstance(value, Mapping)


def plot_history(
    history: Any,
    ax: Any = None,
    metrics: Sequence[str] | None = None,
    logy: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Loss and metrics per epoch, training and validation together.

    Args:
        history: a ``train.History`` (its ``.history`` dict), a dict of per-epoch lists (or
            NumPy arrays) such as ``{"loss": [...], "accuracy": [...]}``, or several of those
            labelled by name, e.g. ``{"GD": h1, "SGD": h2, "mini-batch": h3}`` to compare runs.
        ax: an Axes to draw everything into, or a sequence of Axes (one per metric). By
            default a new figure gets one panel per metric, side by side.
        metrics: which keys to plot (default: all, ``"loss"`` first).
        logy: logarithmic y axis for keys containing "loss" (useful when it falls fast).
        title: figure title.

    A validation series (``"val_loss"``, ``"val_accuracy"``, from ``fit(validation_data=...)``)
    is drawn dashed in the panel of its training series, in the same colour.

    Returns:
        the Figure.
    """
    logy = _flag(logy, "plot_history: logy")
    title = _title(title)
    if hasattr(history, "history") or (
        isinstance(history, Mapping) and not any(_is_run(v) for v in history.values())
    ):
        runs = {"": _as_series(history, "history")}
    elif isinstance(history, Mapping):
        if not all(_is_run(v) for v in history.values()):
            raise TypeError(
                "plot_history: a dict must hold either per-epoch lists ({'loss': [...]}) or "
                "whole runs ({'GD': history, ...}), not both"
            )
        runs = {str(name): _as_series(h, f"history[{_short(name)}]") for name, h in history.items()}
    else:
        raise TypeError(
            "plot_history needs a History, a dict of per-epoch lists, or a dict of those "
            f"labelled by name; got {type(history).__name__}"
        )
    keys: list[str] = []
    for series in runs.values():
        for k in series:
            if k not in keys:
                keys.append(k)
    keys = sorted(keys, key=lambda k: k != "loss")  # stable: loss first, rest in order
    if metrics is not None:
        if isinstance(metrics, str):
            metrics = [metrics]
        missing = [m for m in metrics if m not in keys]
        if missing:
            raise KeyError(f"plot_history: no {missing} in the history; it has {keys}")
        panels = list(metrics)
    else:  # a validation series joins the panel of its training series
        panels = [k for k in keys if not (k.startswith("val_") and k[4:] in keys)]
    paired = {k: f"val_{k}" for k in panels if f"val_{k}" in keys and f"val_{k}" not in panels}
    if not any(series.get(k) for series in runs.values() for k in [*panels, *paired.values()]):
        raise ValueError(
            "plot_history: the history is empty, no epoch was recorded (train for at least "
            "one epoch, or check the History you passed)"
        )

    if ax is None:
        extra = 1.4 if len(runs) > 1 or paired else 0.0  # room for the legend right of the plot
        fig = _new_figure(figsize or (4.6 * len(panels) + extra, 3.4))
        axes = list(fig.subplots(1, len(panels), squeeze=False)[0])
    elif hasattr(ax, "plot"):
        axes = [ax] * len(panels)
        fig = ax.figure
    else:
        axes = _axes_list(ax)
        if len(axes) != len(panels):
            raise ValueError(
                f"plot_history: got {len(axes)} axes for {len(panels)} metrics {panels}"
            )
        fig = axes[0].figure

    one_axes = len(set(map(id, axes))) == 1 and len(panels) > 1
    for key, a in zip(panels, axes):
        for name, series in runs.items():
            colour = None
            for which, skey in (("train", key), ("validation", paired.get(key))):
                ys = series.get(skey or "")
                if not ys:
                    continue
                parts = [name] if name else []
                if one_axes or not (name or key in paired):
                    parts.append(key)
                if key in paired:
                    parts.append(which)
                label = " ".join(parts)
                (line,) = a.plot(range(1, len(ys) + 1), ys, "-" if which == "train" else "--",
                                 marker="o" if len(ys) <= 30 else None, markersize=3,
                                 label=label, color=colour)
                colour = line.get_color()  # validation: the same colour as its training run
        if logy and "loss" in key:
            _log_axis(a)
        a.set_xlabel("epoch")
        if not one_axes:
            a.set_ylabel(key)
            a.set_title(key)
        a.grid(True, alpha=0.3)
    # The legend goes outside, to the right of the axes, so it never covers a curve. Panels
    # side by side with the same entries share one legend, next to the last of them.
    if len(runs) > 1 or one_axes or paired:
        entries = [tuple(a.get_legend_handles_labels()[1]) for a in axes]
        for n, a in enumerate(axes):
            if any(b is a for b in axes[n + 1:]):
                continue  # one Axes for every metric: one legend, drawn once
            later = [e for b, e in zip(axes[n + 1:], entries[n + 1:]) if b is not a]
            if later and later[-1] == entries[n]:
                continue  # the last panel shows the same legend
            _legend_outside(a)
    if title:
        fig.suptitle(title)
    return fig


def _log_axis(ax: Any) -> None:
    """A log y axis, limits a factor 2 beyond the data, never past the largest float.

    matplotlib's own margins and decade ticks overflow for a loss near 1e306 (a diverged
    run), which left an empty plot.
    """
    values = [float(v) for line in ax.lines for v in line.get_ydata()
              if 0 < float(v) < math.inf]
    if not values:
        ax.set_yscale("log")
        return
    lo, hi = min(values) / 2, min(max(values) * 2, sys.float_info.max)
    ax.set_ylim(lo, hi)  # before the scale: it turns off the autoscaling that overflows
    ax.set_yscale("log")
    if hi > 1e250:  # matplotlib's LogLocator overflows up there: place the decades ourselves
        from matplotlib.ticker import FixedLocator, NullLocator

        first, last = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
        step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if (last - first) / s <= 7)
        decades = range(-(-first // step) * step, last + 1, step)  # multiples of step
        ax.yaxis.set_major_locator(FixedLocator([10.0**k for k in decades]))
        ax.yaxis.set_minor_locator(NullLocator())


# ---------------------------------------------------------------------------------------------
# Decision regions of a 2-input classifier (plot_decision_boundary, neuron maps, recorder)
# ---------------------------------------------------------------------------------------------
def _rows(X: Any, who: str) -> list[tuple[float, float]]:
    """The rows of X as points (x1, x2): two finite numbers each."""
    rows = []
    for i, row in enumerate(_sequence(X, f"{who}: X")):
        vals = _sequence(row, f"{who}: X[{i}]")
        if len(vals) != 2:
            raise ValueError(f"{who} draws 2-D inputs; row {i} of X has {len(vals)} features")
        rows.append((_number(vals[0], f"{who}: X[{i}][0]"),
                     _number(vals[1], f"{who}: X[{i}][1]")))
    if not rows:
        raise ValueError(f"{who}: X is empty")
    return rows


def _labels(y: Any, n_rows: int, who: str) -> list[float]:
    """Labels as numbers (booleans count as 0/1), as many as rows."""
    ys = _sequence(y, f"{who}: y")
    if len(ys) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(ys)} labels")
    return [float(t) if isinstance(t, bool) else _number(t, f"{who}: y[{i}]")
            for i, t in enumerate(ys)]


def _scores(out: Any) -> list[float]:
    if isinstance(out, Value):
        return [out.data]
    if isinstance(out, Real) and not isinstance(out, bool):
        return [_number(out, "the model's output", finite=False)]
    if isinstance(out, Sequence) and not isinstance(out, str) and out:
        return [_number(o, f"the model's output {k}", finite=False) for k, o in enumerate(out)]
    raise TypeError(
        f"the model must return a Value (binary) or a list of Values (one score per class), "
        f"got {type(out).__name__}"
    )


def _output_activation(model: Any) -> str:
    """The activation of the model's last neurons, when the model says (else "")."""
    while hasattr(model, "layers") and model.layers:
        model = model.layers[-1]
    return str(getattr(model, "activation", "") or "")


class _Plane:
    """A grid over the input plane, covering the data plus ``padding`` on every side."""

    def __init__(self, points: Sequence[tuple[float, float]], resolution: int, padding: float,
                 bounds: Any = None) -> None:
        if bounds is not None:
            ranges = _sequence(bounds, "bounds")
            if len(ranges) != 2:
                raise ValueError("bounds must be ((x1_low, x1_high), (x2_low, x2_high)), got "
                                 f"{_short(bounds)}")
            (lo0, hi0), (lo1, hi1) = _range(ranges[0], "bounds[0]"), _range(ranges[1],
                                                                               "bounds[1]")
        else:
            lo0, hi0 = min(p[0] for p in points), max(p[0] for p in points)
            lo1, hi1 = min(p[1] for p in points), max(p[1] for p in points)
            padding = _number(padding, "padding")
            if padding < 0:
                raise ValueError(f"padding must be >= 0, got {padding}")
            pad0 = (hi0 - lo0) * padding or 1.0
            pad1 = (hi1 - lo1) * padding or 1.0
            lo0, hi0, lo1, hi1 = lo0 - pad0, hi0 + pad0, lo1 - pad1, hi1 + pad1
        self.limits = (lo0, hi0, lo1, hi1)
        if not all(math.isfinite(v) for v in self.limits):
            raise ValueError("the points span a range too large to draw (beyond the largest "
                             "float); scale them down")
        self.g0 = [lo0 + (hi0 - lo0) * i / (resolution - 1) for i in range(resolution)]
        self.g1 = [lo1 + (hi1 - lo1) * j / (resolution - 1) for j in range(resolution)]

    def evaluate(self, fn: Callable[[float, float], Any]) -> list[list[Any]]:
        """``fn`` at every grid point: rows follow x2 (``g1``), columns x1 (``g0``)."""
        g0 = self.g0
        return [[fn(a, b) for a in g0] for b in self.g1]

    def frame(self, ax: Any, axis_labels: Sequence[str]) -> None:
        lo0, hi0, lo1, hi1 = self.limits
        ax.set_xlim(lo0, hi0)
        ax.set_ylim(lo1, hi1)
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])


class _Classifier:
    """How to read a model's output as a class: one output against a threshold, or argmax."""

    def __init__(self, model: Callable[[Any], Any], probe: list[float],
                 threshold: float | None) -> None:
        _callable(model, "model")
        if threshold is not None:
            threshold = _number(threshold, "threshold")
        out = model(list(probe))
        first = _scores(out)
        self.model = model
        self.n_classes = len(first) if len(first) > 1 else 2
        self.multiclass = len(first) > 1
        if not self.multiclass and threshold is None:
            sigmoid = isinstance(out, Value) and out.op == "sigmoid"
            threshold = 0.5 if sigmoid or _output_activation(model) == "sigmoid" else 0.0
        self.threshold = threshold

    def scores(self, plane: _Plane) -> list[list[Any]]:
        """Binary: the output at every grid point; multi-class: the class (argmax)."""
        model = self.model
        with no_grad():
            if self.multiclass:
                def best(a: float, b: float) -> int:
                    s = _scores(model([a, b]))
                    return max(range(len(s)), key=s.__getitem__)

                return plane.evaluate(best)
            return plane.evaluate(lambda a, b: _scores(model([a, b]))[0])

    def classify(self, x0: float, x1: float) -> int:
        with no_grad():
            s = _scores(self.model([x0, x1]))
        if self.multiclass:
            return max(range(len(s)), key=s.__getitem__)
        return int(s[0] > self.threshold)  # type: ignore[operator]


def _class_names(class_names: Sequence[str] | None, n: int) -> list[str]:
    if class_names is None:
        return [f"class {k}" for k in range(n)]
    if isinstance(class_names, str):
        raise TypeError(f"class_names must be a list of {n} names, got the str "
                        f"{_short(class_names)}")
    return _names(class_names, "class_names (one per class, negative first for one output)", n)


def _check_classes(ys: list[float], clf: _Classifier, who: str) -> None:
    """Multi-class labels must be class indices the model has."""
    if not clf.multiclass:
        return
    for i, t in enumerate(ys):
        if not (t.is_integer() and 0 <= t < clf.n_classes):
            raise ValueError(f"{who}: y[{i}] is {t:g}, but the model's {clf.n_classes} outputs "
                             f"are classes 0..{clf.n_classes - 1}")


def _class_colours(n: int) -> list[Any]:
    if n == 2:
        return [_FAIL, _PASS]
    cmap = matplotlib.colormaps["tab10"]
    return [cmap(k % 10) for k in range(n)]


def _draw_regions(ax: Any, plane: _Plane, grid: list[list[Any]], clf: _Classifier) -> list[Any]:
    """Coloured class regions and (binary) the boundary line; returns the artists drawn."""
    g0, g1 = plane.g0, plane.g1
    if clf.multiclass:
        n = clf.n_classes
        cs = ax.contourf(g0, g1, grid, levels=[k - 0.5 for k in range(n + 1)],
                         colors=_class_colours(n), alpha=0.25)
        return [cs]
    # Regions from the output itself (not a 0/1 grid), so the boundary is a smooth line
    # where the output crosses the threshold.
    t = clf.threshold
    flat = [v for row in grid for v in row]
    lo, hi = min(min(flat), t), max(max(flat), t)  # type: ignore[type-var]
    artists = [ax.contourf(g0, g1, grid, levels=[lo - 1.0, t, hi + 1.0],
                           cmap=ListedColormap([_FAIL_BG, _PASS_BG]))]
    if min(flat) < t < max(flat):  # type: ignore[operator]
        artists.append(ax.contour(g0, g1, grid, levels=[t], colors="#555555", linewidths=1.2))
    return artists


def _class_of(t: float, multiclass: bool) -> int:
    return int(t) if multiclass else int(t > 0)


def _draw_points(ax: Any, rows: Sequence[tuple[float, float]], ys: Sequence[Any], names: list[str],
                 multiclass: bool, size: float = 30) -> None:
    colours = _class_colours(len(names))
    classes = [_class_of(t, multiclass) for t in ys]
    for k, (colour, name) in enumerate(zip(colours, names)):
        pts = [r for r, c in zip(rows, classes) if c == k]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colour,
                       edgecolor="black", linewidth=0.5, s=size, label=name, zorder=3)


def plot_decision_boundary(
    model: Callable[[list[float]], Any],
    X: Any,
    y: Sequence[Any],
    query: tuple[float, float] | None = None,
    ax: Any = None,
    resolution: int = 60,
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
    padding: float = 0.1,
    query_label: str = "you",
    axis_labels: tuple[str, str] = ("x1", "x2"),
    title: str | None = None,
    figsize: tuple[float, float] = (5.0, 4.2),
    labels: Sequence[str] | None = None,
) -> Figure:
    """The regions a 2-input classifier assigns to each class, with the data points on top.

    The model is evaluated (under ``no_grad``) on a ``resolution × resolution`` grid covering
    the data plus ``padding`` (a fraction of the data's range) on every side.

    - One output (binary): class 1 (green) where the output is above the threshold, class 0
      (red) elsewhere. The threshold is 0.5 when the model's output node is a sigmoid (a
      probability), else 0 (a score or logit, as with hinge loss); pass ``threshold=`` to
      override. Labels ``y`` may be 0/1, -1/+1 or booleans: positive means class 1.
    - Several outputs (multi-class): each point of the grid takes the class of the largest
      output (argmax); ``y`` holds class indices.

    Args:
        model: called as ``model([x1, x2])``; returns a Value or a list of Values.
        X: rows of two numbers; y: the matching labels.
        query: an optional point to mark with a star and ``query_label`` ("you") and the
            class the model gives it.
        class_names: one name per class for the legend, e.g. ``("fail", "pass")``; by default
            ``"class 0"``, ``"class 1"``, ... (``labels=`` is the old name of this argument).
        resolution: grid points per axis (the engine is scalar: 60 means 3600 forward passes).

    Returns:
        the Figure.
    """
    if labels is not None:
        if class_names is not None:
            raise TypeError("give class_names or labels (its old name), not both")
        class_names = labels
    resolution = _whole(resolution, "resolution", 2)
    rows = _rows(X, "plot_decision_boundary")
    ys = _labels(y, len(rows), "plot_decision_boundary")
    if query is not None:
        query = _pair(query, "query")
    query_label = str(query_label)
    axis_labels = _names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    title = _title(title)
    clf = _Classifier(model, list(rows[0]), threshold)
    names = _class_names(class_names, clf.n_classes)
    _check_classes(ys, clf, "plot_decision_boundary")
    plane = _Plane(rows + ([query] if query is not None else []), resolution, padding)
    grid = clf.scores(plane)

    ax = _new_axes(ax, figsize)
    fig = ax.figure
    _draw_regions(ax, plane, grid, clf)
    _draw_points(ax, rows, ys, names, clf.multiclass)
    if query is not None:
        k = clf.classify(query[0], query[1])
        ax.scatter([query[0]], [query[1]], marker="*", s=260, color="#ffd700",
                   edgecolor="black", linewidth=1.0, zorder=5, label=f"{query_label}: {names[k]}")
        ax.annotate(query_label, (query[0], query[1]), textcoords="offset points",
                    xytext=(8, 8), fontsize=10, fontweight="bold")
    plane.frame(ax, axis_labels)
    _legend_outside(ax)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Loss landscape J(w0, w1) and the path gradient descent walks on it
# ---------------------------------------------------------------------------------------------
def _loss_value(loss_fn: Callable[..., Any], w0: Any, w1: Any) -> float:
    out = loss_fn(w0, w1)
    if isinstance(out, Value):
        return out.data
    value = _number(out, "loss_fn's result", finite=False)
    if value != value:
        raise ValueError(f"loss_fn({float(w0):g}, {float(w1):g}) is nan; draw a range where "
                         "the loss is defined")
    return value


def _learning_rate(lr: Any, who: str) -> float:
    try:
        rate = _number(lr, f"{who}: lr")
    except (TypeError, ValueError):
        rate = -1.0
    if not rate > 0:
        raise ValueError(f"{who}: lr must be a finite number > 0, got {_short(lr)}")
    return rate


def _gradient_step(loss: Any, a: Value, b: Value, lr: float, who: str,
                   done: int) -> tuple[float, float]:
    """``(w0, w1) - lr * grad`` after ``loss.backward()``, or an error if it diverged."""
    if not isinstance(loss, Value):
        raise TypeError(
            f"{who}: loss_fn must build its result from the Values it gets, "
            f"got {type(loss).__name__}"
        )
    loss.backward()
    w0, w1 = a.data - lr * a.grad, b.data - lr * b.grad
    if not (math.isfinite(w0) and math.isfinite(w1)):
        raise OverflowError(
            f"{who} diverged after {done} steps (w = {w0}, {w1}); use a smaller lr"
        )
    return w0, w1


def descent_path(
    loss_fn: Callable[[Value, Value], Value],
    start: tuple[float, float],
    lr: float,
    steps: int,
) -> list[tuple[float, float]]:
    """Run gradient descent on ``J(w0, w1) = loss_fn(w0, w1)`` and record where it walks.

    Each step computes J with ``Value``s, calls ``backward()`` and moves downhill:
    ``w <- w - lr * dJ/dw``. Returns the ``steps + 1`` points ``(w0, w1)``, start included,
    ready for ``plot_loss_landscape(..., path=...)``.
    """
    _callable(loss_fn, "descent_path: loss_fn")
    steps = _whole(steps, "descent_path: steps", 0)
    lr = _learning_rate(lr, "descent_path")
    w0, w1 = _pair(start, "descent_path: start")
    path = [(w0, w1)]
    for _ in range(steps):
        a, b = Value(w0, "w0"), Value(w1, "w1")
        w0, w1 = _gradient_step(loss_fn(a, b), a, b, lr, "descent_path", len(path))
        path.append((w0, w1))
    return path


def batch_descent_path(
    loss_fn: Callable[[Value, Value, list[int]], Value],
    n: int,
    start: tuple[float, float],
    lr: float,
    epochs: int,
    batch_size: int | None = None,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """The path of gradient descent (``batch_size=None``), SGD (``1``) or mini-batches (``k``).

    ``loss_fn(w0, w1, batch)`` is the mean loss over the examples whose indices are in
    ``batch`` (a list of ints from ``range(n)``). Every epoch visits the ``n`` examples once,
    in an order reshuffled from ``random.Random(seed)`` as ``fit`` does, one step per batch.
    Returns the start and the point after every step: ``1 + epochs * ceil(n / batch_size)``
    points, for :func:`animate_descent_paths` or ``plot_loss_landscape(path=...)``.
    """
    _callable(loss_fn, "batch_descent_path: loss_fn")
    n = _whole(n, "batch_descent_path: n", 1)
    epochs = _whole(epochs, "batch_descent_path: epochs", 0)
    bs = n if batch_size is None else min(_whole(batch_size, "batch_descent_path: batch_size",
                                                 1), n)
    lr = _learning_rate(lr, "batch_descent_path")
    if seed is not None:
        seed = _whole(seed, "batch_descent_path: seed", -(2**63))
    rng = random.Random(seed)
    order = list(range(n))
    w0, w1 = _pair(start, "batch_descent_path: start")
    path = [(w0, w1)]
    for _ in range(epochs):
        if bs < n:
            rng.shuffle(order)
        for first in range(0, n, bs):
            a, b = Value(w0, "w0"), Value(w1, "w1")
            loss = loss_fn(a, b, order[first:first + bs])
            w0, w1 = _gradient_step(loss, a, b, lr, "batch_descent_path", len(path))
            path.append((w0, w1))
    return path


def _landscape(loss_fn: Callable[..., Any], w0_range: Any, w1_range: Any,
               pts: list[tuple[float, float]], resolution: int,
               ) -> tuple[list[float], list[float], list[list[float]]]:
    """The loss on a grid over (w0, w1): ranges default to the path's extent plus a margin."""
    _callable(loss_fn, "loss_fn")
    ranges = [None if r is None else _range(r, name)
              for r, name in ((w0_range, "w0_range"), (w1_range, "w1_range"))]
    for i in (0, 1):
        if ranges[i] is None:
            if not pts:
                raise ValueError("plot_loss_landscape needs w0_range and w1_range (or a path)")
            lo, hi = min(p[i] for p in pts), max(p[i] for p in pts)
            margin = 0.2 * (hi - lo) or 1.0
            ranges[i] = (lo - margin, hi + margin)
    (a0, b0), (a1, b1) = ranges  # type: ignore[misc]
    if not all(math.isfinite(v) for v in (a0, b0, a1, b1)):
        raise ValueError("the path spans a range too large to draw; give w0_range, w1_range")
    g0 = [a0 + (b0 - a0) * i / (resolution - 1) for i in range(resolution)]
    g1 = [a1 + (b1 - a1) * j / (resolution - 1) for j in range(resolution)]
    with no_grad():
        try:
            _loss_value(loss_fn, Value(g0[0]), Value(g1[0]))
            wrap = True
        except TypeError:
            wrap = False  # a float-only function such as one using math.exp
        if wrap:
            Z = [[_loss_value(loss_fn, Value(u), Value(v)) for u in g0] for v in g1]
        else:
            Z = [[_loss_value(loss_fn, u, v) for u in g0] for v in g1]
    return g0, g1, Z


def _log_levels(Z: list[list[float]], levels: int) -> list[float]:
    positive = [z for row in Z for z in row if z > 0]
    if not positive:
        lowest = min(z for row in Z for z in row)
        raise ValueError(
            "plot_loss_landscape(logscale=True) needs positive loss values, but none on this "
            f"grid is > 0 (the smallest is {lowest:g}); use logscale=False"
        )
    zmin, zmax = min(positive), max(positive)
    if zmax <= zmin:
        zmax = zmin * 10
    return [zmin * (zmax / zmin) ** (k / levels) for k in range(levels + 1)]


def plot_loss_landscape(
    loss_fn: Callable[..., Any],
    w0_range: tuple[float, float] | None = None,
    w1_range: tuple[float, float] | None = None,
    path: Sequence[tuple[float, float]] | None = None,
    ax: Any = None,
    resolution: int = 50,
    levels: int = 20,
    logscale: bool = False,
    axis_labels: tuple[str, str] = ("w0", "w1"),
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    kind: str = "contour",
    view: tuple[float, float] = (35.0, -60.0),
) -> Figure:
    """The loss surface ``J(w0, w1)``, as a contour map or a 3-D surface, with a descent path.

    Args:
        loss_fn: ``loss_fn(w0, w1)`` -> a number or a Value. It is called with Values
            (under ``no_grad``), so the same function works for :func:`descent_path`; a
            function that only accepts floats is called with floats instead.
        w0_range, w1_range: ``(low, high)`` of each axis; when omitted, the path's extent
            plus a margin.
        path: points ``(w0, w1)`` to draw as a walk downhill (start marked with a circle,
            end with a star), e.g. from :func:`descent_path`.
        logscale: space the contour levels (and colours) logarithmically, for losses spanning
            decades; needs positive losses.
        kind: ``"contour"`` (a map seen from above, with a colour bar) or ``"surface"`` (the
            3-D bowl: axes w0, w1 and the loss, with the path walking down its side).
        view: for the surface, the camera's ``(elevation, azimuth)`` in degrees.

    Returns:
        the Figure.
    """
    if not isinstance(kind, str) or kind not in ("contour", "surface"):
        raise ValueError(f"kind must be 'contour' or 'surface', got {_short(kind)}")
    resolution = _whole(resolution, "resolution", 2)
    levels = _whole(levels, "levels", 1)
    axis_labels = _names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    logscale = _flag(logscale, "plot_loss_landscape: logscale")
    title = _title(title)
    pts = [] if path is None else [_pair(p, f"path[{i}]")
                                    for i, p in enumerate(_sequence(path, "path"))]
    g0, g1, Z = _landscape(loss_fn, w0_range, w1_range, pts, resolution)
    lv = _log_levels(Z, levels) if logscale else None
    if not all(math.isfinite(z) for row in Z for z in row):
        raise ValueError("the loss is infinite somewhere on this grid; choose w0_range and "
                         "w1_range where it is finite")
    if kind == "surface":
        view = _pair(view, "view")
        return _surface(loss_fn, g0, g1, Z, pts, ax, logscale, axis_labels, title,
                        figsize or (6.0, 4.8), view)

    ax = _new_axes(ax, figsize or (5.0, 4.2))
    fig = ax.figure
    if lv is not None:
        from matplotlib.colors import LogNorm

        Z = [[max(z, lv[0]) for z in row] for row in Z]  # losses <= 0 get the lowest colour
        cs = ax.contourf(g0, g1, Z, levels=lv, norm=LogNorm(), cmap="viridis")
        ax.contour(g0, g1, Z, levels=lv, colors="white", linewidths=0.4, alpha=0.6)
    else:
        cs = ax.contourf(g0, g1, Z, levels=levels, cmap="viridis")
        ax.contour(g0, g1, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label=f"J({axis_labels[0]}, {axis_labels[1]})")
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color="#ff7f0e", lw=1.5,
                marker=".", markersize=5, label="gradient descent")
        ax.plot(*pts[0], "o", color="white", markeredgecolor="black", markersize=8,
                label="start")
        ax.plot(*pts[-1], "*", color="#ffd700", markeredgecolor="black", markersize=14,
                label="end")
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    if title:
        ax.set_title(title)
    return fig


def _surface(loss_fn: Callable[..., Any], g0: list[float], g1: list[float],
             Z: list[list[float]], pts: list[tuple[float, float]], ax: Any, logscale: bool,
             axis_labels: Sequence[str], title: str | None, figsize: tuple[float, float],
             view: tuple[float, float]) -> Figure:
    """The 3-D loss surface with the path on it (``plot_loss_landscape(kind="surface")``)."""
    import numpy as np  # a dependency of matplotlib

    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", "") != "3d":
        raise ValueError("kind='surface' draws into 3-D axes: make them with "
                         "fig.add_subplot(projection='3d'), or leave ax out")
    fig = ax.figure
    W0, W1 = np.meshgrid(g0, g1)
    Zs = np.log10(np.maximum(Z, 1e-300)) if logscale else np.asarray(Z)
    ax.plot_surface(W0, W1, Zs, cmap="viridis", alpha=0.75, linewidth=0,
                           antialiased=True, rcount=min(len(g1), 60), ccount=min(len(g0), 60))
    zlabel = f"log10 J({axis_labels[0]}, {axis_labels[1]})" if logscale else \
        f"loss J({axis_labels[0]}, {axis_labels[1]})"
    if pts:
        with no_grad():
            zs = []
            for u, v in pts:
                try:
                    zs.append(_loss_value(loss_fn, Value(u), Value(v)))
                except TypeError:
                    zs.append(_loss_value(loss_fn, u, v))
        zp = np.log10(np.maximum(zs, 1e-300)) if logscale else np.asarray(zs)
        lift = 0.01 * (float(Zs.max()) - float(Zs.min()))  # just above the surface
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        ax.plot(xs, ys, zp + lift, "-", color="#ff7f0e", lw=2.0, marker=".", markersize=5,
                label="gradient descent", zorder=10)
        ax.scatter([xs[0]], [ys[0]], [zp[0] + lift], marker="o", color="white",
                   edgecolor="black", s=50, label="start", depthshade=False, zorder=11)
        ax.scatter([xs[-1]], [ys[-1]], [zp[-1] + lift], marker="*", color="#ffd700",
                   edgecolor="black", s=160, label="end", depthshade=False, zorder=11)
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_zlabel(zlabel)
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.view_init(elev=view[0], azim=view[1])
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Activation functions and their derivatives (computed by the engine itself)
# ---------------------------------------------------------------------------------------------
_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": lambda v: v * 1.0,
}


def plot_activations(
    names: Sequence[str] = ("relu", "tanh", "sigmoid", "linear"),
    x_range: tuple[float, float] = (-4.0, 4.0),
    points: int = 161,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Each activation f(x) (solid) and its derivative f'(x) (dashed), one panel each.

    The derivative is the one ``backward()`` computes (relu'(0) = 0, as PyTorch), so the
    picture shows exactly what the engine uses. ``ax`` may be a sequence of Axes, one per
    name.
    """
    names = [names] if isinstance(names, str) else _names(names, "plot_activations: names")
    if not names:
        raise ValueError("plot_activations: names is empty; e.g. ['relu', 'tanh']")
    points = _whole(points, "plot_activations: points", 2)  # 1 point spans no range at all
    lo, hi = _range(x_range, "plot_activations: x_range")
    unknown = [n for n in names if n not in _ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activation(s) {unknown}; choose from {list(_ACTIVATIONS)}")
    if ax is None:
        fig = _new_figure(figsize or (3.2 * len(names), 3.0))
        axes = list(fig.subplots(1, len(names), squeeze=False)[0])
    else:
        axes = [ax] if hasattr(ax, "plot") else _axes_list(ax)
        if len(axes) != len(names):
            raise ValueError(f"plot_activations: got {len(axes)} axes for {len(names)} names")
        fig = axes[0].figure
    xs = [lo + (hi - lo) * i / (points - 1) for i in range(points)]
    for name, a in zip(names, axes):
        fx, dfx = [], []
        for x in xs:
            v = Value(x)
            out = _ACTIVATIONS[name](v)
            out.backward()
            fx.append(out.data)
            dfx.append(v.grad)
        a.plot(xs, fx, label=f"{name}(x)", color="#1f77b4")
        a.plot(xs, dfx, "--", label=f"{name}'(x)", color="#ff7f0e")
        a.axhline(0, color="gray", lw=0.5)
        a.axvline(0, color="gray", lw=0.5)
        a.set_title(name)
        a.set_xlabel("x")
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------------
# Neuron maps: what every neuron computes over the input plane
# ---------------------------------------------------------------------------------------------
def _stages(model: Any) -> list[Any]:
    """The model's layers in order (nested MLPs/Sequentials flattened); a Neuron is one."""
    layers = getattr(model, "layers", None)
    if isinstance(layers, Sequence) and not isinstance(layers, str) and layers:
        return [stage for layer in layers for stage in _stages(layer)]
    return [model]


def _colour_range(activation: str, values: list[float]) -> tuple[float, float]:
    """A colour scale whose middle (white) is the activation's neutral value."""
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    top = max((abs(v) for v in values), default=0.0) or 1.0
    return -top, top  # relu: 0 (off) is white, firing is red


def plot_neuron_maps(
    model: Any,
    X: Any = None,
    y: Sequence[Any] | None = None,
    resolution: int = 50,
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None,
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
    max_neurons: int = 12,
    axis_labels: tuple[str, str] = ("x1", "x2"),
    title: str | None = None,
    cell: float = 1.15,
) -> Figure:
    """Each neuron's output over the input plane, as a small heat map, laid out by layer.

    For a model with 2 inputs (``Neuron``, ``Layer``, ``MLP`` or ``Sequential`` of those):
    one column per layer, one map per neuron, showing its output at every point
    ``(x1, x2)`` of a ``resolution × resolution`` grid (under ``no_grad``). Red is a high
    output, blue a low or negative one, white the neutral value (0, or 0.5 for a sigmoid);
    every map of a layer shares that layer's colour bar. The last column shows the decision
    regions of the output (as :func:`plot_decision_boundary`). With ``X`` (and ``y``) the
    data points are drawn on every map (binary: white dots class 0, black class 1).

    The plane covers ``X`` plus 10% on every side, or ``bounds=((lo1, hi1), (lo2, hi2))``,
    or (-3, 3) × (-3, 3) (standardized inputs). Layers wider than ``max_neurons`` show their
    first ``max_neurons``. Any other number of inputs is a ValueError.

    Returns:
        the Figure; each map's Axes has the label ``"layer L neuron k"`` (L from 1) and the
        decision panel ``"decision regions"``.
    """
    stages = _stages(model)
    nin = getattr(model, "nin", None) or getattr(stages[0], "nin", None)
    if nin is None:
        raise TypeError(
            "plot_neuron_maps needs a model built from layers (Neuron, Layer, MLP or "
            f"Sequential), got {type(model).__name__}"
        )
    if nin != 2:
        raise ValueError(
            f"plot_neuron_maps draws every neuron over the input plane (x1, x2), so the model "
            f"needs 2 inputs; this one has {nin}. For other models use "
            "tinygrad_edu.viz.draw_network(model, x=...) to see one input at a time"
        )
    resolution = _whole(resolution, "resolution", 2)
    max_neurons = _whole(max_neurons, "max_neurons", 1)
    cell = _positive(cell, "cell")
    axis_labels = _names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    title = _title(title)
    rows = _rows(X, "plot_neuron_maps") if X is not None else []
    ys = _labels(y, len(rows), "plot_neuron_maps") if y is not None else []
    if bounds is None and not rows:
        bounds = ((-3.0, 3.0), (-3.0, 3.0))
    plane = _Plane(rows, resolution, 0.1, bounds)

    def forward(a: float, b: float) -> list[list[float]]:
        x: Any = [a, b]
        outs = []
        for stage in stages:
            x = stage(x)
            outs.append([v.data for v in (x if isinstance(x, list) else [x])])
        return outs

    with no_grad():
        cells = plane.evaluate(forward)  # cells[j][i][stage][neuron]
    widths = [len(o) for o in cells[0][0]]
    clf = _Classifier(model, [plane.g0[0], plane.g1[0]], threshold)
    names = _class_names(class_names, clf.n_classes)
    _check_classes(ys, clf, "plot_neuron_maps")

    shown = [min(w, max_neurons) for w in widths]
    n_rows, n_cols = max(shown), len(stages) + 1
    fig = _new_figure((cell * (n_cols + 1.0) + 0.6, cell * n_rows + 1.2))
    # Two sub-figures, so the decision panel does not stretch the rows of maps: left, one row
    # of maps per neuron and a thin last row for the layers' colour bars; right, the panel.
    left, right = fig.subfigures(1, 2, width_ratios=[len(stages), 2.0], wspace=0.0)
    grid_spec = left.add_gridspec(n_rows + 1, len(stages), height_ratios=[1.0] * n_rows + [0.07])
    lo0, hi0, lo1, hi1 = plane.limits
    d0 = (hi0 - lo0) / (resolution - 1) / 2
    d1 = (hi1 - lo1) / (resolution - 1) / 2
    extent = (lo0 - d0, hi0 + d0, lo1 - d1, hi1 + d1)  # pixel centres on the grid points
    classes = [_class_of(t, clf.multiclass) for t in ys]
    for s, stage in enumerate(stages):
        activation = str(getattr(stage, "activation", "") or "")
        maps = [[[cells[j][i][s][k] for i in range(resolution)] for j in range(resolution)]
                for k in range(shown[s])]
        vmin, vmax = _colour_range(activation, [v for m in maps for row in m for v in row])
        top = (n_rows - shown[s]) // 2
        for k, values in enumerate(maps):
            ax = left.add_subplot(grid_spec[top + k, s])
            ax.set_label(f"layer {s + 1} neuron {k}")
            image = ax.imshow(values, origin="lower", extent=extent, cmap="RdBu_r", vmin=vmin,
                              vmax=vmax, interpolation="bilinear", aspect="auto")
            if rows:
                _draw_map_points(ax, rows, classes, clf.multiclass, len(names))
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_box_aspect(1)
            ax.text(0.03, 0.96, str(k), transform=ax.transAxes, fontsize=7, va="top",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.8})
            if k == 0:
                head = "output" if s == len(stages) - 1 else f"layer {s + 1}"
                more = f"\n(first {shown[s]} of {widths[s]})" if shown[s] < widths[s] else ""
                heading = ax.set_title(f"{head}: {activation or '?'}{more}", fontsize=9)
                # below the top row the heading sits in the empty cell above: left out of the
                # layout, so it does not push the rows of the other columns apart
                heading.set_in_layout(top == 0)
        bar = fig.colorbar(image, cax=left.add_subplot(grid_spec[n_rows, s]),
                           orientation="horizontal")
        bar.ax.tick_params(labelsize=7)

    ax = right.add_subplot()
    ax.set_label("decision regions")
    _draw_regions(ax, plane, clf.scores(plane), clf)
    if rows:
        _draw_points(ax, rows, ys, names, clf.multiclass, size=12)
        key = f"on the maps: ○ {names[0]}, ● {names[1]}" if len(names) == 2 else None
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7, ncol=2,
                  framealpha=0.9, title=key, title_fontsize=7)
    plane.frame(ax, axis_labels)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_size(8)
    ax.yaxis.label.set_size(8)
    ax.set_box_aspect(1)
    ax.set_title("decision regions", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def _draw_map_points(ax: Any, rows: Sequence[tuple[float, float]], classes: list[int],
                     multiclass: bool, n: int) -> None:
    """The data on a neuron map: white/black dots (2 classes) or class colours, black edges."""
    colours = ["white", "black"] if n == 2 else _class_colours(n)
    for k in range(n):
        pts = [r for r, c in zip(rows, classes) if c == k]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=5, color=colours[k],
                       edgecolor="black", linewidth=0.3, zorder=3)


# ---------------------------------------------------------------------------------------------
# Animations: frames drawn with matplotlib, played in Jupyter, saved as GIF or HTML
# ---------------------------------------------------------------------------------------------
# A small player of our own rather than matplotlib's to_jshtml, whose buttons load their icons
# from a CDN (blank offline). The <img> starts on the last frame, so where scripts do not run
# (an untrusted notebook, a sanitizing viewer) the result still shows as a still picture.
_PLAYER = """<div id="{uid}" class="tinygrad-edu-animation" tabindex="0"
 style="max-width:{width}px;font:13px sans-serif;outline:none">
<img id="{uid}-img" src="{still}" alt="{alt}" style="width:100%;height:auto;display:block">
<div style="display:flex;gap:6px;align-items:center;margin-top:4px">
<button type="button" id="{uid}-prev">Previous</button>
<button type="button" id="{uid}-play">Play</button>
<button type="button" id="{uid}-next">Next</button>
<input type="range" id="{uid}-slider" min="0" max="{last}" value="{last}" style="flex:1"
 aria-label="frame">
<span id="{uid}-label" style="min-width:9em">{still_label}</span>
</div>
<script>
(function () {{
  var frames = [{frames}];
  var labels = [{labels}];
  var el = function (s) {{ return document.getElementById("{uid}" + s); }};
  var root = el(""), img = el("-img"), slider = el("-slider"), label = el("-label");
  var play = el("-play"), i = {last}, timer = null;
  function show(k) {{
    i = Math.max(0, Math.min(frames.length - 1, k));
    img.src = frames[i]; slider.value = i; label.textContent = labels[i];
  }}
  function stop() {{
    if (timer) {{ clearInterval(timer); timer = null; }}
    play.textContent = "Play";
  }}
  function start() {{
    if (i >= frames.length - 1) show(0);
    play.textContent = "Pause";
    timer = setInterval(function () {{ if (i >= frames.length - 1) stop(); else show(i + 1); }},
                        {interval});
  }}
  play.onclick = function () {{ if (timer) stop(); else start(); }};
  el("-prev").onclick = function () {{ stop(); show(i - 1); }};
  el("-next").onclick = function () {{ stop(); show(i + 1); }};
  slider.oninput = function () {{ stop(); show(parseInt(slider.value, 10)); }};
  root.addEventListener("keydown", function (e) {{
    if (e.key === "ArrowLeft") {{ stop(); show(i - 1); e.preventDefault(); }}
    if (e.key === "ArrowRight") {{ stop(); show(i + 1); e.preventDefault(); }}
  }});
  start();
}})();
</script>
</div>"""


def _write_file(path: Any, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (no half-written file on error)."""
    target = os.fspath(path)
    tmp = f"{target}.{uuid.uuid4().hex[:8]}.tmp"  # beside it, so the rename is atomic
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise OSError(err.errno, f"cannot write {target!r}: {err.strerror or err}",
                          target) from err
        raise


class FrameAnimation:
    """Frames drawn with matplotlib: a player in Jupyter, an animated GIF, or one HTML file.

    - In Jupyter, an animation left as the last expression of a cell shows as a player
      (Previous, Play, Next, a slider; the arrow keys step), playing once.
    - ``save_gif(path)``: an animated GIF (for slides), looping, lingering on the last frame.
    - ``save_html(path)``: the player as one self-contained file (no network, no kernel).
    - ``frame(i)``: frame ``i`` as a matplotlib Figure (``-1``: the last), e.g. to save a still.
    - ``len(anim)``: the number of frames.

    Frames are rendered to PNG at ``dpi`` (dots per inch) and kept until the frames change.
    """

    fps: float = 5.0
    dpi: float = 80.0

    # Subclasses provide these two.
    def _frame_labels(self) -> list[str]:  # one caption per frame; its length is len(self)
        raise NotImplementedError

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        """A figure, and ``draw(k)`` that puts frame ``k`` on it and returns the artists
        that change between frames, in drawing order (the rest is drawn once)."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._frame_labels())

    def _index(self, i: int) -> int:
        n = len(self)
        if n == 0:
            raise ValueError(f"{type(self).__name__} has no frames yet; " + self._empty_hint())
        k = _whole(i + n if isinstance(i, int) and i < 0 else i, "frame index", 0)
        if k >= n:
            raise IndexError(f"frame {i} of an animation with {n} frames")
        return k

    def _empty_hint(self) -> str:
        return "there is nothing to draw"

    def frame(self, i: int = -1) -> Figure:
        """Frame ``i`` as a Figure (``-1``: the last)."""
        k = self._index(i)
        fig, draw = self._setup()
        draw(k)
        return fig

    def _pngs(self) -> list[bytes]:
        labels = self._frame_labels()
        key = (tuple(labels), self.dpi, getattr(self, "_version", 0))
        cached = getattr(self, "_png_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image  # Pillow: a dependency of matplotlib

        self._index(0)  # a clear error when there are no frames
        fig, draw = self._setup()
        fig.set_dpi(self.dpi)
        canvas = FigureCanvasAgg(fig)
        pngs = []
        background = None
        for k in range(len(labels)):
            changing = draw(k)
            for artist in changing:
                artist.set_animated(True)
            if background is None:
                # Everything that stays (axes, ticks, legends, contour maps) is drawn once;
                # the first frame's layout serves for all, so nothing moves between frames.
                canvas.draw()
                fig.set_layout_engine("none")
                background = canvas.copy_from_bbox(fig.bbox)
            canvas.restore_region(background)
            for artist in changing:
                fig.draw_artist(artist)
            image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                     "raw", "RGBA", 0, 1)
            buf = io.BytesIO()
            # 256 colours are plenty for a plot and make the frames ~4x smaller
            image.convert("RGB").quantize(256).save(buf, format="PNG")
            pngs.append(buf.getvalue())
        self._png_cache = (key, pngs)
        return pngs

    def to_html(self) -> str:
        """The player as an HTML fragment (what Jupyter shows)."""
        pngs = self._pngs()
        labels = self._frame_labels()
        uris = ["data:image/png;base64," + base64.b64encode(p).decode("ascii") for p in pngs]
        width = int.from_bytes(pngs[-1][16:20], "big")  # from the PNG header
        return _PLAYER.format(
            uid=f"tge-{uuid.uuid4().hex[:12]}", width=width, still=uris[-1],
            alt=html.escape(f"{type(self).__name__}: {labels[-1]}"), last=len(pngs) - 1,
            still_label=html.escape(labels[-1]), frames=",\n".join(f'"{u}"' for u in uris),
            labels=", ".join(json.dumps(label) for label in labels),
            interval=max(1, round(1000 / self.fps)),
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        labels = self._frame_labels()
        shown = f": {labels[0]} … {labels[-1]}" if labels else ""
        return f"{type(self).__name__}({len(labels)} frames{shown})"

    def save_html(self, path: Any, title: str | None = None) -> None:
        """Write the player as one self-contained HTML file (works offline, no kernel)."""
        name = html.escape(_title(title) or type(self).__name__)
        page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{name}</title>\n</head>\n<body>\n{self.to_html()}\n</body>\n</html>\n")
        _write_file(path, page.encode("utf-8"))

    def save_gif(self, path: Any, fps: float | None = None) -> None:
        """Write the frames as an animated GIF that loops, lingering on the last frame."""
        from PIL import Image  # Pillow: a dependency of matplotlib

        rate = self.fps if fps is None else _positive(fps, "save_gif: fps")
        images = [Image.open(io.BytesIO(p)).convert("RGB") for p in self._pngs()]
        ms = max(20, round(1000 / rate))
        durations = [ms] * len(images)
        durations[-1] = max(4 * ms, 1500)
        buf = io.BytesIO()
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                       duration=durations, loop=0)
        _write_file(path, buf.getvalue())


class TrainingRecorder(FrameAnimation):
    """A ``fit`` callback that records the decision regions and the loss as training runs.

    ::

        recorder = TrainingRecorder(X, y, every=10)
        fit(model, X, y, loss, optimizer, epochs=300, callbacks=[recorder])
        recorder                        # in Jupyter: the animation (regions | loss curve)
        recorder.save_gif("training.gif"); recorder.save_html("training.html")

    A frame is taken before the first step (epoch 0, the untrained model), after every
    ``every``-th epoch, and after the last epoch. Each evaluates the model on a
    ``resolution × resolution`` grid over ``X`` (as :func:`plot_decision_boundary`, under
    ``no_grad``); the drawing happens later, when the animation is shown or saved.

    Args:
        X, y: the points to draw (usually the training data) and their labels.
        every: epochs between frames.
        class_names, threshold, axis_labels, padding: as for :func:`plot_decision_boundary`.
        transform: applied to each point of the plane before the model sees it, e.g.
            ``scaler.transform_one`` to draw ``X`` in its original units while the model
            was trained on standardized rows.
        fps: frames per second when playing; dpi: resolution of the frames.

    A new ``fit`` with the same recorder starts a new recording. ``frames`` lists
    ``(epoch, grid)`` pairs; ``history`` is the run's History.
    """

    def __init__(
        self,
        X: Any,
        y: Sequence[Any],
        every: int = 10,
        resolution: int = 40,
        class_names: Sequence[str] | None = None,
        threshold: float | None = None,
        transform: Callable[[list[float]], Any] | None = None,
        axis_labels: tuple[str, str] = ("x1", "x2"),
        padding: float = 0.1,
        title: str | None = None,
        fps: float = 5.0,
        dpi: float = 80.0,
    ) -> None:
        self.rows = _rows(X, "TrainingRecorder")
        self.y = _labels(y, len(self.rows), "TrainingRecorder")
        self.every = _whole(every, "TrainingRecorder: every", 1)
        self.plane = _Plane(self.rows, _whole(resolution, "resolution", 2), padding)
        if transform is not None and not callable(transform):
            raise TypeError("TrainingRecorder: transform must be a function, got "
                            f"{_short(transform)}")
        self.transform = transform
        if class_names is not None:
            _names(class_names, "class_names")
        self.class_names = class_names
        self.threshold = None if threshold is None else _number(threshold, "threshold")
        self.axis_labels = _names(axis_labels, "axis_labels", 2)
        self.title = _title(title)
        self.fps, self.dpi = _positive(fps, "fps"), _positive(dpi, "dpi")
        self.frames: list[tuple[int, list[list[Any]]]] = []
        self.history: Any = None
        self._clf: _Classifier | None = None
        self._version = 0

    def _empty_hint(self) -> str:
        return "pass it to fit: fit(..., callbacks=[recorder])"

    # fit's callback protocol
    def on_train_begin(self, model: Any, history: Any) -> None:
        self.frames, self.history, self._clf = [], history, None
        self._record(0, model)

    def on_epoch_end(self, epoch: int, model: Any, history: Any) -> None:
        self.history = history
        last = epoch == getattr(history, "params", {}).get("epochs")
        if epoch % self.every == 0 or last:
            self._record(epoch, model)

    def _record(self, epoch: int, model: Any) -> None:
        if self._clf is None:
            fn = model if self.transform is None else (lambda x: model(self.transform(x)))
            self._clf = _Classifier(fn, list(self.rows[0]), self.threshold)
            _class_names(self.class_names, self._clf.n_classes)  # wrong count: fail now
            _check_classes(self.y, self._clf, "TrainingRecorder")
        self.frames.append((epoch, self._clf.scores(self.plane)))
        self._version += 1

    # FrameAnimation
    def _frame_labels(self) -> list[str]:
        return [f"epoch {epoch}" for epoch, _ in self.frames]

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        clf = self._clf
        assert clf is not None
        names = _class_names(self.class_names, clf.n_classes)
        series = getattr(self.history, "history", {}) or {}
        loss, val = series.get("loss", []), series.get("val_loss", [])
        acc = series.get("accuracy", [])
        total = max(getattr(self.history, "params", {}).get("epochs", 0), len(loss),
                    self.frames[-1][0], 1)
        fig = _new_figure((9.0, 3.7))
        regions_ax, loss_ax = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
        _draw_points(regions_ax, self.rows, self.y, names, clf.multiclass)
        points = list(regions_ax.collections)  # drawn again over each frame's regions
        self.plane.frame(regions_ax, self.axis_labels)
        _legend_outside(regions_ax)
        loss_ax.set_xlim(0, total * 1.02)
        top = max([*loss, *val], default=1.0)
        loss_ax.set_ylim(0, 1.05 * top if math.isfinite(top) and top > 0 else 1.0)
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss")
        loss_ax.grid(True, alpha=0.3)
        (train_line,) = loss_ax.plot([], [], "-", color="#1f77b4", label="training loss")
        (val_line,) = loss_ax.plot([], [], "--", color="#1f77b4", label="validation loss")
        (dot,) = loss_ax.plot([], [], "o", color="#1f77b4", markersize=5)
        if val:
            loss_ax.legend(loc="upper right", fontsize=8)
        if self.title:
            fig.suptitle(self.title)
        drawn: list[Any] = []

        def draw(k: int) -> list[Any]:
            epoch, grid = self.frames[k]
            for artist in drawn:
                artist.remove()
            drawn[:] = _draw_regions(regions_ax, self.plane, grid, clf)
            regions_ax.set_title("untrained (epoch 0)" if epoch == 0 else f"epoch {epoch}")
            xs = list(range(1, min(epoch, len(loss)) + 1))
            train_line.set_data(xs, loss[:len(xs)])
            val_line.set_data(xs[:len(val)], val[:len(xs)])
            dot.set_data(xs[-1:], loss[len(xs) - 1:len(xs)])
            text = f"loss {loss[len(xs) - 1]:.4f}" if xs else "loss: not trained yet"
            if xs and len(acc) >= len(xs):
                text += f", accuracy {acc[len(xs) - 1]:.2f}"
            loss_ax.set_title(text)
            return [*drawn, *points, regions_ax.title, loss_ax.title, train_line, val_line, dot]

        return fig, draw


class DescentAnimation(FrameAnimation):
    """Descent paths walking over one loss contour map, side by side (see
    :func:`animate_descent_paths`)."""

    def __init__(self, loss_fn: Callable[..., Any], paths: Mapping[str, Sequence[Any]],
                 w0_range: Any, w1_range: Any, frames: int, resolution: int, levels: int,
                 logscale: bool, axis_labels: tuple[str, str], fps: float, dpi: float,
                 title: str | None) -> None:
        if not isinstance(paths, Mapping) or not paths:
            raise TypeError("animate_descent_paths: paths must be a dict {name: path} with at "
                            "least one path, e.g. {'GD': descent_path(...)}")
        self.paths = {}
        for name, path in paths.items():
            what = f"animate_descent_paths: paths[{_short(name)}]"
            pts = [_pair(p, f"{what}[{i}]") for i, p in enumerate(_sequence(path, what))]
            if not pts:
                raise ValueError(f"{what} is empty")
            self.paths[str(name)] = pts
        every = [p for pts in self.paths.values() for p in pts]
        g0, g1, Z = _landscape(loss_fn, w0_range, w1_range, every, resolution)
        self.levels = _log_levels(Z, levels) if logscale else levels
        if logscale:  # losses <= 0 get the lowest colour
            Z = [[max(z, self.levels[0]) for z in row] for row in Z]  # type: ignore[index]
        self.grid = (g0, g1, Z)
        self.logscale = logscale
        self.n_frames = frames
        self.axis_labels = _names(axis_labels, "axis_labels", 2)
        self.title = _title(title)
        self.fps, self.dpi = _positive(fps, "fps"), _positive(dpi, "dpi")

    def _shown(self, k: int, pts: list[Any]) -> int:
        """Points of a path shown in frame k: the same fraction of every run."""
        return 1 + round(k / max(self.n_frames - 1, 1) * (len(pts) - 1))

    def _frame_labels(self) -> list[str]:
        n = max(self.n_frames - 1, 1)
        return [f"{round(100 * k / n)}% of each run" for k in range(self.n_frames)]

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        g0, g1, Z = self.grid
        n = len(self.paths)
        fig = _new_figure((3.7 * n + 0.9, 3.6))
        axes = list(fig.subplots(1, n, squeeze=False, sharex=True, sharey=True)[0])
        norm = None
        if self.logscale:
            from matplotlib.colors import LogNorm

            norm = LogNorm()
        moving = []
        for ax, (name, pts) in zip(axes, self.paths.items()):
            cs = ax.contourf(g0, g1, Z, levels=self.levels, cmap="viridis", norm=norm)
            ax.contour(g0, g1, Z, levels=self.levels, colors="white", linewidths=0.4, alpha=0.6)
            ax.plot(*pts[0], "o", color="white", markeredgecolor="black", markersize=7)
            (line,) = ax.plot([], [], "-", color="#ff7f0e", lw=1.2)
            (head,) = ax.plot([], [], "o", color="#ffd700", markeredgecolor="black",
                              markersize=7)
            ax.set_xlim(g0[0], g0[-1])
            ax.set_ylim(g1[0], g1[-1])
            ax.set_xlabel(self.axis_labels[0])
            moving.append((ax, name, pts, line, head))
        axes[0].set_ylabel(self.axis_labels[1])
        fig.colorbar(cs, ax=axes, label=f"J({self.axis_labels[0]}, {self.axis_labels[1]})",
                     shrink=0.9)
        if self.title:
            fig.suptitle(self.title)

        def draw(k: int) -> list[Any]:
            changing = []
            for ax, name, pts, line, head in moving:
                m = self._shown(k, pts)
                line.set_data([p[0] for p in pts[:m]], [p[1] for p in pts[:m]])
                head.set_data([pts[m - 1][0]], [pts[m - 1][1]])
                ax.set_title(f"{name}\nstep {m - 1} of {len(pts) - 1}", fontsize=10)
                changing += [line, head, ax.title]
            return changing

        return fig, draw


def animate_descent_paths(
    loss_fn: Callable[..., Any],
    paths: Mapping[str, Sequence[tuple[float, float]]],
    w0_range: tuple[float, float] | None = None,
    w1_range: tuple[float, float] | None = None,
    frames: int = 40,
    resolution: int = 40,
    levels: int = 20,
    logscale: bool = False,
    axis_labels: tuple[str, str] = ("w0", "w1"),
    fps: float = 8.0,
    dpi: float = 80.0,
    title: str | None = None,
) -> DescentAnimation:
    """Several descent paths on the same loss contour map, side by side, walking together.

    ``paths`` maps a name to a path, e.g. ``{"GD": p1, "SGD": p2, "mini-batch": p3}`` from
    :func:`batch_descent_path` (or :func:`descent_path`). Frame ``k`` of ``frames`` shows
    the same fraction of every path, so runs of the same number of epochs are shown at the
    same epoch, however many steps each takes. The contour map is ``loss_fn(w0, w1)`` over
    the ranges (default: all paths' extent plus a margin), as in
    :func:`plot_loss_landscape`. Returns a :class:`FrameAnimation` (shows in Jupyter;
    ``save_gif``, ``save_html``, ``frame(-1)`` for the still of the end).
    """
    frames = _whole(frames, "animate_descent_paths: frames", 2)
    logscale = _flag(logscale, "animate_descent_paths: logscale")
    resolution = _whole(resolution, "resolution", 2)
    levels = _whole(levels, "levels", 1)
    return DescentAnimation(loss_fn, paths, w0_range, w1_range, frames, resolution, levels,
                            logscale, axis_labels, fps, dpi, title)
