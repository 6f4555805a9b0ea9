"""Losses: hand-computed values, PyTorch float64 values and gradients, stability, bad input."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Value, gradcheck
from tinygrad_edu.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
    softmax,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def values(xs):
    return [Value(x) for x in xs]


def check_against_torch(ours, theirs, inputs, preds, targets, tol=1e-12):
    """Loss value and d loss / d pred from our graph and from torch in float64."""
    ps = values(inputs)
    loss = ours(preds(ps), targets)
    loss.backward()
    t = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    tl = theirs(t)
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), rel=tol, abs=tol)
    assert [p.grad for p in ps] == pytest.approx(t.grad.tolist(), rel=1e-10, abs=tol)


# ---------------------------------------------------------------------------------------------
# By hand
# ---------------------------------------------------------------------------------------------
def test_mse_by_hand():
    # ((1-3)^2 + (2-2)^2 + (4-1)^2) / 3 = (4 + 0 + 9) / 3
    p = values([1.0, 2.0, 4.0])
    loss = mse_loss(p, [3.0, 2.0, 1.0])
    assert loss.data == pytest.approx(13 / 3, abs=1e-15)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * -2 / 3, 0.0, 2 * 3 / 3], abs=1e-15)


def test_single_value_and_number_forms():
    assert mse_loss(Value(3.0), 1.0).data == 4.0
    assert mse_loss(Value(3.0), [1.0]).data == 4.0
    assert binary_cross_entropy(Value(0.5), 1).data == pytest.approx(math.log(2), abs=1e-15)
    assert hinge_loss(Value(0.25), 1).data == 0.75
    assert mse_loss([0.5], [1.0]).data == 0.25  # plain-number predictions are allowed


def test_bce_by_hand():
    # -(log 0.8 + log(1 - 0.4)) / 2
    loss = binary_cross_entropy(values([0.8, 0.4]), [1, 0])
    assert loss.data == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, abs=1e-15)


def test_hinge_by_hand():
    # relu(1 - 1*2) = 0, relu(1 - (-1)(0.5)) = 1.5, relu(1 - 1*(-1)) = 2 -> mean 3.5/3
    s = values([2.0, 0.5, -1.0])
    loss = hinge_loss(s, [1, -1, 1])
    assert loss.data == pytest.approx(3.5 / 3, abs=1e-15)
    loss.backward()
    assert [v.grad for v in s] == pytest.approx([0.0, 1 / 3, -1 / 3], abs=1e-15)


def test_softmax_by_hand_and_sums_to_one():
    p = softmax(values([1.0, 2.0, 3.0]))
    e = [math.exp(1), math.exp(2), math.exp(3)]
    assert [v.data for v in p] == pytest.approx([x / sum(e) for x in e], abs=1e-15)
    assert sum(v.data for v in p) == pytest.approx(1.0, abs=1e-15)
    big = softmax(values([1000.0, -1000.0, 999.0]))
    assert all(math.isfinite(v.data) for v in big)
    assert sum(v.data for v in big) == pytest.approx(1.0, abs=1e-15)


def test_cross_entropy_by_hand():
    # -log(e^2 / (e^1 + e^2 + e^0))
    loss = cross_entropy(values([1.0, 2.0, 0.0]), 1)
    expected = math.log(math.exp(1) + math.exp(2) + 1.0) - 2.0
    assert loss.data == pytest.approx(expected, abs=1e-14)


# ---------------------------------------------------------------------------------------------
# Against torch.nn.functional in float64
# ---------------------------------------------------------------------------------------------
def test_mse_vs_torch():
    x = [0.3, -1.7, 2.2, 5.0]
    y = [1.0, -2.0, 0.5, 4.0]
    check_against_torch(mse_loss, lambda t: F.mse_loss(t, torch.tensor(y, dtype=torch.float64)),
                        x, lambda ps: ps, y)


def test_mse_multi_output_vs_torch():
    x = [0.3, -1.7, 2.2, 5.0, 1.0, 0.0]
    y = [[1.0, -2.0], [0.5, 4.0], [2.0, 2.0]]
    yt = torch.tensor(y, dtype=torch.float64)
    check_against_torch(mse_loss, lambda t: F.mse_loss(t.view(3, 2), yt), x,
                        lambda ps: [ps[0:2], ps[2:4], ps[4:6]], y)


@pytest.mark.parametrize("probs, targets", [
    ([0.9, 0.2, 0.6, 0.01, 0.999], [1, 0, 1, 1, 0]),
    ([0.3, 0.7, 0.5], [0.25, 0.5, 1.0]),  # soft targets
])
def test_bce_vs_torch(probs, targets):
    y = torch.tensor(targets, dtype=torch.float64)
    check_against_torch(binary_cross_entropy, lambda t: F.binary_cross_entropy(t, y), probs,
                        lambda ps: ps, targets)


def test_bce_clamped_finite_at_0_and_1():
    # torch clamps each log at -100: p=0 with y=1 costs 100, p=1 with y=0 costs 100
    loss = binary_cross_entropy(values([0.0, 1.0, 1.0, 0.0]), [1, 0, 1, 0])
    t = F.binary_cross_entropy(torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64),
                               torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64))
    assert loss.data == t.item() == 50.0
    p = Value(1e-50)
    binary_cross_entropy(p, 1).backward()  # log(1e-50) < -100: clamped, finite
    assert math.isfinite(p.grad)


def test_bce_gradient_is_that_of_the_clamped_loss():
    # -log p has derivative -1/p until the log is clamped at -100 (p < e^-100), then 0.
    p = Value(1e-20)
    binary_cross_entropy(p, 1).backward()
    assert p.grad == pytest.approx(-1e20, rel=1e-15)
    p = Value(1e-50)
    binary_cross_entropy(p, 1).backward()
    assert p.grad == 0.0
    # through a sigmoid, d/dz = sigmoid(z) - y holds far out (z = -40: p = 4.2e-18)
    z = Value(-40.0)
    binary_cross_entropy(z.sigmoid(), 1).backward()
    assert z.grad == pytest.approx(1 / (1 + math.exp(40.0)) - 1, rel=1e-12)


@pytest.mark.parametrize("logits", [[0.3, -2.0, 4.5, 0.0, -0.0001], [30.0, -40.0, 700.0, -700.0]])
def test_bce_with_logits_vs_torch(logits):
    targets = [1, 0, 1, 0, 1][: len(logits)]
    y = torch.tensor(targets, dtype=torch.float64)
    check_against_torch(binary_cross_entropy_with_logits,
                        lambda t: F.binary_cross_entropy_with_logits(t, y), logits,
                        lambda ps: ps, targets)


def test_bce_with_logits_soft_targets_and_zero_vs_torch():
    logits, targets = [0.0, 0.0, 1.5, -1.5], [0.0, 1.0, 0.3, 0.7]
    y = torch.tensor(targets, dtype=torch.float64)
    check_against_torch(binary_cross_entropy_with_logits,
                        lambda t: F.binary_cross_entropy_with_logits(t, y), logits,
                        lambda ps: ps, targets)


def test_bce_with_logits_equals_bce_of_sigmoid():
    z = [-3.0, -0.2, 0.4, 2.5]
    y = [0, 1, 0, 1]
    a = binary_cross_entropy_with_logits(values(z), y).data
    b = binary_cross_entropy([Value(v).sigmoid() for v in z], y).data
    assert a == pytest.approx(b, rel=1e-12)


def test_softmax_vs_torch():
    x = [0.5, -1.0, 2.0, 0.1]
    xs = values(x)
    p = softmax(xs)
    weights = [1.0, -2.0, 0.5, 3.0]
    loss = sum((w * v for w, v in zip(weights, p)), Value(0.0))
    loss.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tp = torch.softmax(t, dim=0)
    (tp * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert [v.data for v in p] == pytest.approx(tp.tolist(), abs=1e-15)
    assert [v.grad for v in xs] == pytest.approx(t.grad.tolist(), abs=1e-14)


@pytest.mark.parametrize("logits, target", [
    ([1.0, 2.0, 0.5], 0),
    ([-3.0, 0.0, 7.0, 2.0], 3),
    ([1000.0, -1000.0, 0.0], 1),  # extreme logits stay finite
    ([-1000.0, 1000.0], 1),
])
def test_cross_entropy_vs_torch(logits, target):
    tgt = torch.tensor([target])
    check_against_torch(cross_entropy, lambda t: F.cross_entropy(t.view(1, -1), tgt), logits,
                        lambda ps: ps, target)


def test_cross_entropy_batch_is_the_mean_vs_torch():
    logits = [[1.0, 2.0, 0.5], [0.1, -0.3, 4.0], [1000.0, 0.0, -1000.0], [2.0, 2.0, 2.0]]
    targets = [2, 2, 1, 0]
    flat = [v for row in logits for v in row]
    tgt = torch.tensor(targets)
    check_against_torch(cross_entropy, lambda t: F.cross_entropy(t.view(4, 3), tgt), flat,
                        lambda ps: [ps[0:3], ps[3:6], ps[6:9], ps[9:12]], targets)


def test_cross_entropy_extreme_is_finite():
    loss = cross_entropy(values([1000.0, -1000.0]), 1)
    assert loss.data == pytest.approx(2000.0)
    assert math.isfinite(loss.data)


def test_hinge_vs_torch():
    s = [2.0, 0.5, -1.0, 0.3, -0.2]
    y = [1, -1, 1, 1, -1]
    yt = torch.tensor(y, dtype=torch.float64)
    check_against_torch(hinge_loss, lambda t: torch.relu(1 - yt * t).mean(), s,
                        lambda ps: ps, y)


def test_losses_pass_gradcheck():
    assert gradcheck(lambda a, b, c: cross_entropy([a, b, c], 2), [0.2, -0.4, 1.1])
    assert gradcheck(lambda a, b: binary_cross_entropy_with_logits([a, b], [1, 0]), [0.7, -0.3])
    assert gradcheck(lambda a, b: binary_cross_entropy([a.sigmoid(), b.sigmoid()], [0.2, 1]),
                     [0.7, -0.3])


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [mse_loss, binary_cross_entropy,
                                  binary_cross_entropy_with_logits, hinge_loss])
def test_mismatched_lengths(loss):
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        loss(values([0.5, 0.5, 0.5]), [1, 1])


@pytest.mark.parametrize("loss", [mse_loss, binary_cross_entropy,
                                  binary_cross_entropy_with_logits, hinge_loss])
def test_non_numeric_target(loss):
    with pytest.raises(TypeError, match="target 1 must be a number"):
        loss(values([0.5, 0.5]), [1, "pass"])


def test_empty():
    with pytest.raises(ValueError, match="empty"):
        mse_loss([], [])


def test_bce_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"prediction 1 is 1.5, not a probability.*sigmoid"):
        binary_cross_entropy(values([0.5, 1.5]), [1, 0])
    with pytest.raises(ValueError, match=r"target 0 is -1.0.*\[0, 1\]"):
        binary_cross_entropy(values([0.5]), [-1])


def test_hinge_needs_pm1_labels():
    with pytest.raises(ValueError, match=r"-1 and \+1"):
        hinge_loss(values([0.5, 0.2]), [1, 0])


def test_cross_entropy_errors():
    with pytest.raises(IndexError, match=r"class 3.*3 classes.*0 to 2"):
        cross_entropy(values([1.0, 2.0, 3.0]), 3)
    with pytest.raises(IndexError, match="class -1"):
        cross_entropy(values([1.0, 2.0, 3.0]), -1)
    with pytest.raises(TypeError, match="class index"):
        cross_entropy(values([1.0, 2.0]), "1")
    with pytest.raises(TypeError, match="whole class index"):
        cross_entropy(values([1.0, 2.0]), 0.5)
    with pytest.raises(ValueError, match="2 examples but 3 targets"):
        cross_entropy([values([1.0, 2.0]), values([1.0, 2.0])], [0, 1, 1])
    with pytest.raises(IndexError, match="target 1 is class 5"):
        cross_entropy([values([1.0, 2.0]), values([1.0, 2.0])], [0, 5])
    with pytest.raises(TypeError, match="a batch is a list of score lists.*one output per class"):
        cross_entropy(values([1.0, 2.0]), [0, 1])
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits"):
        cross_entropy(Value(1.0), 0)


def test_target_as_value_is_rejected_for_labels():
    with pytest.raises(TypeError, match="plain numbers"):
        binary_cross_entropy(values([0.5]), [Value(1.0)])
    # but mse may compare two graphs
    a, b = Value(1.0), Value(3.0)
    loss = mse_loss([a], [b])
    loss.backward()
    assert (loss.data, a.grad, b.grad) == (4.0, -4.0, 4.0)


# ---------------------------------------------------------------------------------------------
# Precision: confident predictions keep their small loss (issue 12, item 15)
# ---------------------------------------------------------------------------------------------
def _exact_bce_with_logits(z: float, y: float) -> tuple[float, float]:
    """Loss and d loss/dz from Decimal arithmetic with enough digits for e^-|z|."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 60 + int(abs(z) * 0.45)  # e^-1000 ~ 1e-434: keep every digit
        d, t = Decimal(z), Decimal(y)
        loss = t * (1 + (-d).exp()).ln() + (1 - t) * (1 + d.exp()).ln()
        return float(loss), float(1 / (1 + (-d).exp()) - t)


TINY_NORMAL = 2.2250738585072014e-308  # below this a float has fewer than 53 bits


def _bce_logit_grid() -> list[float]:
    import random

    rng = random.Random(0)
    special = [37.0, -37.0, 40.0, -40.0, 36.9, 700.0, -700.0, 745.0, 1000.0, -1000.0,
               0.0, 1e-20, -1e-20, 1e-300, 18.0, -18.0]
    return special + [rng.uniform(-1000, 1000) for _ in range(40)] + [
        rng.uniform(-45, 45) for _ in range(40)]


@pytest.mark.parametrize("y", [0.0, 1.0, 0.3, 0.999])
def test_bce_with_logits_matches_exact_and_torch_over_pm1000(y):
    for z in _bce_logit_grid():
        v = Value(z)
        loss = binary_cross_entropy_with_logits(v, y)
        loss.backward()
        exact, exact_grad = _exact_bce_with_logits(z, y)
        # against the exact numbers: 1e-12 relative wherever they are normal floats
        if abs(exact) >= TINY_NORMAL:
            assert loss.data == pytest.approx(exact, rel=1e-12, abs=0), (z, y)
        else:
            assert loss.data == pytest.approx(exact, rel=0, abs=1e-320), (z, y)
        if abs(exact_grad) >= TINY_NORMAL:
            assert v.grad == pytest.approx(exact_grad, rel=1e-12, abs=0), (z, y)
        # against PyTorch float64: 1e-12 relative, plus one rounding of the terms PyTorch
        # adds: its (1 - y) z - logsigmoid(z) cancels to 0 where the loss is tiny for z < 0,
        # and its grad sigmoid(z) - y rounds to 0 for z > 36 with y = 1
        t = torch.tensor([z], dtype=torch.float64, requires_grad=True)
        tl = F.binary_cross_entropy_with_logits(t, torch.tensor([y], dtype=torch.float64))
        tl.backward()
        ulp = 2.3e-16 * max(1.0, abs(z))
        assert loss.data == pytest.approx(tl.item(), rel=1e-12, abs=ulp), (z, y)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=2.3e-16), (z, y)


def test_bce_with_logits_confident_prediction_keeps_its_loss():
    # the case: z = 37, y = 1 gave loss 0.0 with a non-zero gradient
    z = Value(37.0)
    loss = binary_cross_entropy_with_logits(z, 1)
    loss.backward()
    assert loss.data == pytest.approx(8.533047625744066e-17, rel=1e-15)  # PyTorch's number
    assert z.grad == pytest.approx(-8.533047625744066e-17, rel=1e-15)  # = -loss here
    z = Value(-37.0)  # the mirror case, where PyTorch itself returns 0.0
    loss = binary_cross_entropy_with_logits(z, 0)
    loss.backward()
    assert loss.data == pytest.approx(8.533047625744066e-17, rel=1e-15)
    assert z.grad == pytest.approx(8.533047625744066e-17, rel=1e-15)
    assert binary_cross_entropy_with_logits(Value(700.0), 1).data == pytest.approx(
        9.85967654375977e-305, rel=1e-12)


def test_bce_of_probabilities_uses_log1p_like_torch():
    # -log(1 - p) for a tiny p: 1 - p rounds to 1 (loss 0); PyTorch's log1p(-p) keeps p
    for p in (1e-20, 1e-10, 1e-300, 3e-9):
        t = torch.tensor([p], dtype=torch.float64)
        theirs = F.binary_cross_entropy(t, torch.tensor([0.0], dtype=torch.float64)).item()
        v = Value(p)
        loss = binary_cross_entropy(v, 0)
        assert loss.data == pytest.approx(theirs, rel=1e-15) and loss.data > 0
        loss.backward()
        assert v.grad == pytest.approx(1 / (1 - p), rel=1e-15)  # the exact derivative
    mixed = binary_cross_entropy(Value(1e-20), 0.25).data
    assert mixed == pytest.approx(-(0.25 * math.log(1e-20) + 0.75 * math.log1p(-1e-20)),
                                  rel=1e-15)


def _exact_cross_entropy(zs: list[float], k: int) -> tuple[float, list[float]]:
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 80 + int(max(abs(z) for z in zs) * 0.9)
        d = [Decimal(z) for z in zs]
        total = sum(x.exp() for x in d)
        grads = [x.exp() / total - (1 if j == k else 0) for j, x in enumerate(d)]
        return float(total.ln() - d[k]), [float(g) for g in grads]


def test_cross_entropy_keeps_a_confident_predictions_small_loss():
    zs = values([40.0, 0.0])
    loss = cross_entropy(zs, 0)
    loss.backward()
    assert loss.data == pytest.approx(4.248354255291589e-18, rel=1e-15)  # PyTorch: 0.0
    assert [z.grad for z in zs] == pytest.approx([-4.248354255291589e-18,
                                                  4.248354255291589e-18], rel=1e-15)
    assert cross_entropy(values([3.0]), 0).data == 0.0  # one class: nothing to lose
    import random

    rng = random.Random(3)
    for _ in range(80):
        n, scale = rng.randint(2, 5), rng.choice([1.0, 30.0, 1000.0])
        logits = [rng.uniform(-scale, scale) for _ in range(n)]
        k = rng.randrange(n)
        if rng.random() < 0.5:  # often make the target the confident winner
            logits[k] = max(logits) + rng.uniform(0, 50)
        zs = values(logits)
        loss = cross_entropy(zs, k)
        loss.backward()
        exact, grads = _exact_cross_entropy(logits, k)
        assert loss.data == pytest.approx(exact, rel=1e-12, abs=1e-300), (logits, k)
        for z, g in zip(zs, grads):
            assert z.grad == pytest.approx(g, rel=1e-12, abs=1e-300), (logits, k)
        t = torch.tensor([logits], dtype=torch.float64, requires_grad=True)
        tl = F.cross_entropy(t, torch.tensor([k]))
        assert loss.data == pytest.approx(tl.item(), rel=1e-12, abs=2.3e-16 * scale)


# ---------------------------------------------------------------------------------------------
# Hostile input: huge numbers, NumPy scalars and arrays
# ---------------------------------------------------------------------------------------------
def test_huge_class_indices_and_targets_are_clear_errors():
    with pytest.raises(IndexError, match="class an int of 401 digits, but there are 3 classes"):
        cross_entropy(values([1.0, 2.0, 3.0]), 10**400)
    with pytest.raises(IndexError, match="class an int of 301 digits"):
        cross_entropy(values([1.0, 2.0]), 1e300)
    for bad in (math.nan, math.inf, 1.5):
        with pytest.raises(TypeError, match="whole class index"):
            cross_entropy(values([1.0, 2.0]), bad)
    for loss in (mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits, hinge_loss):
        with pytest.raises(ValueError, match="target 0 is too large for a float: an int of 401"):
            loss([Value(0.5)], [10**400])


def test_numpy_inputs_to_losses():
    np = pytest.importorskip("numpy")
    assert cross_entropy(values([1.0, 2.0]), np.int64(1)).data == cross_entropy(
        values([1.0, 2.0]), 1).data
    assert cross_entropy(np.array([1.0, 2.0]), np.array(1)).data == cross_entropy(
        [1.0, 2.0], 1).data
    batch = cross_entropy(np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0])).data
    assert batch == cross_entropy([[1.0, 2.0], [0.5, -1.0]], [1, 0]).data
    assert mse_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0])).data == 2.5
    assert mse_loss(Value(3.0), np.float64(1.0)).data == 4.0
    assert mse_loss(Value(3.0), np.array(1.0)).data == 4.0  # a 0-d array is one number
    assert softmax(np.array([0.0, 0.0]))[0].data == 0.5
    with pytest.raises(TypeError, match="whole class index"):
        cross_entropy(values([1.0, 2.0]), np.float64(0.5))
