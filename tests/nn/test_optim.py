"""Optimizers: hand-computed steps and torch.optim in float64 with the same gradients."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu import Value
from tinygrad_edu.nn import MLP
from tinygrad_edu.optim import SGD, Adam, AdamW


def test_sgd_step_by_hand():
    p = Value(1.0)
    p.grad = 0.5
    SGD([p], lr=0.1).step()
    assert p.data == 1.0 - 0.1 * 0.5


def test_sgd_momentum_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 1.0
    opt.step()  # buf = 1, p = 1 - 0.1
    assert p.data == pytest.approx(0.9, abs=1e-15)
    p.grad = 1.0
    opt.step()  # buf = 0.9 + 1 = 1.9, p = 0.9 - 0.19
    assert p.data == pytest.approx(0.71, abs=1e-15)


def test_adam_first_step_is_lr_times_sign():
    # after one step m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps)
    p, q = Value(1.0), Value(-2.0)
    p.grad, q.grad = 3.0, -0.01
    Adam([p, q], lr=0.1).step()
    assert p.data == pytest.approx(0.9, abs=1e-9)
    assert q.data == pytest.approx(-1.9, abs=1e-6)


def test_zero_grad_and_step_changes_data_without_graph():
    m = MLP(2, [3, 1], seed=0)
    opt = SGD(m.parameters(), lr=0.1)
    m([1.0, 2.0]).backward()
    before = [p.data for p in m.parameters()]
    opt.step()
    assert [p.data for p in m.parameters()] != before
    assert all(p.op == "" and p.children == () for p in m.parameters())
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


# ---------------------------------------------------------------------------------------------
# Against torch.optim, several steps with the same gradients
# ---------------------------------------------------------------------------------------------
START = [0.5, -1.25, 2.0, 0.0, -0.3]


def grads_at(step: int, params: list[float]) -> list[float]:
    """Gradients depending on the step and on the current parameters (as real training)."""
    return [math.sin(1.7 * step + i) * 2.0 + 0.3 * p for i, p in enumerate(params)]


def run_ours(make, steps=8):
    ps = [Value(v) for v in START]
    opt = make(ps)
    for k in range(steps):
        opt.zero_grad()
        for p, g in zip(ps, grads_at(k, [p.data for p in ps])):
            p.grad = g
        opt.step()
    return [p.data for p in ps]


def run_torch(torch, make, steps=8):
    t = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make([t])
    for k in range(steps):
        opt.zero_grad()
        t.grad = torch.tensor(grads_at(k, t.detach().tolist()), dtype=torch.float64)
        opt.step()
    return t.detach().tolist()


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.2, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.5, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
])
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: SGD(ps, **kwargs))
    theirs = run_torch(torch, lambda ps: torch.optim.SGD(ps, **kwargs))
    assert ours == pytest.approx(theirs, abs=1e-12, rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.01},
    {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "betas": (0.3, 0.9)},  # 1 - beta1 >= 0.5: the other half of torch's lerp
])
def test_adam_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: Adam(ps, **kwargs), steps=10)
    theirs = run_torch(torch, lambda ps: torch.optim.Adam(ps, **kwargs), steps=10)
    assert ours == pytest.approx(theirs, abs=1e-12, rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    {},  # PyTorch's defaults, weight_decay=1e-2
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5},
    {"lr": 0.05, "betas": (0.3, 0.9), "weight_decay": 0.0},
])
def test_adamw_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: AdamW(ps, **kwargs), steps=10)
    theirs = run_torch(torch, lambda ps: torch.optim.AdamW(ps, **kwargs), steps=10)
    assert ours == pytest.approx(theirs, abs=1e-12, rel=1e-12)


def test_adamw_decays_the_weight_adam_decays_the_gradient():
    # With a zero gradient AdamW's step is the decay alone: p * (1 - lr * wd), exactly.
    p = Value(2.0)
    opt = AdamW([p], lr=0.1, weight_decay=0.5)
    for k in range(1, 4):
        p.grad = 0.0
        opt.step()
        assert p.data == pytest.approx(2.0 * 0.95**k, abs=1e-15)
    # Adam's L2 form puts wd * p into the gradient, which Adam then normalizes: its first step
    # is lr * sign(wd * p) = 0.1, whatever the size of the decay.
    for wd in (0.5, 1e-3):
        q = Value(2.0)
        q.grad = 0.0
        Adam([q], lr=0.1, weight_decay=wd).step()
        assert q.data == pytest.approx(1.9, abs=1e-6)
    assert AdamW([Value(1.0)]).weight_decay == 0.01  # PyTorch's default


# ---------------------------------------------------------------------------------------------
# Bad settings and divergence
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda ps: SGD(ps, lr=0), r"lr \(learning rate\) must be > 0"),
    (lambda ps: SGD(ps, lr=-0.1), r"must be > 0, got -0.1"),
    (lambda ps: SGD(ps, lr=math.nan), "finite"),
    (lambda ps: SGD(ps, lr="0.1"), "must be a number"),
    (lambda ps: SGD(ps, lr=0.1, momentum=-1), "momentum must be >= 0"),
    (lambda ps: SGD(ps, lr=0.1, weight_decay=math.inf), "finite"),
    (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov"),
    (lambda ps: Adam(ps, lr=0), "must be > 0"),
    (lambda ps: Adam(ps, lr=math.nan), "finite"),
    (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"betas\[1\] must be >= 0 and < 1"),
    (lambda ps: Adam(ps, betas=(-0.1, 0.9)), r"betas\[0\]"),
    (lambda ps: Adam(ps, betas=0.9), "pair"),
    (lambda ps: Adam(ps, betas={0.9, 0.999}), "pair .* got a set"),
    (lambda ps: SGD(ps, lr=10**400), r"lr \(learning rate\) is too large for a float"),
    (lambda ps: AdamW(ps, weight_decay=-10**400), "weight_decay is too large for a float"),
    (lambda ps: Adam(ps, eps=-1.0), "eps"),
    (lambda ps: Adam(ps, eps=0), r"eps must be > 0, got 0.0"),
    (lambda ps: AdamW(ps, eps=0.0), r"AdamW: eps must be > 0"),
    (lambda ps: AdamW(ps, weight_decay=-0.1), r"AdamW: weight_decay must be >= 0"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make([Value(1.0)])


def test_bad_params():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"parameter 1 is a float.*model.parameters\(\)"):
        SGD([Value(1.0), 2.0], lr=0.1)
    with pytest.raises(TypeError, match="list of Values"):
        Adam(3)


@pytest.mark.parametrize("opt", [SGD, Adam])
def test_non_finite_update_is_a_clear_error(opt):
    p = Value(1.0, "w")
    p.grad = math.nan
    with pytest.raises(FloatingPointError, match=r"parameter 0 \('w'\).*smaller learning rate"):
        opt([p], lr=0.1).step()
    assert p.data == 1.0


def test_overflowing_update_is_a_clear_error():
    p = Value(1.0)
    p.grad = 1e308
    with pytest.raises(FloatingPointError, match="inf"):
        SGD([p], lr=1e10).step()


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.1),
])
def test_a_refused_step_changes_nothing(make):
    # parameter 1 has a NaN gradient: the step is refused before parameter 0 moves, and the
    # optimizer's state (momentum buffers, Adam's m, v and step count) is left as it was, so a
    # good step afterwards is exactly the step an untouched optimizer would take.
    ps, ref = [Value(1.0), Value(-2.0)], [Value(1.0), Value(-2.0)]
    opt, ref_opt = make(ps), make(ref)
    for o, params in ((opt, ps), (ref_opt, ref)):
        params[0].grad, params[1].grad = 0.5, -0.25
        o.step()
    ps[0].grad, ps[1].grad = 0.3, math.nan
    before = [p.data for p in ps]
    with pytest.raises(FloatingPointError, match="parameter 1"):
        opt.step()
    assert [p.data for p in ps] == before
    for o, params in ((opt, ps), (ref_opt, ref)):
        params[0].grad, params[1].grad = 0.2, 0.7
        o.step()
    assert [p.data for p in ps] == [p.data for p in ref]


@pytest.mark.parametrize("opt_class", [Adam, AdamW])
def test_a_gradient_that_would_poison_adams_state_is_refused(opt_class):
    # g = 1e155: g*g = inf, so v would be infinite. The parameter itself would stay finite
    # (m / sqrt(inf) = 0), and it would never move again. The step is refused instead.
    ps = [Value(1.0, "w"), Value(2.0)]
    opt = opt_class(ps, lr=0.1)
    ps[0].grad, ps[1].grad = 0.5, 0.5
    opt.step()
    state = (opt.t, list(opt._m), list(opt._v), [p.data for p in ps])
    ps[0].grad, ps[1].grad = 1e155, 0.5
    with pytest.raises(FloatingPointError,
                       match=r"parameter 0 \('w'\) has gradient 1e\+155.*\(v\) inf.*nothing"):
        opt.step()
    assert (opt.t, opt._m, opt._v, [p.data for p in ps]) == state
    ps[0].grad = 0.25  # training can go on from where it was
    opt.step()
    assert all(math.isfinite(x) for x in opt._m + opt._v + [p.data for p in ps])


def test_a_momentum_buffer_that_would_overflow_is_refused():
    p = Value(0.0)
    opt = SGD([p], lr=1e-300, momentum=0.9)
    p.grad = 1e308
    opt.step()  # buf = 1e308, p = -1e8
    before = (p.data, list(opt._buffers))
    with pytest.raises(FloatingPointError, match="parameter 0 has gradient 1e\\+308"):
        opt.step()  # buf = 0.9e308 + 1e308 = inf
    assert (p.data, opt._buffers) == before
