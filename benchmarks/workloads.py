"""The benchmark workloads. Each run is a fresh interpreter started by ``run.py``:

    python benchmarks/workloads.py WORKLOAD ENGINE [options]

and prints one JSON object on its last line. Times are per step, both CPU time of this process
(``time.process_time``) and wall time (``time.perf_counter``).

Workloads and engines:

- ``demo``: micrograd's demo step (``MLP(2, [16, 16, 1])``, 100 moons, mean hinge loss +
  1e-4 * sum(p^2), full batch, SGD with micrograd's schedule). Engines: ``tinygrad_edu``
  (eager), ``unfused`` (eager, every neuron op by op), ``compiled`` (``compile_step``),
  ``baseline`` (tinygrad_edu as it was before the speed work: ``run.py`` points
  ``BENCH_TINYGRAD_ROOT`` at a copy of commit dd142e0), ``micrograd`` (0.1.0, as users run
  it), ``micrograd-nogc`` (its cycle collector off), ``reference`` (hand-written pure Python),
  ``numpy`` (by hand), ``torch-batched``, ``torch-scalar`` (one 0-d tensor per number).
- ``digits``: one epoch of 64 -> 16 -> 10, cross-entropy, Adam(lr=1e-2), mini-batches of 32
  over scikit-learn's 1,437 training digits; the same engines (``--batches`` stops early).
- ``pair``: the demo step of this checkout and of the engine before the speed work in one
  process, step by step in turns (their ratio, robust to a busy machine).
- ``fit``: ``train.fit`` on the demo data (hinge loss, full batch, SGD with weight decay),
  100 epochs unless ``--epochs`` says otherwise; engines ``eager``, ``compiled``
  (``fit(..., compiled=True)``), and ``tinygrad_edu``/``baseline`` (fit's default now and
  before). The time per epoch is the whole call's: fit compiles the step itself, and a
  learner waits for that too (``setup_cpu`` and ``epoch_cpu`` split it).
- ``scaling``: one training step of ``MLP(2, [w, w, 1])`` on ``b`` examples (``--width``,
  ``--batch``): time and bytes per graph edge; engines ``tinygrad_edu``, ``compiled``.
- ``trace``: time to compile the demo model and ``MLP(2, [128, 128, 1])``.
- ``memory``, ``depth``: bytes per elementary node; a 1,000,000-deep chain.
- ``budgets``: the time limits other parts of the project promise (stepper, neuron maps,
  a 300-epoch recorded run, one live playground update), for the functions that exist.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import math
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The package measured: this checkout, or (engine "baseline") an older copy of it.
sys.path.insert(0, os.environ.get("BENCH_TINYGRAD_ROOT") or str(ROOT))

import baselines  # noqa: E402  (benchmarks/ is on sys.path: this file's directory)
import reference  # noqa: E402

EAGER = ("tinygrad_edu", "unfused", "baseline")


# ---------------------------------------------------------------------------------------------
# Data and weights shared by every engine
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


def demo_weights(sizes: list[int], seed: int = 1234) -> list[float]:
    """One set of floats in parameters() order (per neuron: weights, then bias)."""
    count = sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(count)]


def initial_weights(model: Any, seed: int = 1234) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in model.parameters()]


def set_weights(model: Any, floats: list[float]) -> None:
    params = model.parameters()
    assert len(params) == len(floats), (len(params), len(floats))
    for p, f in zip(params, floats):
        p.data = f


def load_engine(name: str) -> SimpleNamespace:
    """The engine's ``Value`` and ``MLP`` under the names micrograd and we share."""
    if name.startswith("micrograd"):
        from micrograd.engine import Value
        from micrograd.nn import MLP
    else:
        from tinygrad_edu import Value
        from tinygrad_edu.nn import MLP
    return SimpleNamespace(name=name, Value=Value, MLP=MLP)


def timed(step: Callable[[int], float], steps: int, first: int = 0) -> dict:
    """Run ``step(k)`` ``steps`` times: CPU and wall seconds per step, and the losses."""
    cpu, wall, losses = [], [], []
    for k in range(first, first + steps):
        w0, c0 = time.perf_counter(), time.process_time()
        losses.append(step(k))
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu": cpu, "wall": wall, "losses": losses, "gc_enabled": gc.isenabled()}


# ---------------------------------------------------------------------------------------------
# (1) micrograd's demo step
# ---------------------------------------------------------------------------------------------
def demo_step(engine: SimpleNamespace, model: Any, X: list, y: list, k: int) -> float:
    """One step of micrograd's demo: forward, hinge loss + L2, backward, SGD update.

    Written once against the names both engines share, so both run the same Python.
    """
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


def graph_size(root: Any) -> tuple[int, int]:
    """(nodes, edges) of a graph: ``children`` here, ``_prev`` in micrograd."""
    inputs_of = "children" if hasattr(root, "children") else "_prev"
    seen = {id(root)}
    stack = [root]
    edges = 0
    while stack:
        kids = getattr(stack.pop(), inputs_of)
        edges += len(kids)
        for child in kids:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen), edges


def demo_graph(engine: SimpleNamespace, model: Any, X: list, y: list) -> Any:
    Value = engine.Value
    scores = [model([Value(a), Value(b)]) for a, b in X]
    losses = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())


def demo_stepper(engine_name: str, X: list, y: list) -> tuple[Callable[[int], float], dict]:
    flat = demo_weights([2, 16, 16, 1])
    info: dict = {}
    if engine_name in EAGER or engine_name.startswith("micrograd"):
        engine = load_engine(engine_name)
        model = (engine.MLP(2, [16, 16, 1], fused=False) if engine_name == "unfused"
                 else engine.MLP(2, [16, 16, 1]))
        set_weights(model, flat)
        info["nodes"], info["edges"] = graph_size(demo_graph(engine, model, X, y))
        if engine_name == "micrograd-nogc":
            gc.disable()
        return (lambda k: demo_step(engine, model, X, y, k)), info
    if engine_name == "compiled":
        from tinygrad_edu import losses
        from tinygrad_edu.compile import compile_step
        from tinygrad_edu.nn import MLP

        model = MLP(2, [16, 16, 1])
        set_weights(model, flat)
        params = model.parameters()
        c0 = time.process_time()
        step = compile_step(model, losses.hinge_loss, X, y)
        info["build_cpu_s"] = time.process_time() - c0
        info["source_lines"] = step.source.count("\n")

        def run(k: int) -> float:
            for p in params:
                p.grad = 0.0
            data_loss = step(X, y)
            reg = 0.0
            for p in params:
                reg += p.data * p.data
            lr = 1.0 - 0.9 * k / 100
            for p in params:
                p.data -= lr * (p.grad + 2e-4 * p.data)
            return data_loss + 1e-4 * reg

        return run, info
    if engine_name == "reference":
        layers = reference.layers_from_flat(flat, [2, 16, 16, 1])
        return (lambda k: reference.demo_step(layers, X, y, k)), info
    makers = {"numpy": baselines.numpy_demo, "torch-batched": baselines.torch_batched_demo,
              "torch-scalar": baselines.torch_scalar_demo}
    if engine_name not in makers:
        raise SystemExit(f"unknown engine {engine_name!r} for the demo workload")
    return makers[engine_name](flat, X, y), info


def run_pair(engine_name: str, steps: int) -> dict:
    """The demo step of this engine and of an older copy (package ``tinygrad_edu_before``, from
    ``BENCH_BEFORE_ROOT``) in one process, alternating step by step from the same weights:
    a ratio that other programs on the machine barely move, as both suffer them alike."""
    sys.path.insert(0, os.environ["BENCH_BEFORE_ROOT"])
    import tinygrad_edu_before
    import tinygrad_edu_before.nn

    X, y = make_moons(100)
    engines = {"before": SimpleNamespace(name="before", Value=tinygrad_edu_before.Value,
                                         MLP=tinygrad_edu_before.nn.MLP),
               "after": load_engine("tinygrad_edu")}
    models = {k: e.MLP(2, [16, 16, 1]) for k, e in engines.items()}
    for m in models.values():
        set_weights(m, demo_weights([2, 16, 16, 1]))
    cpu: dict[str, list[float]] = {k: [] for k in engines}
    same = True
    for k in range(steps):
        order = ["before", "after"] if k % 2 == 0 else ["after", "before"]
        losses = {}
        for name in order:
            c0 = time.process_time()
            losses[name] = demo_step(engines[name], models[name], X, y, k)
            cpu[name].append(time.process_time() - c0)
        same = same and losses["before"] == losses["after"]
    return {"cpu": cpu["after"], "wall": cpu["after"], "cpu_before": cpu["before"],
            "ratios": [b / a for b, a in zip(cpu["before"], cpu["after"])],
            "losses": [], "bit_identical": same, "gc_enabled": gc.isenabled()}


def run_demo(engine_name: str, steps: int) -> dict:
    X, y = make_moons(100)
    step, info = demo_stepper(engine_name, X, y)
    return {**timed(step, steps), **info}


# ---------------------------------------------------------------------------------------------
# (2) digits: 64 -> 16 -> 10, cross-entropy, Adam, mini-batch 32, one epoch
# ---------------------------------------------------------------------------------------------
def digits_data() -> tuple[list[list[float]], list[int], list[list[int]]]:
    """The 1,437 training images scaled to [0, 1], their labels, and the epoch's batches."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    rows = [[float(p) / 16.0 for p in row] for row in X_train]  # pixels 0..16 -> 0..1
    labels = [int(t) for t in y_train]
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    return rows, labels, [order[s:s + 32] for s in range(0, len(order), 32)]


def digits_weights() -> list[float]:
    from tinygrad_edu.nn import MLP

    return [p.data for p in MLP(64, [16, 10], seed=0).parameters()]


def digits_stepper(engine_name: str, flat: list[float], first: tuple[list, list]
                   ) -> tuple[Callable[[list, list], float], dict]:
    info: dict = {}
    if engine_name in EAGER or engine_name == "compiled":
        from tinygrad_edu import Value, losses, optim
        from tinygrad_edu.nn import MLP

        model = MLP(64, [16, 10], fused=(engine_name != "unfused"))
        set_weights(model, flat)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        if engine_name == "compiled":
            from tinygrad_edu.compile import compile_step

            c0 = time.process_time()
            step = compile_step(model, losses.cross_entropy, *first)
            info["build_cpu_s"] = time.process_time() - c0
            info["source_lines"] = step.source.count("\n")

            def run_compiled(rows: list, labels: list) -> float:
                opt.zero_grad()
                value = step(rows, labels)
                opt.step()
                return value

            return run_compiled, info

        def run(rows: list, labels: list) -> float:
            opt.zero_grad()
            loss = losses.cross_entropy([model([Value(p) for p in row]) for row in rows],
                                        labels)
            loss.backward()
            opt.step()
            return loss.data

        return run, info
    if engine_name == "reference":
        layers = reference.layers_from_flat(flat, [64, 16, 10])
        adam = reference.Adam(len(flat))

        def run_reference(rows: list, labels: list) -> float:
            nonlocal layers
            loss, grads = reference.cross_entropy_step(layers, rows, labels)
            params = reference.flat_from_layers(layers)
            adam.step(params, grads)
            layers = reference.layers_from_flat(params, [64, 16, 10])
            return loss

        return run_reference, info
    if engine_name.startswith("micrograd"):
        if engine_name == "micrograd-nogc":
            gc.disable()
        return baselines.MicrogradDigits(flat), info
    makers = {"numpy": baselines.NumpyDigits, "torch-batched": baselines.TorchBatchedDigits,
              "torch-scalar": baselines.TorchScalarDigits}
    if engine_name not in makers:
        raise SystemExit(f"unknown engine {engine_name!r} for the digits workload")
    return makers[engine_name](flat), info


def run_digits(engine_name: str, batches: int | None) -> dict:
    rows, labels, order = digits_data()
    flat = digits_weights()
    first = ([rows[i] for i in order[0]], [labels[i] for i in order[0]])
    step, info = digits_stepper(engine_name, flat, first)
    todo = order[:batches] if batches else order
    out = timed(lambda k: step([rows[i] for i in todo[k]], [labels[i] for i in todo[k]]),
                len(todo))
    sizes = [len(b) for b in todo]
    out["epoch_loss"] = sum(v * s for v, s in zip(out["losses"], sizes)) / sum(sizes)
    return {**out, **info, "batches": len(todo), "batches_per_epoch": len(order),
            "images": len(rows)}


# ---------------------------------------------------------------------------------------------
# (3) fit(): the demo data through train.fit, eager or compiled
# ---------------------------------------------------------------------------------------------
class _EpochClock:
    """A callback noting the CPU and wall clock when training starts and at each epoch's end
    (one call per epoch: nothing a 1 ms epoch would notice)."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def _tick(self) -> None:
        self.cpu.append(time.process_time())
        self.wall.append(time.perf_counter())

    def on_train_begin(self, model: Any, history: Any) -> None:
        self._tick()

    def on_epoch_end(self, epoch: int, model: Any, history: Any) -> None:
        self._tick()


def run_fit(engine_name: str, epochs: int) -> dict:
    """One ``fit`` call on the demo, timed as a learner waits for it: ``cpu``/``wall`` are the
    whole call divided by ``epochs``, so they include fit's setup (checking the data and,
    for the compiled default, ``compile_step``'s recording, code generation and check);
    ``setup_*`` is that setup alone and ``epoch_*`` each epoch after it."""
    from tinygrad_edu import losses
    from tinygrad_edu.nn import MLP
    from tinygrad_edu.optim import SGD
    from tinygrad_edu.train import fit

    if "compiled" not in inspect.signature(fit).parameters:
        return {"skipped": "fit has no compiled= parameter"}
    X, y = make_moons(100)
    model = MLP(2, [16, 16, 1])
    set_weights(model, demo_weights([2, 16, 16, 1]))
    opt = SGD(model.parameters(), lr=0.5, weight_decay=2e-4)
    # "compiled" / "eager" force a path; "tinygrad_edu" and "baseline" run fit's default, as a
    # learner's fit(...) does (compiled="auto" now; eager before issue 18)
    how = {"compiled": {"compiled": True}, "eager": {"compiled": False}}.get(engine_name, {})
    clock = _EpochClock()
    w0, c0 = time.perf_counter(), time.process_time()
    history = fit(model, X, y, losses.hinge_loss, opt, epochs=epochs, progress=False,
                  callbacks=[clock], **how)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"cpu": [cpu / epochs], "wall": [wall / epochs], "losses": history.history["loss"],
            "epochs": epochs, "compiled": history.params.get("compiled", False),
            "includes": "the whole fit() call, setup (and compile_step) included",
            "setup_cpu": clock.cpu[0] - c0, "setup_wall": clock.wall[0] - w0,
            "epoch_cpu": [b - a for a, b in zip(clock.cpu, clock.cpu[1:])],
            "epoch_wall": [b - a for a, b in zip(clock.wall, clock.wall[1:])],
            "gc_enabled": gc.isenabled()}


# ---------------------------------------------------------------------------------------------
# (4) scaling: time and bytes per graph edge across widths and batch sizes
# ---------------------------------------------------------------------------------------------
def run_scaling(engine_name: str, width: int, batch: int, steps: int) -> dict:
    """``engine_name``: tinygrad_edu (eager), tinygrad_edu-nogc (eager, cycle collector off:
    the graph's nodes hold no cycles, so only the collector's scans change), compiled."""
    if engine_name.endswith("-nogc"):
        gc.disable()
    from tinygrad_edu import Value, losses
    from tinygrad_edu.nn import MLP

    X, y = make_moons(batch)
    model = MLP(2, [width, width, 1], seed=0)
    params = model.parameters()

    def graph() -> Any:
        return losses.hinge_loss([model([Value(a), Value(b)]) for a, b in X], y)

    info: dict = {}
    if engine_name == "compiled":
        from tinygrad_edu.compile import compile_step

        c0 = time.process_time()
        step = compile_step(model, losses.hinge_loss, X[:8], y[:8])
        info["build_cpu_s"] = time.process_time() - c0
        info["source_bytes"] = len(step.source)

        def run(k: int) -> float:
            for p in params:
                p.grad = 0.0
            return step(X, y)
    else:
        def run(k: int) -> float:
            for p in params:
                p.grad = 0.0
            J = graph()
            J.backward()
            return J.data

    out = {**timed(run, steps), **info}
    root = graph()
    out["nodes"], out["edges"] = graph_size(root)
    del root
    if engine_name == "tinygrad_edu":  # bytes the graph holds, per edge (tracemalloc)
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        root = graph()
        out["graph_bytes"] = tracemalloc.get_traced_memory()[0] - base
        root.backward()
        out["graph_bytes_with_grads"] = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    return out


# ---------------------------------------------------------------------------------------------
# (5) compile time
# ---------------------------------------------------------------------------------------------
def run_trace(engine_name: str) -> dict:
    from tinygrad_edu import losses
    from tinygrad_edu.compile import compile_step, trace
    from tinygrad_edu.nn import MLP

    X, y = make_moons(8)
    out = {}
    for width in (16, 128):
        model = MLP(2, [width, width, 1], seed=0)
        w0, c0 = time.perf_counter(), time.process_time()
        step = compile_step(model, losses.hinge_loss, X, y)
        out[f"compile_step_{width}"] = {"cpu": time.process_time() - c0,
                                        "wall": time.perf_counter() - w0,
                                        "lines": step.source.count("\n")}
        w0, c0 = time.perf_counter(), time.process_time()
        traced = trace(lambda x, m=model: losses.hinge_loss(m(x), 1.0), X[0])
        out[f"trace_{width}"] = {"cpu": time.process_time() - c0,
                                 "wall": time.perf_counter() - w0,
                                 "lines": traced.source.count("\n")}
    return out


# ---------------------------------------------------------------------------------------------
# (6) memory and depth
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
    if not engine_name.startswith("micrograd"):  # its recursive backward cannot go this deep
        v.backward()
        result["bytes_per_node_after_backward"] = (tracemalloc.get_traced_memory()[0] - base) / n
    tracemalloc.stop()
    return result


def run_depth(engine_name: str, depth: int) -> dict:
    Value = load_engine(engine_name).Value
    if engine_name.startswith("micrograd"):
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
    return {"depth": depth, "grad_ok": ok, "build_s": built, "backward_s": backward_s,
            "graph_bytes": peak, "bytes_after_drop": after}


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
# (7) the time budgets other parts of the project promise
# ---------------------------------------------------------------------------------------------
def _clock(fn: Callable[[], Any]) -> dict:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return {"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0}


def run_budgets(engine_name: str) -> dict:
    os.environ.setdefault("MPLBACKEND", "Agg")
    out: dict = {}
    from tinygrad_edu import Value

    try:
        from tinygrad_edu import viz
    except ImportError:
        viz = None
    if viz is not None and hasattr(viz, "step_through"):
        def stepper() -> Any:  # a graph of 100 Values: 25 inputs, 75 ops
            xs = [Value(0.01 * i, f"x{i}") for i in range(25)]
            total = xs[0]
            for x in xs[1:]:
                total = total + (x * x).tanh()
            return viz.step_through(total)

        out["stepper_100_values"] = {**_clock(stepper), "limit_s": 2.0}
    try:
        from tinygrad_edu import plot
    except ImportError:
        plot = None
    if plot is not None and hasattr(plot, "plot_neuron_maps"):
        import matplotlib.pyplot as plt

        from tinygrad_edu.nn import MLP

        X, y = make_moons(100)
        model = MLP(2, [8, 8, 1], seed=0)
        out["plot_neuron_maps"] = {**_clock(lambda: plt.close(plot.plot_neuron_maps(model, X,
                                                                                     y))),
                                   "limit_s": 3.0}
    if plot is not None and hasattr(plot, "TrainingRecorder"):
        from tinygrad_edu.data import make_pass_fail, standardize
        from tinygrad_edu.losses import binary_cross_entropy
        from tinygrad_edu.nn import MLP
        from tinygrad_edu.optim import SGD
        from tinygrad_edu.train import fit

        X, y = make_pass_fail(100, seed=0)
        Xs, _ = standardize(X)
        model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)

        def recorded() -> Any:
            recorder = plot.TrainingRecorder(Xs, y, every=10)
            return fit(model, Xs, y, binary_cross_entropy, SGD(model.parameters(), lr=1.0),
                       epochs=300, progress=False, callbacks=[recorder])

        out["recorded_run_300_epochs"] = {**_clock(recorded), "limit_s": 10.0}
    try:
        from tinygrad_edu.playground import Playground
    except ImportError:
        Playground = None
    if Playground is not None:
        # one live update of the playground widget (what a "tick" does): train for its
        # time slice, then redraw the boundary and the 16 neuron maps; >= 5 per second
        pg = Playground(data="moons", hidden=[8, 8], n=200, seed=0)
        updates = 15

        def live() -> None:
            for _ in range(updates):
                pg.train_for(0.05)
                pg.images()

        t = _clock(live)
        out["playground_update"] = {"cpu": t["cpu"] / updates, "wall": t["wall"] / updates,
                                    "limit_s": 0.2, "steps": len(pg.history),
                                    "compiled": pg._compiled_step is not None}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["demo", "pair", "digits", "fit", "scaling",
                                             "trace", "memory", "depth", "budgets"])
    parser.add_argument("engine")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batches", type=int, default=None)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=100)  # (fit: micrograd's demo length)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    w = args.workload
    if w == "demo":
        result = run_demo(args.engine, args.steps)
    elif w == "pair":
        result = run_pair(args.engine, args.steps)
    elif w == "digits":
        result = run_digits(args.engine, args.batches)
    elif w == "fit":
        result = run_fit(args.engine, args.epochs)
    elif w == "scaling":
        result = run_scaling(args.engine, args.width, args.batch, args.steps)
    elif w == "trace":
        result = run_trace(args.engine)
    elif w == "memory":
        result = run_memory(args.engine, args.nodes)
    elif w == "depth":
        result = run_depth(args.engine, args.depth)
    else:
        result = run_budgets(args.engine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
