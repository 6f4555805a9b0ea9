"""The PyTorch bridge: identical weights and outputs both ways, clear errors."""

from __future__ import annotations

import sys

import pytest

from tinygrad_edu.nn import MLP, Layer, Neuron, Sequential

torch = pytest.importorskip("torch")
from tinygrad_edu.interop import from_torch, to_torch  # noqa: E402

INPUTS = [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [-3.0, 1.5, 0.25], [10.0, -7.0, 3.0]]


def ours(model, x):
    out = model(x)
    return [out.data] if not isinstance(out, list) else [v.data for v in out]


@pytest.mark.parametrize("model", [
    MLP(3, [16, 16, 1], seed=0),
    MLP(3, [4, 4, 2], "tanh", "sigmoid", seed=1),
    MLP(3, [1, 5, 2], "sigmoid", "tanh", seed=2),
    Sequential(Layer(3, 4, "tanh", seed=0), Layer(4, 2, "relu", seed=1), Layer(2, 1, "linear")),
    Layer(3, 2, "sigmoid", seed=3),
])
def test_to_torch_same_outputs(model):
    seq = to_torch(model)
    assert isinstance(seq, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    xt = torch.tensor(INPUTS, dtype=torch.float64)
    with torch.no_grad():
        theirs = seq(xt).tolist()
    for x, row in zip(INPUTS, theirs):
        assert ours(model, x) == pytest.approx(row, abs=1e-12, rel=1e-12)


def test_to_torch_structure_and_exact_weights():
    m = MLP(2, [3, 1], "tanh", "sigmoid", seed=0)
    seq = to_torch(m)
    assert [type(mod).__name__ for mod in seq] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    lin = seq[0]
    for j, n in enumerate(m.layers[0].neurons):
        assert lin.weight[j].tolist() == [w.data for w in n.w]
        assert lin.bias[j].item() == n.b.data
    assert [type(mod).__name__ for mod in to_torch(MLP(2, [1]))] == ["Linear", "Identity"]


def test_to_torch_neuron():
    n = Neuron(3, "tanh", seed=4)
    seq = to_torch(n)
    with torch.no_grad():
        out = seq(torch.tensor([INPUTS[0]], dtype=torch.float64))
    assert out.item() == pytest.approx(n(INPUTS[0]).data, abs=1e-12)


def test_round_trip_gives_the_same_model():
    m = MLP(3, [5, 4, 2], "tanh", "linear", seed=9)
    back = from_torch(to_torch(m))
    assert isinstance(back, MLP) and repr(back) == repr(m)
    assert back.state_dict() == m.state_dict()


def test_from_torch_float32_model():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 6),
                              torch.nn.ReLU(), torch.nn.Linear(6, 2))
    model = from_torch(seq)
    assert repr(model) == "MLP(3 → 6 relu → 6 relu → 2 linear)"
    seq64 = seq.double()
    with torch.no_grad():
        theirs = seq64(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for x, row in zip(INPUTS, theirs):
        assert ours(model, x) == pytest.approx(row, abs=1e-12, rel=1e-12)


def test_from_torch_mixed_activations_and_no_bias():
    seq = torch.nn.Sequential(
        torch.nn.Linear(3, 4, bias=False), torch.nn.Tanh(),
        torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid()),
        torch.nn.Linear(3, 2), torch.nn.ReLU(),
    ).double()
    model = from_torch(seq)
    assert isinstance(model, Sequential)
    assert [la.activation for la in model.layers] == ["tanh", "sigmoid", "relu"]
    assert model.layers[0].neurons[0].b.data == 0.0
    with torch.no_grad():
        theirs = seq(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for x, row in zip(INPUTS, theirs):
        assert ours(model, x) == pytest.approx(row, abs=1e-12, rel=1e-12)


def test_from_torch_errors():
    with pytest.raises(ValueError, match="module 1 is Dropout"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))
    with pytest.raises(ValueError, match="must follow a Linear"):
        from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="4 outputs feeds one with 3 inputs"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Linear(3, 1)))
    with pytest.raises(TypeError, match="torch.nn.Sequential"):
        from_torch([1, 2])
    diverged = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    with torch.no_grad():
        diverged[1].weight[0, 1] = float("nan")
    with pytest.raises(ValueError, match="Linear layer 1 holds NaN or infinite weights"):
        from_torch(diverged)
    with pytest.raises(TypeError, match="can convert"):
        to_torch(object())


def test_missing_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        to_torch(MLP(2, [1], seed=0))
