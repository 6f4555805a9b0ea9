"""Training plots with matplotlib: loss curves, decision boundaries, loss landscapes,
activations and neuron maps (the public names are in :mod:`tinygrad_edu.plot`).

Every function returns the matplotlib ``Figure`` it drew on, so a notebook shows it by leaving
it as the last expression of a cell, and a script saves it with ``fig.savefig("loss.png")``.
Pass ``ax=`` to draw into axes you made yourself (the function then returns ``ax.figure``).
Nothing here calls ``plt.show()``; figures made here are not kept open by pyplot (no "too many
open figures" warnings from loops).

The pieces the animations draw with (``Plane``, ``Classifier``, ``draw_regions``,
``draw_points``, ``landscape``) are here too: a frame of the training recorder is a decision
plot.

Needs matplotlib: ``pip install 'tinygrad_edu[plot]'``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

try:
    import matplotlib
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    from matplotlib.figure import Figure
except ImportError as _err:  # pragma: no cover - exercised by a test that blocks the import
    raise ImportError(
        "tinygrad_edu.plot needs matplotlib, which is part of the 'plot' extra: "
        "pip install 'tinygrad_edu[plot]' (or pip install matplotlib)"
    ) from _err

from tinygrad_edu import args
from tinygrad_edu.args import short
from tinygrad_edu.engine import Value
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.pictures.style import FAIL, FAIL_BG, PASS, PASS_BG, mix, rgb

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_loss_landscape",
    "plot_activations",
    "plot_neuron_maps",
    "OUTPUTS",
    "Plane",
    "Classifier",
    "declared_output",
    "draw_regions",
    "draw_points",
    "landscape",
    "log_levels",
    "loss_value",
    "new_figure",
    "legend_outside",
    "points_2d",
    "labels_of",
    "class_names_for",
    "check_classes",
]


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax`` itself, or the axes of a new figure that pyplot does not track."""
    if ax is not None:
        return ax
    fig = new_figure(figsize)
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


def new_figure(figsize: tuple[float, float]) -> Figure:
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


def legend_outside(ax: Any, fontsize: float = 8) -> Any:
    """A legend just right of the axes (outside, so it covers no data).

    Constrained layout (figures made here) and ``tight_layout`` make room for it.
    """
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     fontsize=fontsize, framealpha=0.9)



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

    def each(k: int, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{where}[{k}] is {short(v)} ({type(v).__name__}), not a number")
        return args.number(v, f"{where}[{k}]", finite=False)  # a gap in the curve: fine

    return args.items(values, where, each=each)  # (range(10**18): an error, not a hang)


def _as_series(h: Any, what: str) -> dict[str, list[float]]:
    data = getattr(h, "history", h)
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{what} must be a train.History (with .history) or a dict mapping names like "
            f"'loss' to per-epoch lists of numbers, got {type(h).__name__}"
        )
    return {str(key): _series(values, f"{what}[{short(key)}]") for key, values in data.items()}


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
    logy = args.flag(logy, "plot_history: logy")
    title = args.title(title)
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
        runs = {str(name): _as_series(h, f"history[{short(name)}]") for name, h in history.items()}
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
        fig = new_figure(figsize or (4.6 * len(panels) + extra, 3.4))
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
            legend_outside(a)
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
def points_2d(X: Any, who: str) -> list[tuple[float, float]]:
    """The rows of X as points (x1, x2): two finite numbers each."""
    rows = []
    for i, row in enumerate(args.sequence(X, f"{who}: X")):
        vals = args.sequence(row, f"{who}: X[{i}]")
        if len(vals) != 2:
            raise ValueError(f"{who} draws 2-D inputs; row {i} of X has {len(vals)} features")
        rows.append((args.number(vals[0], f"{who}: X[{i}][0]"),
                     args.number(vals[1], f"{who}: X[{i}][1]")))
    if not rows:
        raise ValueError(f"{who}: X is empty")
    return rows


def labels_of(y: Any, n_rows: int, who: str) -> list[float]:
    """Labels as numbers (booleans count as 0/1), as many as rows."""
    ys = args.sequence(y, f"{who}: y")
    if len(ys) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(ys)} labels")
    return [float(t) if isinstance(t, bool) else args.number(t, f"{who}: y[{i}]")
            for i, t in enumerate(ys)]


def _scores(out: Any) -> list[float]:
    if isinstance(out, Value):
        return [out.data]
    if isinstance(out, Real) and not isinstance(out, bool):
        return [args.number(out, "the model's output", finite=False)]
    if isinstance(out, Sequence) and not isinstance(out, str) and out:
        return [args.number(o, f"the model's output {k}", finite=False) for k, o in enumerate(out)]
    raise TypeError(
        f"the model must return a Value (binary) or a list of Values (one score per class), "
        f"got {type(out).__name__}"
    )


# What a binary model's one output is, and where it is cut into two classes
OUTPUTS = {"probability": 0.5, "logit": 0.0, "score": 0.0}
_BY_ACTIVATION = {"sigmoid": "probability", "linear": "logit", "tanh": "score", "relu": "score"}


def declared_output(model: Any) -> str | None:
    """What a model built from layers returns, read from its last layer's activation: a
    sigmoid gives a probability, a linear layer a logit, tanh or relu a score; None when the
    model does not say (a plain function, layers with mixed activations)."""
    for _ in range(1000):  # (nested Sequentials: the last layer of the last layer ...)
        layers = getattr(model, "layers", None)
        if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
            break
        model = layers[-1]
    activation = getattr(model, "activation", None)
    return _BY_ACTIVATION.get(activation) if isinstance(activation, str) else None


def output_kind(model: Any, out: Any, who: str) -> str:
    """What a binary model returns: its last layer says (``declared_output``); a plain
    function's result made by the engine's sigmoid is a probability; otherwise it must say
    (``output=``)."""
    kind = declared_output(model)
    if kind is None and isinstance(out, Value) and out.op == "sigmoid" and out.children:
        kind = "probability"
    if kind is None:
        raise TypeError(
            f"{who} cannot tell what this function returns, so not where to cut it into two "
            "classes: say output='probability' (cut at 0.5), output='logit' or output='score' "
            "(cut at 0), or threshold=...; or pass the model itself, whose last layer says, "
            "with transform= for what is done to the inputs first"
        )
    return kind


class Plane:
    """A grid over the input plane, covering the data plus ``padding`` on every side."""

    def __init__(self, points: Sequence[tuple[float, float]], resolution: int, padding: float,
                 bounds: Any = None) -> None:
        if bounds is not None:
            ranges = args.sequence(bounds, "bounds")
            if len(ranges) != 2:
                raise ValueError("bounds must be ((x1_low, x1_high), (x2_low, x2_high)), got "
                                 f"{short(bounds)}")
            (lo0, hi0), (lo1, hi1) = args.span(ranges[0], "bounds[0]"), args.span(ranges[1],
                                                                               "bounds[1]")
        else:
            lo0, hi0 = min(p[0] for p in points), max(p[0] for p in points)
            lo1, hi1 = min(p[1] for p in points), max(p[1] for p in points)
            padding = args.number(padding, "padding")
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


class Classifier:
    """How to read a model's output as a class: argmax of several outputs, or one output cut
    at a threshold that depends on what the model returns (see ``output_kind``)."""

    def __init__(self, model: Callable[[Any], Any], probe: list[float],
                 threshold: float | None = None, output: str | None = None,
                 transform: Callable[[list[float]], Any] | None = None,
                 who: str = "plot_decision_boundary") -> None:
        args.function(model, "model")
        if transform is not None:
            args.function(transform, f"{who}: transform")
        if threshold is not None:
            threshold = args.number(threshold, "threshold")
        if output is not None and (not isinstance(output, str) or output not in OUTPUTS):
            raise ValueError(f"{who}: output must be 'probability' (cut at 0.5), 'logit' or "
                             f"'score' (cut at 0), got {short(output)}")
        fn = model if transform is None else (lambda x: model(transform(x)))
        out = fn(list(probe))
        first = _scores(out)
        self.model = fn
        self.n_classes = len(first) if len(first) > 1 else 2
        self.multiclass = len(first) > 1
        self.output = output
        if not self.multiclass and threshold is None:
            self.output = output or output_kind(model, out, who)
            threshold = OUTPUTS[self.output]
        self.threshold = threshold

    def scores(self, plane: Plane) -> list[list[Any]]:
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


def class_names_for(class_names: Sequence[str] | None, n: int) -> list[str]:
    if class_names is None:
        return [f"class {k}" for k in range(n)]
    if isinstance(class_names, str):
        raise TypeError(f"class_names must be a list of {n} names, got the str "
                        f"{short(class_names)}")
    return args.names(class_names, "class_names (one per class, negative first for one output)", n)


def check_classes(ys: list[float], clf: Classifier, who: str) -> None:
    """Multi-class labels must be class indices the model has."""
    if not clf.multiclass:
        return
    for i, t in enumerate(ys):
        if not (t.is_integer() and 0 <= t < clf.n_classes):
            raise ValueError(f"{who}: y[{i}] is {t:g}, but the model's {clf.n_classes} outputs "
                             f"are classes 0..{clf.n_classes - 1}")


def _class_colours(n: int) -> list[Any]:
    if n == 2:
        return [FAIL, PASS]
    cmap = matplotlib.colormaps["tab10"]
    return [cmap(k % 10) for k in range(n)]


def draw_regions(ax: Any, plane: Plane, grid: list[list[Any]], clf: Classifier) -> list[Any]:
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
                           cmap=ListedColormap([FAIL_BG, PASS_BG]))]
    if min(flat) < t < max(flat):  # type: ignore[operator]
        artists.append(ax.contour(g0, g1, grid, levels=[t], colors="#555555", linewidths=1.2))
    return artists


def _class_of(t: float, multiclass: bool) -> int:
    return int(t) if multiclass else int(t > 0)


def draw_points(ax: Any, rows: Sequence[tuple[float, float]], ys: Sequence[Any], names: list[str],
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
    output: str | None = None,
    transform: Callable[[list[float]], Any] | None = None,
) -> Figure:
    """The regions a 2-input classifier assigns to each class, with the data points on top.

    The model is evaluated (under ``no_grad``) on a ``resolution × resolution`` grid covering
    the data plus ``padding`` (a fraction of the data's range) on every side.

    - One output (binary): class 1 (green) where the output is above the threshold, class 0
      (red) elsewhere. The threshold follows from what the model returns (``output``): a
      probability is cut at 0.5, a logit or a ±1 score (hinge loss) at 0. A model built from
      layers says it by its last layer's activation (sigmoid: a probability; linear: a logit;
      tanh, relu: a score); a plain function says it with ``output=`` (one whose result is
      the engine's sigmoid is taken as a probability). ``threshold=`` overrides. Labels ``y``
      may be 0/1, -1/+1 or booleans: positive means class 1.
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
        output: ``"probability"``, ``"logit"`` or ``"score"``: what a one-output model returns.
        transform: applied to each point before the model sees it, e.g.
            ``scaler.transform_one`` to draw ``X`` in its original units while the model
            was trained on standardized rows (the model still says what it returns).

    Returns:
        the Figure.
    """
    if labels is not None:
        if class_names is not None:
            raise TypeError("give class_names or labels (its old name), not both")
        class_names = labels
    resolution = args.whole(resolution, "resolution", 2, 2000)
    rows = points_2d(X, "plot_decision_boundary")
    ys = labels_of(y, len(rows), "plot_decision_boundary")
    if query is not None:
        query = args.pair(query, "query")
    query_label = str(query_label)
    axis_labels = args.names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    title = args.title(title)
    clf = Classifier(model, list(rows[0]), threshold, output, transform)
    names = class_names_for(class_names, clf.n_classes)
    check_classes(ys, clf, "plot_decision_boundary")
    plane = Plane(rows + ([query] if query is not None else []), resolution, padding)
    grid = clf.scores(plane)

    ax = _new_axes(ax, figsize)
    fig = ax.figure
    draw_regions(ax, plane, grid, clf)
    draw_points(ax, rows, ys, names, clf.multiclass)
    if query is not None:
        k = clf.classify(query[0], query[1])
        ax.scatter([query[0]], [query[1]], marker="*", s=260, color="#ffd700",
                   edgecolor="black", linewidth=1.0, zorder=5, label=f"{query_label}: {names[k]}")
        ax.annotate(query_label, (query[0], query[1]), textcoords="offset points",
                    xytext=(8, 8), fontsize=10, fontweight="bold")
    plane.frame(ax, axis_labels)
    legend_outside(ax)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Loss landscape J(w0, w1) and the path gradient descent walks on it
# ---------------------------------------------------------------------------------------------
def loss_value(loss_fn: Callable[..., Any], w0: Any, w1: Any) -> float:
    out = loss_fn(w0, w1)
    if isinstance(out, Value):
        return out.data
    value = args.number(out, "loss_fn's result", finite=False)
    if value != value:
        raise ValueError(f"loss_fn({float(w0):g}, {float(w1):g}) is nan; draw a range where "
                         "the loss is defined")
    return value


def landscape(loss_fn: Callable[..., Any], w0_range: Any, w1_range: Any,
               pts: list[tuple[float, float]], resolution: int,
               ) -> tuple[list[float], list[float], list[list[float]]]:
    """The loss on a grid over (w0, w1): ranges default to the path's extent plus a margin."""
    args.function(loss_fn, "loss_fn")
    ranges = [None if r is None else args.span(r, name)
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
            loss_value(loss_fn, Value(g0[0]), Value(g1[0]))
            wrap = True
        except TypeError:
            wrap = False  # a float-only function such as one using math.exp
        if wrap:
            Z = [[loss_value(loss_fn, Value(u), Value(v)) for u in g0] for v in g1]
        else:
            Z = [[loss_value(loss_fn, u, v) for u in g0] for v in g1]
    return g0, g1, Z


def log_levels(Z: list[list[float]], levels: int) -> list[float]:
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
        raise ValueError(f"kind must be 'contour' or 'surface', got {short(kind)}")
    resolution = args.whole(resolution, "resolution", 2, 2000)
    levels = args.whole(levels, "levels", 1, 1000)
    axis_labels = args.names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    logscale = args.flag(logscale, "plot_loss_landscape: logscale")
    title = args.title(title)
    pts = [] if path is None else [args.pair(p, f"path[{i}]")
                                    for i, p in enumerate(args.sequence(path, "path"))]
    g0, g1, Z = landscape(loss_fn, w0_range, w1_range, pts, resolution)
    lv = log_levels(Z, levels) if logscale else None
    if not all(math.isfinite(z) for row in Z for z in row):
        raise ValueError("the loss is infinite somewhere on this grid; choose w0_range and "
                         "w1_range where it is finite")
    if kind == "surface":
        view = args.pair(view, "view")
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
        fig = new_figure(figsize)
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
                    zs.append(loss_value(loss_fn, Value(u), Value(v)))
                except TypeError:
                    zs.append(loss_value(loss_fn, u, v))
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
    names = [names] if isinstance(names, str) else args.names(names, "plot_activations: names")
    if not names:
        raise ValueError("plot_activations: names is empty; e.g. ['relu', 'tanh']")
    # (1 point spans no range at all)
    points = args.whole(points, "plot_activations: points", 2, 100_000)
    lo, hi = args.span(x_range, "plot_activations: x_range")
    unknown = [n for n in names if n not in _ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activation(s) {unknown}; choose from {list(_ACTIVATIONS)}")
    if ax is None:
        fig = new_figure(figsize or (3.2 * len(names), 3.0))
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


# A neuron's output on its map: green high, white neutral, red low, as in the playground. A
# binary output's map then reads like the decision regions beside it (green: pass, red: fail).
NEURON_MAP_COLOURS = LinearSegmentedColormap.from_list(
    "tinygrad_edu_neuron_maps",
    [mix((255, 255, 255), rgb(FAIL), 0.85), "#ffffff", mix((255, 255, 255), rgb(PASS), 0.85)])


def _colour_range(activation: str, values: list[float]) -> tuple[float, float]:
    """A colour scale whose middle (white) is the activation's neutral value."""
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    top = max((abs(v) for v in values), default=0.0) or 1.0
    return -top, top  # relu: 0 (off) is white, firing is green


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
    ``(x1, x2)`` of a ``resolution × resolution`` grid (under ``no_grad``). Green is a high
    output, red a low or negative one, white the neutral value (0, or 0.5 for a sigmoid), as
    in the playground: a binary output's map reads like the decision regions (green: class 1);
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
    resolution = args.whole(resolution, "resolution", 2, 2000)
    max_neurons = args.whole(max_neurons, "max_neurons", 1, 10_000)
    cell = args.positive(cell, "cell")
    axis_labels = args.names(axis_labels, "axis_labels", 2)  # type: ignore[assignment]
    title = args.title(title)
    rows = points_2d(X, "plot_neuron_maps") if X is not None else []
    ys = labels_of(y, len(rows), "plot_neuron_maps") if y is not None else []
    if bounds is None and not rows:
        bounds = ((-3.0, 3.0), (-3.0, 3.0))
    plane = Plane(rows, resolution, 0.1, bounds)

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
    clf = Classifier(model, [plane.g0[0], plane.g1[0]], threshold, who="plot_neuron_maps")
    names = class_names_for(class_names, clf.n_classes)
    check_classes(ys, clf, "plot_neuron_maps")

    shown = [min(w, max_neurons) for w in widths]
    n_rows, n_cols = max(shown), len(stages) + 1
    fig = new_figure((cell * (n_cols + 1.0) + 0.6, cell * n_rows + 1.2))
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
            image = ax.imshow(values, origin="lower", extent=extent, cmap=NEURON_MAP_COLOURS,
                              vmin=vmin, vmax=vmax, interpolation="bilinear", aspect="auto")
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
    draw_regions(ax, plane, clf.scores(plane), clf)
    if rows:
        draw_points(ax, rows, ys, names, clf.multiclass, size=12)
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
