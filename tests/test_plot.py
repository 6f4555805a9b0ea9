"""Training plots (tinygrad_edu.plot), rendered with matplotlib's Agg backend."""

from __future__ import annotations

import importlib
import io
import math
import sys

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
    descent_path,
    plot_activations,
    plot_decision_boundary,
    plot_history,
    plot_loss_landscape,
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
    # output x0 - x1, no sigmoid: threshold 0, so "pass" exactly where x0 > x1
    def model(x):
        return Value(x[0]) - Value(x[1])

    X = [[0.0, 0.0], [10.0, 10.0], [10.0, 0.0], [0.0, 10.0]]
    y = [0, 1, 1, 0]
    fig = plot_decision_boundary(model, X, y, resolution=40)
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
    assert legend[:2] == ["fail", "pass"] and legend[2].startswith("you: ")
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
    monkeypatch.delitem(sys.modules, "tinygrad_edu.plot")
    with pytest.raises(ImportError) as info:
        importlib.import_module("tinygrad_edu.plot")
    assert "pip install 'tinygrad_edu[plot]'" in str(info.value)
