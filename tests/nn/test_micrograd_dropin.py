"""Code written for micrograd and for the seed's Keras models runs here (issue 16, item 5):
micrograd's weight initialisation, ``nonlin=``, Keras's ``Dense`` with its input size from the
first input, and micrograd's own demo side by side with ours."""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_edu import Value
from tinygrad_edu.losses import binary_cross_entropy, mse_loss
from tinygrad_edu.nn import MLP, Dense, Layer, Neuron, Sequential
from tinygrad_edu.optim import SGD

micrograd_nn = pytest.importorskip("micrograd.nn")
micrograd_engine = pytest.importorskip("micrograd.engine")


def _moons(n=40, seed=0):
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            X.append([math.cos(t) + rng.gauss(0, 0.1), math.sin(t) + rng.gauss(0, 0.1)])
            y.append(-1)
        else:
            X.append([1 - math.cos(t) + rng.gauss(0, 0.1), 0.5 - math.sin(t) + rng.gauss(0, 0.1)])
            y.append(1)
    return X, y


def _demo_losses(V, model, X, y, steps):
    """micrograd's demo loop (sum of hinge losses / n, L2, SGD with a decaying rate), written
    once against the names both libraries share."""
    out = []
    for k in range(steps):
        scores = [model([V(a), V(b)]) for a, b in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        out.append(loss.data)
    return out


def test_init_micrograd_draws_micrograds_weights_and_trains_like_micrograd():
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1], init="micrograd")
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert all(n.b.data == 0.0 for layer in ours.layers for n in layer.neurons)
    X, y = _moons()
    a = _demo_losses(micrograd_engine.Value, theirs, X, y, 15)
    b = _demo_losses(Value, ours, X, y, 15)
    assert b == pytest.approx(a, rel=1e-12, abs=0)
    assert b[-1] < 0.6 * b[0]  # and it learns


def test_default_init_is_pytorchs_and_micrograds_is_uniform_minus1_1():
    n = Neuron(16, seed=3)
    bound = 1 / math.sqrt(16)
    assert all(-bound <= p.data <= bound for p in n.parameters())
    m = Neuron(16, seed=3, init="micrograd")
    assert m.b.data == 0.0 and max(abs(w.data) for w in m.w) > bound  # U(-1, 1), not ±1/4
    with pytest.raises(ValueError, match="init must be one of 'torch', 'micrograd'"):
        Layer(2, 3, init="xavier")


def test_nonlin_chooses_relu_or_linear_as_in_micrograd():
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2, nonlin=True).activation == "relu"
    assert Layer(2, 3, nonlin=False).activation == "linear"
    assert Layer(2, 3, nonlin=True, activation="relu").activation == "relu"
    with pytest.raises(ValueError, match="nonlin=False means activation='linear'"):
        Neuron(2, "tanh", nonlin=False)
    with pytest.raises(TypeError, match="nonlin must be True or False"):
        Layer(2, 3, nonlin="yes")
    # micrograd's Layer passes **kwargs on to its neurons: the same call works here
    x = [Value(1.0), Value(-2.0)]
    lin = Layer(2, 1, nonlin=False, seed=0)
    n = lin.neurons[0]
    assert lin(x).data == pytest.approx(n.b.data + n.w[0].data - 2 * n.w[1].data)


def test_dense_takes_its_input_size_from_the_first_input():
    model = Sequential([Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])
    assert model.parameters() == []  # not built yet, as in Keras
    assert "inputs not seen yet" in repr(model.layers[0])
    p = model([5, 4])  # "you attended 5 lectures and scored 4: will you pass?"
    assert isinstance(p, Value) and 0.0 < p.data < 1.0
    assert len(model.parameters()) == 2 * 3 + 3 + 3 * 1 + 1
    assert repr(model.layers[0]) == "Dense(2 → 3 sigmoid)"
    assert list(model.state_dict()) == ["layers.0.layer.weight", "layers.0.layer.bias",
                                        "layers.1.layer.weight", "layers.1.layer.bias"]
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model([1, 2, 3])  # the size is fixed now


def test_dense_trains_on_the_pass_fail_data_and_input_dim_builds_it_at_once():
    model = Sequential([Dense(3, activation="sigmoid", input_dim=2, seed=0),
                        Dense(1, activation="sigmoid", seed=1)])
    model([0.0, 0.0])
    assert len(model.parameters()) == 13
    X = [[1, 2], [2, 1], [3, 3], [6, 6], [7, 5], [5, 7]]  # lectures, score
    y = [0, 0, 0, 1, 1, 1]
    opt = SGD(model.parameters(), lr=2.0)
    first = None
    for _ in range(300):
        loss = binary_cross_entropy([model([a / 8, b / 8]) for a, b in X], y)
        first = first if first is not None else loss.data
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < 0.5 * first
    assert [model([a / 8, b / 8]).data > 0.5 for a, b in X] == [t == 1 for t in y]


def test_dense_defaults_follow_keras_and_refuse_nonsense():
    d = Dense(2)
    assert d.activation == "linear"  # Keras's default: no activation
    out = d([1.0, 2.0, 3.0])
    assert len(out) == 2 and d.nin == 3
    assert mse_loss(out, [0.0, 1.0]).data >= 0.0
    with pytest.raises(TypeError, match="positive int"):
        Dense(2.5)
    with pytest.raises(TypeError, match="list of numbers"):
        Dense(2)(object())
