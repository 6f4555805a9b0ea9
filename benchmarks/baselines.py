"""The other engines of the benchmark, each doing the same maths as tinygrad_edu's step.

- NumPy by hand: whole-batch matrix products, forward and backward written out (the
  hardware's reference: what the arithmetic costs without Python per number);
- PyTorch float64, batched (one tensor per layer) and scalar-style (one 0-d tensor per
  number, the way micrograd uses Values);
- micrograd 0.1.0 helpers for the digits workload (it has no exp or log: added in its style).

Every engine starts from the same flat list of weights (``parameters()`` order: per neuron
its weights, then its bias) and takes the same steps, so the losses can be compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from reference import layers_from_flat

StepFn = Callable[[int], float]


def _relu_mask(z: Any) -> Any:
    return z > 0.0


# ---------------------------------------------------------------------------------------------
# NumPy by hand
# ---------------------------------------------------------------------------------------------
def _np_layers(flat: Sequence[float], sizes: Sequence[int]) -> list[tuple[Any, Any]]:
    import numpy as np

    return [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64))
            for W, b in layers_from_flat(flat, sizes)]


def _np_forward(layers: list[tuple[Any, Any]], X: Any) -> tuple[list[Any], list[Any]]:
    """Inputs of every layer and pre-activations: ReLU on hidden layers, linear output."""
    import numpy as np

    acts, zs = [X], []
    for i, (W, b) in enumerate(layers):
        z = acts[-1] @ W.T + b
        zs.append(z)
        acts.append(z if i == len(layers) - 1 else np.maximum(z, 0.0))
    return acts, zs


def _np_backward(layers: list[tuple[Any, Any]], acts: list[Any], zs: list[Any], g: Any
                 ) -> list[tuple[Any, Any]]:
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        if i < len(layers) - 1:
            g = g * _relu_mask(zs[i])
        grads.append((g.T @ acts[i], g.sum(axis=0)))
        g = g @ W
    return grads[::-1]


def numpy_demo(flat: Sequence[float], X: list, y: list) -> StepFn:
    import numpy as np

    layers = _np_layers(flat, [2, 16, 16, 1])
    Xa = np.array(X, dtype=np.float64)
    ya = np.array(y, dtype=np.float64)[:, None]
    n = len(X)

    def step(k: int) -> float:
        acts, zs = _np_forward(layers, Xa)
        margin = 1.0 - ya * acts[-1]
        active = margin > 0.0
        reg = sum(float((W * W).sum() + (b * b).sum()) for W, b in layers)
        loss = float(margin[active].sum()) / n + 1e-4 * reg
        grads = _np_backward(layers, acts, zs, np.where(active, -ya / n, 0.0))
        lr = 1.0 - 0.9 * k / 100
        for (W, b), (gW, gb) in zip(layers, grads):
            W -= lr * (gW + 2e-4 * W)
            b -= lr * (gb + 2e-4 * b)
        return loss

    return step


class NumpyDigits:
    """One mini-batch step of the digits workload: cross-entropy, Adam (PyTorch's formula)."""

    def __init__(self, flat: Sequence[float]) -> None:
        import numpy as np

        self.np = np
        self.layers = _np_layers(flat, [64, 16, 10])
        self.m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in self.layers]
        self.v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in self.layers]
        self.t = 0

    def __call__(self, rows: list[list[float]], labels: list[int]) -> float:
        np = self.np
        X = np.array(rows, dtype=np.float64)
        k = np.array(labels)
        n = len(rows)
        acts, zs = _np_forward(self.layers, X)
        z = acts[-1]
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = float((np.log(total[:, 0]) - shifted[np.arange(n), k]).mean())
        g = e / total
        g[np.arange(n), k] -= 1.0
        grads = _np_backward(self.layers, acts, zs, g / n)
        self.t += 1
        b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-2
        step_size = lr / (1 - b1**self.t)
        bc2 = math.sqrt(1 - b2**self.t)
        for (W, b), gs, ms, vs in zip(self.layers, grads, self.m, self.v):
            for p, gp, mp, vp in zip((W, b), gs, ms, vs):
                mp += (1 - b1) * (gp - mp)
                vp *= b2
                vp += (1 - b2) * gp * gp
                p -= step_size * (mp / (np.sqrt(vp) / bc2 + eps))
        return loss


# ---------------------------------------------------------------------------------------------
# PyTorch, float64
# ---------------------------------------------------------------------------------------------
def _torch() -> Any:
    import torch

    torch.set_num_threads(1)  # like every other engine here: one core
    return torch


def _torch_layers(flat: Sequence[float], sizes: Sequence[int]) -> list[tuple[Any, Any]]:
    torch = _torch()
    return [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
             torch.tensor(b, dtype=torch.float64, requires_grad=True))
            for W, b in layers_from_flat(flat, sizes)]


def _torch_forward(layers: list[tuple[Any, Any]], X: Any) -> Any:
    torch = _torch()
    h = X
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = torch.relu(h)
    return h


def torch_batched_demo(flat: Sequence[float], X: list, y: list) -> StepFn:
    torch = _torch()
    layers = _torch_layers(flat, [2, 16, 16, 1])
    params = [p for layer in layers for p in layer]
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)[:, None]

    def step(k: int) -> float:
        for p in params:
            p.grad = None
        s = _torch_forward(layers, Xt)
        loss = torch.relu(1.0 - yt * s).mean() + 1e-4 * sum((p * p).sum() for p in params)
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss.item()

    return step


def _scalar_neurons(flat: Sequence[float], sizes: Sequence[int]) -> tuple[list, list]:
    """0-d tensors per number: layers of neurons (w list, b), and the flat parameter list."""
    torch = _torch()
    params = [torch.tensor(f, dtype=torch.float64, requires_grad=True) for f in flat]
    layers, k = [], 0
    for nin, nout in zip(sizes, sizes[1:]):
        neurons = []
        for _ in range(nout):
            neurons.append((params[k:k + nin], params[k + nin]))
            k += nin + 1
        layers.append(neurons)
    return layers, params


def _scalar_forward(layers: list, x: list) -> list:
    torch = _torch()
    for i, neurons in enumerate(layers):
        out = []
        for w, b in neurons:
            z = b
            for wi, xi in zip(w, x):
                z = z + wi * xi
            out.append(z if i == len(layers) - 1 else torch.relu(z))
        x = out
    return x


def torch_scalar_demo(flat: Sequence[float], X: list, y: list) -> StepFn:
    torch = _torch()
    layers, params = _scalar_neurons(flat, [2, 16, 16, 1])
    inputs = [[torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)]
              for a, b in X]

    def step(k: int) -> float:
        for p in params:
            p.grad = None
        scores = [_scalar_forward(layers, x)[0] for x in inputs]
        losses = [torch.relu(1 - yi * si) for yi, si in zip(y, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss.item()

    return step


class TorchBatchedDigits:
    def __init__(self, flat: Sequence[float]) -> None:
        torch = _torch()
        self.torch = torch
        self.layers = _torch_layers(flat, [64, 16, 10])
        params = [p for layer in self.layers for p in layer]
        self.opt = torch.optim.Adam(params, lr=1e-2, foreach=False)

    def __call__(self, rows: list[list[float]], labels: list[int]) -> float:
        torch = self.torch
        self.opt.zero_grad()
        z = _torch_forward(self.layers, torch.tensor(rows, dtype=torch.float64))
        loss = torch.nn.functional.cross_entropy(z, torch.tensor(labels))
        loss.backward()
        self.opt.step()
        return loss.item()


class TorchScalarDigits:
    def __init__(self, flat: Sequence[float]) -> None:
        torch = _torch()
        self.torch = torch
        self.layers, params = _scalar_neurons(flat, [64, 16, 10])
        self.opt = torch.optim.Adam(params, lr=1e-2, foreach=False)

    def __call__(self, rows: list[list[float]], labels: list[int]) -> float:
        torch = self.torch
        self.opt.zero_grad()
        terms = []
        for row, k in zip(rows, labels):
            zs = _scalar_forward(self.layers, [torch.tensor(p, dtype=torch.float64)
                                               for p in row])
            m = max(float(z) for z in zs)
            shifted = [z - m for z in zs]
            terms.append(torch.log(sum(torch.exp(s) for s in shifted)) - shifted[k])
        loss = sum(terms) / len(terms)
        loss.backward()
        self.opt.step()
        return loss.item()


# ---------------------------------------------------------------------------------------------
# micrograd 0.1.0 for the digits workload: exp and log added in its own style
# ---------------------------------------------------------------------------------------------
def _mg_exp(v: Any) -> Any:
    """exp for micrograd's Value, written the way micrograd writes its ops (a closure)."""
    from micrograd.engine import Value

    out = Value(math.exp(v.data), (v,), "exp")

    def _backward() -> None:
        v.grad += out.data * out.grad

    out._backward = _backward
    return out


def _mg_log(v: Any) -> Any:
    from micrograd.engine import Value

    out = Value(math.log(v.data), (v,), "log")

    def _backward() -> None:
        v.grad += out.grad / v.data

    out._backward = _backward
    return out


def mg_cross_entropy(batch_logits: list, targets: list) -> Any:
    """Mean of log(sum_j e^(z_j - m)) - (z_k - m) on micrograd Values, m = max(z)."""
    terms = []
    for zs, k in zip(batch_logits, targets):
        m = max(z.data for z in zs)
        shifted = [z - m for z in zs]
        exps = [_mg_exp(s) for s in shifted]
        total = exps[0]
        for e in exps[1:]:
            total = total + e
        terms.append(_mg_log(total) - shifted[k])
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    return loss * (1.0 / len(terms))


class MicrogradDigits:
    def __init__(self, flat: Sequence[float]) -> None:
        from micrograd.nn import MLP

        self.model = MLP(64, [16, 10])
        self.params = self.model.parameters()
        for p, f in zip(self.params, flat, strict=True):
            p.data = f
        n = len(self.params)
        self.m, self.v, self.t = [0.0] * n, [0.0] * n, 0

    def __call__(self, rows: list[list[float]], labels: list[int]) -> float:
        from micrograd.engine import Value

        self.model.zero_grad()
        logits = [self.model([Value(p) for p in row]) for row in rows]
        loss = mg_cross_entropy(logits, labels)
        loss.backward()
        self.t += 1
        b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-2
        step_size = lr / (1 - b1**self.t)
        bc2 = (1 - b2**self.t) ** 0.5
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = m[i] + (1 - b1) * (g - m[i])
            v[i] = v[i] * b2 + (1 - b2) * (g * g)
            p.data = p.data + -step_size * (m[i] / (math.sqrt(v[i]) / bc2 + eps))
        return loss.data
