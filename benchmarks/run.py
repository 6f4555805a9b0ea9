"""``make bench``: tinygrad_edu against micrograd 0.1.0, side by side (see BENCHMARKS.md).

Every measurement runs in a fresh interpreter (``benchmarks/workloads.py``), and the two
engines take turns, so a slow moment of the machine hits both. Installs micrograd 0.1.0 from
PyPI into this interpreter's environment when it is missing.

    .venv/bin/python benchmarks/run.py [--rounds 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads.py"
MICROGRAD = "micrograd==0.1.0"


def ensure_micrograd() -> None:
    try:
        if metadata.version("micrograd") == "0.1.0":
            return
    except metadata.PackageNotFoundError:
        pass
    print(f"installing {MICROGRAD} into {sys.prefix} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", MICROGRAD],
        check=True,
    )


def workload(*args: object) -> dict:
    """Run one workload in a fresh interpreter; its last output line is a JSON object."""
    proc = subprocess.run(
        [sys.executable, str(WORKLOADS), *map(str, args)],
        capture_output=True, text=True, cwd=HERE.parent,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"workload {args} failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version()}


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def bench_demo(rounds: int, mg_steps: int, our_steps: int) -> dict:
    times: dict[str, list[float]] = {"micrograd": [], "tinygrad_edu": []}
    losses: dict[str, list[float]] = {}
    nodes: dict[str, int] = {}
    for r in range(rounds):
        order = ["micrograd", "tinygrad_edu"] if r % 2 == 0 else ["tinygrad_edu", "micrograd"]
        for engine in order:
            steps = mg_steps if engine == "micrograd" else our_steps
            out = workload("demo", engine, "--steps", steps)
            times[engine] += out["times"]
            losses.setdefault(engine, out["losses"])
            assert out["gc_enabled"], "both engines run with the cycle collector on"
            nodes[engine] = out["nodes"]
            each = " ".join(f"{t * 1e3:.0f}" for t in out["times"][:8])
            print(f"  round {r + 1} {engine:>12}: median {ms(statistics.median(out['times']))}"
                  f" over {steps} steps (ms: {each}{' ...' if steps > 8 else ''})", flush=True)
    common = min(len(losses["micrograd"]), len(losses["tinygrad_edu"]))
    diff = max(abs(a - b) for a, b in zip(losses["micrograd"][:common],
                                          losses["tinygrad_edu"][:common]))
    med = {e: statistics.median(t) for e, t in times.items()}
    return {
        "median_s": med, "ratio": med["micrograd"] / med["tinygrad_edu"],
        "steps": {e: len(t) for e, t in times.items()}, "max_loss_diff": diff,
        "losses_compared": common, "first_losses": losses["tinygrad_edu"][:3],
        "nodes_per_step": nodes,
    }


def bench_digits(rounds: int) -> dict:
    epochs: dict[str, list[float]] = {"unfused": [], "fused": []}
    info: dict[str, dict] = {}
    for r in range(rounds):
        order = ["unfused", "fused"] if r % 2 == 0 else ["fused", "unfused"]
        for variant in order:
            out = workload("digits", variant)
            epochs[variant] += out["epoch_s"]
            info[variant] = out
            print(f"  round {r + 1} {variant:>12}: epoch {out['epoch_s'][0]:.2f} s, "
                  f"loss {out['epoch_loss'][0]:.4f}, test accuracy "
                  f"{out['test_accuracy']:.3f}", flush=True)
    # micrograd 0.1.0 with exp/log added in its own style: one epoch, once (it takes ~1.5 min)
    mg = workload("digits", "micrograd")
    assert mg["gc_enabled"], "micrograd runs with the cycle collector on, as users run it"
    print(f"  micrograd (naive engine): epoch {mg['epoch_s'][0]:.1f} s, "
          f"loss {mg['epoch_loss'][0]:.4f}", flush=True)
    med = {v: statistics.median(t) for v, t in epochs.items()}
    med["micrograd"] = mg["epoch_s"][0]
    return {
        "epoch_s": med, "ratio": med["unfused"] / med["fused"],
        "ratio_micrograd": med["micrograd"] / med["fused"],
        "train_images": info["fused"]["train_images"],
        "epoch_loss": {**{v: info[v]["epoch_loss"][0] for v in info},
                       "micrograd": mg["epoch_loss"][0]},
        "test_accuracy": {v: info[v]["test_accuracy"] for v in info},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="tinygrad_edu vs micrograd benchmarks")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per workload")
    parser.add_argument("--mg-steps", type=int, default=8, help="demo steps per micrograd run")
    parser.add_argument("--steps", type=int, default=30, help="demo steps per tinygrad_edu run")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    args = parser.parse_args()
    ensure_micrograd()
    start = time.perf_counter()
    m = machine()
    print(f"machine: {m['cpu']}, {m['nproc']} cores, Python {m['python']}")
    results: dict = {"machine": m}

    print("\n(1) micrograd's demo step: MLP(2, [16, 16, 1]), 100 moons, hinge + L2, full batch")
    demo = results["demo"] = bench_demo(args.rounds, args.mg_steps, args.steps)

    print("\n(2) memory: bytes per elementary node (+ or *), tracemalloc, 200,000-node chain")
    mem = results["memory"] = {e: workload("memory", e) for e in ("micrograd", "tinygrad_edu")}

    print("\n(3) depth: a 1,000,000-deep chain, backward, dropped with gc.disable()")
    depth = results["depth"] = {e: workload("depth", e) for e in ("micrograd", "tinygrad_edu")}

    print("\n(4) digits: 64 -> 16 -> 10, cross-entropy, Adam, mini-batch 32, one epoch "
          "(ours fused and op by op; micrograd once, ~1.5 min)")
    digits = results["digits"] = bench_digits(max(2, args.rounds - 1))

    ours, mg = demo["median_s"]["tinygrad_edu"], demo["median_s"]["micrograd"]
    d = depth["tinygrad_edu"]
    print("\n" + "=" * 78)
    print(f"demo step    micrograd {ms(mg)}   tinygrad_edu {ms(ours)}   "
          f"ratio {demo['ratio']:.0f}x  (target >= 75x)")
    print(f"             medians over {demo['steps']['micrograd']} and "
          f"{demo['steps']['tinygrad_edu']} steps; same losses: max |diff| "
          f"{demo['max_loss_diff']:.1e} over {demo['losses_compared']} steps (need <= 1e-9)")
    print(f"             nodes per step: micrograd {demo['nodes_per_step']['micrograd']:,}, "
          f"tinygrad_edu {demo['nodes_per_step']['tinygrad_edu']:,} (one per neuron, fused)")
    b_mg, b_us = mem["micrograd"]["bytes_per_node"], mem["tinygrad_edu"]["bytes_per_node"]
    print(f"memory       micrograd {b_mg:.0f} B/node   tinygrad_edu {b_us:.0f} B/node "
          f"({mem['tinygrad_edu']['bytes_per_node_after_backward']:.0f} with grads)   "
          f"{b_mg / b_us:.1f}x less  (target <= 200)")
    print(f"depth        micrograd: RecursionError beyond depth "
          f"{depth['micrograd']['max_depth']:,}   tinygrad_edu: depth {d['depth']:,} "
          f"{'OK' if d['grad_ok'] else 'WRONG GRAD'} (build {d['build_s']:.2f} s, backward "
          f"{d['backward_s']:.2f} s), {d['graph_bytes'] / 1e6:.0f} MB -> "
          f"{d['bytes_after_drop']:,} B after drop with gc off")
    print(f"digits epoch fused {digits['epoch_s']['fused']:.2f} s   micrograd (naive engine) "
          f"{digits['epoch_s']['micrograd']:.1f} s   ratio {digits['ratio_micrograd']:.0f}x   "
          f"({digits['train_images']} images)")
    print(f"             our elementary graph (fused=False) {digits['epoch_s']['unfused']:.2f} s"
          f"   ratio {digits['ratio']:.1f}x;  epoch loss fused "
          f"{digits['epoch_loss']['fused']!r}, micrograd {digits['epoch_loss']['micrograd']!r}")
    print(f"total benchmark time {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = (demo["ratio"] >= 75 and demo["max_loss_diff"] <= 1e-9 and b_us <= 200
          and d["grad_ok"] and d["bytes_after_drop"] < 0.01 * d["graph_bytes"])
    if not ok:
        print("some targets were missed (see above)")


if __name__ == "__main__":
    main()
