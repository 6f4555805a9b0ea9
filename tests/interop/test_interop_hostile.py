"""The bridge under hostile models (issue 18 G, H): ties stay ties, odd tensors are named.

- a tinygrad_edu layer used twice becomes one torch ``Linear`` used twice (one ``Parameter``),
  so training in torch moves both uses together, and ``from_torch`` brings back one layer of
  Values used twice; a tie a ``Linear`` cannot hold is refused, naming both places;
- a torch ``Linear`` (or ``Parameter``) used twice becomes layers sharing Values;
- sparse, quantized, meta-device, integer and complex weights are refused, naming the
  parameter's ``state_dict`` key.
"""

from __future__ import annotations

import pytest

from tinygrad_edu import Value
from tinygrad_edu.losses import mse_loss
from tinygrad_edu.nn import MLP, Layer, Sequential
from tinygrad_edu.optim import SGD

torch = pytest.importorskip("torch")
from tinygrad_edu.interop import from_torch, to_torch  # noqa: E402

X = [[0.3, -0.7], [1.2, 0.4], [-0.5, 0.9]]
Y = [0.5, -1.0, 0.25]


def _tied() -> Sequential:
    shared = Layer(2, 2, "tanh", seed=0)
    return Sequential(shared, shared, Layer(2, 1, "linear", seed=1))


def _params(seq) -> int:
    return sum(p.numel() for p in seq.parameters())


def test_a_layer_used_twice_is_one_linear_used_twice():
    model = _tied()
    seq = to_torch(model)
    assert len(model.parameters()) == _params(seq) == 9  # 6 shared + 3, not 15
    assert seq[0] is seq[2] and seq[0].weight is seq[2].weight
    x = torch.tensor(X, dtype=torch.float64)
    assert seq(x).squeeze(1).tolist() == pytest.approx([model(r).data for r in X], abs=1e-12)
    # one SGD step in torch and in tinygrad_edu: the tie moves as one, the same in both
    before = [w.data for n in model.layers[0].neurons for w in n.w]
    torch_opt = torch.optim.SGD(seq.parameters(), lr=0.1)
    torch_opt.zero_grad()
    torch.nn.functional.mse_loss(seq(x).squeeze(1), torch.tensor(Y, dtype=torch.float64)
                                 ).backward()
    torch_opt.step()
    opt = SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    mse_loss([model(r) for r in X], Y).backward()
    opt.step()
    ours = [w.data for n in model.layers[0].neurons for w in n.w]
    assert ours != before  # the step moved the shared weights
    assert seq[0].weight.flatten().tolist() == pytest.approx(ours, abs=1e-12)
    assert model.layers[1].neurons[0].w[0] is model.layers[0].neurons[0].w[0]


def test_from_torch_keeps_ties():
    back = from_torch(to_torch(_tied()))
    assert len(back.parameters()) == 9
    first, second = back.layers[0], back.layers[1]
    assert all(a is b for n, m in zip(first.neurons, second.neurons)
               for a, b in zip([*n.w, n.b], [*m.w, m.b]))
    lin = torch.nn.Linear(3, 3, dtype=torch.float64)
    seq = torch.nn.Sequential(lin, torch.nn.ReLU(), lin, torch.nn.Sigmoid())
    model = from_torch(seq)
    assert len(model.parameters()) == _params(seq) == 12
    x = [0.2, -0.4, 1.1]
    got = [v.data for v in model(x)]
    assert got == pytest.approx(seq(torch.tensor([x], dtype=torch.float64))[0].tolist(),
                                abs=1e-12)
    # a Parameter assigned to two Linears: the weights are shared, the biases are not
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    b.weight = a.weight
    model = from_torch(torch.nn.Sequential(a, torch.nn.Tanh(), b))
    assert len(model.parameters()) == _params(torch.nn.Sequential(a, b)) == 8
    n0, n1 = model.layers[0].neurons[0], model.layers[1].neurons[0]
    assert n0.w[1] is n1.w[1] and n0.b is not n1.b


def test_a_tie_a_linear_cannot_hold_is_refused_naming_both_places():
    model = MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[1].w[0] = model.layers[0].neurons[0].w[0]
    with pytest.raises(ValueError, match=r"layer 0 weight\[0\]\[0\] and layer 0 weight\[1\]"
                                         r"\[0\] are one tied Value"):
        to_torch(model)
    shared = Value(0.5, "s")
    model = MLP(2, [2, 1], seed=0)
    model.layers[0].neurons[0].b = shared
    model.layers[1].neurons[0].w[1] = shared
    with pytest.raises(ValueError, match=r"layer 0 bias\[0\] and layer 1 weight\[0\]\[1\].*"
                                         r"Value\(data=0.5"):
        to_torch(model)


def _sparse() -> torch.nn.Module:
    lin = torch.nn.Linear(2, 2)
    lin.weight = torch.nn.Parameter(lin.weight.detach().to_sparse())
    return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), lin)


def _quantized() -> torch.nn.Module:
    lin = torch.nn.Linear(2, 2)
    q = torch.quantize_per_tensor(lin.weight.detach(), 0.1, 0, torch.qint8)
    lin.weight = torch.nn.Parameter(q, requires_grad=False)
    return lin


def _integer_bias() -> torch.nn.Module:
    lin = torch.nn.Linear(2, 2)
    lin.bias = torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False)
    return torch.nn.Sequential(lin)


def _complex() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.complex64))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("make, message", [
    (_sparse, r"parameter '2.weight' \(module 2, a Linear\) is a sparse tensor.*to_dense"),
    (lambda: torch.nn.Linear(2, 2, device="meta"), r"parameter 'weight' .* 'meta' device"),
    (_quantized, r"parameter 'weight' .* quantized tensor.*dequantize"),
    (_integer_bias, r"parameter '0.bias' .* holds torch.int64 numbers"),
    (_complex, r"parameter '0.weight' .* complex"),
    (lambda: torch.nn.Sequential(torch.ao.nn.quantized.Linear(2, 2)),
     r"module 0 is Linear from torch.ao.nn.quantized.* convert the model back to float"),
])
def test_weights_without_plain_numbers_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        from_torch(make())
