"""Memory: graphs are small and are freed as soon as they are dropped.

Deterministic byte counts with ``tracemalloc`` (no timings). A node holds no reference cycle
(no closure over itself), so reference counting frees a whole graph the moment its root goes,
even with Python's cycle collector switched off.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tinygrad_edu import Value, linear
from tinygrad_edu.nn import MLP


@contextmanager
def collector_off_and_traced() -> Iterator[Callable[[], int]]:
    """gc disabled, tracemalloc on; yields a function giving bytes allocated since entry."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()


def _chain(n: int) -> Value:
    """n elementary nodes: alternately v + a and v * b (each one Value from one op)."""
    a, b = Value(0.25), Value(0.5)
    v = a
    for i in range(n):
        v = v + a if i % 2 == 0 else v * b
    return v


_MEASURE = """
import gc, tracemalloc, sys
from tinygrad_edu import Value
{prelude}
a, b = Value(0.25), Value(0.5)
gc.collect(); gc.disable(); tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
v = a
for i in range(100_000):
    v = v + a if i % 2 == 0 else v * b
built = (tracemalloc.get_traced_memory()[0] - base) / 100_000
v.backward()
print(built, (tracemalloc.get_traced_memory()[0] - base) / 100_000)
"""


def _bytes_per_node(prelude: str = "") -> tuple[float, float]:
    """Bytes per elementary node in a fresh interpreter (what a new program gets: in one that
    ran other code, CPython 3.11 adds 8 bytes per attribute name ever set on any Value)."""
    out = subprocess.run([sys.executable, "-c", _MEASURE.format(prelude=prelude)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def test_bytes_per_elementary_node_at_most_200():
    # Value object with 5 slots and room for its own attributes (104 B) + a 2-tuple of
    # children (56 B) + its float (24 B) = 184; backward adds grad floats only to the leaves
    # (inner grads that are 1.0 or the same float are shared).
    built, with_grads = _bytes_per_node()
    assert built <= 200, f"{built:.1f} bytes per node"
    assert with_grads <= 200, f"{with_grads:.1f} bytes per node after backward"
    # the engine's rare attributes (a label, the k of a ** k, a micrograd closure) and a user's
    # own attribute live in the node's __dict__; CPython 3.11 then reserves 8 bytes per name in
    # every Value made afterwards: three names, 24 bytes
    prelude = "x = Value(2.0, 'x'); y = x ** 2; x.m = 0.0"
    built, with_grads = _bytes_per_node(prelude)
    assert built <= 184 + 3 * 8 + 1, f"{built:.1f} bytes per node"


def test_a_dropped_graph_is_freed_without_the_cycle_collector():
    with collector_off_and_traced() as used:
        v = _chain(100_000)
        v.backward()
        alive = used()
        del v
        left = used()
    assert alive > 15_000_000  # 100,000 nodes were alive
    # What stays is CPython's free lists (spare tuples and floats), not graph nodes.
    assert left < 0.01 * alive, f"{left} of {alive} bytes still allocated"


def test_a_training_step_leaves_nothing_behind_without_the_cycle_collector():
    model = MLP(2, [16, 16, 1], seed=0)
    data = [([0.1 * i, -0.05 * i], 1.0 if i % 2 else -1.0) for i in range(20)]

    def step() -> None:
        model.zero_grad()
        losses = [(1 - y * model(x)).relu() for x, y in data]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad

    step()  # warm up: parameter grads become floats, caches fill
    with collector_off_and_traced() as used:
        step()
        after_one = used()
        for _ in range(5):
            step()
        after_six = used()
    # Each step's graph (thousands of nodes, ~0.5 MB) is gone when the step returns.
    assert after_six - after_one < 50_000, (after_one, after_six)
    assert after_six < 200_000


@pytest.mark.parametrize("fused", [True, False])
def test_a_neuron_graph_is_freed_either_way(fused):
    w = [Value(0.01 * i) for i in range(64)]
    b = Value(0.5)
    with collector_off_and_traced() as used:
        outs = []
        for k in range(300):
            x = [Value(0.001 * (k + i)) for i in range(64)]
            if fused:
                z = linear(w, x, b)
            else:
                z = b
                for wi, xi in zip(w, x):
                    z = z + wi * xi
            outs.append(z.tanh())
        total = sum(outs[1:], outs[0])
        total.backward()
        alive = used()
        del outs, total, x, z
        left = used()
    assert left < 0.02 * alive, (left, alive)


def test_fused_neuron_is_smaller_than_op_by_op():
    w = [Value(0.01 * i) for i in range(16)]
    x = [Value(0.02 * i) for i in range(16)]
    b = Value(0.1)
    with collector_off_and_traced() as used:
        fused = [linear(w, x, b) for _ in range(1000)]
        fused_bytes = used()
    with collector_off_and_traced() as used:
        plain = []
        for _ in range(1000):
            z = b
            for wi, xi in zip(w, x):
                z = z + wi * xi
            plain.append(z)
        plain_bytes = used()
    assert fused[0].data == plain[0].data
    # one node with a 33-tuple of children instead of 32 nodes with 2-tuples
    assert fused_bytes < plain_bytes / 8, (fused_bytes, plain_bytes)
