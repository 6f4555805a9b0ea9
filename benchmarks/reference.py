"""The pure-Python reference: an MLP's forward and backward written by hand over lists of floats.

No graph, no objects per number: what a careful programmer writes when they do backprop by
hand in plain Python (loops over lists, local variables, the chain rule spelled out layer by
layer). It is the yardstick for "is the engine's overhead worth it" and for the compiled path
(``tinygrad_edu.compile``), which must beat it.

Weights are lists ``W[j][i]`` (neuron ``j``, input ``i``) and ``b[j]`` per layer, filled from a
flat list in ``parameters()`` order (per neuron: its weights, then its bias), so the same
floats start every engine of the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Layer = tuple[list[list[float]], list[float]]  # (W, b)


def layers_from_flat(flat: Sequence[float], sizes: Sequence[int]) -> list[Layer]:
    """Per-layer ``(W, b)`` from a flat list in micrograd's order (per neuron: w..., b)."""
    layers, k = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        W, b = [], []
        for _ in range(nout):
            W.append(list(flat[k:k + nin]))
            b.append(flat[k + nin])
            k += nin + 1
        layers.append((W, b))
    assert k == len(flat), (k, len(flat))
    return layers


def flat_from_layers(layers: list[Layer]) -> list[float]:
    return [v for W, b in layers for row, bj in zip(W, b) for v in (*row, bj)]


def _forward(layers: list[Layer], x: list[float]) -> list[list[float]]:
    """Activations of every layer for one example: ReLU on hidden layers, linear output."""
    acts = [x]
    last = len(layers) - 1
    for li, (W, b) in enumerate(layers):
        out = []
        for row, bj in zip(W, b):
            z = bj
            for wi, xi in zip(row, x):
                z += wi * xi
            out.append(z if li == last or z > 0.0 else 0.0)
        acts.append(out)
        x = out
    return acts


def _backward(layers: list[Layer], acts: list[list[float]], g_out: list[float],
              gW: list[list[list[float]]], gb: list[list[float]]) -> None:
    """Add one example's gradients into ``gW``/``gb``, given d loss / d outputs."""
    g = g_out
    for li in range(len(layers) - 1, -1, -1):
        W, _ = layers[li]
        x = acts[li]
        g_in = [0.0] * len(x) if li else None  # the input's grad is not needed
        gWl, gbl = gW[li], gb[li]
        for j, gj in enumerate(g):
            if gj == 0.0:  # a ReLU that did not fire (or a zero upstream grad)
                continue
            gbl[j] += gj
            row, grow = W[j], gWl[j]
            for i, xi in enumerate(x):
                grow[i] += xi * gj
            if g_in is not None:
                for i, wi in enumerate(row):
                    g_in[i] += wi * gj
        if g_in is not None:  # through the ReLU of the layer below
            g = [gi if ai > 0.0 else 0.0 for gi, ai in zip(g_in, x)]


def _zeros(layers: list[Layer]) -> tuple[list, list]:
    return ([[[0.0] * len(row) for row in W] for W, _ in layers],
            [[0.0] * len(b) for _, b in layers])


def demo_step(layers: list[Layer], X: list[list[float]], y: list[float], k: int) -> float:
    """micrograd's demo step: mean hinge loss + 1e-4 * sum(p^2), backward, SGD update."""
    gW, gb = _zeros(layers)
    n = len(X)
    data_loss = 0.0
    for x, yi in zip(X, y):
        acts = _forward(layers, x)
        margin = 1.0 - yi * acts[-1][0]
        if margin > 0.0:
            data_loss += margin
            _backward(layers, acts, [-yi / n], gW, gb)
    reg = 0.0
    for W, b in layers:
        for row in W:
            for w in row:
                reg += w * w
        for bj in b:
            reg += bj * bj
    loss = data_loss / n + 1e-4 * reg
    lr = 1.0 - 0.9 * k / 100
    for (W, b), gWl, gbl in zip(layers, gW, gb):
        for row, grow in zip(W, gWl):
            for i, w in enumerate(row):
                row[i] = w - lr * (grow[i] + 2e-4 * w)
        for j, bj in enumerate(b):
            b[j] = bj - lr * (gbl[j] + 2e-4 * bj)
    return loss


class Adam:
    """torch.optim.Adam's update over a flat list of floats."""

    def __init__(self, n: int, lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m, self.v, self.t = [0.0] * n, [0.0] * n, 0

    def step(self, params: list[float], grads: list[float]) -> None:
        self.t += 1
        b1, b2, m, v = self.beta1, self.beta2, self.m, self.v
        step_size = self.lr / (1 - b1**self.t)
        bc2_sqrt = (1 - b2**self.t) ** 0.5
        for i, g in enumerate(grads):
            m[i] = m[i] + (1 - b1) * (g - m[i])
            v[i] = v[i] * b2 + (1 - b2) * (g * g)
            params[i] = params[i] - step_size * (m[i] / (math.sqrt(v[i]) / bc2_sqrt + self.eps))


def cross_entropy_step(layers: list[Layer], X: list[list[float]], labels: list[int]) -> tuple[
        float, list[float]]:
    """Mean softmax cross-entropy over a batch and its gradient (flat, parameters() order)."""
    gW, gb = _zeros(layers)
    n = len(X)
    total = 0.0
    for x, k in zip(X, labels):
        acts = _forward(layers, x)
        z = acts[-1]
        m = max(z)
        e = [math.exp(zj - m) for zj in z]
        s = sum(e)
        total += math.log(s) - (z[k] - m)
        g = [ej / s / n for ej in e]
        g[k] -= 1.0 / n
        _backward(layers, acts, g, gW, gb)
    return total / n, flat_from_layers([(W, b) for W, b in zip(gW, gb)])
