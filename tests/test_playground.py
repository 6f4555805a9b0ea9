"""Playground: a live training playground, driven here from Python (no browser)."""

from __future__ import annotations

import base64
import copy
import io
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.losses import binary_cross_entropy_with_logits
from tinygrad_edu.nn import MLP
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.playground import DATASETS, Playground, png_bytes

ROOT = Path(__file__).resolve().parent.parent


def test_same_seed_same_run_other_seed_other_run():
    a = Playground(seed=3, compiled=False)
    b = Playground(seed=3, compiled=False)
    c = Playground(seed=4, compiled=False)
    a.step(40)
    b.step(40)
    c.step(40)
    assert a.history == b.history and len(a.history) == 40
    assert a.model.state_dict() == b.model.state_dict()
    assert a.history != c.history and a.X != c.X


def test_loss_goes_down_on_moons():
    pg = Playground(data="moons", hidden=[8, 8], activation="tanh", lr=0.03, batch_size=10,
                    compiled=False)
    start, acc0 = pg.loss(), pg.accuracy()
    pg.step(400)
    assert pg.loss() < 0.75 * start
    assert sum(pg.history[-50:]) < 0.8 * sum(pg.history[:50])
    assert pg.accuracy() >= max(acc0, 0.8)


def test_a_full_batch_step_is_gradient_descent_on_the_mean_loss():
    pg = Playground(batch_size=None, lr=0.5, hidden=[3], compiled=False)
    twin = copy.deepcopy(pg.model)
    L = binary_cross_entropy_with_logits([twin(x) for x in pg.X], pg.y)
    L.backward()
    expected = [p.data - 0.5 * p.grad for p in twin.parameters()]
    first = pg.step()
    assert first == L.data == pg.history[0]
    assert [p.data for p in pg.model.parameters()] == pytest.approx(expected, rel=1e-12)


def test_batches_deal_every_point_once_per_epoch():
    pg = Playground(batch_size=7, n=20, compiled=False)
    seen = [pg._batch() for _ in range(6)]  # 42 points: two epochs and 2 more
    flat = [i for batch in seen for i in batch]
    assert all(len(b) == 7 for b in seen)
    assert sorted(flat[:20]) == list(range(20)) and sorted(flat[20:40]) == list(range(20))
    assert flat[:20] != flat[20:40]  # reshuffled after each pass


def test_set_restarts_only_what_it_must():
    pg = Playground(compiled=False)
    pg.step(5)
    weights = pg.model.state_dict()
    pg.set(lr=0.1)  # goes on: same weights, same history, new optimizer with the new lr
    assert pg.lr == 0.1 and pg.optimizer.lr == 0.1
    assert pg.model.state_dict() == weights and len(pg.history) == 5
    pg.set(optimizer="adam")
    assert isinstance(pg.optimizer, Adam) and len(pg.history) == 5
    pg.set(batch_size=None)
    pg.step()
    assert len(pg.history) == 6
    X = pg.X
    pg.set(hidden=[4, 2, 3])  # a new network: new weights, empty history, same data
    assert [layer.nout for layer in pg.model.layers] == [4, 2, 3, 1]
    assert pg.history == [] and pg.X is X
    pg.step(2)
    pg.set(data="xor", noise=0.0)  # new data: a restart
    assert pg.history == [] and pg.X != X
    assert pg.y == [1 if a * b > 0 else 0 for a, b in pg.X]
    pg.set(lr=0.1)  # unchanged value: nothing happens
    assert pg.history == []


@pytest.mark.parametrize("data", sorted(DATASETS))
def test_every_data_set_is_two_classes_and_trains(data):
    pg = Playground(data=data, hidden=[4], n=40, batch_size=None, lr=0.1, compiled=False)
    assert len(pg.X) == 40 and set(pg.y) == {0, 1}
    before = pg.loss()
    pg.step(20)
    assert pg.loss() < before


@pytest.mark.parametrize(("options", "error", "words"), [
    ({"data": "swirl"}, ValueError, "data must be one of 'moons'"),
    ({"hidden": "8, 8"}, TypeError, "list of layer sizes such as"),
    ({"hidden": [8, 0]}, ValueError, r"hidden\[1\] \(units in hidden layer 2\)"),
    ({"lr": 0}, ValueError, "lr .* must be > 0"),
    ({"lr": "fast"}, TypeError, "lr .* must be a number"),
    ({"batch_size": 0}, ValueError, "batch_size .* from 1 to 200"),
    ({"batch_size": 500}, ValueError, "from 1 to 200"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of 'sgd', 'momentum'"),
    ({"activation": "softmax"}, ValueError, "activation must be one of"),
    ({"noise": -0.1}, ValueError, "noise must be >= 0"),
])
def test_bad_options_say_what_to_pass(options, error, words):
    with pytest.raises(error, match=words):
        Playground(**options)
    pg = Playground(compiled=False)
    before = dict(pg.options)
    with pytest.raises(error, match=words):
        pg.set(**options)
    assert pg.options == before  # a refused change changes nothing


def test_unknown_option_and_bad_step():
    pg = Playground(compiled=False)
    with pytest.raises(TypeError, match="unknown option 'learning_rate'; the options are"):
        pg.set(learning_rate=0.1)
    with pytest.raises(ValueError, match="step"):
        pg.step(0)


def test_divergence_is_reported_not_a_silent_nan():
    pg = Playground(activation="linear", hidden=[8, 8], lr=100.0, batch_size=None,
                    compiled=False)
    with pytest.raises((FloatingPointError, OverflowError), match="learning rate|overflow"):
        pg.step(200)


def test_grid_is_the_model_and_its_units_over_the_plane():
    pg = Playground(hidden=[3, 2], compiled=False)
    pg.step(10)
    g = pg.grid(resolution=5)
    x, y = g["xs"][1], g["ys"][3]
    h1 = pg.model.layers[0]([x, y])
    h2 = pg.model.layers[1](h1)
    z = pg.model([x, y]).data
    assert [g["units"][0][j][3][1] for j in range(3)] == [v.data for v in h1]
    assert [g["units"][1][j][3][1] for j in range(2)] == [v.data for v in h2]
    assert g["output"][3][1] == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)
    assert g["ys"][0] > g["ys"][-1]  # the top row is the largest y, as drawn


def test_pictures_use_the_pass_fail_colours_and_are_real_pngs():
    Image = pytest.importorskip("PIL.Image")
    png = png_bytes([[(10, 20, 30), (200, 100, 0)], [(0, 0, 0), (255, 255, 255)]])
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (2, 2)
        rgb = im.convert("RGB")
        assert [rgb.getpixel((c, r)) for r in range(2) for c in range(2)] == [
            (10, 20, 30), (200, 100, 0), (0, 0, 0), (255, 255, 255)]
    pg = Playground(data="moons", compiled=False)
    pg.step(300)
    images = pg.images()
    assert set(images) == {"boundary"} | {f"u{k}_{j}" for k in range(2) for j in range(8)}
    with Image.open(io.BytesIO(base64.b64decode(images["boundary"].split(",")[1]))) as im:
        rgb = im.convert("RGB")
        g = pg.grid()
        r = pg.resolution
        for row in range(0, r, 7):
            for col in range(0, r, 7):
                red, green, _ = rgb.getpixel((col, row))
                p = g["output"][row][col]
                if p > 0.6:  # class 1 (pass) is green, class 0 (fail) red, as in plot.py
                    assert green > red
                elif p < 0.4:
                    assert red > green


def test_png_still_shows_the_boundary_points_and_maps():
    Image = pytest.importorskip("PIL.Image")
    pg = Playground(hidden=[3, 2], compiled=False)
    pg.step(50)
    with Image.open(io.BytesIO(pg.png(size=200))) as im:
        assert im.size == (2 * (48 + 8) + 200, 200)
        rgb = im.convert("RGB")
        # the first data point is drawn in its class's colour where it lies
        (a, b), t = pg.X[0], pg.y[0]
        x0, x1, y0, y1 = pg.bounds
        at = (2 * 56 + int((a - x0) / (x1 - x0) * 200), int((y1 - b) / (y1 - y0) * 200))
        assert rgb.getpixel(at) == ((44, 160, 44) if t == 1 else (214, 39, 40))
    assert "image/png" in pg._repr_mimebundle_()


def test_static_picture_fits_and_names_the_classes():
    pg = Playground(compiled=False)
    html = pg._repr_html_()
    assert "class 1 (pass)" in html and "class 0 (fail)" in html
    assert html.count('class="tgp-map"') == 16
    assert "step 0" in html


def test_runs_without_matplotlib_or_graphviz():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\nsys.modules['graphviz'] = None\n"
        "from tinygrad_edu.playground import Playground\n"
        "pg = Playground(compiled=False); pg.step(3); html = pg._repr_html_()\n"
        "assert 'matplotlib' not in sys.modules or sys.modules['matplotlib'] is None\n"
        "print(len(pg.history), 'data:image/png;base64' in html)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "True"]


def test_compiled_auto_trains_like_eager():
    eager = Playground(seed=1, compiled=False)
    auto = Playground(seed=1, compiled="auto")
    eager.step(20)
    auto.step(20)
    assert auto.history == pytest.approx(eager.history, rel=1e-9)


def test_widget_is_driven_by_messages():
    pytest.importorskip("anywidget")
    pg = Playground(compiled=False)
    w = pg.widget()
    assert w is pg.widget()
    frame = w.frame
    w._message(w, {"type": "step"}, [])
    assert len(pg.history) == 1 and w.frame > frame and "step 1" in w.status
    w._message(w, {"type": "tick"}, [])
    assert len(pg.history) > 1
    w._message(w, {"type": "set", "options": {"lr": 0.3, "batch_size": None}}, [])
    assert pg.lr == 0.3 and pg.batch_size is None and w.options["lr"] == 0.3
    w._message(w, {"type": "set", "options": {"hidden": [0]}}, [])
    assert "hidden[0]" in w.error and pg.options["hidden"] == [8, 8]
    w._message(w, {"type": "reset"}, [])
    assert pg.history == [] and w.error == ""
    pg.step(4)  # driving the object from Python updates the widget too
    assert "step 4" in w.status
    assert set(w.images) == set(pg.images())


def test_model_is_a_plain_mlp_with_a_logit_output():
    pg = Playground(hidden=[5], activation="relu", compiled=False)
    assert isinstance(pg.model, MLP)
    assert pg.model.layers[-1].activation == "linear" and pg.model.activation == "relu"
    assert isinstance(pg.optimizer, SGD)
