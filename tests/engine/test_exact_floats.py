"""Same floats before and after speed work: losses recorded from the engine of commit dd142e0.

Every number below was printed (``repr``) by the engine as it was before any speed work (the
653-line ``engine.py`` of commit dd142e0). A faster engine, a reorganised engine or a fast path
must reproduce them bit for bit: the speed work may change how the chain rule is scheduled,
never which floats it adds in which order.

The runs use only the engine's ops, ``nn.MLP`` and hand-written update rules, so a change in
``losses.py`` or ``optim.py`` does not move these numbers; the weights are set from a fixed
list of floats rather than drawn by ``MLP(seed=...)``.
"""

from __future__ import annotations

import hashlib
import math
import random

import pytest

from tinygrad_edu import Value, backward_order, backward_steps, no_grad
from tinygrad_edu.nn import MLP, Layer


def _moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """benchmarks/workloads.make_moons: two half circles, labels -1 / +1."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        if i < n // 2:
            t = math.pi * i / n
            point, label = [math.cos(t), math.sin(t)], -1.0
        else:
            t = math.pi * (i - n // 2) / (n - n // 2)
            point, label = [1.0 - math.cos(t), 0.5 - math.sin(t)], 1.0
        X.append([point[0] + rng.gauss(0.0, noise), point[1] + rng.gauss(0.0, noise)])
        y.append(label)
    return X, y


def _set_weights(model: MLP, seed: int, bound: float) -> None:
    rng = random.Random(seed)
    for p in model.parameters():
        p.data = rng.uniform(-bound, bound)


def _digest(model: MLP) -> str:
    """Fingerprint of every parameter's exact float (the weights after the run)."""
    return hashlib.sha256(repr([p.data for p in model.parameters()]).encode()).hexdigest()[:16]


def demo_run(fused: bool, steps: int = 30) -> tuple[list[str], str]:
    """micrograd's demo as in benchmarks/workloads.demo_step: hinge + L2, full batch, SGD."""
    X, y = _moons(100)
    model = MLP(2, [16, 16, 1], fused=fused)
    _set_weights(model, 1234, 1.0)
    params = model.parameters()
    out = []
    for k in range(steps):
        model.zero_grad()
        scores = [model([Value(a), Value(b)]) for a, b in X]
        data_loss = sum((1 - yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(X))
        loss = data_loss + 1e-4 * sum(p * p for p in params)
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        out.append(repr(loss.data))
    return out, _digest(model)


def _cross_entropy(batch: list[list[Value]], targets: list[int]) -> Value:
    """Mean of log(sum_j e^(z_j - m)) - (z_k - m), m = max(z) as a constant (stable)."""
    terms = []
    for zs, k in zip(batch, targets):
        m = max(z.data for z in zs)
        shifted = [z - m for z in zs]
        total = shifted[0].exp()
        for s in shifted[1:]:
            total = total + s.exp()
        terms.append(total.log() - shifted[k])
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    return loss / len(terms)


def digits_like_run(steps: int = 24) -> tuple[list[str], str]:
    """A digits-shaped run: 64 -> 16 -> 10, cross-entropy, Adam (PyTorch's formula), batch 32.

    The "images" are random pixels in [0, 1] with random labels (no scikit-learn needed); the
    point is the graph's shape (fused neurons, exp, log, a max-shift) and the exact floats.
    """
    rng = random.Random(7)
    rows = [[rng.random() for _ in range(64)] for _ in range(96)]
    labels = [rng.randrange(10) for _ in rows]
    model = MLP(64, [16, 10])
    _set_weights(model, 99, 0.125)
    params = model.parameters()
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
    m = [0.0] * len(params)
    v = [0.0] * len(params)
    out = []
    for t in range(1, steps + 1):
        start = (t - 1) * 32 % len(rows)
        batch = range(start, start + 32)
        for p in params:
            p.grad = 0.0
        logits = [model([Value(px) for px in rows[i]]) for i in batch]
        loss = _cross_entropy(logits, [labels[i] for i in batch])
        loss.backward()
        step_size = lr / (1 - beta1**t)
        bc2_sqrt = (1 - beta2**t) ** 0.5
        for i, p in enumerate(params):
            g = p.grad
            m[i] = m[i] + (1 - beta1) * (g - m[i])
            v[i] = v[i] * beta2 + (1 - beta2) * (g * g)
            p.data = p.data + -step_size * (m[i] / (math.sqrt(v[i]) / bc2_sqrt + eps))
        out.append(repr(loss.data))
    return out, _digest(model)


# ---- recorded from commit dd142e0 (before any speed work) -------------------------------------
DEMO_FUSED = [
    '2.7114008055761847',
    '1.4742202635439303',
    '1.2605849287398863',
    '0.6989992765994378',
    '0.4348390212365405',
    '0.41373132962950543',
    '0.7360557389792707',
    '0.5547792648533951',
    '0.7069493377181855',
    '0.37357888454831184',
    '0.31579277746485734',
    '0.21934038913341733',
    '0.17868995921374553',
    '0.148257848721862',
    '0.1160660716846084',
    '0.095486729415871',
    '0.14512699736168466',
    '0.11720354724973558',
    '0.49066922962878246',
    '0.4225584547497488',
    '0.4132585312182392',
    '0.11220573483181744',
    '0.10367686949742447',
    '0.13847969888840173',
    '0.04799212309994879',
    '0.031385892281331804',
    '0.03060178788068256',
    '0.028779455374687755',
    '0.026959049007883075',
    '0.024513088685004118',
]
DEMO_FUSED_DIGEST = '50d253b0f02455e2'
DEMO_UNFUSED = DEMO_FUSED  # the op-by-op graph gave the very same floats, step by step
DEMO_UNFUSED_DIGEST = '50d253b0f02455e2'
DIGITS_LIKE = [
    '2.317159230838807',
    '2.294344591483888',
    '2.2666449381979463',
    '2.2414049496771105',
    '2.2838866701096108',
    '2.2296517200452226',
    '2.18714395289517',
    '2.3118758553878958',
    '2.2063179822200563',
    '2.1579766151789848',
    '2.308872883006069',
    '2.18786474623198',
    '2.13994627339651',
    '2.291229920593116',
    '2.170991399095463',
    '2.12297989033069',
    '2.2742859323623223',
    '2.1521586936712866',
    '2.103952430586546',
    '2.2601747471160545',
    '2.1297913114843317',
    '2.0805249542994355',
    '2.2428337564778107',
    '2.105480882653879',
]
DIGITS_LIKE_DIGEST = '3f2b8c7df3826bbb'


def test_demo_30_steps_bit_identical():
    losses, digest = demo_run(fused=True)
    assert losses == DEMO_FUSED
    assert digest == DEMO_FUSED_DIGEST


def test_demo_unfused_30_steps_bit_identical():
    losses, digest = demo_run(fused=False)
    assert losses == DEMO_UNFUSED
    assert digest == DEMO_UNFUSED_DIGEST


def test_digits_like_cross_entropy_adam_bit_identical():
    losses, digest = digits_like_run()
    assert losses == DIGITS_LIKE
    assert digest == DIGITS_LIKE_DIGEST


# ---- the fast paths give the textbook's floats, in the textbook's order ----------------------
def _grads(values):
    return [v.grad for v in values]


def _run_steps(root):
    order = list(backward_steps(root))
    return order, _grads(order)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "linear"])
def test_dense_layer_nodes_equal_linear_then_activation(act):
    layer = Layer(5, 4, act, seed=3)
    x = [0.3, -1.2, 2.0, 0.7, -0.4]
    out = layer(x)  # per neuron: a "linear" node, then the activation's node; relu: one node
    if act == "relu":
        assert all(o.op == "linear+relu" and o.children[0] is n.b
                   for o, n in zip(out, layer.neurons))
    elif act == "linear":
        assert all(o.op == "linear" for o in out)
    else:
        assert all(o.op == act and o.children[0].op == "linear" for o in out)
    ref = [n(x) for n in layer.neurons]  # Neuron.forward: the same nodes
    ops = [n._forward_ops(x) for n in layer.neurons]  # op by op: the same floats
    assert [o.data for o in out] == [r.data for r in ops]
    assert [o.data for o in out] == [r.data for r in ref]
    for roots in (out, ref):
        total = roots[0] * 1.5
        for r in roots[1:]:
            total = total + r * r
        for p in layer.parameters():
            p.grad = 0.0
        total.backward()
        roots_grads = [p.grad for p in layer.parameters()]
        if roots is out:
            dense_grads = roots_grads
    assert dense_grads == roots_grads


def test_backward_steps_visits_in_backward_order_with_the_same_floats():
    model = MLP(3, [6, 4, 2], activation="tanh", seed=4)
    x = [[0.2, -0.5, 1.0], [1.5, 0.3, -0.7]]

    def graph():
        outs = [model(r) for r in x]
        c = outs[0][0] * outs[1][1]
        d = outs[0][0] + 1.0  # c is made before d, though d is used first (Kahn's order
        return d * c + outs[1][0].relu()  # would visit c first): newest first visits d

    root = graph()
    root.backward()
    fast = _grads(backward_order(root)), _grads(model.parameters())
    for p in model.parameters():
        p.grad = 0.0
    root = graph()
    order, step_grads = _run_steps(root)
    assert order == backward_order(root)
    position = {v: i for i, v in enumerate(order)}  # each node before all of its inputs
    assert all(position[v] < position[c] for v in order for c in v.children)
    assert (step_grads, _grads(model.parameters())) == fast


def test_a_weight_replaced_after_a_forward_is_used_by_the_next():
    layer = Layer(2, 2, "linear", seed=5)
    layer([1.0, 2.0])
    tied = Value(10.0, "tied")
    layer.neurons[1].w[0] = tied  # in place, as tying weights does
    out = layer([1.0, 2.0])
    assert tied in out[1].children
    assert out[1].data == layer.neurons[1].b.data + 10.0 + layer.neurons[1].w[1].data * 2.0
    layer.neurons[0].activation = "relu"
    assert layer([1.0, 2.0])[0].op == "linear+relu"


def test_dense_nodes_under_no_grad_and_on_overflow():
    layer = Layer(2, 3, seed=6)
    with no_grad():
        out = layer([1.0, 2.0])
    assert all(o.op == "" and o.children == () for o in out)
    for p in layer.parameters():
        p.data = 1e308
    with pytest.raises(OverflowError, match="'linear'"):
        layer([1e10, 1e10])
