"""fit / predict / accuracy: learning on seeded data, the three batch modes, errors."""

from __future__ import annotations

import builtins
import importlib.util
import math
import sys
import warnings

import pytest

from tinygrad_edu import Value
from tinygrad_edu.data import (
    make_blobs,
    make_grades,
    make_moons,
    make_pass_fail,
    standardize,
    to_pm1,
)
from tinygrad_edu.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from tinygrad_edu.nn import MLP, Neuron
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.train import History, accuracy, fit, predict


def pass_fail(n=60):
    X, y = make_pass_fail(n, seed=1)
    Xs, _ = standardize(X)
    return Xs, y


# ---------------------------------------------------------------------------------------------
# Learning
# ---------------------------------------------------------------------------------------------
def test_full_batch_gradient_descent_learns_pass_fail():
    X, y = pass_fail()
    model = MLP(2, [3, 1], "sigmoid", "sigmoid", seed=0)
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=1.0), epochs=150,
            progress=False, metrics=["accuracy"])
    loss = h.history["loss"]
    assert len(loss) == 150 and h.epoch == list(range(1, 151))
    assert loss[-1] < 0.5 * loss[0]
    assert all(b <= a + 1e-12 for a, b in zip(loss, loss[1:]))  # GD with a small step: monotone
    assert h.history["accuracy"][-1] >= 0.85
    assert accuracy(model, X, y) == h.history["accuracy"][-1]


def test_full_batch_loss_is_the_empirical_loss_before_the_step():
    X, y = pass_fail(20)
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=2)
    preds = [model(x) for x in X]
    expected = binary_cross_entropy(preds, y).data
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=1,
            progress=False)
    assert h.history["loss"] == [expected]


def test_fit_equals_a_hand_written_loop():
    X, y = pass_fail(20)
    a = MLP(2, [4, 1], "tanh", "sigmoid", seed=3)
    b = MLP(2, [4, 1], "tanh", "sigmoid", seed=3)
    fit(a, X, y, binary_cross_entropy, SGD(a.parameters(), lr=0.5), epochs=5, progress=False)
    opt = SGD(b.parameters(), lr=0.5)
    for _ in range(5):
        loss = binary_cross_entropy([b(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_all_three_batch_modes_learn(batch_size):
    X, y = pass_fail(50)
    model = MLP(2, [4, 1], "tanh", "sigmoid", seed=0)
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=30,
            batch_size=batch_size, progress=False, metrics=["accuracy"])
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]
    assert h.history["accuracy"][-1] >= 0.8
    assert h.params["steps_per_epoch"] == {None: 1, 1: 50, 7: 8}[batch_size]


def test_batches_cover_every_example_once_per_epoch():
    seen = []

    def recording_loss(preds, targets):
        seen.extend(targets)
        return mse_loss(preds, targets)

    X = [[float(i)] for i in range(10)]
    y = [float(i) for i in range(10)]
    model = MLP(1, [1], seed=0)
    fit(model, X, y, recording_loss, SGD(model.parameters(), lr=1e-3), epochs=2, batch_size=3,
        progress=False)
    assert len(seen) == 20
    assert sorted(seen[:10]) == y and sorted(seen[10:]) == y
    assert seen[:10] != seen[10:]  # reshuffled every epoch


def test_same_seed_same_run_and_shuffle_off_keeps_order():
    X, y = pass_fail(30)

    def run(**kw):
        m = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
        return fit(m, X, y, binary_cross_entropy, SGD(m.parameters(), lr=0.3), epochs=3,
                   batch_size=4, progress=False, **kw).history["loss"]

    assert run(seed=5) == run(seed=5)
    assert run(seed=5) != run(seed=6)
    order = []

    def recording(preds, targets):
        order.extend(targets)
        return mse_loss(preds, targets)

    m = MLP(1, [1], seed=0)
    fit(m, [[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0], recording, SGD(m.parameters(), lr=1e-3),
        epochs=2, batch_size=2, shuffle=False, progress=False)
    assert order == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]


def test_micrograd_demo_setup_learns_moons():
    X, y = make_moons(60, noise=0.1, seed=0)
    y = to_pm1(y)
    model = MLP(2, [16, 16, 1], seed=1)
    h = fit(model, X, y, hinge_loss, SGD(model.parameters(), lr=0.05, momentum=0.9), epochs=40,
            progress=False, metrics=["accuracy"])
    assert h.history["loss"][-1] < 0.3 * h.history["loss"][0]
    assert h.history["accuracy"][-1] >= 0.9  # hinge scores are split at 0 automatically


def test_regression_with_mse():
    X, y = make_grades(60, seed=0)
    Xs, _ = standardize(X)
    model = MLP(2, [8, 1], "tanh", seed=0)
    h = fit(model, Xs, y, mse_loss, Adam(model.parameters(), lr=0.05), epochs=60,
            batch_size=10, progress=False)
    assert h.history["loss"][-1] < 0.1 * h.history["loss"][0]
    assert h.history["loss"][-1] < 1.0  # grade error well under a point


def test_multiclass_with_cross_entropy():
    X, y = make_blobs(90, centers=3, std=0.4, seed=0)
    model = MLP(2, [8, 3], "relu", seed=0)
    h = fit(model, X, y, cross_entropy, Adam(model.parameters(), lr=0.05), epochs=15,
            batch_size=16, progress=False, metrics=["accuracy"])
    assert h.history["loss"][-1] < 0.3 * h.history["loss"][0]
    assert h.history["accuracy"][-1] >= 0.95


def test_logits_with_bce_with_logits_and_loss_by_name():
    X, y = pass_fail(40)
    model = MLP(2, [3, 1], "tanh", seed=0)
    h = fit(model, X, y, "binary_cross_entropy_with_logits", SGD(model.parameters(), lr=0.5),
            epochs=40, progress=False, metrics=["accuracy"])
    assert h.history["accuracy"][-1] >= 0.8
    assert h.history["accuracy"][-1] == accuracy(model, X, y, threshold=0.0)
    # the name selects the very function: the same run with the function gives the same history
    again = MLP(2, [3, 1], "tanh", seed=0)
    h2 = fit(again, X, y, binary_cross_entropy_with_logits, SGD(again.parameters(), lr=0.5),
             epochs=40, progress=False, metrics=["accuracy"])
    assert h2.history == h.history


def test_callable_and_named_metrics():
    X, y = pass_fail(20)
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)

    def first_output(m, X, y):
        return m(X[0]).data

    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=3,
            progress=False, metrics={"acc": "accuracy", "p0": first_output})
    assert set(h.history) == {"loss", "acc", "p0"} and len(h.history["p0"]) == 3
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=2,
            progress=False, metrics=[first_output])
    assert "first_output" in h.history


# ---------------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------------
def test_divergence_names_epoch_and_step_and_suggests_smaller_lr():
    X = [[10.0 * i] for i in range(1, 9)]
    y = [1000.0 * i for i in range(1, 9)]
    model = MLP(1, [8, 1], "relu", seed=0)
    expected = r"epoch \d+/50, step \d+/4.*smaller learning rate"
    for compiled in (False, "auto"):
        with pytest.raises(FloatingPointError, match=expected) as info:
            fit(model, X, y, mse_loss, SGD(model.parameters(), lr=10.0), epochs=50,
                batch_size=2, progress=False, compiled=compiled)
        assert str(info.value).count("learning rate") == 1, info.value  # (said once)


def test_nan_loss_is_reported():
    def nan_loss(preds, targets):
        out = mse_loss(preds, targets)
        out.data = math.nan  # as if something upstream had produced NaN
        return out

    model = Neuron(1, seed=0)
    with pytest.raises(FloatingPointError, match=r"epoch 1/3, step 1/1: the loss is nan"):
        fit(model, [[1.0]], [1.0], nan_loss, SGD(model.parameters(), lr=0.1), epochs=3,
            progress=False)


def test_engine_overflow_becomes_the_same_error():
    X = [[1.0], [2.0]]
    model = MLP(1, [1], "linear", seed=0)
    for p in model.parameters():
        p.data = 1e200

    with pytest.raises(FloatingPointError, match=r"epoch 1/2, step 1/1.*overflow") as info:
        fit(model, X, [0.0, 1.0], mse_loss, SGD(model.parameters(), lr=0.1), epochs=2,
            progress=False)
    assert isinstance(info.value.__cause__, OverflowError)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def setup():
    model = MLP(2, [2, 1], seed=0)
    return model, SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"X": [], "y": []}, ValueError, "X is empty"),
    ({"X": [[1.0, 2.0]], "y": [1, 0]}, ValueError, "1 rows but y has 2 targets"),
    ({"batch_size": 0}, ValueError, "batch_size must be None"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be None"),
    ({"epochs": 0}, ValueError, "epochs must be a positive int, got 0"),
    ({"epochs": 1.5}, TypeError, "epochs must be a positive int, got float 1.5"),
    ({"X": [[1.0, "a"]], "y": [1]}, TypeError, r"X\[0\] holds 'a'"),
    ({"X": "ab", "y": [1, 0]}, TypeError, "X must be a list"),
    ({"loss": "l2"}, ValueError, "unknown loss 'l2'"),
    ({"loss": 3}, TypeError, "loss must be a function"),
    ({"metrics": ["f1"]}, ValueError, "unknown metric 'f1'"),
])
def test_bad_arguments(setup, kwargs, error, message):
    model, opt = setup
    args = {"X": [[1.0, 2.0], [0.0, 1.0]], "y": [1, 0], "loss": mse_loss, "epochs": 2}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(model, args["X"], args["y"], args["loss"], opt, args["epochs"],
            batch_size=args.get("batch_size"), progress=False, metrics=args.get("metrics"))


def test_cross_entropy_on_a_one_output_model_says_why():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match="one output per class"):
        fit(model, [[1.0, 2.0], [0.0, 1.0]], [1, 0], cross_entropy,
            SGD(model.parameters(), lr=0.1), epochs=1, progress=False)


def test_bad_optimizer(setup):
    model, _ = setup
    with pytest.raises(TypeError, match=r"step\(\) and zero_grad\(\)"):
        fit(model, [[1.0, 2.0]], [1.0], mse_loss, 0.1, epochs=1, progress=False)


def test_batch_size_larger_than_data_is_full_batch(setup):
    model, opt = setup
    h = fit(model, [[1.0, 2.0], [0.0, 1.0]], [1.0, 0.0], mse_loss, opt, 2, batch_size=10,
            progress=False)
    assert h.params["steps_per_epoch"] == 1


# ---------------------------------------------------------------------------------------------
# Progress display
# ---------------------------------------------------------------------------------------------
def test_progress_false_prints_nothing(setup, capsys):
    model, opt = setup
    fit(model, [[1.0, 2.0]], [1.0], mse_loss, opt, epochs=3, progress=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_progress_bar_shows_epoch_and_loss(setup, capsys):
    pytest.importorskip("tqdm")
    model, opt = setup
    fit(model, [[1.0, 2.0]], [1.0], mse_loss, opt, epochs=3)
    err = capsys.readouterr().err
    assert "epoch 3/3" in err and "loss=" in err


def test_builtin_progress_line_without_tqdm(setup, capsys, monkeypatch):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    model, opt = setup
    fit(model, [[1.0, 2.0], [2.0, 1.0]], [1.0, 0.0], mse_loss, opt, epochs=4,
        metrics=["accuracy"])
    err = capsys.readouterr().err
    assert "epoch 4/4" in err and "4/4 epochs" in err and "loss=" in err and "accuracy=" in err
    assert err.endswith("\n")


# ---------------------------------------------------------------------------------------------
# predict, accuracy, History
# ---------------------------------------------------------------------------------------------
def test_predict_returns_floats_without_graph():
    m1 = MLP(2, [3, 1], seed=0)
    m2 = MLP(2, [3, 2], seed=0)
    X = [[1.0, 2.0], [0.5, -1.0]]
    p1 = predict(m1, X)
    assert p1 == [m1(x).data for x in X] and all(isinstance(v, float) for v in p1)
    p2 = predict(m2, X)
    assert p2 == [[v.data for v in m2(x)] for x in X]


def test_accuracy_binary_and_multiclass():
    n = Neuron(1, "linear", seed=0)
    n.w[0].data, n.b.data = 1.0, 0.0  # output = x
    X = [[0.9], [0.2], [0.7], [-0.5]]
    assert accuracy(n, X, [1, 0, 0, 0]) == 0.75  # threshold 0.5
    assert accuracy(n, X, [1, 1, 1, -1], threshold=0.0) == 1.0  # ±1 labels
    m = MLP(1, [3], "linear", seed=0)
    for j, neuron in enumerate(m.layers[0].neurons):  # output j = (j+1) * x: argmax 2 if x>0
        neuron.w[0].data, neuron.b.data = float(j + 1), 0.0
    assert accuracy(m, [[1.0], [-1.0], [2.0]], [2, 0, 1]) == pytest.approx(2 / 3)


def test_accuracy_errors():
    n = Neuron(1, seed=0)
    with pytest.raises(ValueError, match="labels 0/1 or -1/\\+1"):
        accuracy(n, [[1.0]], [2])
    with pytest.raises(ValueError, match="1 rows in X but 2 labels"):
        accuracy(n, [[1.0]], [1, 0])
    with pytest.raises(ValueError, match="class indices 0..2"):
        accuracy(MLP(1, [3], seed=0), [[1.0]], [3])
    with pytest.raises(ValueError, match="label 0 is 1.5.*class indices 0..2"):
        accuracy(MLP(1, [3], seed=0), [[1.0]], [1.5])


def test_history_repr_and_indexing():
    h = History(["loss", "accuracy"])
    h.history["loss"] += [0.5, 0.25]
    h.history["accuracy"] += [0.5, 0.75]
    h.epoch += [1, 2]
    assert h["loss"] == [0.5, 0.25] and len(h) == 2
    assert repr(h) == "History(2 epochs: loss=0.25, accuracy=0.75)"


# ---------------------------------------------------------------------------------------------
# validation_data, callbacks, err.history (issue 10)
# ---------------------------------------------------------------------------------------------
def test_validation_history_equals_loss_and_accuracy_measured_separately():
    X, y = pass_fail(60)
    Xt, yt, Xv, yv = X[:40], y[:40], X[40:], y[40:]
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    states = []  # the weights at the end of every epoch, taken by a callback

    def keep(epoch, m, history):
        states.append(m.state_dict())

    h = fit(model, Xt, yt, binary_cross_entropy, SGD(model.parameters(), lr=0.5), epochs=6,
            batch_size=8, progress=False, metrics=["accuracy"], validation_data=(Xv, yv),
            callbacks=[keep])
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    probe = MLP(2, [3, 1], "tanh", "sigmoid", seed=99)
    for e, state in enumerate(states):
        probe.load_state_dict(state)
        assert h.history["val_loss"][e] == binary_cross_entropy([probe(x) for x in Xv], yv).data
        assert h.history["val_accuracy"][e] == accuracy(probe, Xv, yv)
        assert h.history["accuracy"][e] == accuracy(probe, Xt, yt)
    # measuring the validation rows does not change training
    again = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    h2 = fit(again, Xt, yt, binary_cross_entropy, SGD(again.parameters(), lr=0.5), epochs=6,
             batch_size=8, progress=False, metrics=["accuracy"])
    assert h2.history["loss"] == h.history["loss"]
    assert again.state_dict() == model.state_dict()


def test_callbacks_see_each_epoch_and_each_step():
    X, y = pass_fail(10)
    calls = []

    class Watcher:
        def on_train_begin(self, model, history):
            calls.append(("begin", len(history)))

        def on_step_end(self, epoch, step, model, loss):
            calls.append(("step", epoch, step, loss))

        def on_epoch_end(self, epoch, model, history):
            calls.append(("epoch", epoch, len(history), history["loss"][-1]))

    def plain(epoch, model, history):
        calls.append(("plain", epoch, history.epoch[-1]))

    model = MLP(2, [2, 1], "tanh", "sigmoid", seed=0)
    h = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=2,
            batch_size=4, progress=False, callbacks=[Watcher(), plain])
    assert calls[0] == ("begin", 0)
    steps = [c for c in calls if c[0] == "step"]
    assert [(c[1], c[2]) for c in steps] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    # the epoch's loss is the step losses weighted by batch size (4, 4, 2)
    for epoch in (1, 2):
        losses = [c[3] for c in steps if c[1] == epoch]
        mean = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
        assert h.history["loss"][epoch - 1] == pytest.approx(mean, rel=1e-15)
    ends = [c for c in calls if c[0] in ("epoch", "plain")]
    assert ends == [("epoch", 1, 1, h["loss"][0]), ("plain", 1, 1),
                    ("epoch", 2, 2, h["loss"][1]), ("plain", 2, 2)]
    # one callback without its list is accepted too
    seen = []
    fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=2,
        progress=False, callbacks=lambda e, m, hist: seen.append(e))
    assert seen == [1, 2]


def test_divergence_carries_the_partial_history():
    # a linear neuron with lr=1.5 on standardized data: the loss grows ~4x per epoch
    X, y = make_grades(30, seed=0)
    X, _ = standardize(X)
    model = Neuron(2, activation="linear", seed=0)
    with pytest.raises(FloatingPointError, match="err.history") as info:
        fit(model, X, y, mse_loss, SGD(model.parameters(), lr=1.5), epochs=500,
            progress=False, metrics=[lambda m, X, y: 1.0], validation_data=(X[:5], y[:5]))
    err = info.value
    h = err.history
    assert isinstance(h, History) and err.step == 1
    assert len(h) == err.epoch - 1 > 100  # the epochs completed before the one that failed
    assert h.epoch == list(range(1, err.epoch))
    assert all(len(series) == len(h) for series in h.history.values())
    loss = h.history["loss"]
    assert all(b > 3 * a for a, b in zip(loss[1:], loss[2:]))  # the blow-up, ready to plot
    assert f"epoch {err.epoch}/500, step 1/1" in str(err)


class _NotANumber(ValueError, FloatingPointError):
    """What the engine raises for a NaN result (ValueError and FloatingPointError at once)."""


@pytest.mark.parametrize("error", [
    _NotANumber("'linear' of (...) is nan"),
    OverflowError("'exp' of (1000.0,) overflows to inf"),
    ZeroDivisionError("'/' by zero"),
])
def test_numeric_errors_inside_the_model_become_divergence(error):
    calls = []

    def model(x):
        calls.append(1)
        if len(calls) == 5:  # epoch 2, step 1 (batches of 2 of 4 rows: 2 calls per step)
            raise error
        return Value(x[0]) * 2.0

    X, y = [[1.0], [2.0], [3.0], [4.0]], [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(FloatingPointError, match=r"epoch 2/3, step 1/2") as info:
        fit(model, X, y, mse_loss, SGD([Value(0.0)], lr=0.1), epochs=3, batch_size=2,
            progress=False)
    assert info.value.__cause__ is error and len(info.value.history) == 1


def test_diverging_linear_mlp_in_fused_layers_names_epoch_and_step():
    # The weights grow until inf + -inf inside a fused 'linear' node gives NaN (issue 12.12).
    X, y = make_grades(20, seed=0)
    model = MLP(2, [8, 8, 1], "linear", seed=1)
    with pytest.raises(FloatingPointError, match=r"training diverged at epoch \d+/200, step 1/1"):
        fit(model, X, y, mse_loss, SGD(model.parameters(), lr=0.05), epochs=200,
            progress=False)


@pytest.mark.parametrize("callbacks, message", [
    (["print"], r"callbacks\[0\] is str 'print', which is not callable"),
    ([print, 3], r"callbacks\[1\] is int 3"),
    (3, "callbacks must be a list"),
])
def test_callbacks_must_be_callable(setup, callbacks, message):
    model, opt = setup
    with pytest.raises(TypeError, match=message):
        fit(model, [[1.0, 2.0]], [1.0], mse_loss, opt, epochs=1, progress=False,
            callbacks=callbacks)


@pytest.mark.parametrize("data, error, message", [
    (([[1.0, 2.0]] * 3, [1.0] * 2), ValueError, "3 rows in X_val but 2 targets in y_val"),
    (([[1.0, 2.0, 3.0]], [1.0]), ValueError, r"X_val\[0\] has 3 features but the rows of X "
                                             "have 2"),
    (([[1.0, 2.0]], [1.0], [0.5]), ValueError, "pair .* got 3 items"),
    (([], []), ValueError, "X_val is empty"),
    ([[1.0, 2.0]], ValueError, "pair"),
    ("ab", TypeError, "pair"),
    (([[1.0, math.nan]], [1.0]), ValueError, r"X_val\[0\]\[1\] is nan"),
])
def test_validation_data_of_the_wrong_shape(setup, data, error, message):
    model, opt = setup
    with pytest.raises(error, match=message):
        fit(model, [[1.0, 2.0], [0.0, 1.0]], [1.0, 0.0], mse_loss, opt, epochs=1,
            progress=False, validation_data=data)


# ---------------------------------------------------------------------------------------------
# Messages name the row of the data passed (issue 12.13), NumPy integers (12.14)
# ---------------------------------------------------------------------------------------------
def test_a_bad_label_is_named_by_its_row_not_its_place_in_the_batch():
    X, y = pass_fail(12)
    y = list(y)
    y[9] = 2
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    for batch_size in (None, 1, 4):
        with pytest.raises(ValueError, match=r"y\[9\] is 2.0; targets must be in \[0, 1\]"):
            fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=2,
                batch_size=batch_size, seed=3, progress=False)
    y[9] = "pass"
    with pytest.raises(TypeError, match=r"y\[9\] must be a number, got str .pass."):
        fit(model, X, y, mse_loss, SGD(model.parameters(), lr=0.1), epochs=1, batch_size=5,
            progress=False)
    with pytest.raises(ValueError, match=r"y_val\[1\] is 3.0"):
        fit(model, X[:4], [0, 1, 0, 1], binary_cross_entropy, SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False, validation_data=(X[4:6], [0, 3]))


def test_nan_or_inf_in_x_names_the_row_and_column():
    X, y = pass_fail(12)
    X = [list(r) for r in X]
    X[7][1] = math.nan
    model = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    with pytest.raises(ValueError, match=r"X\[7\]\[1\] is nan; inputs must be finite"):
        fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=1,
            progress=False)
    X[7][1] = 0.0
    X[4] = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"fit: X\[4\]: .*expects 2 inputs, got 3"):
        fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.1), epochs=1,
            batch_size=3, progress=False)


def test_numpy_integers_and_arrays_are_accepted():
    X, y = pass_fail(20)

    def run(**kw):
        m = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
        return fit(m, kw.pop("X", X), kw.pop("y", y), binary_cross_entropy,
                   SGD(m.parameters(), lr=0.3), progress=False, **kw).history

    np = pytest.importorskip("numpy")
    expected = run(epochs=3, batch_size=4, seed=5)
    assert run(epochs=np.int64(3), batch_size=np.int32(4), seed=np.uint8(5)) == expected
    assert run(X=np.array(X), y=np.array(y), epochs=3, batch_size=4, seed=5) == expected
    with pytest.raises(TypeError, match="epochs must be a positive int, got float 3.0"):
        run(epochs=3.0)
    with pytest.raises(TypeError, match="seed must be a whole number"):
        run(epochs=1, seed=1.5)


# ---------------------------------------------------------------------------------------------
# compiled=True (tinygrad_edu.compile, contract 2)
# ---------------------------------------------------------------------------------------------
def test_compiled_fit_gives_the_eager_history():
    X, y = pass_fail(24)

    def run(compiled):
        m = MLP(2, [4, 1], "tanh", "sigmoid", seed=0)
        h = fit(m, X, y, binary_cross_entropy, Adam(m.parameters(), lr=0.05), epochs=5,
                batch_size=8, progress=False, metrics=["accuracy"], compiled=compiled,
                validation_data=(X[:6], y[:6]))
        return h, m

    if importlib.util.find_spec("tinygrad_edu.compile") is None:
        # not built yet: a clear ImportError, never a silent eager run
        with pytest.raises(ImportError, match=r"fit\(compiled=True\) needs tinygrad_edu.compile"):
            run(True)
        return
    (eager, m1), (traced, m2) = run(False), run(True)
    for key, values in eager.history.items():
        assert traced.history[key] == pytest.approx(values, abs=1e-12, rel=1e-12), key
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert q.data == pytest.approx(p.data, abs=1e-12, rel=1e-12)
    # divergence through the compiled step: the same error, epoch, step and history
    Xg, grades = make_grades(30, seed=0)
    Xg, _ = standardize(Xg)
    where = []
    for compiled in (False, True):
        neuron = Neuron(2, activation="linear", seed=0)
        with pytest.raises(FloatingPointError, match="training diverged") as info:
            fit(neuron, Xg, grades, mse_loss, SGD(neuron.parameters(), lr=1.5), epochs=500,
                progress=False, compiled=compiled)
        where.append((info.value.epoch, info.value.step, len(info.value.history)))
    assert where[0] == where[1]


# ---------------------------------------------------------------------------------------------
# No "TqdmWarning: IProgress not found" in Jupyter without ipywidgets
# ---------------------------------------------------------------------------------------------
def test_progress_bar_in_jupyter_uses_widgets_only_when_ipywidgets_imports(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    from tinygrad_edu import train

    monkeypatch.setattr(train, "_in_jupyter", lambda: True)
    if importlib.util.find_spec("ipywidgets") is not None:
        import tqdm.notebook

        assert train._bar_class() is tqdm.notebook.tqdm
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` now fails
    assert train._bar_class() is tqdm.std.tqdm
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TqdmWarning would fail the test
        model = MLP(2, [2, 1], seed=0)
        fit(model, [[1.0, 2.0]], [1.0], mse_loss, SGD(model.parameters(), lr=0.1), epochs=2)



# ---------------------------------------------------------------------------------------------
# Hostile input (issue 12, the hypothesis suite's findings): clear errors, never a builtin's
# ---------------------------------------------------------------------------------------------
def test_history_and_accuracy_refuse_bad_arguments_clearly():
    with pytest.raises(TypeError, match="History: names must be a list of str"):
        History(0.0)
    with pytest.raises(TypeError, match="History: names must be str, got float"):
        History([1.5])
    with pytest.raises(TypeError, match="History: params must be a dict or None, got str"):
        History(["loss"], "1.5")
    with pytest.raises(ValueError, match="params holds a NaN"):
        History(["loss"], {"lr": [0.1, math.nan]})
    h = History()
    with pytest.raises(KeyError, match=r"no 'val_loss' in this History; it has \['loss'\]"):
        h["val_loss"]
    h.history["loss"].append(-10**400)  # filled in by hand: repr still works
    h.epoch.append(1)
    assert repr(h).startswith("History(1 epochs: loss=an int of 401 digits")
    model = Neuron(1, seed=0)
    with pytest.raises(TypeError, match="threshold must be a number, got NoneType None"):
        accuracy(model, [[1.0]], [1], threshold=None)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"metrics": 0.0}, TypeError, "metrics must be a list"),
    ({"metrics": {1: "accuracy"}}, TypeError, "metric names must be str"),
    ({"shuffle": [1, 2]}, TypeError, "shuffle must be True or False, got list"),
    ({"progress": "yes"}, TypeError, "progress must be True or False"),
    ({"loss": 10**400}, TypeError, "loss must be a function"),
])
def test_fit_refuses_bad_arguments_clearly(setup, kwargs, error, message):
    model, opt = setup
    args = {"loss": mse_loss, **kwargs}
    loss = args.pop("loss")
    with pytest.raises(error, match=message):
        fit(model, [[1.0, 2.0], [0.0, 1.0]], [1.0, 0.0], loss, opt, epochs=1, **args)


# ---------------------------------------------------------------------------------------------
# The optimizer's shortcuts fit relies on: the same floats and state as the general loop
# ---------------------------------------------------------------------------------------------
def test_sgd_with_weight_decay_only_gives_the_loops_floats_and_state():
    start = [0.5, -1.5, 3.0, 1e-300]
    grads = [0.25, -0.125, 1e-3, 7.0]
    ps = [Value(x) for x in start]
    opt = SGD(ps, lr=0.1, weight_decay=0.01)
    for p, g in zip(ps, grads):
        p.grad = g
    opt.step()
    assert [p.data for p in ps] == [x + -0.1 * (g + 0.01 * x) for x, g in zip(start, grads)]
    assert opt._buffers == [0.0] * 4  # (what the general loop leaves: a later momentum
    opt.momentum = 0.5  # starts from these buffers)
    g0 = grads[0] + 0.01 * ps[0].data
    opt.step()
    assert opt._buffers[0] == 0.0 * 0.5 + 1.0 * g0


def test_a_step_whose_numbers_sum_to_inf_but_are_finite_is_taken():
    ps = [Value(1e308), Value(1e308), Value(0.5)]
    opt = SGD(ps, lr=0.1)
    for p in ps:
        p.grad = 1.0
    opt.step()  # (the quick check, a sum, overflows: each number is checked then)
    assert [p.data for p in ps] == [1e308 - 0.1, 1e308 - 0.1, 0.4]
    ps[2].grad = math.inf
    with pytest.raises(FloatingPointError, match="parameter 2"):
        opt.step()
