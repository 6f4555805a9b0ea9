"""Training plots with matplotlib: loss curves, decision boundaries, loss landscapes.

Every function returns the matplotlib ``Figure`` it drew on, so a notebook shows it by leaving
it as the last expression of a cell, and a script saves it with ``fig.savefig("loss.png")``.
Pass ``ax=`` to draw into axes you made yourself (the function then returns ``ax.figure``).
Nothing here calls ``plt.show()``; figures made here are not kept open by pyplot (no "too many
open figures" warnings from loops).

Needs matplotlib: ``pip install 'tinygrad_edu[plot]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
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

from tinygrad_edu.engine import Value, no_grad

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_loss_landscape",
    "descent_path",
    "plot_activations",
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


# ---------------------------------------------------------------------------------------------
# Loss and metrics per epoch
# ---------------------------------------------------------------------------------------------
def _as_series(h: Any, what: str) -> dict[str, list[float]]:
    data = getattr(h, "history", h)
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{what} must be a train.History (with .history) or a dict mapping names like "
            f"'loss' to per-epoch lists of numbers, got {type(h).__name__}"
        )
    out: dict[str, list[float]] = {}
    for key, values in data.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(
                f"{what}[{key!r}] must be a list of numbers (one per epoch), got "
                f"{type(values).__name__}"
            )
        out[str(key)] = [float(v) for v in values]
    return out


def _is_single(history: Any) -> bool:
    if hasattr(history, "history"):
        return True
    if isinstance(history, Mapping):
        return all(
            isinstance(v, Sequence) and not isinstance(v, (str, bytes)) for v in history.values()
        )
    return False


def plot_history(
    history: Any,
    ax: Any = None,
    metrics: Sequence[str] | None = None,
    logy: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Loss and metrics per epoch.

    Args:
        history: a ``train.History`` (its ``.history`` dict), a dict of per-epoch lists such as
            ``{"loss": [...], "accuracy": [...]}``, or several of those labelled by name, e.g.
            ``{"GD": h1, "SGD": h2, "mini-batch": h3}`` to compare runs on one plot.
        ax: an Axes to draw everything into, or a sequence of Axes (one per metric). By
            default a new figure gets one panel per metric, side by side.
        metrics: which keys to plot (default: all, ``"loss"`` first).
        logy: logarithmic y axis for keys containing "loss" (useful when it falls fast).
        title: figure title.

    Returns:
        the Figure.
    """
    if _is_single(history):
        runs = {"": _as_series(history, "history")}
    elif isinstance(history, Mapping) and history:
        runs = {str(name): _as_series(h, f"history[{name!r}]") for name, h in history.items()}
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
        missing = [m for m in metrics if m not in keys]
        if missing:
            raise KeyError(f"plot_history: no {missing} in the history; it has {keys}")
        keys = list(metrics)
    if not keys:
        raise ValueError("plot_history: the history is empty (train for at least one epoch)")

    if ax is None:
        extra = 1.4 if len(runs) > 1 else 0.0  # room for the legend right of the plot
        fig = _new_figure(figsize or (4.6 * len(keys) + extra, 3.4))
        axes = list(fig.subplots(1, len(keys), squeeze=False)[0])
    elif hasattr(ax, "plot"):
        axes = [ax] * len(keys)
        fig = ax.figure
    else:
        axes = _axes_list(ax)
        if len(axes) != len(keys):
            raise ValueError(f"plot_history: got {len(axes)} axes for {len(keys)} metrics {keys}")
        fig = axes[0].figure

    one_axes = len(set(map(id, axes))) == 1 and len(keys) > 1
    for key, a in zip(keys, axes):
        for name, series in runs.items():
            if key not in series:
                continue
            ys = series[key]
            xs = range(1, len(ys) + 1)
            parts = [p for p in (name, key if one_axes or not name else "") if p]
            label = " ".join(parts) if parts else key
            a.plot(xs, ys, marker="o" if len(ys) <= 30 else None, markersize=3, label=label)
        if logy and "loss" in key:
            a.set_yscale("log")
        a.set_xlabel("epoch")
        if not one_axes:
            a.set_ylabel(key)
            a.set_title(key)
        a.grid(True, alpha=0.3)
    # The legend goes outside, to the right of the axes, so it never covers a curve. Panels
    # side by side with the same entries share one legend, next to the last of them.
    if len(runs) > 1 or one_axes:
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


# ---------------------------------------------------------------------------------------------
# Decision boundary of a 2-D classifier
# ---------------------------------------------------------------------------------------------
def _rows(X: Any) -> list[tuple[float, float]]:
    rows = []
    for i, row in enumerate(X):
        vals = [r.data if isinstance(r, Value) else r for r in row]
        if len(vals) != 2:
            raise ValueError(
                f"plot_decision_boundary draws 2-D inputs; row {i} of X has {len(vals)} "
                "features"
            )
        rows.append((float(vals[0]), float(vals[1])))
    if not rows:
        raise ValueError("plot_decision_boundary: X is empty")
    return rows


def _scores(out: Any) -> list[float]:
    if isinstance(out, Value):
        return [out.data]
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return [float(out)]
    if isinstance(out, Sequence) and out:
        return [o.data if isinstance(o, Value) else float(o) for o in out]
    raise TypeError(
        f"the model must return a Value (binary) or a list of Values (one score per class), "
        f"got {type(out).__name__}"
    )


def _output_activation(model: Any) -> str:
    """The activation of the model's last neurons, when the model says (else "")."""
    while hasattr(model, "layers") and model.layers:
        model = model.layers[-1]
    return str(getattr(model, "activation", "") or "")


def plot_decision_boundary(
    model: Callable[[list[float]], Any],
    X: Any,
    y: Sequence[Any],
    query: tuple[float, float] | None = None,
    ax: Any = None,
    resolution: int = 60,
    labels: Sequence[str] = ("fail", "pass"),
    threshold: float | None = None,
    padding: float = 0.1,
    query_label: str = "you",
    axis_labels: tuple[str, str] = ("x1", "x2"),
    title: str | None = None,
    figsize: tuple[float, float] = (5.0, 4.2),
) -> Figure:
    """The regions a 2-input classifier assigns to each class, with the data points on top.

    The model is evaluated (under ``no_grad``) on a ``resolution × resolution`` grid covering
    the data plus ``padding`` (a fraction of the data's range) on every side.

    - One output (binary): class 1 ("pass", green) where the output is above the threshold,
      class 0 ("fail", red) elsewhere. The threshold is 0.5 when the model's output node is
      a sigmoid (a probability), else 0 (a score or logit, as with hinge loss); pass
      ``threshold=`` to override. Labels ``y`` may be 0/1, -1/+1 or booleans: positive
      means pass.
    - Several outputs (multi-class): each point of the grid takes the class of the largest
      output (argmax); ``y`` holds class indices.

    Args:
        model: called as ``model([x1, x2])``; returns a Value or a list of Values.
        X: rows of two numbers; y: the matching labels.
        query: an optional point to mark with a star and ``query_label`` ("you") and the
            class the model gives it.
        labels: class names for the legend (binary: (negative, positive)).
        resolution: grid points per axis (the engine is scalar: 60 means 3600 forward passes).

    Returns:
        the Figure.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    rows = _rows(X)
    ys = list(y)
    if len(ys) != len(rows):
        raise ValueError(f"X has {len(rows)} rows but y has {len(ys)} labels")

    # Output kind and threshold, from one forward pass that records the graph.
    probe = model([rows[0][0], rows[0][1]])
    first = _scores(probe)
    multiclass = len(first) > 1
    if not multiclass and threshold is None:
        sigmoid = isinstance(probe, Value) and probe.op == "sigmoid"
        threshold = 0.5 if sigmoid or _output_activation(model) == "sigmoid" else 0.0

    def classify(x0: float, x1: float) -> tuple[int, float]:
        s = _scores(model([x0, x1]))
        if multiclass:
            best = max(range(len(s)), key=s.__getitem__)
            return best, s[best]
        return int(s[0] > threshold), s[0]

    xs0 = [r[0] for r in rows] + ([float(query[0])] if query is not None else [])
    xs1 = [r[1] for r in rows] + ([float(query[1])] if query is not None else [])
    lo0, hi0 = min(xs0), max(xs0)
    lo1, hi1 = min(xs1), max(xs1)
    pad0 = (hi0 - lo0) * padding or 1.0
    pad1 = (hi1 - lo1) * padding or 1.0
    lo0, hi0, lo1, hi1 = lo0 - pad0, hi0 + pad0, lo1 - pad1, hi1 + pad1
    g0 = [lo0 + (hi0 - lo0) * i / (resolution - 1) for i in range(resolution)]
    g1 = [lo1 + (hi1 - lo1) * j / (resolution - 1) for j in range(resolution)]
    with no_grad():
        query_class = classify(float(query[0]), float(query[1]))[0] if query is not None else None
        cells = [[classify(a, b) for a in g0] for b in g1]
    grid = [[c[0] for c in row] for row in cells]  # class of each grid point
    score = [[c[1] for c in row] for row in cells]  # its output (binary: compared to threshold)

    ax = _new_axes(ax, figsize)
    fig = ax.figure
    if multiclass:
        n_classes = len(first)
        cmap = matplotlib.colormaps["tab10"]
        colors = [cmap(k % 10) for k in range(n_classes)]
        ax.contourf(g0, g1, grid, levels=[k - 0.5 for k in range(n_classes + 1)],
                    colors=colors, alpha=0.25)
        names = list(labels) if len(labels) == n_classes else [str(k) for k in range(n_classes)]
        for k in range(n_classes):
            pts = [r for r, t in zip(rows, ys) if int(t) == k]
            if pts:
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colors[k],
                           edgecolor="black", linewidth=0.5, s=30, label=names[k])
    else:
        if len(labels) != 2:
            raise ValueError(f"labels must be two names (negative, positive), got {labels!r}")
        # Regions from the output itself (not the 0/1 grid), so the boundary is a smooth line
        # where the output crosses the threshold.
        flat = [v for row in score for v in row]
        lo, hi = min(min(flat), threshold), max(max(flat), threshold)
        ax.contourf(g0, g1, score, levels=[lo - 1.0, threshold, hi + 1.0],
                    cmap=ListedColormap([_FAIL_BG, _PASS_BG]))
        if min(flat) < threshold < max(flat):
            ax.contour(g0, g1, score, levels=[threshold], colors="#555555", linewidths=1.2)
        positive = [float(t) > 0 for t in ys]
        for flag, color, name in ((False, _FAIL, labels[0]), (True, _PASS, labels[1])):
            pts = [r for r, p in zip(rows, positive) if p is flag]
            if pts:
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=color,
                           edgecolor="black", linewidth=0.5, s=30, label=name)
    if query is not None:
        name = labels[query_class] if query_class is not None and query_class < len(labels) \
            else str(query_class)
        ax.scatter([query[0]], [query[1]], marker="*", s=260, color="#ffd700",
                   edgecolor="black", linewidth=1.0, zorder=5, label=f"{query_label}: {name}")
        ax.annotate(query_label, (query[0], query[1]), textcoords="offset points",
                    xytext=(8, 8), fontsize=10, fontweight="bold")
    ax.set_xlim(lo0, hi0)
    ax.set_ylim(lo1, hi1)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    _legend_outside(ax)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# Loss landscape J(w0, w1) and the path gradient descent walks on it
# ---------------------------------------------------------------------------------------------
def _loss_value(loss_fn: Callable[..., Any], w0: float, w1: float) -> float:
    out = loss_fn(w0, w1)
    return out.data if isinstance(out, Value) else float(out)


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
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    w0, w1 = float(start[0]), float(start[1])
    path = [(w0, w1)]
    for _ in range(steps):
        a, b = Value(w0, "w0"), Value(w1, "w1")
        loss = loss_fn(a, b)
        if not isinstance(loss, Value):
            raise TypeError(
                f"descent_path: loss_fn must build its result from the Values it gets, "
                f"got {type(loss).__name__}"
            )
        loss.backward()
        w0, w1 = w0 - lr * a.grad, w1 - lr * b.grad
        if not (math.isfinite(w0) and math.isfinite(w1)):
            raise OverflowError(
                f"descent_path diverged after {len(path)} steps (w = {w0}, {w1}); use a "
                "smaller lr"
            )
        path.append((w0, w1))
    return path


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
    figsize: tuple[float, float] = (5.0, 4.2),
) -> Figure:
    """Contour map of the loss surface ``J(w0, w1)`` with a gradient-descent path on it.

    Args:
        loss_fn: ``loss_fn(w0, w1)`` -> a number or a Value. It is called with Values
            (under ``no_grad``), so the same function works for :func:`descent_path`; a
            function that only accepts floats is called with floats instead.
        w0_range, w1_range: ``(low, high)`` of each axis; when omitted, the path's extent
            plus a margin.
        path: points ``(w0, w1)`` to draw as a walk downhill (start marked with a circle,
            end with a star), e.g. from :func:`descent_path`.
        logscale: space the contour levels logarithmically (for losses spanning decades).

    Returns:
        the Figure.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    pts = [(float(p[0]), float(p[1])) for p in path] if path is not None else []
    if w0_range is None or w1_range is None:
        if not pts:
            raise ValueError("plot_loss_landscape needs w0_range and w1_range (or a path)")
        for i, rng in ((0, w0_range), (1, w1_range)):
            if rng is None:
                lo, hi = min(p[i] for p in pts), max(p[i] for p in pts)
                margin = 0.2 * (hi - lo) or 1.0
                if i == 0:
                    w0_range = (lo - margin, hi + margin)
                else:
                    w1_range = (lo - margin, hi + margin)
    (a0, b0), (a1, b1) = w0_range, w1_range  # type: ignore[misc]
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

    ax = _new_axes(ax, figsize)
    fig = ax.figure
    if logscale:
        from matplotlib.colors import LogNorm

        zmin = min(z for row in Z for z in row if z > 0)
        zmax = max(z for row in Z for z in row)
        lv = [zmin * (zmax / zmin) ** (k / levels) for k in range(levels + 1)]
        cs = ax.contourf(g0, g1, Z, levels=lv, norm=LogNorm(), cmap="viridis")
        ax.contour(g0, g1, Z, levels=lv, colors="white", linewidths=0.4, alpha=0.6)
    else:
        cs = ax.contourf(g0, g1, Z, levels=levels, cmap="viridis")
        ax.contour(g0, g1, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label="J(w0, w1)")
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color="#ff7f0e", lw=1.5,
                marker=".", markersize=5, label="gradient descent")
        ax.plot(*pts[0], "o", color="white", markeredgecolor="black", markersize=8,
                label="start")
        ax.plot(*pts[-1], "*", color="#ffd700", markeredgecolor="black", markersize=14,
                label="end")
        ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.set_xlim(a0, b0)
    ax.set_ylim(a1, b1)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
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
    lo, hi = x_range
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
