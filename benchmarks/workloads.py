"""The benchmark workloads. Each one runs in a fresh interpreter started by ``run.py``:

    python benchmarks/workloads.py WORKLOAD ENGINE [options]

prints one JSON object on its last line of output. ENGINE is ``tinygrad_edu`` or
``micrograd`` (the 0.1.0 package from PyPI) and, for the digits workload, ``fused``,
``unfused`` (our model built op by op, the elementary graph) or ``micrograd`` (the naive
engine, with exp and log added in its style).

The demo step is written once, against the names both engines share (``Value``, ``MLP``,
``.relu()``, ``parameters()``, ``zero_grad()``, ``backward()``) and is handed the engine as a
small namespace, so both engines run exactly the same Python.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


def load_engine(name: str) -> SimpleNamespace:
    """The engine's ``Value`` and ``MLP`` under the same names."""
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP
    elif name == "tinygrad_edu":
        from tinygrad_edu import Value
        from tinygrad_edu.nn import MLP
    else:
        raise SystemExit(f"unknown engine {name!r}: use tinygrad_edu or micrograd")
    return SimpleNamespace(name=name, Value=Value, MLP=MLP)


# ---------------------------------------------------------------------------------------------
# (1) micrograd's demo step
# ---------------------------------------------------------------------------------------------
def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """Two interleaving half circles (as sklearn's make_moons), labels -1 / +1, deterministic."""
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[float] = []
    for i in range(n):
        t = math.pi * i / n if i < n // 2 else math.pi * (i - n // 2) / (n - n // 2)
        if i < n // 2:  # upper moon
            point = [math.cos(t), math.sin(t)]
            label = -1.0
        else:  # lower moon, shifted right and down
            point = [1.0 - math.cos(t), 0.5 - math.sin(t)]
            label = 1.0
        X.append([point[0] + rng.gauss(0.0, noise), point[1] + rng.gauss(0.0, noise)])
        y.append(label)
    return X, y


def initial_weights(model: Any, seed: int = 1234) -> list[float]:
    """One set of floats, in the shared parameters() order (per neuron: weights, then bias)."""
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in model.parameters()]


def set_weights(model: Any, floats: list[float]) -> None:
    params = model.parameters()
    assert len(params) == len(floats), (len(params), len(floats))
    for p, f in zip(params, floats):
        p.data = f


def demo_step(engine: SimpleNamespace, model: Any, X: list, y: list, k: int) -> float:
    """One step of micrograd's demo: forward, hinge loss + L2, backward, SGD update."""
    Value = engine.Value
    params = model.parameters()
    model.zero_grad()
    inputs = [[Value(a), Value(b)] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    loss = data_loss + reg_loss
    loss.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def run_demo(engine_name: str, steps: int, first_step: int) -> dict:
    engine = load_engine(engine_name)
    X, y = make_moons(100)
    model = engine.MLP(2, [16, 16, 1])
    set_weights(model, initial_weights(model))
    times, losses = [], []
    nodes = None
    for k in range(first_step, first_step + steps):
        t0 = time.perf_counter()
        losses.append(demo_step(engine, model, X, y, k))
        times.append(time.perf_counter() - t0)
    nodes = count_demo_nodes(engine, model, X, y)  # graph size of one step, untimed
    return {"times": times, "losses": losses, "gc_enabled": gc.isenabled(), "nodes": nodes}


def count_demo_nodes(engine: SimpleNamespace, model: Any, X: list, y: list) -> int:
    """Nodes in one step's graph (leaves included): ``children`` here, ``_prev`` in micrograd."""
    Value = engine.Value
    scores = [model([Value(a), Value(b)]) for a, b in X]
    losses = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
    inputs_of = "_prev" if engine.name == "micrograd" else "children"
    seen = {id(loss)}
    stack = [loss]
    while stack:
        for child in getattr(stack.pop(), inputs_of):
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


# ---------------------------------------------------------------------------------------------
# (2) bytes per elementary node
# ---------------------------------------------------------------------------------------------
def run_memory(engine_name: str, n: int) -> dict:
    """tracemalloc over a chain of ``n`` nodes, each made by one ``+`` or one ``*``."""
    Value = load_engine(engine_name).Value
    a, b = Value(0.25), Value(0.5)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    v = a
    for i in range(n):  # alternate v + a and v * b: converges to 0.5, never under/overflows
        v = v + a if i % 2 == 0 else v * b
    built = tracemalloc.get_traced_memory()[0] - base
    result = {"nodes": n, "bytes_per_node": built / n}
    if engine_name == "tinygrad_edu":  # micrograd's recursive backward cannot go this deep
        v.backward()
        result["bytes_per_node_after_backward"] = (tracemalloc.get_traced_memory()[0] - base) / n
    tracemalloc.stop()
    return result


# ---------------------------------------------------------------------------------------------
# (3) depth
# ---------------------------------------------------------------------------------------------
def run_depth(engine_name: str, depth: int) -> dict:
    Value = load_engine(engine_name).Value
    if engine_name == "micrograd":
        return micrograd_max_depth(Value)
    gc.disable()  # freeing must not depend on the cycle collector
    x = Value(1.0)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    v = x
    for _ in range(depth):  # v_k = v_{k-1} + x, so d v_depth / dx = depth + 1
        v = v + x
    built = time.perf_counter() - t0
    v.backward()
    backward_s = time.perf_counter() - t0 - built
    peak = tracemalloc.get_traced_memory()[0] - base
    ok = x.grad == depth + 1 and v.data == depth + 1
    del v
    after = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    gc.enable()
    return {
        "depth": depth, "grad_ok": ok, "grad": x.grad, "build_s": built,
        "backward_s": backward_s, "graph_bytes": peak, "bytes_after_drop": after,
    }


def micrograd_max_depth(Value: Any) -> dict:
    """The deepest chain micrograd's recursive backward survives (bisection)."""

    def works(depth: int) -> bool:
        x = Value(1.0)
        v = x
        for _ in range(depth):
            v = v + x
        try:
            v.backward()
        except RecursionError:
            return False
        return True

    lo, hi = 1, 100_000
    if works(hi):
        return {"max_depth": hi, "recursion_error": False}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if works(mid) else (lo, mid)
    return {"max_depth": lo, "recursion_error": True, "recursion_limit": sys.getrecursionlimit()}


# ---------------------------------------------------------------------------------------------
# (4) digits: 64 -> 16 -> 10, cross-entropy, Adam, mini-batch 32, one epoch
# ---------------------------------------------------------------------------------------------
def run_digits(variant: str, epochs: int) -> dict:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from tinygrad_edu import Value, losses, optim
    from tinygrad_edu.nn import MLP

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    rows = [[float(p) / 16.0 for p in row] for row in X_train]  # pixels 0..16 -> 0..1
    labels = [int(t) for t in y_train]
    model = MLP(64, [16, 10], seed=0, fused=(variant == "fused"))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    rng = random.Random(0)
    order = list(range(len(rows)))
    epoch_times, epoch_losses = [], []
    for _ in range(epochs):
        rng.shuffle(order)
        t0 = time.perf_counter()
        total = 0.0
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            opt.zero_grad()
            logits = [model([Value(p) for p in rows[i]]) for i in batch]
            loss = losses.cross_entropy(logits, [labels[i] for i in batch])
            loss.backward()
            opt.step()
            total += loss.data * len(batch)
        epoch_times.append(time.perf_counter() - t0)
        epoch_losses.append(total / len(rows))
    correct = 0
    from tinygrad_edu import no_grad

    with no_grad():
        for row, t in zip(X_test, y_test):
            scores = model([float(p) / 16.0 for p in row])
            correct += max(range(10), key=lambda j: scores[j].data) == t
    return {
        "train_images": len(rows), "epoch_s": epoch_times, "epoch_loss": epoch_losses,
        "test_accuracy": correct / len(y_test),
    }


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


def _mg_cross_entropy(batch_logits: list, targets: list) -> Any:
    """Mean of log(sum_j e^(z_j - m)) - (z_k - m), in the same order as losses.cross_entropy."""
    terms = []
    for zs, k in zip(batch_logits, targets):
        m = max(z.data for z in zs)
        shifted = [z - m for z in zs]
        total = _mg_exp(shifted[0])
        for s in shifted[1:]:
            total = total + _mg_exp(s)
        terms.append(_mg_log(total) - shifted[k])
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    return loss * (1.0 / len(terms))


def run_digits_micrograd(epochs: int, max_batches: int | None) -> dict:
    """The digits epoch on micrograd 0.1.0: a naive engine (closures, cycles, recursive sort).

    micrograd has no exp or log, so they are added in its own style (``_mg_exp``,
    ``_mg_log``); its MLP(64, [16, 10]) is ReLU then linear, as ours. It starts from the
    weights of our ``MLP(64, [16, 10], seed=0)`` and takes the same Adam steps (PyTorch's
    formula, as ``optim.Adam``) on the same shuffled mini-batches, so the losses can be
    compared.
    """
    from micrograd.engine import Value
    from micrograd.nn import MLP
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from tinygrad_edu.nn import MLP as OurMLP

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    rows = [[float(p) / 16.0 for p in row] for row in X_train]
    labels = [int(t) for t in y_train]
    model = MLP(64, [16, 10])
    params = model.parameters()
    for p, q in zip(params, OurMLP(64, [16, 10], seed=0).parameters(), strict=True):
        p.data = q.data
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
    m = [0.0] * len(params)
    v = [0.0] * len(params)
    t = 0
    rng = random.Random(0)
    order = list(range(len(rows)))
    epoch_times, epoch_losses = [], []
    for _ in range(epochs):
        rng.shuffle(order)
        starts = list(range(0, len(order), 32))[:max_batches]
        t0 = time.perf_counter()
        total = 0.0
        seen = 0
        for start in starts:
            batch = order[start:start + 32]
            model.zero_grad()
            logits = [model([Value(p) for p in rows[i]]) for i in batch]
            loss = _mg_cross_entropy(logits, [labels[i] for i in batch])
            loss.backward()
            t += 1
            step_size = lr / (1 - beta1**t)
            bc2_sqrt = (1 - beta2**t) ** 0.5
            for i, p in enumerate(params):
                g = p.grad
                m[i] = m[i] + (1 - beta1) * (g - m[i])
                v[i] = v[i] * beta2 + (1 - beta2) * (g * g)
                p.data = p.data + -step_size * (m[i] / (math.sqrt(v[i]) / bc2_sqrt + eps))
            total += loss.data * len(batch)
            seen += len(batch)
        epoch_times.append(time.perf_counter() - t0)
        epoch_losses.append(total / seen)
    return {"train_images": len(rows), "epoch_s": epoch_times, "epoch_loss": epoch_losses,
            "batches": len(starts), "gc_enabled": gc.isenabled()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["demo", "memory", "depth", "digits"])
    parser.add_argument("engine")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--first-step", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-batches", type=int, default=None,
                        help="digits on micrograd: stop each epoch after this many batches")
    args = parser.parse_args(argv)
    if args.workload == "demo":
        result = run_demo(args.engine, args.steps, args.first_step)
    elif args.workload == "memory":
        result = run_memory(args.engine, args.nodes)
    elif args.workload == "depth":
        result = run_depth(args.engine, args.depth)
    elif args.engine == "micrograd":
        result = run_digits_micrograd(args.epochs, args.max_batches)
    else:
        result = run_digits(args.engine, args.epochs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
