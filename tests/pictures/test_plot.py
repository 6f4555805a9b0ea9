"""Training plots (tinygrad_edu.plot), rendered with matplotlib's Agg backend."""

from __future__ import annotations

import importlib
import io
import math
import random
import sys
import warnings

import pytest

np = pytest.importorskip("numpy")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tinygrad_edu import Value  # noqa: E402
from tinygrad_edu.losses import binary_cross_entropy  # noqa: E402
from tinygrad_edu.nn import MLP, Neuron  # noqa: E402
from tinygrad_edu.optim import SGD  # noqa: E402
from tinygrad_edu.plot import (  # noqa: E402
    TrainingRecorder,
    animate_descent_paths,
    batch_descent_path,
    descent_path,
    plot_activations,
    plot_decision_boundary,
    plot_history,
    plot_loss_landscape,
    plot_neuron_maps,
)
from tinygrad_edu.train import History, fit  # noqa: E402


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    """Library code must never call plt.show(), nor leave pyplot figures open."""

    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() called from library code")

    monkeypatch.setattr(plt, "show", forbidden)
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


def png_pixels(fig: Figure):
    """Render ``fig`` to PNG bytes, check them, and return the pixels (rows x cols x RGBA)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    buf.seek(0)
    img = matplotlib.image.imread(buf)
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img[..., :3].std() > 0.05  # not a blank image
    return img


def pass_fail_data():
    # pass (1) when lectures + marks > 10: two clusters either side of the line
    X = [[2.0, 1.0], [1.0, 3.0], [3.0, 2.0], [4.0, 4.0], [8.0, 7.0], [7.0, 9.0], [9.0, 6.0],
         [6.0, 8.0]]
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    return X, y


# ---------------------------------------------------------------------------------------------
# plot_history
# ---------------------------------------------------------------------------------------------
def test_history_from_real_fit():
    X, y = pass_fail_data()
    model = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    hist = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.05), epochs=5,
               progress=False, metrics=["accuracy"])
    assert isinstance(hist, History)
    fig = plot_history(hist)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    xs, ys = axes[0].lines[0].get_data()
    assert list(xs) == [1, 2, 3, 4, 5]
    assert list(ys) == hist.history["loss"]
    png_pixels(fig)


def test_history_plain_dict_and_comparison():
    fig = plot_history({"loss": [1.0, 0.5, 0.25]}, logy=True, title="one run")
    assert fig.axes[0].get_yscale() == "log"
    assert fig._suptitle.get_text() == "one run"
    runs = {
        "GD": {"loss": [1.0, 0.6, 0.4]},
        "SGD": History(),
        "mini-batch": {"loss": [1.0, 0.5, 0.45]},
    }
    runs["SGD"].history["loss"].extend([1.0, 0.4, 0.3])
    fig = plot_history(runs)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["GD", "SGD", "mini-batch"]
    assert list(ax.lines[1].get_ydata()) == [1.0, 0.4, 0.3]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GD", "SGD", "mini-batch"]
    png_pixels(fig)


def test_history_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_history({"loss": [3.0, 2.0], "accuracy": [0.5, 0.75]}, ax=ax)
    assert out is fig
    assert [line.get_label() for line in ax.lines] == ["loss", "accuracy"]
    fig2 = Figure()
    axes = fig2.subplots(1, 2)  # a numpy array of Axes, as plt.subplots gives
    plot_history({"loss": [3.0, 2.0], "accuracy": [0.5, 0.75]}, ax=axes)
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    with pytest.raises(ValueError, match="2 metrics"):
        plot_history({"loss": [3.0, 2.0], "accuracy": [0.5, 0.75]}, ax=[axes[0]])


def test_history_bad_input():
    with pytest.raises(TypeError, match="History"):
        plot_history(42)
    with pytest.raises(KeyError, match="val_loss"):
        plot_history({"loss": [1.0]}, metrics=["val_loss"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({})


# ---------------------------------------------------------------------------------------------
# plot_decision_boundary
# ---------------------------------------------------------------------------------------------
def pixel(fig: Figure, ax, x: float, y: float) -> tuple[int, int, int]:
    """RGB (0-255) of the rendered figure at data point (x, y)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())
    height = fig.bbox.height
    px, py = ax.transData.transform((x, y))
    r, g, b, _ = img[int(round(height - py)), int(round(px))]
    return int(r), int(g), int(b)


PASS_BG = (0xC7, 0xEC, 0xC7)
FAIL_BG = (0xF6, 0xCA, 0xCA)


def test_decision_boundary_colours_the_two_half_planes():
    # a score x0 - x1 (a plain function says what it returns): cut at 0, so "pass" exactly
    # where x0 > x1
    def model(x):
        return Value(x[0]) - Value(x[1])

    X = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]]
    y = [0, 1, 1, 0]
    with pytest.raises(TypeError, match="cannot tell what this function returns.*output="):
        plot_decision_boundary(model, X, y, resolution=4)
    with pytest.raises(ValueError, match="output must be 'probability'"):
        plot_decision_boundary(model, X, y, output="probabilities")
    fig = plot_decision_boundary(model, X, y, resolution=40, output="score")
    ax = fig.axes[0]
    assert pixel(fig, ax, 8.0, 2.0) == PASS_BG  # x0 > x1
    assert pixel(fig, ax, 2.0, 8.0) == FAIL_BG  # x0 < x1
    assert pixel(fig, ax, 6.0, 1.0) == PASS_BG
    assert pixel(fig, ax, 1.0, 6.0) == FAIL_BG
    png_pixels(fig)


def test_decision_boundary_sigmoid_output_uses_threshold_half():
    # sigmoid(x0 - x1 + 1) > 0.5 exactly where x0 - x1 > -1; with threshold 0 it would all pass
    def model(x):
        return (Value(x[0]) - Value(x[1]) + 1.0).sigmoid()

    X, y = [[0.0, 0.0], [10.0, 10.0]], [0, 1]
    fig = plot_decision_boundary(model, X, y)
    ax = fig.axes[0]
    assert pixel(fig, ax, 2.0, 8.0) == FAIL_BG
    assert pixel(fig, ax, 8.0, 2.0) == PASS_BG
    fig = plot_decision_boundary(model, X, y, threshold=0.0)  # explicit override
    assert pixel(fig, fig.axes[0], 2.0, 8.0) == PASS_BG


def test_decision_boundary_real_mlp_points_and_query():
    X, y = pass_fail_data()
    model = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    fig = plot_decision_boundary(model, X, y, query=(5, 4))
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["class 0", "class 1"] and legend[2].startswith("you: class ")
    assert any(t.get_text() == "you" for t in ax.texts)
    # the points: red for fail, green for pass
    fail, passed = ax.collections[-3], ax.collections[-2]
    assert len(fail.get_offsets()) == 4 and len(passed.get_offsets()) == 4
    assert tuple(fail.get_facecolor()[0][:3]) == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
    assert tuple(passed.get_facecolor()[0][:3]) == pytest.approx((0.173, 0.627, 0.173), abs=0.01)
    png_pixels(fig)


def test_decision_boundary_multiclass_argmax():
    # three scores: class 0 where x0 is largest, 1 where x1 is, 2 where 5 (a constant) is
    def model(x):
        return [Value(x[0]), Value(x[1]), Value(5.0)]

    X = [[9.0, 1.0], [1.0, 9.0], [1.0, 1.0], [9.0, 9.0]]
    y = [0, 1, 2, 0]
    fig = plot_decision_boundary(model, X, y, labels=("a", "b", "c"))
    ax = fig.axes[0]
    colours = {pixel(fig, ax, 8.0, 2.5), pixel(fig, ax, 2.5, 8.0), pixel(fig, ax, 2.0, 2.5)}
    assert len(colours) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_decision_boundary_into_axes_and_bad_input():
    fig = Figure()
    ax = fig.add_subplot()
    X, y = pass_fail_data()
    model = Neuron(2, activation="sigmoid", seed=0)
    assert plot_decision_boundary(model, X, y, ax=ax, resolution=10) is fig
    with pytest.raises(ValueError, match="2-D"):
        plot_decision_boundary(model, [[1.0, 2.0, 3.0]], [1])
    with pytest.raises(ValueError, match="8 rows but y has 2"):
        plot_decision_boundary(model, X, [0, 1])
    with pytest.raises(ValueError, match="resolution"):
        plot_decision_boundary(model, X, y, resolution=1)


# ---------------------------------------------------------------------------------------------
# Loss landscape and the descent path
# ---------------------------------------------------------------------------------------------
def bowl(w0, w1):
    return (w0 - 1) ** 2 + 3 * (w1 + 2) ** 2


def test_descent_path_steps_downhill():
    path = descent_path(bowl, start=(0.0, 0.0), lr=0.1, steps=30)
    assert len(path) == 31 and path[0] == (0.0, 0.0)
    # by hand: grad at (0, 0) = (2(0-1), 6(0+2)) = (-2, 12) -> (0.2, -1.2)
    assert path[1] == pytest.approx((0.2, -1.2))
    losses = [bowl(a, b) for a, b in path]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert path[-1] == pytest.approx((1.0, -2.0), abs=1e-2)
    with pytest.raises(OverflowError, match="smaller (lr|learning rate)"):
        descent_path(bowl, (0.0, 0.0), lr=10.0, steps=1000)


def test_loss_landscape_with_path():
    path = descent_path(bowl, (-2.0, 1.0), 0.05, 20)
    fig = plot_loss_landscape(bowl, (-3.0, 3.0), (-4.0, 2.0), path=path, resolution=30)
    ax = fig.axes[0]
    xs, ys = ax.lines[0].get_data()
    assert list(zip(xs, ys)) == path
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gradient descent", "start",
                                                                   "end"]
    assert len(fig.axes) == 2  # the plot and its colour bar
    png_pixels(fig)


def test_loss_landscape_float_function_and_auto_range():
    def float_loss(w0, w1):  # uses math.exp: works on floats only
        return math.exp(0.1 * w0) + w1 * w1

    fig = plot_loss_landscape(float_loss, path=[(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)],
                              logscale=True)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 0.0 and hi > 1.0
    png_pixels(fig)
    with pytest.raises(ValueError, match="w0_range"):
        plot_loss_landscape(float_loss)


# ---------------------------------------------------------------------------------------------
# Activations and their derivatives (from the engine)
# ---------------------------------------------------------------------------------------------
def test_activations_and_derivatives():
    fig = plot_activations(points=81)
    assert [a.get_title() for a in fig.axes] == ["relu", "tanh", "sigmoid", "linear"]
    by_label = {line.get_label(): line for a in fig.axes for line in a.lines}
    xs = list(by_label["tanh(x)"].get_xdata())
    mid = xs.index(0.0)
    assert by_label["tanh'(x)"].get_ydata()[mid] == 1.0
    assert by_label["sigmoid'(x)"].get_ydata()[mid] == 0.25
    assert by_label["relu'(x)"].get_ydata()[mid] == 0.0  # as PyTorch: relu'(0) = 0
    assert by_label["relu'(x)"].get_ydata()[-1] == 1.0
    assert set(by_label["linear'(x)"].get_ydata()) == {1.0}
    png_pixels(fig)
    with pytest.raises(ValueError, match="unknown activation"):
        plot_activations(["swish"])


# ---------------------------------------------------------------------------------------------
# Missing matplotlib
# ---------------------------------------------------------------------------------------------
def test_missing_matplotlib_names_the_plot_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    for name in ("tinygrad_edu.plot", "tinygrad_edu.pictures.plots",
                 "tinygrad_edu.pictures.animations"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module("tinygrad_edu.plot")
    assert "pip install 'tinygrad_edu[plot]'" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Class names, validation curves, clear errors (issues 10.6, 12.14)
# ---------------------------------------------------------------------------------------------
def test_decision_boundary_class_names():
    X, y = pass_fail_data()
    model = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    fig = plot_decision_boundary(model, X, y, query=(5, 4), class_names=("fail", "pass"))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["fail", "pass"] and legend[2] in ("you: fail", "you: pass")
    fig = plot_decision_boundary(model, X, y, labels=("no", "yes"))  # the old name
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["no", "yes"]
    with pytest.raises(ValueError, match=r"class_names \(one per class.*\) must be 2 names"):
        plot_decision_boundary(model, X, y, class_names=("a", "b", "c"))
    with pytest.raises(TypeError, match="not both"):
        plot_decision_boundary(model, X, y, class_names=("a", "b"), labels=("a", "b"))


def test_history_draws_validation_with_its_training_series():
    X, y = pass_fail_data()
    model = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    hist = fit(model, X[:6], y[:6], binary_cross_entropy, SGD(model.parameters(), lr=0.05),
               epochs=4, progress=False, metrics=["accuracy"], validation_data=(X[6:], y[6:]))
    fig = plot_history(hist)
    loss_ax, acc_ax = fig.axes
    assert [a.get_title() for a in fig.axes] == ["loss", "accuracy"]
    train, val = loss_ax.lines
    assert list(train.get_ydata()) == hist.history["loss"]
    assert list(val.get_ydata()) == hist.history["val_loss"]
    assert (train.get_label(), val.get_label()) == ("train", "validation")
    assert val.get_linestyle() == "--" and val.get_color() == train.get_color()
    assert list(acc_ax.lines[1].get_ydata()) == hist.history["val_accuracy"]
    assert acc_ax.get_legend() is not None  # one legend, beside the last panel
    png_pixels(fig)
    # comparing runs: each run's validation curve is dashed in the run's colour
    fig = plot_history({"a": hist, "b": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]}},
                       metrics=["loss"])
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["a train", "a validation", "b train", "b validation"]


def test_history_numpy_series_and_empty_history():
    fig = plot_history({"loss": np.array([1.0, 0.5, 0.25]), "accuracy": np.array([0.5, 1.0, 1])})
    assert list(fig.axes[0].lines[0].get_ydata()) == [1.0, 0.5, 0.25]
    with pytest.raises(ValueError, match="history is empty, no epoch was recorded"):
        plot_history(History())
    with pytest.raises(ValueError, match="empty"):
        plot_history(History(["loss", "accuracy"]))
    with pytest.raises(TypeError, match=r"history\['loss'\]\[1\] is 'x'"):
        plot_history({"loss": [1.0, "x"]})
    with pytest.raises(TypeError, match="not both"):
        plot_history({"loss": [1.0], "GD": History()})


def test_activations_need_two_points_or_more():
    fig = plot_activations(["tanh"], points=2)
    assert list(fig.axes[0].lines[0].get_xdata()) == [-4.0, 4.0]
    for points in (1, 0, -3, 10**29):
        with pytest.raises(ValueError, match="points must be a whole number (>= 2|from 2 to)"):
            plot_activations(points=points)
    with pytest.raises(TypeError, match="points must be a whole number >= 2, got float"):
        plot_activations(points=2.5)
    with pytest.raises(ValueError, match="low < high"):
        plot_activations(x_range=(1.0, 1.0))
    assert len(plot_activations(["relu"], points=np.int64(5)).axes[0].lines[0].get_xdata()) == 5


def test_loss_landscape_logscale_needs_a_positive_loss():
    with pytest.raises(ValueError, match=r"logscale=True\) needs positive loss.*smallest is -2"):
        plot_loss_landscape(lambda a, b: a * 0 - 2.0, (-1, 1), (-1, 1), logscale=True,
                            resolution=5)
    # some losses <= 0 are fine: the levels span the positive ones
    fig = plot_loss_landscape(lambda a, b: a * a + b * b, (-1, 1), (-1, 1), logscale=True,
                              resolution=5)
    png_pixels(fig)


@pytest.mark.parametrize("lr", [math.nan, math.inf, 0.0, -0.1, "0.1"])
def test_descent_path_refuses_a_bad_learning_rate(lr):
    with pytest.raises(ValueError, match=r"descent_path: lr must be a finite number > 0"):
        descent_path(bowl, (0.0, 0.0), lr=lr, steps=3)


# ---------------------------------------------------------------------------------------------
# 3-D surface, batch paths and their animation (notebook 5)
# ---------------------------------------------------------------------------------------------
def test_loss_surface_in_3d_with_the_path_on_it():
    path = descent_path(bowl, (-2.0, 1.0), 0.1, 10)
    fig = plot_loss_landscape(bowl, (-3.0, 3.0), (-4.0, 2.0), path=path, kind="surface",
                              resolution=20, axis_labels=("W0", "W1"))
    ax = fig.axes[0]
    assert ax.name == "3d"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("W0", "W1",
                                                                   "loss J(W0, W1)")
    xs, ys, zs = ax.lines[0].get_data_3d()
    assert list(zip(xs, ys)) == path
    lift = zs[0] - bowl(*path[0])  # the path sits just above the surface, by one margin
    assert lift > 0 and list(zs) == pytest.approx([bowl(a, b) + lift for a, b in path])
    png_pixels(fig)
    with pytest.raises(ValueError, match="3-D axes"):
        plot_loss_landscape(bowl, (-1, 1), (-1, 1), kind="surface", ax=Figure().add_subplot())
    with pytest.raises(ValueError, match="kind must be"):
        plot_loss_landscape(bowl, (-1, 1), (-1, 1), kind="wireframe")


def data_bowl():
    """J(w0, w1) = mean_i (w0 * a_i + w1 * b_i - t_i)^2 over 6 examples."""
    rows = [(1.0, 0.5, 2.0), (0.5, 1.0, 1.0), (-1.0, 0.0, -1.5), (0.0, -1.0, 0.5),
            (2.0, 1.0, 3.5), (-0.5, 0.5, 0.0)]

    def batch_loss(w0, w1, batch):
        total = 0
        for i in batch:
            a, b, t = rows[i]
            total = total + (w0 * a + w1 * b - t) ** 2
        return total * (1.0 / len(batch))

    return rows, batch_loss


def test_batch_descent_paths_gd_sgd_minibatch():
    rows, batch_loss = data_bowl()
    n = len(rows)
    gd = batch_descent_path(batch_loss, n, (0.0, 0.0), lr=0.1, epochs=5)
    full = descent_path(lambda a, b: batch_loss(a, b, range(n)), (0.0, 0.0), 0.1, 5)
    assert gd == full  # full batch: the same walk as descent_path on the mean loss
    sgd = batch_descent_path(batch_loss, n, (0.0, 0.0), lr=0.1, epochs=5, batch_size=1, seed=3)
    mini = batch_descent_path(batch_loss, n, (0.0, 0.0), lr=0.1, epochs=5, batch_size=4)
    assert len(sgd) == 1 + 5 * 6 and len(mini) == 1 + 5 * 2
    # SGD's first step is one example's gradient, by hand: order from random.Random(3)
    order = list(range(n))
    random.Random(3).shuffle(order)
    a, b, t = rows[order[0]]
    r = 0.0 * a + 0.0 * b - t
    assert sgd[1] == pytest.approx((-0.1 * 2 * r * a, -0.1 * 2 * r * b), abs=1e-15)
    assert batch_descent_path(batch_loss, n, (0, 0), 0.1, 5, batch_size=1, seed=3) == sgd
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        batch_descent_path(batch_loss, n, (0, 0), 0.1, 5, batch_size=0)


def test_animate_descent_paths_side_by_side(tmp_path):
    rows, batch_loss = data_bowl()
    n = len(rows)
    paths = {
        "GD": batch_descent_path(batch_loss, n, (-1.0, 2.0), lr=0.1, epochs=6),
        "SGD": batch_descent_path(batch_loss, n, (-1.0, 2.0), lr=0.1, epochs=6, batch_size=1),
        "mini-batch": batch_descent_path(batch_loss, n, (-1.0, 2.0), lr=0.1, epochs=6,
                                         batch_size=3),
    }
    anim = animate_descent_paths(lambda a, b: batch_loss(a, b, range(n)), paths, frames=7,
                                 resolution=15)
    assert len(anim) == 7
    # frame 3 of 7 is half of every run: epoch 3 of 6
    fig = anim.frame(3)
    panels = [a for a in fig.axes if a.get_title()]
    assert [a.get_title().split("\n")[0] for a in panels] == ["GD", "SGD", "mini-batch"]
    for ax, (name, path) in zip(panels, paths.items()):
        line = ax.lines[1]
        steps = (len(path) - 1) // 2
        assert list(zip(*line.get_data())) == path[:steps + 1]
        assert ax.get_title() == f"{name}\nstep {steps} of {len(path) - 1}"
    last = anim.frame(-1)
    assert list(zip(*last.axes[1].lines[1].get_data())) == paths["SGD"]
    anim.save_gif(tmp_path / "paths.gif")
    assert gif_frames(tmp_path / "paths.gif") == 7


# ---------------------------------------------------------------------------------------------
# Neuron maps (issue 10.2)
# ---------------------------------------------------------------------------------------------
def map_value_at(ax, x1, x2):
    """The value a neuron map shows at the grid point nearest (x1, x2), and that point."""
    (image,) = ax.images
    values = np.asarray(image.get_array())
    left, right, bottom, top = image.get_extent()
    rows, cols = values.shape
    i = int((x1 - left) / (right - left) * cols)
    j = int((x2 - bottom) / (top - bottom) * rows)
    centre = (left + (i + 0.5) * (right - left) / cols, bottom + (j + 0.5) * (top - bottom) / rows)
    return values[j, i], centre


def test_neuron_maps_show_each_neurons_output():
    X, y = pass_fail_data()
    model = MLP(2, [3, 2, 1], activation="tanh", output_activation="sigmoid", seed=4)
    fig = plot_neuron_maps(model, X, y, resolution=12)
    by_label = {a.get_label(): a for a in fig.axes}
    expected = ["layer 1 neuron 0", "layer 1 neuron 1", "layer 1 neuron 2", "layer 2 neuron 0",
                "layer 2 neuron 1", "layer 3 neuron 0", "decision regions"]
    assert all(name in by_label for name in expected)
    layers = model.layers
    rng = random.Random(0)
    for _ in range(10):  # sampled points of the plane: each map shows that neuron's output
        x1, x2 = rng.uniform(0.5, 9.0), rng.uniform(0.5, 9.0)
        _, (c1, c2) = map_value_at(by_label["layer 1 neuron 0"], x1, x2)
        h1 = layers[0]([c1, c2])
        h2 = layers[1](h1)
        out = layers[2](h2)
        for k in range(3):
            shown, _ = map_value_at(by_label[f"layer 1 neuron {k}"], x1, x2)
            assert shown == pytest.approx(h1[k].data, abs=1e-12)
        for k in range(2):
            assert map_value_at(by_label[f"layer 2 neuron {k}"], x1, x2)[0] == \
                pytest.approx(h2[k].data, abs=1e-12)
        assert map_value_at(by_label["layer 3 neuron 0"], x1, x2)[0] == \
            pytest.approx(out.data, abs=1e-12)
    assert by_label["layer 1 neuron 0"].get_title() == "layer 1: tanh"
    assert by_label["layer 3 neuron 0"].get_title() == "output: sigmoid"
    # the data on every map: white dots for class 0, black for class 1
    offsets = by_label["layer 2 neuron 1"].collections
    assert [len(c.get_offsets()) for c in offsets] == [4, 4]
    png_pixels(fig)


def test_neuron_map_colours_follow_the_activation():
    # one tanh neuron computing tanh(x1): green where it fires (x1 > 0), red below, white at 0
    # (the playground's colours, and the pass/fail colours of the decision panel)
    neuron = Neuron(2, activation="tanh", seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, 0.0, 0.0
    fig = plot_neuron_maps(neuron, resolution=41)
    ax = next(a for a in fig.axes if a.get_label() == "layer 1 neuron 0")
    high, low, white = pixel(fig, ax, 2.5, 0.0), pixel(fig, ax, -2.5, 0.0), pixel(fig, ax, 0, 1)
    assert high[1] > high[0] + 60 and high[1] > high[2] + 60  # green: the top end
    assert low[0] > low[1] + 60 and low[0] > low[2] + 60  # red: the bottom end
    assert min(white) > 200 and abs(white[0] - white[2]) < 40  # tanh(0) = 0: white
    relu = Neuron(2, activation="relu", seed=0)
    relu.w[0].data, relu.w[1].data, relu.b.data = 1.0, 0.0, 0.0
    fig = plot_neuron_maps(relu, resolution=41)
    ax = next(a for a in fig.axes if a.get_label() == "layer 1 neuron 0")
    assert min(pixel(fig, ax, -2.0, 0.0)) > 230  # relu off: white, not red
    fired = pixel(fig, ax, 2.5, 0.0)
    assert fired[1] > fired[0] + 60


def test_an_output_map_has_the_colours_of_the_decision_panel():
    # a sigmoid output that says class 1 ("pass") for x1 > 0: its map and the decision panel
    # are both green there and both red where it says class 0
    neuron = Neuron(2, activation="sigmoid", seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 3.0, 0.0, 0.0
    fig = plot_neuron_maps(neuron, resolution=41, bounds=((-3.0, 3.0), (-3.0, 3.0)))
    out = next(a for a in fig.axes if a.get_label() == "layer 1 neuron 0")
    panel = next(a for a in fig.axes if a.get_label() == "decision regions")
    for ax in (out, panel):
        r, g, b = pixel(fig, ax, 2.5, 0.0)
        assert g > r + 25 and g > b + 25, (ax.get_label(), (r, g, b))  # green: class 1
        r, g, b = pixel(fig, ax, -2.5, 0.0)
        assert r > g + 25 and r > b + 25, (ax.get_label(), (r, g, b))  # red: class 0


def test_neuron_maps_need_a_two_input_model():
    with pytest.raises(ValueError, match="needs 2 inputs; this one has 3"):
        plot_neuron_maps(MLP(3, [2, 1], seed=0))
    with pytest.raises(ValueError, match="needs 2 inputs; this one has 1"):
        plot_neuron_maps(Neuron(1, seed=0))
    with pytest.raises(TypeError, match="built from layers"):
        plot_neuron_maps(lambda x: Value(x[0]))
    with pytest.raises(ValueError, match="8 rows but y has 2"):
        plot_neuron_maps(MLP(2, [2, 1], seed=0), *pass_fail_data()[:1], [0, 1])
    wide = plot_neuron_maps(MLP(2, [20, 1], seed=0), resolution=4, max_neurons=5)
    titles = [a.get_title() for a in wide.axes if a.get_label() == "layer 1 neuron 0"]
    assert titles == ["layer 1: relu\n(first 5 of 20)"]


# ---------------------------------------------------------------------------------------------
# TrainingRecorder (issue 10.4)
# ---------------------------------------------------------------------------------------------
def gif_frames(path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "GIF"
        return im.n_frames


def recorded_run(every=5, epochs=12, **kw):
    X, y = pass_fail_data()
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    states = {}

    def keep(epoch, m, history):
        states[epoch] = m.state_dict()

    states[0] = model.state_dict()
    recorder = TrainingRecorder(X, y, every=every, resolution=8, **kw)
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=epochs,
            progress=False, metrics=["accuracy"], callbacks=[recorder, keep])
    return recorder, h, states, model


def test_recorder_records_the_regions_of_each_recorded_epoch():
    recorder, h, states, model = recorded_run()
    assert [epoch for epoch, _ in recorder.frames] == [0, 5, 10, 12]
    assert len(recorder) == 4 and recorder.history is h
    assert repr(recorder) == "TrainingRecorder(4 frames: epoch 0 … epoch 12)"
    probe = MLP(2, [3, 1], "tanh", "sigmoid", seed=1)
    g0, g1 = recorder.plane.g0, recorder.plane.g1
    for epoch, grid in recorder.frames:
        probe.load_state_dict(states[epoch])
        for j in (0, 3, 7):
            for i in (0, 4, 7):
                assert grid[j][i] == probe([g0[i], g1[j]]).data
    # the last frame's picture: regions as plot_decision_boundary draws them, and the loss
    fig = recorder.frame(-1)
    regions_ax, loss_ax = fig.axes[:2]
    assert regions_ax.get_title() == "epoch 12"
    assert list(loss_ax.lines[0].get_ydata()) == h.history["loss"]
    assert loss_ax.get_title() == (f"loss {h.history['loss'][-1]:.4f}, "
                                   f"accuracy {h.history['accuracy'][-1]:.2f}")
    assert recorder.frame(0).axes[0].get_title() == "untrained (epoch 0)"
    png_pixels(fig)


def test_recorder_player_gif_and_html(tmp_path):
    recorder, *_ = recorded_run()
    bundle, _ = recorder._repr_mimebundle_()
    page = bundle["text/html"]
    # 4 frames + the still (the last frame) shown where scripts do not run, once each
    assert page.count("data:image/png;base64,") == 5
    assert page.index('class="tge-still"') < page.index("<script")  # removed by the script
    assert "Previous<\\/button>" in page and "Play<\\/button>" in page  # built by the script
    assert "epoch 12" in page and "frame 1 of 4" in page  # it starts at the first frame
    recorder.save_gif(tmp_path / "run.gif")
    assert gif_frames(tmp_path / "run.gif") == 4
    recorder.save_html(tmp_path / "run.html", title="pass/fail")
    text = (tmp_path / "run.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "<title>pass/fail</title>" in text
    assert "http://" not in text and "https://" not in text  # self-contained: no network
    for name in ("Previous", "Next", "Play"):
        assert f'">{name}</button>' in text
    # frames are PNGs of one size: nothing jumps between frames
    from PIL import Image

    sizes = {Image.open(io.BytesIO(p)).size for p in recorder._pngs()}
    assert len(sizes) == 1


def test_recorder_errors(tmp_path):
    X, y = pass_fail_data()
    empty = TrainingRecorder(X, y)
    with pytest.raises(ValueError, match=r"no frames yet; pass it to fit"):
        empty.save_gif(tmp_path / "x.gif")
    with pytest.raises(ValueError, match="every must be a positive int"):
        TrainingRecorder(X, y, every=0)
    with pytest.raises(ValueError, match="8 rows but y has 3"):
        TrainingRecorder(X, y[:3])
    recorder, *_ = recorded_run()
    missing = tmp_path / "no" / "such" / "dir" / "run.gif"
    with pytest.raises(OSError, match="no/such/dir/run.gif"):
        recorder.save_gif(missing)
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "run.html").mkdir()  # a directory where the file should go
    with pytest.raises(OSError, match="run.html"):
        recorder.save_html(folder / "run.html")
    assert [p.name for p in folder.iterdir()] == ["run.html"]  # no half-written file left


def test_recorder_with_a_transform_draws_original_units():
    X, y = pass_fail_data()
    mean = [sum(r[k] for r in X) / len(X) for k in (0, 1)]
    Xs = [[r[0] - mean[0], r[1] - mean[1]] for r in X]
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    recorder = TrainingRecorder(X, y, every=2, resolution=6, class_names=("fail", "pass"),
                                transform=lambda p: [p[0] - mean[0], p[1] - mean[1]])
    fit(model, Xs, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=2,
        progress=False, callbacks=[recorder])
    g0, g1 = recorder.plane.g0, recorder.plane.g1
    assert recorder.frames[-1][1][2][3] == model([g0[3] - mean[0], g1[2] - mean[1]]).data
    legend = recorder.frame().axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["fail", "pass"]


def test_history_of_a_diverged_run_on_a_log_axis():
    # a loss growing x5.3 per epoch up to 1e306 (from err.history): matplotlib's own log
    # margins and ticks overflow there; the plot must still show the line, without warnings
    loss = [25.2 * 5.3**k for k in range(423)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_history({"loss": loss}, logy=True)
        png_pixels(fig)
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert lo <= loss[0] and loss[-1] <= hi <= sys.float_info.max
    assert list(ax.yaxis.get_major_locator().locs) == [10.0**k for k in range(50, 301, 50)]


# ---------------------------------------------------------------------------------------------
# Hostile input (issue 12, the hypothesis suite's findings): clear errors, never a builtin's
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: plot_decision_boundary(Neuron(2, seed=0), 0.0, [1]), TypeError,
     "X must be a list, got float"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, None]], [1]), TypeError,
     r"X\[0\]\[1\] must be a number, got NoneType"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, "2"]], [1]), TypeError,
     r"X\[0\]\[1\] must be a number, got str"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, 10**400]], [1]), ValueError,
     r"X\[0\]\[1\] is too large for a float"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, 2.0]], 0.0), TypeError,
     "y must be a list"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, 2.0]], [1], query=[]),
     ValueError, "query must be two numbers, got 0"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, 2.0]], [1], query={}),
     TypeError, "query must be a list, got dict"),
    (lambda: plot_decision_boundary(MLP(2, [3], seed=0), [[1.0, 2.0]], [5]), ValueError,
     r"y\[0\] is 5, but the model's 3 outputs are classes 0..2"),
    (lambda: plot_decision_boundary(Neuron(2, seed=0), [[1.0, 2.0]], [1], title=np.zeros(2)),
     TypeError, "title must be a str"),
    (lambda: plot_history({"loss": [1.0, -10**400]}), ValueError,
     r"history\['loss'\]\[1\] is too large for a float"),
    (lambda: plot_history({"loss": [1.0]}, logy=np.array([1, 2])), TypeError,
     "logy must be True or False"),
    (lambda: plot_neuron_maps(MLP(2, [2, 1], seed=0), 0.0), TypeError, "X must be a list"),
    (lambda: TrainingRecorder(0.0, [1]), TypeError, "X must be a list"),
    (lambda: plot_loss_landscape(bowl, path=0.0), TypeError, "path must be a list"),
    (lambda: plot_loss_landscape(bowl, path=[{}]), TypeError, r"path\[0\] must be a list"),
    (lambda: plot_loss_landscape(bowl, path=[(0, 10**400)]), ValueError, "too large"),
    (lambda: plot_loss_landscape(bowl, (-1, 1), (1, -1)), ValueError, "low < high"),
    (lambda: plot_loss_landscape(lambda a, b: "x", (-1, 1), (-1, 1)), TypeError,
     "loss_fn's result must be a number, got str"),
    (lambda: plot_loss_landscape(lambda a, b: math.inf, (-1, 1), (-1, 1), resolution=3),
     ValueError, "infinite somewhere on this grid"),
    (lambda: descent_path(bowl, [], 0.1, 3), ValueError, "start must be two numbers"),
    (lambda: descent_path(bowl, {}, 0.1, 3), TypeError, "start must be a list, got dict"),
    (lambda: descent_path(bowl, "15", 0.1, 3), TypeError, "start must be a list, got str"),
    (lambda: descent_path(bowl, (0, 0), 10**400, 3), ValueError, "lr must be a finite number"),
    (lambda: descent_path([], (0, 0), 0.1, 3), TypeError, "loss_fn must be a function"),
    (lambda: batch_descent_path(bowl, 3, {}, 0.1, 1), TypeError, "start must be a list"),
    (lambda: animate_descent_paths(bowl, {"a": [(0.0, 10**400)]}), ValueError, "too large"),
    (lambda: plot_activations(0.0), TypeError, "names must be a list"),
    (lambda: plot_activations(x_range=0.0), TypeError, "x_range must be a list"),
    (lambda: plot_activations(x_range=[]), ValueError, "x_range must be two numbers"),
    (lambda: plot_activations(x_range=(0, 10**400)), ValueError, "too large"),
])
def test_hostile_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# The pass/fail boundary of trained models, by pixels (issue 17.1): both classes' regions
# ---------------------------------------------------------------------------------------------
def region_counts(fig: Figure, ax, colours) -> list[int]:
    """How many pixels inside ``ax`` have each of ``colours`` (RGB 0-255, within 3)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    (x0, y0), (x1, y1) = ax.get_window_extent().get_points()
    height = img.shape[0]
    inside = img[int(height - y1) + 2:int(height - y0) - 2, int(x0) + 2:int(x1) - 2]
    return [int((np.abs(inside - np.array(c)).max(axis=-1) <= 3).sum()) for c in colours]


def trained_binary(fused: bool, output_activation: str):
    from tinygrad_edu.data import make_pass_fail, standardize
    from tinygrad_edu.losses import hinge_loss

    X, y = make_pass_fail(40, seed=1)
    Xs, scaler = standardize(X)
    model = MLP(2, [3, 1], "tanh", output_activation, seed=0, fused=fused)
    if output_activation == "sigmoid":
        loss, ys = binary_cross_entropy, y
    else:  # a ±1 score, micrograd's hinge loss
        loss, ys = hinge_loss, [2 * t - 1 for t in y]
    fit(model, Xs, ys, loss, SGD(model.parameters(), lr=0.5), epochs=25, progress=False)
    return model, X, y, scaler


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh"])
def test_a_trained_binary_model_draws_both_regions(fused, output_activation):
    """A probability is cut at 0.5, a ±1 score at 0: either way the plane has a pass region
    and a fail region, and every part of the plane has the colour of the model's answer
    there (cut at the wrong place, a sigmoid model would pass everywhere)."""
    model, X, y, scaler = trained_binary(fused, output_activation)
    assert model(scaler.transform_one(X[0])).op == output_activation
    cut = 0.5 if output_activation == "sigmoid" else 0.0
    said = "probability" if output_activation == "sigmoid" else "score"
    for fig in (
        plot_decision_boundary(model, X, y, transform=scaler.transform_one, resolution=30),
        plot_decision_boundary(lambda x: model(scaler.transform_one(x)), X, y, resolution=30,
                               output=said),
    ):
        ax = fig.axes[0]
        fail, passed = region_counts(fig, ax, [FAIL_BG, PASS_BG])
        assert fail > 0.1 * (fail + passed) and passed > 0.1 * (fail + passed), (fail, passed)
        (lo0, hi0), (lo1, hi1) = ax.get_xlim(), ax.get_ylim()
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        img, height = np.asarray(canvas.buffer_rgba()), fig.bbox.height
        checked = 0
        for i in range(1, 12):
            for j in range(1, 12):
                a, b = lo0 + (hi0 - lo0) * i / 12, lo1 + (hi1 - lo1) * j / 12
                out = model(scaler.transform_one([a, b])).data
                px, py = ax.transData.transform((a, b))
                colour = tuple(int(c) for c in img[int(round(height - py)), int(round(px))][:3])
                if abs(out - cut) < 0.1 or colour not in (FAIL_BG, PASS_BG):
                    continue  # near the boundary line, or under a marker
                assert colour == (PASS_BG if out > cut else FAIL_BG), (a, b, out)
                checked += 1
        assert checked > 60
        png_pixels(fig)


@pytest.mark.parametrize("fused", [True, False])
def test_a_trained_multiclass_model_draws_every_region(fused):
    from tinygrad_edu.data import make_blobs
    from tinygrad_edu.losses import cross_entropy

    X, y = make_blobs(45, centers=3, seed=2)
    model = MLP(2, [4, 3], "tanh", seed=0, fused=fused)  # 3 logits: argmax
    fit(model, X, y, cross_entropy, SGD(model.parameters(), lr=0.3), epochs=15, progress=False)
    fig = plot_decision_boundary(model, X, y, resolution=30)
    ax = fig.axes[0]
    cmap = matplotlib.colormaps["tab10"]
    # contourf at alpha 0.25 over white: each class's colour, lightened
    light = [tuple(round(255 * (0.25 * c + 0.75)) for c in cmap(k)[:3]) for k in range(3)]
    counts = region_counts(fig, ax, light)
    assert all(c > 0.1 * sum(counts) for c in counts), counts
    png_pixels(fig)


def test_the_recorder_of_a_trained_model_draws_both_regions(tmp_path):
    model, X, y, scaler = trained_binary(True, "sigmoid")
    recorder = TrainingRecorder(X, y, every=5, resolution=20, transform=scaler.transform_one)
    Xs = [scaler.transform_one(row) for row in X]
    fit(model, Xs, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=5,
        progress=False, callbacks=[recorder])
    fig = recorder.frame(-1)
    fail, passed = region_counts(fig, fig.axes[0], [FAIL_BG, PASS_BG])
    assert fail > 0.1 * (fail + passed) and passed > 0.1 * (fail + passed)
    with pytest.raises(ValueError, match="output must be"):
        TrainingRecorder(X, y, output="odds")
