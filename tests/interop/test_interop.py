"""The PyTorch bridge: identical weights and outputs both ways, clear errors."""

from __future__ import annotations

import sys

import pytest

from tinygrad_edu import Value
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


# ---------------------------------------------------------------------------------------------
# Exact or refused (issue 12, item 3)
# ---------------------------------------------------------------------------------------------
def torch_outputs(seq, inputs=INPUTS):
    with torch.no_grad():
        return seq(torch.tensor(inputs, dtype=torch.float64)).tolist()


def test_to_torch_honours_per_neuron_activations():
    from tinygrad_edu.interop import PerNeuronActivation

    m = MLP(3, [4, 3, 2], "tanh", seed=5)
    m.layers[0].neurons[1].activation = "relu"
    m.layers[0].neurons[3].activation = "sigmoid"
    m.layers[2].neurons[0].activation = "tanh"  # the output layer too
    seq = to_torch(m)
    assert isinstance(seq[1], PerNeuronActivation)
    assert seq[1].activations == ["tanh", "relu", "tanh", "sigmoid"]
    assert [type(mod).__name__ for mod in seq][2:4] == ["Linear", "Tanh"]
    for x, row in zip(INPUTS, torch_outputs(seq)):
        assert ours(m, x) == pytest.approx(row, abs=1e-12, rel=1e-12)
    # and back: the same function, the same activations per neuron
    back = from_torch(seq)
    assert [n.activation for la in back.layers for n in la.neurons] == [
        n.activation for la in m.layers for n in la.neurons
    ]
    assert back.state_dict() == m.state_dict()
    # a hidden layer without one activation: a Sequential of Layers (an MLP has one)
    assert isinstance(back, Sequential) and back.layers[0].activation is None


def test_to_torch_per_neuron_gradients_match_torch():
    layer = Layer(3, 3, "linear", seed=1)
    layer.neurons[0].activation = "relu"
    layer.neurons[2].activation = "sigmoid"
    seq = to_torch(layer)
    x = [0.4, -0.3, 1.2]
    out = layer(x)
    (out[0] * 2.0 + out[1] * out[2]).backward()
    xt = torch.tensor([x], dtype=torch.float64)
    ot = seq(xt)[0]
    (ot[0] * 2.0 + ot[1] * ot[2]).backward()
    assert [n.b.grad for n in layer.neurons] == pytest.approx(seq[0].bias.grad.tolist(),
                                                              abs=1e-12, rel=1e-12)


def test_per_neuron_module_survives_torch_save(tmp_path):
    m = Layer(2, 2, "tanh", seed=0)
    m.neurons[0].activation = "linear"
    seq = to_torch(m)
    torch.save(seq, tmp_path / "m.pt")
    loaded = torch.load(tmp_path / "m.pt", weights_only=False)
    assert torch_outputs(loaded, [[0.5, 2.0]]) == torch_outputs(seq, [[0.5, 2.0]])


def test_to_torch_refuses_models_it_cannot_copy_exactly():
    class Doubled(MLP):
        def forward(self, x):
            return super().forward(x) * 2.0

    with pytest.raises(ValueError, match=r"Doubled.forward is replaced"):
        to_torch(Doubled(2, [3, 1], seed=0))

    class Shifted(Layer):
        def _forward(self, xs):
            return [v + 1.0 for v in super()._forward(xs)]

    with pytest.raises(ValueError, match=r"Shifted._forward is replaced"):
        to_torch(Sequential(Shifted(2, 2, seed=0), Layer(2, 1)))
    m = MLP(2, [3, 1], seed=0)
    m.layers[0].neurons[1]._act = lambda z: z * 3.0
    with pytest.raises(ValueError, match="neuron 1's activation function was replaced"):
        to_torch(m)
    n = Neuron(2, seed=0)
    n.forward = lambda x: Value(0.0)
    with pytest.raises(ValueError, match="Neuron.forward is replaced"):
        to_torch(n)
    m = MLP(2, [3, 1], seed=0)
    m.layers[0].neurons[2].w.append(Value(1.0))
    with pytest.raises(ValueError, match="neuron 2 has 3 weights"):
        to_torch(m)
    m = MLP(2, [3, 1], seed=0)
    m.layers[1].neurons[0].b.data = float("inf")
    with pytest.raises(ValueError, match="weights that are not finite numbers"):
        to_torch(m)
    # a subclass that only adds attributes computes the same function: converted
    class Named(MLP):
        def __init__(self):
            super().__init__(3, [2, 1], seed=0)
            self.title = "mine"

    model = Named()
    for x, row in zip(INPUTS, torch_outputs(to_torch(model))):
        assert ours(model, x) == pytest.approx(row, abs=1e-12, rel=1e-12)


def test_from_torch_refuses_linear_subclasses_with_their_own_forward():
    class Clipped(torch.nn.Linear):
        def forward(self, x):
            return super().forward(x).clamp(-1, 1)

    with pytest.raises(ValueError, match=r"module 0 \(Clipped\) is a Linear whose forward is "
                                         r"replaced"):
        from_torch(torch.nn.Sequential(Clipped(2, 2), torch.nn.ReLU()))
    lin = torch.nn.Linear(2, 2)
    lin.forward = lambda x: x
    with pytest.raises(ValueError, match="forward is replaced"):
        from_torch(torch.nn.Sequential(lin))

    class Plain(torch.nn.Linear):  # a subclass that keeps Linear's forward: same function
        pass

    seq = torch.nn.Sequential(Plain(3, 2), torch.nn.Tanh()).double()
    for x, row in zip(INPUTS, torch_outputs(seq)):
        assert ours(from_torch(seq), x) == pytest.approx(row, abs=1e-12, rel=1e-12)


@pytest.mark.parametrize("name", ["ReLU", "Tanh", "Sigmoid", "Identity", "Linear"])
def test_from_torch_refuses_lookalike_classes(name):
    fake = type(name, (torch.nn.Module,), {"forward": lambda self, x: x * 0.0})
    with pytest.raises(ValueError, match=rf"module 1 is {name} from .*not torch.nn.{name}"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), fake()))


def test_from_torch_refuses_activation_subclasses_with_their_own_forward():
    class LeakyishReLU(torch.nn.ReLU):
        def forward(self, x):
            return torch.nn.functional.leaky_relu(x)

    with pytest.raises(ValueError, match=r"\(LeakyishReLU\) is a ReLU whose forward"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), LeakyishReLU()))

    class Quiet(torch.nn.Sequential):
        def forward(self, x):
            return super().forward(x) + 1

    with pytest.raises(ValueError, match=r"is a Sequential whose forward"):
        from_torch(Quiet(torch.nn.Linear(2, 1)))


def test_from_torch_refuses_forward_hooks():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())
    handle = seq[1].register_forward_hook(lambda mod, inp, out: out * 2)
    with pytest.raises(ValueError, match=r"module 1 \(Tanh\) runs forward hooks"):
        from_torch(seq)
    handle.remove()
    pre = seq[0].register_forward_pre_hook(lambda mod, inp: (inp[0] * 0,))
    with pytest.raises(ValueError, match="forward hooks"):
        from_torch(seq)
    pre.remove()
    assert isinstance(from_torch(seq), MLP)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_from_torch_unusual_weights():
    with pytest.raises(ValueError, match="lazy Linear"):
        from_torch(torch.nn.Sequential(torch.nn.LazyLinear(2)))
    with pytest.raises(ValueError, match="not a dense layer"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 0)))
    meta = torch.nn.Linear(2, 2, device="meta")
    with pytest.raises(ValueError, match=r"parameter '0.weight' .* 'meta' device, which has a "
                                         "shape but no numbers"):
        from_torch(torch.nn.Sequential(meta))
    half = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Sigmoid()).to(torch.bfloat16)
    model = from_torch(half)  # bfloat16 numbers are exact float64 numbers
    assert model.layers[0].neurons[1].w[2].data == half[0].weight[1, 2].item()


def test_round_trip_through_torch_is_exact_for_random_models():
    import random

    rng = random.Random(0)
    acts = ["relu", "tanh", "sigmoid", "linear"]
    for k in range(10):
        sizes = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
        m = MLP(3, sizes, rng.choice(acts), rng.choice(acts), seed=k)
        for layer in m.layers:
            for n in layer.neurons:
                if rng.random() < 0.3:
                    n.activation = rng.choice(acts)
        seq = to_torch(m)
        for x, row in zip(INPUTS, torch_outputs(seq)):
            assert ours(m, x) == pytest.approx(row, abs=1e-12, rel=1e-12)
        back = from_torch(seq)
        assert back.state_dict() == m.state_dict()
        assert [ours(back, x) for x in INPUTS] == [ours(m, x) for x in INPUTS]


def test_to_torch_refuses_replaced_weight_objects():
    m = MLP(2, [3, 1], seed=0)
    m.layers[0].neurons[0].b = 0.5  # a float where a Value belongs
    with pytest.raises(TypeError, match="b a Value, got .* b=0.5; to change a weight, set its "
                                        ".data"):
        to_torch(m)
    with pytest.raises(TypeError, match="w must be a list of Values"):
        m.parameters()  # the same check, in the walk behind parameters() and state_dict()
    m = MLP(2, [3, 1], seed=0)
    m.layers[0].neurons[0].w[0].data = 10**400  # an int no float can hold
    with pytest.raises(ValueError, match="not finite numbers"):
        to_torch(m)
