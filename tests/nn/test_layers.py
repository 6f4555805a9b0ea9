"""Neurons, layers, MLPs and Sequential: structure, exact forward floats, saving, bad input."""

from __future__ import annotations

import json
import math

import pytest

from tinygrad_edu import Value
from tinygrad_edu.nn import MLP, Layer, Module, Neuron, Sequential


def set_weights(neuron: Neuron, w: list[float], b: float) -> None:
    for p, v in zip(neuron.w, w):
        p.data = v
    neuron.b.data = b


# ---------------------------------------------------------------------------------------------
# Hand-computed forward and backward
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "activation, expected",
    [
        ("linear", 0.5 + 2.0 * 1.0 + (-1.0) * 3.0),  # z = -0.5
        ("relu", 0.0),
        ("tanh", math.tanh(-0.5)),
        ("sigmoid", 1.0 / (1.0 + math.exp(0.5))),
    ],
)
def test_neuron_forward_by_hand(activation, expected):
    n = Neuron(2, activation, seed=0)
    set_weights(n, [2.0, -1.0], 0.5)
    assert n([1.0, 3.0]).data == pytest.approx(expected, abs=1e-15)


def test_neuron_backward_by_hand():
    # out = tanh(b + w0 x0 + w1 x1); d out/d w_i = (1 - out^2) x_i, d out/d b = 1 - out^2
    n = Neuron(2, "tanh", seed=0)
    set_weights(n, [0.5, -0.25], 0.1)
    x = [Value(2.0), Value(4.0)]
    out = n(x)
    out.backward()
    z = 0.1 + 0.5 * 2.0 + (-0.25) * 4.0
    local = 1.0 - math.tanh(z) ** 2
    assert out.data == math.tanh(z)
    assert n.w[0].grad == pytest.approx(local * 2.0, abs=1e-15)
    assert n.w[1].grad == pytest.approx(local * 4.0, abs=1e-15)
    assert n.b.grad == pytest.approx(local, abs=1e-15)
    assert x[0].grad == pytest.approx(local * 0.5, abs=1e-15)
    assert x[1].grad == pytest.approx(local * -0.25, abs=1e-15)


def test_layer_outputs_are_its_neurons():
    layer = Layer(3, 2, "linear", seed=1)
    x = [1.0, -2.0, 0.5]
    out = layer(x)
    assert isinstance(out, list) and len(out) == 2
    for o, n in zip(out, layer.neurons):
        assert o.data == n(x).data


# ---------------------------------------------------------------------------------------------
# Structure that pictures, notebooks and benchmarks rely on
# ---------------------------------------------------------------------------------------------
def test_attributes():
    m = MLP(2, [16, 16, 1], seed=0)
    assert m.nin == 2 and m.nouts == [16, 16, 1]
    assert [type(layer) for layer in m.layers] == [Layer, Layer, Layer]
    assert [(la.nin, la.nout, la.activation) for la in m.layers] == [
        (2, 16, "relu"), (16, 16, "relu"), (16, 1, "linear")
    ]
    n = m.layers[1].neurons[3]
    assert isinstance(n, Neuron) and n.nin == 16 and n.activation == "relu"
    assert len(n.w) == 16 and all(isinstance(w, Value) for w in n.w) and isinstance(n.b, Value)
    assert [w.label for w in m.layers[0].neurons[0].w] == ["w0", "w1"]
    assert m.layers[0].neurons[0].b.label == "b"
    s = Sequential(Layer(2, 3), Layer(3, 1))
    assert len(s.layers) == 2 and s.nin == 2


def test_micrograd_demo_model_has_337_parameters():
    m = MLP(2, [16, 16, 1])
    assert len(m.parameters()) == 337 == m.num_parameters()
    assert len(set(map(id, m.parameters()))) == 337


def test_parameter_order_is_neuron_by_neuron():
    layer = Layer(2, 2, seed=0)
    n0, n1 = layer.neurons
    assert layer.parameters() == [n0.w[0], n0.w[1], n0.b, n1.w[0], n1.w[1], n1.b]
    m = MLP(2, [2, 1], seed=0)
    assert m.parameters() == m.layers[0].parameters() + m.layers[1].parameters()
    # the same inside a Sequential (and inside an MLP inside a Sequential)
    l1, l2, inner = Layer(2, 3, seed=0), Layer(3, 2, seed=1), MLP(2, [2, 1], seed=2)
    s = Sequential(l1, l2, inner)
    assert s.parameters() == l1.parameters() + l2.parameters() + inner.parameters()
    assert Sequential(n1 := Neuron(2, seed=0)).parameters() == [*n1.w, n1.b]


def test_repr():
    assert repr(MLP(2, [16, 16, 1])) == "MLP(2 → 16 relu → 16 relu → 1 linear)"
    assert repr(MLP(2, [3, 1], "sigmoid", "sigmoid")) == "MLP(2 → 3 sigmoid → 1 sigmoid)"
    assert repr(Layer(2, 3, "tanh")) == "Layer(2 → 3 tanh)"
    assert repr(Neuron(4, "linear")) == "Neuron(4 → 1 linear)"
    assert repr(Sequential(Layer(2, 3), Layer(3, 1, "linear"))) == (
        "Sequential(Layer(2 → 3 relu), Layer(3 → 1 linear))"
    )
    assert "fused=False" in repr(MLP(2, [1], fused=False))


# ---------------------------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------------------------
def test_same_seed_same_weights_different_seed_different_weights():
    a = MLP(3, [4, 2], seed=7).state_dict()
    b = MLP(3, [4, 2], seed=7).state_dict()
    c = MLP(3, [4, 2], seed=8).state_dict()
    assert a == b
    assert a != c


def test_init_is_uniform_within_torch_bound():
    m = MLP(25, [64, 4], seed=3)
    for layer in m.layers:
        bound = 1.0 / math.sqrt(layer.nin)
        values = [p.data for p in layer.parameters()]
        assert all(-bound <= v <= bound for v in values)
        # spread over the interval, not clustered (uniform: mean ~0, max near the bound)
        assert max(values) > 0.8 * bound and min(values) < -0.8 * bound
        assert abs(sum(values) / len(values)) < 0.2 * bound


# ---------------------------------------------------------------------------------------------
# Fused and op-by-op paths: the same floats, different graphs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_fused_and_unfused_forward_are_identical(activation):
    fused = MLP(5, [7, 6, 3], activation, "sigmoid" if activation == "tanh" else "linear", seed=2)
    plain = MLP(5, [7, 6, 3], activation, "sigmoid" if activation == "tanh" else "linear", seed=2,
                fused=False)
    for k in range(20):
        x = [math.sin(k + i) * 3.0 for i in range(5)]
        a, b = fused(x), plain(x)
        assert [v.data for v in a] == [v.data for v in b]  # exactly, not approximately


def test_fused_and_unfused_backward_agree():
    fused = MLP(3, [4, 1], "tanh", seed=5)
    plain = MLP(3, [4, 1], "tanh", seed=5, fused=False)
    x = [0.3, -1.2, 2.0]
    fused(x).backward()
    plain(x).backward()
    assert [p.grad for p in fused.parameters()] == [q.grad for q in plain.parameters()]


def test_graph_shapes():
    n = Neuron(3, "tanh", seed=0)
    out = n([1.0, 2.0, 3.0])
    assert out.op == "tanh" and out.children[0].op == "linear"
    n.fused = False
    out = n([1.0, 2.0, 3.0])
    z = out.children[0]
    assert out.op == "tanh" and z.op == "+" and z.label == "z"
    # b + w0*x0 + w1*x1 + w2*x2, added left to right
    ops = []
    node = z
    while node.op == "+":
        ops.append(node.children[1].label)
        node = node.children[0]
    assert node is n.b
    assert ops == ["w2*x2", "w1*x1", "w0*x0"]


def test_fused_flag_propagates():
    m = MLP(2, [3, 1], seed=0)
    m.fused = False
    assert all(not n.fused for la in m.layers for n in la.neurons) and not m.fused
    assert m([1.0, 2.0]).children[0].op == "+"


# ---------------------------------------------------------------------------------------------
# Outputs and inputs: one output is a Value; a 1-input layer takes it (micrograd's bug)
# ---------------------------------------------------------------------------------------------
def test_one_output_is_a_value_several_are_a_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2


def test_one_neuron_hidden_layer_works():
    m = MLP(2, [1, 4, 1], "tanh", seed=0)
    out = m([0.5, -1.0])
    out.backward()
    assert isinstance(out, Value)
    assert all(p.grad != 0.0 for p in m.layers[0].parameters())
    s = Sequential(Layer(2, 1, "tanh", seed=0), Layer(1, 3, seed=0), Layer(3, 1, "linear"))
    assert isinstance(s([1.0, 2.0]), Value)
    assert Layer(1, 2, seed=0)(Value(2.0))[0].data == Layer(1, 2, seed=0)([2.0])[0].data
    assert Neuron(1, seed=0)(3.0).data == Neuron(1, seed=0)([3.0]).data


def test_inputs_may_be_values_numbers_or_tuples():
    m = MLP(2, [3, 1], seed=0)
    a = m([1, 2.5]).data
    assert m((1.0, 2.5)).data == a
    assert m([Value(1.0), 2.5]).data == a


@pytest.mark.parametrize("module", [Neuron(3), Layer(3, 2), MLP(3, [2, 1])])
def test_wrong_input_length_names_both_sizes(module):
    with pytest.raises(ValueError, match=r"expects 3 inputs, got 2"):
        module([1.0, 2.0])
    with pytest.raises(ValueError, match=r"expects 3 inputs, got a single value"):
        module(Value(1.0))


def test_bad_input_values():
    m = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="input 1"):
        m([1.0, "a"])
    with pytest.raises(TypeError, match="list of 2 numbers"):
        m("ab")
    with pytest.raises(ValueError, match="input 0.*finite"):
        m([math.nan, 1.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Neuron(0), "positive int"),
        (lambda: Layer(2, 0), "positive int"),
        (lambda: MLP(2, []), "non-empty list"),
        (lambda: MLP(2, 3), "non-empty list"),
        (lambda: MLP(2, [3, 0]), r"nouts\[1\]"),
        (lambda: Neuron(2, "softmax"), "softmax is applied by"),
        (lambda: MLP(2, [1], output_activation="Relu"), "output_activation must be one of"),
        (lambda: Sequential(), "at least one"),
        (lambda: Neuron(2, seed="x"), "seed"),
    ],
)
def test_bad_construction(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1 must be a Module"):
        Sequential(Layer(2, 2), lambda x: x)


# ---------------------------------------------------------------------------------------------
# zero_grad, state_dict
# ---------------------------------------------------------------------------------------------
def test_zero_grad():
    m = MLP(2, [3, 1], seed=0)
    m([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_state_dict_keys_and_shapes():
    sd = MLP(2, [3, 1], seed=0).state_dict()
    assert list(sd) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert len(sd["layers.0.weight"]) == 3 and all(len(r) == 2 for r in sd["layers.0.weight"])
    assert len(sd["layers.0.bias"]) == 3 and len(sd["layers.1.weight"]) == 1
    assert all(isinstance(v, float) for row in sd["layers.0.weight"] for v in row)
    assert Neuron(2, seed=0).state_dict().keys() == {"weight", "bias"}
    assert isinstance(Neuron(2, seed=0).state_dict()["bias"], float)
    assert list(Sequential(Layer(2, 1), Layer(1, 1)).state_dict())[2] == "layers.1.weight"


def test_state_dict_weight_rows_are_neurons():
    m = MLP(2, [3, 1], seed=0)
    sd = m.state_dict()
    n = m.layers[0].neurons[2]
    assert sd["layers.0.weight"][2] == [n.w[0].data, n.w[1].data]
    assert sd["layers.0.bias"][2] == n.b.data


def test_state_dict_exact_json_round_trip():
    a = MLP(3, [5, 4, 2], "tanh", seed=11)
    b = MLP(3, [5, 4, 2], "tanh", seed=12)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    x = [0.1, 0.2, -0.3]
    assert [v.data for v in a(x)] == [v.data for v in b(x)]
    n1, n2 = Neuron(3, seed=1), Neuron(3, seed=2)
    n2.load_state_dict(json.loads(json.dumps(n1.state_dict())))
    assert n1.state_dict() == n2.state_dict()


def test_load_state_dict_errors_name_the_key():
    m = MLP(2, [3, 1], seed=0)
    good = m.state_dict()
    before = [p.data for p in m.parameters()]

    missing = dict(good)
    del missing["layers.1.bias"]
    with pytest.raises(ValueError, match=r"missing key\(s\) 'layers.1.bias'"):
        m.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected key\(s\) 'layers.2.weight'"):
        m.load_state_dict({**good, "layers.2.weight": [[1.0]]})
    wrong = {**good, "layers.0.weight": [[1.0, 2.0, 3.0]] * 3}
    with pytest.raises(ValueError, match=r"'layers.0.weight'.*wrong shape.*3 rows of 2"):
        m.load_state_dict(wrong)
    with pytest.raises(ValueError, match=r"'layers.1.bias'.*wrong shape"):
        m.load_state_dict({**good, "layers.1.bias": 0.5})
    with pytest.raises(TypeError, match=r"'layers.0.bias'.*str"):
        m.load_state_dict({**good, "layers.0.bias": ["a", 1.0, 2.0]})
    with pytest.raises(ValueError, match="non-finite"):
        m.load_state_dict({**good, "layers.0.bias": [math.nan, 1.0, 2.0]})
    with pytest.raises(TypeError, match="dict"):
        m.load_state_dict([1, 2])
    # nothing was changed by the failed loads
    assert [p.data for p in m.parameters()] == before


def test_custom_module_finds_its_parameters():
    class Affine(Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.shift = Value(-1.0)
            self.inner = Layer(1, 1, "linear", seed=0)

        def forward(self, x):
            return self.inner(x) * self.scale + self.shift

    m = Affine()
    assert m.num_parameters() == 4
    assert set(m.state_dict()) == {"scale", "shift", "inner.weight", "inner.bias"}
    out = m([3.0])
    out.backward()
    assert m.shift.grad == 1.0


def test_module_without_forward():
    with pytest.raises(NotImplementedError, match="forward"):
        Module()(1.0)


# ---------------------------------------------------------------------------------------------
# Against PyTorch: forward and backward of MLPs in float64
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation, out_act", [("relu", "linear"), ("tanh", "sigmoid"),
                                                 ("sigmoid", "tanh")])
def test_mlp_matches_torch_forward_and_backward(activation, out_act):
    torch = pytest.importorskip("torch")
    from tinygrad_edu.interop import to_torch

    m = MLP(3, [8, 5, 2], activation, out_act, seed=4)
    t = to_torch(m)
    x = [0.7, -1.3, 2.1]
    out = m(x)
    loss = out[0] * out[0] + 3.0 * out[1]
    loss.backward()
    xt = torch.tensor([x], dtype=torch.float64)
    ot = t(xt)[0]
    (ot[0] * ot[0] + 3.0 * ot[1]).backward()
    assert [v.data for v in out] == pytest.approx(ot.tolist(), abs=1e-12, rel=1e-12)
    linears = [mod for mod in t if isinstance(mod, torch.nn.Linear)]
    for layer, lin in zip(m.layers, linears):
        for j, n in enumerate(layer.neurons):
            assert [w.grad for w in n.w] == pytest.approx(lin.weight.grad[j].tolist(),
                                                          abs=1e-12, rel=1e-10)
            assert n.b.grad == pytest.approx(lin.bias.grad[j].item(), abs=1e-12, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# parameters() and state_dict() agree: one walk (subclasses, tied weights, containers)
# ---------------------------------------------------------------------------------------------
def _keyed_values(model: Module) -> list[Value]:
    """The Values behind state_dict(), in key order, each once."""
    return list(dict.fromkeys(v for _, _, v in model._slots()))


class ScaledMLP(MLP):
    """A subclass with an extra learnable Value, as a user would write it."""

    def __init__(self):
        super().__init__(2, [3, 1], "tanh", seed=0)
        self.temperature = Value(2.0)

    def forward(self, x):
        return super().forward(x) * self.temperature


class ScaledNeuron(Neuron):
    def __init__(self, nin, activation="relu", seed=None, fused=True):
        super().__init__(nin, activation, seed, fused)
        self.gain = Value(1.5)


def test_subclass_extra_value_is_trained_and_saved():
    m = ScaledMLP()
    params = m.parameters()
    assert m.temperature in params and len(params) == 14
    assert "temperature" in m.state_dict()
    assert _keyed_values(m) == params
    m([0.5, -1.0]).backward()
    assert m.temperature.grad != 0.0  # it is in the graph, and an optimizer now sees it
    twin = ScaledMLP()
    twin.temperature.data = 7.0
    twin.load_state_dict(json.loads(json.dumps(m.state_dict())))
    assert twin.temperature.data == 2.0


def test_subclassed_neurons_inside_a_layer_keep_their_extra_values():
    layer = Layer(2, 2, seed=0)
    layer.neurons = [ScaledNeuron(2, seed=1), ScaledNeuron(2, seed=2)]
    sd = layer.state_dict()
    assert list(sd) == ["weight", "bias", "neurons.0.gain", "neurons.1.gain"]
    assert _keyed_values(layer) == layer.parameters()
    assert len(layer.parameters()) == 8
    assert [layer.neurons[0].gain] == [p for p in layer.parameters() if p.data == 1.5][:1]


def test_values_in_nested_lists_dicts_and_tuples_are_parameters():
    class Holder(Module):
        def __init__(self):
            self.matrix = [[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]]
            self.named = {"a": Value(5.0), "inner": Layer(1, 1, seed=0)}
            self.mixed = [Neuron(1, seed=0), Value(6.0), 7.0]
            self.sizes = (2, 3)  # numbers are not parameters

    h = Holder()
    sd = h.state_dict()
    assert list(sd) == ["matrix", "named.a", "named.inner.weight", "named.inner.bias",
                        "mixed.0.weight", "mixed.0.bias", "mixed.1"]
    assert sd["matrix"] == [[1.0, 2.0], [3.0, 4.0]] and sd["mixed.1"] == 6.0
    assert _keyed_values(h) == h.parameters() and h.num_parameters() == 10
    h.load_state_dict({**sd, "matrix": [[0.0, 0.0], [0.0, 9.0]]})
    assert h.matrix[1][1].data == 9.0


def test_tied_weights_are_one_parameter_as_in_torch():
    torch = pytest.importorskip("torch")
    m = MLP(2, [2, 2], "linear", seed=0)
    m.layers[1].neurons[0].w[1] = m.layers[0].neurons[1].w[0]  # one Value in two places
    assert m.num_parameters() == 11
    assert len(set(map(id, m.parameters()))) == 11
    sd = m.state_dict()
    assert sd["layers.1.weight"][0][1] == sd["layers.0.weight"][1][0]
    # PyTorch: a tied parameter is listed once, and its state_dict has both keys
    lin0, lin1 = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    lin1.weight = lin0.weight
    seq = torch.nn.Sequential(lin0, lin1)
    assert len(list(seq.parameters())) == 3 and len(seq.state_dict()) == 4
    # training moves the tied Value by the sum of both uses' gradients, once
    out = m([1.0, 2.0])
    (out[0] + out[1]).backward()
    tied = m.layers[0].neurons[1].w[0]
    before = tied.data
    for p in m.parameters():
        p.data -= 0.1 * p.grad
    assert tied.data == before - 0.1 * tied.grad


def test_tied_keys_that_disagree_are_refused_and_nothing_changes():
    m = MLP(2, [2, 2], "linear", seed=0)
    m.layers[1].neurons[0].w[1] = m.layers[0].neurons[1].w[0]
    sd = m.state_dict()
    before = m.state_dict()
    same = json.loads(json.dumps(sd))
    m.load_state_dict(same)  # equal numbers under both keys: fine
    sd["layers.1.weight"][0][1] = 123.0
    sd["layers.0.bias"][0] = -5.0
    with pytest.raises(ValueError, match=r"state_dict\['layers.0.weight'\]\[1\]\[0\] and "
                                         r"state_dict\['layers.1.weight'\]\[0\]\[1\] hold one "
                                         r"tied parameter.*123.0"):
        m.load_state_dict(sd)
    assert m.state_dict() == before


def test_a_module_that_holds_itself_is_a_clear_error():
    class Loop(Module):
        def __init__(self):
            self.inner = Layer(1, 1, seed=0)
            self.inner.owner = self

    with pytest.raises(ValueError, match="contains itself.*'_'"):
        Loop().parameters()

    class Fine(Module):
        def __init__(self):
            self.inner = Layer(1, 1, seed=0)
            self.inner._owner = self  # private: not searched

    assert Fine().num_parameters() == 2


# ---------------------------------------------------------------------------------------------
# Seeds: integer-likes, and seed=None draws from the global `random` (micrograd's demo)
# ---------------------------------------------------------------------------------------------
def test_seed_none_uses_global_random():
    import random

    random.seed(1337)
    a = MLP(2, [16, 16, 1]).state_dict()
    random.seed(1337)
    b = MLP(2, [16, 16, 1]).state_dict()
    assert a == b
    # exactly the draws random.uniform makes: w0, w1, then b, bound 1/sqrt(2)
    random.seed(5)
    n = Neuron(2)
    random.seed(5)
    bound = 1 / math.sqrt(2)
    assert [p.data for p in n.parameters()] == [random.uniform(-bound, bound) for _ in range(3)]
    random.seed(5)
    assert Layer(2, 1).state_dict()["weight"][0] == n.state_dict()["weight"]
    assert MLP(2, [3, 1]).state_dict() != MLP(2, [3, 1]).state_dict()  # the stream moves on


def test_numpy_integers_work_as_sizes_and_seeds():
    np = pytest.importorskip("numpy")
    m = MLP(np.int64(2), [np.int32(3), np.uint8(1)], seed=np.int64(3))
    assert m.state_dict() == MLP(2, [3, 1], seed=3).state_dict()
    assert MLP(2, np.array([3, 1]), seed=3).state_dict() == m.state_dict()
    assert Layer(np.int16(2), np.int64(2), seed=np.int8(1)).nout == 2
    assert Neuron(np.int64(4), seed=np.int64(0)).nin == 4
    assert type(m.nin) is int and m.nouts == [3, 1]
    with pytest.raises(TypeError, match="positive int"):
        Neuron(np.float64(2.0))
    with pytest.raises(TypeError, match="seed"):
        Neuron(2, seed=np.float64(1.0))


@pytest.mark.parametrize("make, error, message", [
    (lambda: Neuron(2, activation=["relu"]), TypeError, "must be one name.*list"),
    (lambda: MLP(2, [1], activation={"relu"}), TypeError, "must be one name.*set"),
    (lambda: Layer(2, 1, activation=None), TypeError, "must be one name"),
    (lambda: Neuron(2, fused="no"), TypeError, "fused must be True or False"),
    (lambda: MLP(2, "31"), ValueError, "non-empty list of layer sizes"),
    (lambda: Neuron(True), TypeError, "positive int"),
    (lambda: Neuron(10**9), ValueError, "MAX_PARAMETERS"),
    (lambda: MLP(2, [10**4, 10**4]), ValueError, "100,040,000 scalar parameters"),
    (lambda: Neuron(10**400), ValueError, "MAX_PARAMETERS"),
])
def test_bad_construction_is_clear(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_setting_activation_on_an_mlp_sets_its_hidden_layers():
    m = MLP(2, [3, 3, 1], seed=0)
    m.activation = "tanh"
    assert [la.activation for la in m.layers] == ["tanh", "tanh", "linear"]
    assert m.activation == "tanh" and repr(m) == "MLP(2 → 3 tanh → 3 tanh → 1 linear)"
    x = [0.3, -0.7]
    ref = MLP(2, [3, 3, 1], "tanh", seed=0)
    assert m(x).data == ref(x).data
    m.output_activation = "sigmoid"
    assert m.layers[-1].activation == "sigmoid" and m(x).data == ref(x).sigmoid().data
    m.layers[0].neurons[1].activation = "relu"  # one neuron differs: no single name
    assert m.layers[0].activation is None and m.activation is None
    assert repr(m.layers[0]) == "Layer(2 → 3 mixed)"
    with pytest.raises(ValueError, match="activation must be one of"):
        m.activation = "gelu"
    with pytest.raises(TypeError, match="must be one name"):
        m.output_activation = ["relu"]
    single = MLP(2, [1], "tanh")
    single.activation = "relu"  # no hidden layer: remembered, used nowhere
    assert single.activation == "relu" and single.layers[0].activation == "linear"


# ---------------------------------------------------------------------------------------------
# Inputs: dicts and sets refused, NumPy scalars and 0-d arrays handled
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    ({0: 10.0, 1: 20.0}, "got a dict, whose order"),
    ({10.0, 20.0}, "got a set, whose order"),
    (frozenset({1.0, 2.0}), "got a frozenset"),
    ({0: 1.0, 1: 2.0}.keys(), "got a dict_keys"),
    (bytearray(b"ab"), "got bytearray"),
    (iter([1.0, 2.0]), "got list_iterator"),
])
@pytest.mark.parametrize("make", [lambda: Neuron(2, seed=0), lambda: Layer(2, 2, seed=0),
                                  lambda: MLP(2, [2, 1], seed=0)])
def test_unordered_or_unsized_inputs_are_refused(make, bad, message):
    with pytest.raises(TypeError, match=message):
        make()(bad)


def test_numpy_inputs():
    np = pytest.importorskip("numpy")
    n = Neuron(1, "tanh", seed=0)
    ref = n([2.0]).data
    assert n(np.array(2.0)).data == ref  # a 0-d array is one number
    assert n(np.float32(2.0)).data == ref and n(np.int64(2)).data == ref
    assert n(np.array([2.0])).data == ref
    m = MLP(2, [3, 1], seed=0)
    assert m(np.array([0.5, 1.5])).data == m([0.5, 1.5]).data
    assert m(np.array([0.5, 1.5])[::-1]).data == m([1.5, 0.5]).data
    assert m({0: 0.5, 1: 1.5}.values()).data == m([0.5, 1.5]).data  # ordered: fine
    with pytest.raises(ValueError, match=r"array of shape \(1, 2\)"):
        m(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="expects 2 inputs, got a single value"):
        m(np.array(1.0))
    with pytest.raises(TypeError, match="input 0 is not usable.*bool"):
        m(np.array([True, False]))


def test_huge_numbers_and_long_inputs_give_short_messages():
    m = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="input 0 is not usable"):
        m([10**400, 1.0])
    with pytest.raises(ValueError, match="expects 2 inputs, got 100,000 inputs") as info:
        m(list(range(100_000)))
    assert len(str(info.value)) < 300
    with pytest.raises(TypeError) as info:
        m("x" * 100_000)
    assert len(str(info.value)) < 300


# ---------------------------------------------------------------------------------------------
# load_state_dict: short messages, huge numbers, arrays
# ---------------------------------------------------------------------------------------------
def test_a_state_dict_with_200000_extra_keys_gives_a_short_message():
    m = MLP(2, [3, 1], seed=0)
    state = {**m.state_dict(), **{f"junk.{i}": 0.0 for i in range(200_000)}}
    with pytest.raises(ValueError, match=r"200,000 unexpected key\(s\) 'junk.0', .* and "
                                         r"199,992 more") as info:
        m.load_state_dict(state)
    assert len(str(info.value)) < 500
    with pytest.raises(ValueError, match=r"missing key\(s\) 'layers.0.weight'") as info:
        m.load_state_dict({"x" * 10**6: 1.0})
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("bad, error, message", [
    (10**400, ValueError, "non-finite number .an int of 401 digits"),
    (-(10**400), ValueError, "an int of 401 digits"),
    (float("inf"), ValueError, "non-finite number .inf"),
    ("x" * 10**6, TypeError, "found str 'xxxx"),
    (None, TypeError, "found NoneType"),
    (True, TypeError, "found bool"),
])
def test_load_state_dict_refuses_bad_numbers(bad, error, message):
    m = Neuron(2, seed=0)
    before = m.state_dict()
    with pytest.raises(error, match=message) as info:
        m.load_state_dict({"weight": [1.0, 2.0], "bias": bad})
    assert len(str(info.value)) < 300
    assert m.state_dict() == before


def test_load_state_dict_takes_numpy_arrays_and_torch_tensors():
    np = pytest.importorskip("numpy")
    a, b = MLP(3, [4, 2], seed=1), MLP(3, [4, 2], seed=2)
    b.load_state_dict({k: np.array(v) for k, v in a.state_dict().items()})
    assert b.state_dict() == a.state_dict()
    torch = pytest.importorskip("torch")
    c = MLP(3, [4, 2], seed=3)
    c.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in a.state_dict().items()})
    assert c.state_dict() == a.state_dict()
    n = Neuron(2, seed=0)
    n.load_state_dict({"weight": np.array([1.0, 2.0]), "bias": np.float64(0.5)})
    assert n.state_dict() == {"weight": [1.0, 2.0], "bias": 0.5}
    with pytest.raises(ValueError, match="wrong shape"):
        n.load_state_dict({"weight": np.zeros((2, 1)), "bias": 0.0})


def test_sequential_indexing():
    np = pytest.importorskip("numpy")
    a, b, c = Layer(2, 3, seed=0), Layer(3, 2, seed=1), Layer(2, 1, seed=2)
    s = Sequential(a, b, c)
    assert s[0] is a and s[-1] is c and s[np.int64(1)] is b
    assert s[1:].layers == [b, c] and isinstance(s[:2], Sequential)
    with pytest.raises(IndexError, match="index 3 is out of range: it holds 3 modules"):
        s[3]
    with pytest.raises(IndexError, match="out of range"):
        s[-(10**400)]
    with pytest.raises(TypeError, match="ints or slices, got str"):
        s["0"]
    with pytest.raises(ValueError, match="at least one module"):
        s[5:]
