"""Optimizers: turn gradients into parameter updates (PyTorch's update rules, exactly).

Usage, as in PyTorch::

    opt = SGD(model.parameters(), lr=0.1)
    for step in range(100):
        loss = mse_loss([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()

``step()`` changes each parameter's ``.data`` in place and records no graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tinygrad_edu import args, checks
from tinygrad_edu.engine import Value

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _hyper(value: object, name: str, low: float, *, low_ok: bool, high: float | None = None,
           who: str) -> float:
    """A hyper-parameter as a float in its allowed range, or a clear error."""
    f = args.number(value, f"{who}: {name}")
    too_low = f < low if low_ok else f <= low
    too_high = high is not None and f >= high
    if too_low or too_high:
        lo = f"{'>=' if low_ok else '>'} {low:g}"
        rng = lo if high is None else f"{lo} and < {high:g}"
        raise ValueError(f"{who}: {name} must be {rng}, got {f}")
    return f


class Optimizer:
    """Holds the parameters to update; ``zero_grad()`` clears their gradients."""

    def __init__(self, params: Iterable[Value], who: str) -> None:
        if isinstance(params, Value):
            params = [params]
        if isinstance(params, (str, bytes, dict)) or not hasattr(params, "__iter__"):
            raise TypeError(
                f"{who}: params must be a list of Values, e.g. model.parameters(), "
                f"got {type(params).__name__} {args.short(params)}"
            )

        def value(i: int, p: object) -> Value:
            if not isinstance(p, Value):
                raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Value; "
                                "pass model.parameters()")
            return p

        # (its length is asked first: SGD(range(10**18)) is an error, not a hang)
        self.params: list[Value] = args.items(params, f"{who}: params", each=value)
        if not self.params:
            raise ValueError(f"{who}: got an empty parameter list; pass model.parameters()")
        self._who = who

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 before the next ``backward()``."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def _check(self, news: list[float], **state: list[float]) -> None:
        """Refuse a step that would make any parameter, or any optimizer state, NaN or infinite.

        Called before anything is stored, so a refused step changes nothing. ``state`` maps a
        readable name (``momentum_buffer``, ``m``, ``v``) to the new per-parameter values: a
        gradient of 1e155 leaves the parameter finite but makes Adam's ``v = g²`` infinite, and
        that parameter would never move again.
        """
        if checks.surely_finite(news) and all(map(checks.surely_finite, state.values())):
            return
        for i, new in enumerate(news):
            if not -math.inf < new < math.inf:
                raise self._bad(i, self.params[i], f"would become {new}")
        for name, values in state.items():
            for i, new in enumerate(values):
                if not -math.inf < new < math.inf:
                    what = _STATE_NAMES.get(name, name)
                    raise self._bad(i, self.params[i], f"would make its {what} {new}")

    def _bad(self, i: int, p: Value, what: str) -> FloatingPointError:
        name = f" ({args.short(p.label)})" if p.label else ""
        return FloatingPointError(
            f"{self._who}.step(): parameter {i}{name} has gradient {p.grad} and {what}; "
            f"training diverged, nothing was changed. Try a smaller learning rate "
            f"(lr={self.lr:g}), or scale the inputs so the gradients stay moderate."
        )


_STATE_NAMES = {
    "momentum_buffer": "momentum buffer",
    "m": "running mean of the gradient (m)",
    "v": "running mean of the squared gradient (v)",
}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (``torch.optim.SGD``).

    For each parameter ``p`` with gradient ``g``:

        g   = g + weight_decay * p
        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g  (later steps)
        g   = g + momentum * buf  if nesterov else  buf       (only when momentum != 0)
        p   = p - lr * g
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, "SGD")
        self.lr = _hyper(lr, "lr (learning rate)", 0.0, low_ok=False, who="SGD")
        self.momentum = _hyper(momentum, "momentum", 0.0, low_ok=True, who="SGD")
        self.weight_decay = _hyper(weight_decay, "weight_decay", 0.0, low_ok=True, who="SGD")
        self.dampening = _hyper(dampening, "dampening", 0.0, low_ok=True, who="SGD")
        self.nesterov = args.flag(nesterov, "SGD: nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        self._buffers: list[float] | None = None

    def step(self) -> None:
        """Update every parameter once from its current ``grad``."""
        lr, mom, wd = self.lr, self.momentum, self.weight_decay
        params = self.params
        if mom == 0.0 and wd == 0.0:  # plain gradient descent: p -= lr * g
            news = [p.data + -lr * p.grad for p in params]
            self._check(news)
            for p, new in zip(params, news):
                p.data = new
            return
        if mom == 0.0:  # weight decay only: the loop below, without its branches
            news = [p.data + -lr * (p.grad + wd * p.data) for p in params]
            self._check(news)
            if self._buffers is None:
                self._buffers = [0.0] * len(params)  # (as the loop leaves them)
            for p, new in zip(params, news):
                p.data = new
            return
        first = self._buffers is None
        bufs = [0.0] * len(params) if self._buffers is None else list(self._buffers)
        keep = 1.0 - self.dampening
        news = []
        for i, p in enumerate(params):
            g = p.grad
            if wd != 0.0:
                g = g + wd * p.data
            if mom != 0.0:
                buf = g if first else bufs[i] * mom + keep * g
                bufs[i] = buf
                g = g + mom * buf if self.nesterov else buf
            news.append(p.data + -lr * g)
        # all or nothing: a diverged step changes no parameter or buffer
        self._check(news, momentum_buffer=bufs if mom != 0.0 else [])
        self._buffers = bufs
        for p, new in zip(params, news):
            p.data = new


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``): a step per parameter scaled by running gradient statistics.

    With ``t`` the step number (from 1) and ``g`` the gradient:

        g   = g + weight_decay * p               (L2 penalty: part of the gradient)
        m   = beta1 * m + (1 - beta1) * g        (running mean of g)
        v   = beta2 * v + (1 - beta2) * g^2      (running mean of g^2)
        p   = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``weight_decay`` here is L2 regularization, as in PyTorch's Adam: the decay term goes
    through ``m`` and ``v``, so it is rescaled like the gradient. For decay applied to the
    weights directly, use :class:`AdamW`.
    """

    _decoupled = False  # AdamW: weight decay shrinks p itself, outside m and v

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        who = type(self).__name__
        super().__init__(params, who)
        self.lr = _hyper(lr, "lr (learning rate)", 0.0, low_ok=False, who=who)
        betas = args.plain(betas, f"{who}: betas", most=2)  # a NumPy or torch pair
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            size = f" of {len(betas)}" if isinstance(betas, (tuple, list)) else ""
            raise ValueError(f"{who}: betas must be a pair (beta1, beta2) like (0.9, 0.999), "
                             f"got a {type(betas).__name__}{size}")
        self.betas = (
            _hyper(betas[0], "betas[0]", 0.0, low_ok=True, high=1.0, who=who),
            _hyper(betas[1], "betas[1]", 0.0, low_ok=True, high=1.0, who=who),
        )
        # eps = 0 divides 0 by 0 for a parameter whose gradient has been 0 so far.
        self.eps = _hyper(eps, "eps", 0.0, low_ok=False, who=who)
        self.weight_decay = _hyper(weight_decay, "weight_decay", 0.0, low_ok=True, who=who)
        self.t = 0
        n = len(self.params)
        self._m = [0.0] * n
        self._v = [0.0] * n

    def step(self) -> None:
        """Update every parameter once from its current ``grad``."""
        t = self.t + 1
        beta1, beta2 = self.betas
        wd, eps = self.weight_decay, self.eps
        step_size = self.lr / (1 - beta1**t)
        bc2_sqrt = (1 - beta2**t) ** 0.5
        shrink = 1 - self.lr * wd  # AdamW: p *= 1 - lr * weight_decay before the Adam step
        w1 = 1 - beta1  # m moves towards g by this fraction (torch's lerp)
        w2 = 1 - beta2
        # New moments and parameters are computed first and stored only if every one is
        # finite: a diverged step leaves the parameters, m, v and t as they were.
        m, v = list(self._m), list(self._v)
        news = []
        for i, p in enumerate(self.params):
            g = p.grad
            data = p.data
            if wd != 0.0:
                if self._decoupled:
                    data = data * shrink
                else:
                    g = g + wd * data
            # m.lerp_(g, w1): the same two formulas as PyTorch for its two halves of w1
            m[i] = mi = m[i] + w1 * (g - m[i]) if w1 < 0.5 else g - (g - m[i]) * (1 - w1)
            v[i] = vi = v[i] * beta2 + w2 * (g * g)
            news.append(data + -step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps)))
        self._check(news, m=m, v=v)
        self.t, self._m, self._v = t, m, v
        for p, new in zip(self.params, news):
            p.data = new


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``): Adam with decoupled weight decay.

    Each step first shrinks every parameter, ``p = p * (1 - lr * weight_decay)``, then takes
    the plain Adam step (no decay term in ``g``, ``m`` or ``v``). With Adam's L2 form
    (``Adam(weight_decay=...)``) the decay is divided by ``sqrt(v)`` like the gradient, so
    weights with large gradients are hardly decayed; AdamW decays every weight at the same
    rate ``lr * weight_decay``. The default ``weight_decay=1e-2`` is PyTorch's.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
