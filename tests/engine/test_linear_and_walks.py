"""Every fast path against the elementary path it replaces.

- ``linear(w, x, b)`` (one fused node) against ``b + w0*x0 + w1*x1 + ...`` built op by op:
  the same forward floats exactly, and the same gradients exactly, for one sample and for
  models over a batch (issue 6: a fused path must give the same floats). The one exception is
  a single leaf used several times inside one neuron (as weight, input and bias at once),
  where the two graphs add its contributions up in a different order.
- ``Value.backward()`` (one plain loop that skips leaves) against ``backward_steps`` (the
  generator that visits every node): the same inner nodes in the same order, the same grads.
- ``nn`` models with ``fused=True`` against ``fused=False``.
"""

from __future__ import annotations

import math
import random

import pytest

from tinygrad_edu import Value, backward_order, backward_steps, linear
from tinygrad_edu.losses import cross_entropy, mse_loss
from tinygrad_edu.nn import MLP, Layer
from tinygrad_edu.optim import Adam

SIZES = [0, 1, 2, 3, 16, 64]


def _rand_values(rng: random.Random, n: int, scale: float = 2.0) -> list[Value]:
    return [Value(rng.uniform(-scale, scale)) for _ in range(n)]


def _op_by_op(w, x, b):
    """The elementary neuron: b + w0*x0 + w1*x1 + ... left to right, one node per op."""
    z = b
    for wi, xi in zip(w, x):
        z = z + wi * xi
    return z


def _zero(values):
    for v in values:
        v.grad = 0.0


@pytest.mark.parametrize("n", SIZES)
def test_linear_forward_is_the_same_float_as_op_by_op(n):
    rng = random.Random(n)
    for _ in range(50):
        w, x, (b,) = _rand_values(rng, n), _rand_values(rng, n, 10.0), _rand_values(rng, 1)
        assert linear(w, x, b).data == _op_by_op(w, x, b).data


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "linear"])
def test_linear_grads_equal_op_by_op_exactly_for_one_sample(n, act):
    rng = random.Random(100 + n)
    w, x, (b,) = _rand_values(rng, n), _rand_values(rng, n), _rand_values(rng, 1)
    inputs = [*w, *x, b]

    def run(make):
        _zero(inputs)
        z = make(w, x, b)
        out = z if act == "linear" else getattr(z, act)()
        (out * 1.7 + 0.3).backward()  # an upstream gradient that is not 1
        return out.data, [v.grad for v in inputs]

    fused, plain = run(linear), run(_op_by_op)
    assert fused == plain


def test_linear_grads_with_a_reused_input_match_op_by_op_exactly():
    # a is a weight, an input and the bias: its contributions add up in one leaf.
    a, c = Value(0.7), Value(-1.3)
    w, x, b = [a, c, a], [c, a, Value(2.0)], a

    def run(make):
        _zero([a, c])
        make(w, x, b).tanh().backward()
        return a.grad, c.grad

    f, p = run(linear), run(_op_by_op)
    assert f[1] == p[1]
    assert f[0] == pytest.approx(p[0], rel=1e-12, abs=0.0)


def test_linear_lifts_numbers_to_the_same_floats_as_values():
    rng = random.Random(3)
    w, (b,) = _rand_values(rng, 5), _rand_values(rng, 1)
    nums = [rng.uniform(-3, 3) for _ in range(5)]
    nums[2] = 2  # an int
    mixed = [nums[0], Value(nums[1]), 2, Value(nums[3]), nums[4]]
    as_values = linear(w, [Value(v) for v in nums], b)
    for x in (nums, mixed, tuple(nums)):
        out = linear(w, x, b)
        assert out.data == as_values.data
        assert len(out.children) == 11
        assert all(isinstance(ch, Value) for ch in out.children)


def test_linear_still_rejects_bad_inputs_with_the_same_messages():
    w, b = [Value(1.0), Value(2.0)], Value(0.0)
    with pytest.raises(TypeError, match="unsupported operand for 'linear'"):
        linear(w, [1.0, "2"], b)
    with pytest.raises(TypeError, match="unsupported operand for 'linear'"):
        linear(w, [Value(1.0), True], b)
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        linear(w, [1.0, 2.0, 3.0], b)
    with pytest.raises(TypeError, match=r"weights w and the bias b must be Values.*got 2.0"):
        linear([Value(1.0), 2.0], [1.0, 2.0], b)
    with pytest.raises(TypeError, match=r"must be Values.*got 0.5"):
        linear(w, [1.0, 2.0], 0.5)


def test_linear_is_one_node_where_op_by_op_is_2n():
    rng = random.Random(0)
    w, x, (b,) = _rand_values(rng, 16), _rand_values(rng, 16), _rand_values(rng, 1)
    fused, plain = linear(w, x, b), _op_by_op(w, x, b)
    inner = [n for n in backward_order(fused) if n.children]
    assert len(inner) == 1 and inner[0].op == "linear"
    assert len([n for n in backward_order(plain) if n.children]) == 32
    assert fused.children == (b, *w, *x)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_fused_mlp_batch_matches_op_by_op(act):
    fused = MLP(5, [8, 6, 3], activation=act, seed=11)
    plain = MLP(5, [8, 6, 3], activation=act, seed=11, fused=False)
    rng = random.Random(5)
    batch = [[rng.uniform(-2, 2) for _ in range(5)] for _ in range(12)]

    def run(model):
        model.zero_grad()
        xs = [[Value(v) for v in row] for row in batch]
        outs = [model(x) for x in xs]
        loss = sum((o * o for out in outs for o in out), Value(0.0)) * (1 / len(batch))
        loss.backward()
        grads = [p.grad for p in model.parameters()] + [v.grad for x in xs for v in x]
        return [o.data for out in outs for o in out], loss.data, grads

    out_f, loss_f, grads_f = run(fused)
    out_p, loss_p, grads_p = run(plain)
    assert out_f == out_p  # forward: the very same floats
    assert loss_f == loss_p
    assert len(grads_f) == len(grads_p) == 5 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3 + 12 * 5
    assert grads_f == grads_p  # backward: the very same floats too


@pytest.mark.parametrize("seed", range(8))
def test_fused_training_steps_match_op_by_op_exactly(seed):
    # Random shapes and activations, a cross-entropy or MSE mini-batch loss with an L2 term,
    # three Adam steps: the fused and the op-by-op model stay float-for-float identical.
    rng = random.Random(seed)
    nin = rng.randint(1, 6)
    sizes = [rng.randint(1, 6) for _ in range(rng.randint(1, 2))] + [rng.randint(2, 4)]
    act = rng.choice(["relu", "tanh", "sigmoid"])
    batch = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(rng.randint(1, 9))]
    labels = [rng.randrange(sizes[-1]) for _ in batch]

    def train(fused):
        model = MLP(nin, sizes, act, seed=seed, fused=fused)
        opt = Adam(model.parameters(), lr=0.05)
        for step in range(3):
            outs = [model(x) for x in batch]
            if step % 2 == 0:
                loss = cross_entropy(outs, labels)
            else:
                loss = mse_loss([o[0] for o in outs], [float(t) for t in labels])
            loss = loss + 1e-3 * sum(p * p for p in model.parameters())
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.data, [p.grad for p in model.parameters()], model.state_dict()

    assert train(True) == train(False)


def test_fused_layer_single_sample_grads_are_exact():
    fused, plain = Layer(4, 3, "tanh", seed=2), Layer(4, 3, "tanh", seed=2, fused=False)
    x = [0.5, -1.0, 2.0, 0.25]
    for model in (fused, plain):
        outs = model(x)
        (outs[0] * 2.0 + outs[1] - outs[2] * 0.5).backward()
    assert [p.grad for p in fused.parameters()] == [p.grad for p in plain.parameters()]


# ---------------------------------------------------------------------------------------------
# backward() (plain loop, leaves skipped) against backward_steps (generator over every node)
# ---------------------------------------------------------------------------------------------
def _random_graph(rng: random.Random, n_leaves: int, n_ops: int) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.uniform(0.5, 1.5), f"x{i}") for i in range(n_leaves)]
    nodes = list(leaves)
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes[-8:])  # reuse recent and old nodes
        kind = rng.randrange(7)
        if kind == 0:
            v = a + b
        elif kind == 1:
            v = a * b
        elif kind == 2:
            v = (a - b).tanh()
        elif kind == 3:
            v = a.sigmoid() * 2.0
        elif kind == 4:
            v = (a * 0.5).relu() + 0.1
        elif kind == 5:
            ws = rng.sample(nodes, min(3, len(nodes)))
            v = linear(ws, [rng.choice(nodes) for _ in ws], rng.choice(nodes)).tanh()
        else:
            v = (a * a + 1.0).log()
        if abs(v.data) > 1e6 or not math.isfinite(v.data):
            continue
        nodes.append(v)
    root = nodes[-1]
    for v in nodes[-6:-1]:
        root = root + v  # several outputs feed the root
    return root, leaves


@pytest.mark.parametrize("seed", range(12))
def test_backward_gives_the_same_grads_as_backward_steps(seed):
    rng = random.Random(seed)
    root, _ = _random_graph(rng, 4, 60)
    nodes = backward_order(root)
    root.backward()
    root.backward()  # twice: leaves accumulate, inner nodes restart
    fast = [n.grad for n in nodes]
    for n in nodes:
        n.grad = 0.0
    for _ in range(2):
        for _ in backward_steps(root):
            pass
    assert [n.grad for n in nodes] == fast


@pytest.mark.parametrize("seed", range(6))
def test_backward_visits_inner_nodes_in_backward_order(seed, monkeypatch):
    rng = random.Random(50 + seed)
    root, _ = _random_graph(rng, 5, 80)
    visited: list[Value] = []
    apply_rule = Value._apply_rule

    def recording(out):
        visited.append(out)
        apply_rule(out)

    monkeypatch.setattr(Value, "_apply_rule", recording)
    root.backward()  # every inner node whose grad is not 0, in topological order
    assert visited == [n for n in backward_order(root) if n.children and n.grad]
    assert len(visited) > 10


def test_backward_of_a_leaf_and_of_a_number_node():
    a = Value(3.0)
    a.backward()
    assert a.grad == 1.0
    b = a * 2.0
    b.backward()
    assert (a.grad, b.grad) == (3.0, 1.0)
    c = Value(2.0) + 1.0  # inner node over constant leaves only
    c.backward()
    assert c.grad == 1.0


def test_a_rule_that_raises_halfway_leaves_every_grad_as_before():
    # the failed walk has passed no gradient on: every grad is as before, and the graph
    # backpropagates normally afterwards
    x = Value(0.0)
    shared = x * 2.0 + 1.0
    bad = (x**0.5) * shared  # d/dx x^0.5 at 0 is infinite: the rule raises
    with pytest.raises(ZeroDivisionError, match="keep x away from 0"):
        bad.backward()
    assert all(n.grad == 0.0 for n in backward_order(bad))
    good = shared * shared + shared
    good.backward()
    steps = Value(0.0)
    steps_root = (steps * 2.0 + 1.0) * (steps * 2.0 + 1.0) + (steps * 2.0 + 1.0)
    for _ in backward_steps(steps_root):
        pass
    assert x.grad == steps.grad == 2.0 * (2 * 1.0 + 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_backward_gives_the_floats_of_micrograds_loop(seed):
    # micrograd's backward written out (topological order, zero the inner nodes, seed, then
    # each node's _backward()): Value.backward() gives the same floats, twice over.
    def reference_backward(root, gradient=1.0):
        order = backward_order(root)
        for node in order:
            if node.children:
                node.grad = 0.0
        root.grad += gradient
        for node in order:
            node._backward()

    root, leaves = _random_graph(random.Random(200 + seed), 4, 60)
    nodes = backward_order(root)
    root.backward()
    root.backward(gradient=0.5)
    fast = [n.grad for n in nodes]
    for leaf in leaves:
        leaf.grad = 0.0
    reference_backward(root)
    reference_backward(root, 0.5)
    assert [n.grad for n in nodes] == fast
