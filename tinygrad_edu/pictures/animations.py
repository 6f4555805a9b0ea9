"""Animations: gradient descent walking over a loss landscape, and a model's decision regions
changing while it trains (the public names are in :mod:`tinygrad_edu.plot`).

``descent_path`` and ``batch_descent_path`` record where gradient descent (full batch, SGD or
mini-batches) walks on a loss of two weights. ``TrainingRecorder`` is a ``fit`` callback that
records the decision regions as training runs; ``animate_descent_paths`` plays several
descent paths side by side. The animations are frames drawn with matplotlib and played by the
one player of the pictures (``player.Player``): a widget in Jupyter, offline HTML, a GIF.

Needs matplotlib: ``pip install 'tinygrad_edu[plot]'``.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinygrad_edu import args
from tinygrad_edu.args import short
from tinygrad_edu.engine import Value
from tinygrad_edu.pictures.player import Player
from tinygrad_edu.pictures.plots import (
    OUTPUTS,
    Classifier,
    Plane,
    check_classes,
    class_names_for,
    draw_points,
    draw_regions,
    labels_of,
    landscape,
    legend_outside,
    log_levels,
    new_figure,
    points_2d,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "descent_path",
    "batch_descent_path",
    "FrameAnimation",
    "TrainingRecorder",
    "DescentAnimation",
    "animate_descent_paths",
]


# ---------------------------------------------------------------------------------------------
# Where gradient descent walks on a loss of two weights
# ---------------------------------------------------------------------------------------------
def _learning_rate(lr: Any, who: str) -> float:
    try:
        rate = args.number(lr, f"{who}: lr")
    except (TypeError, ValueError):
        rate = -1.0
    if not rate > 0:
        raise ValueError(f"{who}: lr must be a finite number > 0, got {short(lr)}")
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
    args.function(loss_fn, "descent_path: loss_fn")
    steps = args.whole(steps, "descent_path: steps", 0)
    lr = _learning_rate(lr, "descent_path")
    w0, w1 = args.pair(start, "descent_path: start")
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
    args.function(loss_fn, "batch_descent_path: loss_fn")
    n = args.whole(n, "batch_descent_path: n", 1, args.MAX_ITEMS)  # (its order is a list)
    epochs = args.whole(epochs, "batch_descent_path: epochs", 0)
    bs = n if batch_size is None else min(args.whole(batch_size, "batch_descent_path: batch_size",
                                                 1), n)
    lr = _learning_rate(lr, "batch_descent_path")
    if seed is not None:
        seed = args.whole(seed, "batch_descent_path: seed", -(2**63))
    rng = random.Random(seed)
    order = list(range(n))
    w0, w1 = args.pair(start, "batch_descent_path: start")
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


# ---------------------------------------------------------------------------------------------
# Animations: frames drawn with matplotlib, played by the one player
# ---------------------------------------------------------------------------------------------
class FrameAnimation(Player):
    """Frames drawn with matplotlib, played by the one player (``player.Player``).

    - In Jupyter, an animation left as the last expression of a cell shows as a player
      (Previous, Next, Play, a slider; the arrow keys step), starting at the first frame;
      Play at the last frame starts again.
    - ``save_gif(path)``: an animated GIF (for slides), looping, lingering on the last frame.
    - ``save_html(path)``: the player as one self-contained file (no network, no kernel).
    - ``frame(i)``: frame ``i`` as a matplotlib Figure (``-1``: the last), e.g. to save a still.
    - ``len(anim)``: the number of frames.

    Frames are rendered to PNG at ``dpi`` (dots per inch) and kept until the frames change.
    """

    fps: float = 5.0
    dpi: float = 80.0

    # Subclasses provide these two.
    def _frame_labels(self) -> list[str]:  # one title per frame; its length is len(self)
        raise NotImplementedError

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        """A figure, and ``draw(k)`` that puts frame ``k`` on it and returns the artists
        that change between frames, in drawing order (the rest is drawn once)."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._frame_labels())

    @property
    def interval_ms(self) -> int:  # type: ignore[override]
        return max(20, min(60_000, round(1000 / self.fps)))

    def titles(self) -> list[str]:
        return self._frame_labels()

    def alt_text(self) -> str:
        labels = self._frame_labels()
        return f"{type(self).__name__}: {labels[0]} … {labels[-1]}" if labels else \
            type(self).__name__

    def picture(self, i: int) -> bytes:
        return self._pngs()[self._frame_index(i)]

    def frame_png(self, i: int) -> bytes:
        return self.picture(i)

    def frame(self, i: int = -1) -> Figure:
        """Frame ``i`` as a Figure (``-1``: the last)."""
        k = self._frame_index(i)
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

        self._frame_index(0)  # a clear error when there are no frames
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
        """The player as an HTML fragment (what Jupyter shows without a kernel)."""
        return self.html(still=True)

    def __repr__(self) -> str:
        labels = self._frame_labels()
        shown = f": {labels[0]} … {labels[-1]}" if labels else ""
        return f"{type(self).__name__}({len(labels)} frames{shown})"

    def save_gif(self, path: Any, fps: float | None = None,  # type: ignore[override]
                 interval_ms: int | None = None) -> Path:
        """Write the frames as an animated GIF that loops, lingering on the last frame
        (``fps`` frames per second, or ``interval_ms`` per frame)."""
        if fps is not None:
            interval_ms = max(20, round(1000 / args.positive(fps, "save_gif: fps")))
        return super().save_gif(path, interval_ms)


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
        class_names, threshold, output, axis_labels, padding: as for
            :func:`plot_decision_boundary` (a model built from layers says what it returns).
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
        output: str | None = None,
    ) -> None:
        self.rows = points_2d(X, "TrainingRecorder")
        self.y = labels_of(y, len(self.rows), "TrainingRecorder")
        self.every = args.whole(every, "TrainingRecorder: every", 1)
        self.plane = Plane(self.rows, args.whole(resolution, "resolution", 2, 2000), padding)
        if transform is not None and not callable(transform):
            raise TypeError("TrainingRecorder: transform must be a function, got "
                            f"{short(transform)}")
        self.transform = transform
        if class_names is not None:
            args.names(class_names, "class_names")
        self.class_names = class_names
        self.threshold = None if threshold is None else args.number(threshold, "threshold")
        if output is not None and (not isinstance(output, str) or output not in OUTPUTS):
            raise ValueError("TrainingRecorder: output must be 'probability', 'logit' or "
                             f"'score', got {short(output)}")
        self.output = output
        self.axis_labels = args.names(axis_labels, "axis_labels", 2)
        self.title = args.title(title)
        self.fps, self.dpi = args.positive(fps, "fps"), args.positive(dpi, "dpi")
        self.frames: list[tuple[int, list[list[Any]]]] = []
        self.history: Any = None
        self._clf: Classifier | None = None
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
            self._clf = Classifier(model, list(self.rows[0]), self.threshold, self.output,
                                   self.transform, who="TrainingRecorder")
            class_names_for(self.class_names, self._clf.n_classes)  # wrong count: fail now
            check_classes(self.y, self._clf, "TrainingRecorder")
        self.frames.append((epoch, self._clf.scores(self.plane)))
        self._version += 1

    # FrameAnimation
    def _frame_labels(self) -> list[str]:
        return [f"epoch {epoch}" for epoch, _ in self.frames]

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        clf = self._clf
        assert clf is not None
        names = class_names_for(self.class_names, clf.n_classes)
        series = getattr(self.history, "history", {}) or {}
        loss, val = series.get("loss", []), series.get("val_loss", [])
        acc = series.get("accuracy", [])
        total = max(getattr(self.history, "params", {}).get("epochs", 0), len(loss),
                    self.frames[-1][0], 1)
        fig = new_figure((9.0, 3.7))
        regions_ax, loss_ax = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
        draw_points(regions_ax, self.rows, self.y, names, clf.multiclass)
        points = list(regions_ax.collections)  # drawn again over each frame's regions
        self.plane.frame(regions_ax, self.axis_labels)
        legend_outside(regions_ax)
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
            drawn[:] = draw_regions(regions_ax, self.plane, grid, clf)
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
            what = f"animate_descent_paths: paths[{short(name)}]"
            pts = [args.pair(p, f"{what}[{i}]") for i, p in enumerate(args.sequence(path, what))]
            if not pts:
                raise ValueError(f"{what} is empty")
            self.paths[str(name)] = pts
        every = [p for pts in self.paths.values() for p in pts]
        g0, g1, Z = landscape(loss_fn, w0_range, w1_range, every, resolution)
        self.levels = log_levels(Z, levels) if logscale else levels
        if logscale:  # losses <= 0 get the lowest colour
            Z = [[max(z, self.levels[0]) for z in row] for row in Z]  # type: ignore[index]
        self.grid = (g0, g1, Z)
        self.logscale = logscale
        self.n_frames = frames
        self.axis_labels = args.names(axis_labels, "axis_labels", 2)
        self.title = args.title(title)
        self.fps, self.dpi = args.positive(fps, "fps"), args.positive(dpi, "dpi")

    def _shown(self, k: int, pts: list[Any]) -> int:
        """Points of a path shown in frame k: the same fraction of every run."""
        return 1 + round(k / max(self.n_frames - 1, 1) * (len(pts) - 1))

    def _frame_labels(self) -> list[str]:
        n = max(self.n_frames - 1, 1)
        return [f"{round(100 * k / n)}% of each run" for k in range(self.n_frames)]

    def _setup(self) -> tuple[Figure, Callable[[int], list[Any]]]:
        g0, g1, Z = self.grid
        n = len(self.paths)
        fig = new_figure((3.7 * n + 0.9, 3.6))
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
    frames = args.whole(frames, "animate_descent_paths: frames", 2, 10_000)
    logscale = args.flag(logscale, "animate_descent_paths: logscale")
    resolution = args.whole(resolution, "resolution", 2, 2000)
    levels = args.whole(levels, "levels", 1, 1000)
    return DescentAnimation(loss_fn, paths, w0_range, w1_range, frames, resolution, levels,
                            logscale, axis_labels, fps, dpi, title)
