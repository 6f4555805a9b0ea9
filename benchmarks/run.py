"""``make bench``: tinygrad_edu against micrograd, PyTorch, NumPy and plain Python, side by side.

Every measurement runs in a fresh interpreter (``benchmarks/workloads.py``); the engines take
turns (the order rotates every round), so a slow minute of a shared machine hits all of them.
Each step is timed twice: CPU time of the process (``time.process_time``: what the engine
costs, barely moved by other programs) and wall time (``time.perf_counter``: what you wait,
which includes the time other programs had the CPU). Reported: the median over all steps of
all rounds, with the lowest and highest round median as the range.

    .venv/bin/python benchmarks/run.py [--quick] [--json out.json] [--markdown out.md]

``--quick`` (about 2-3 minutes) runs fewer rounds, steps and sizes; the full run takes about
10 minutes on 2 cores. micrograd 0.1.0 is installed from PyPI when missing. "baseline" is this
project's engine before "One source of truth" (commit d0e2f17: the fastpath engine, eager
fit by default), extracted from git history; outside a git checkout its rows are left out.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads.py"
MICROGRAD = "micrograd==0.1.0"
BASELINE_COMMIT = "d0e2f17"  # the engine before issue 16 (fastpath, fused nodes, eager fit)

# Engines and their labels in the tables, in table order.
LABELS = {
    "compiled": "tinygrad_edu compiled (compile_step)",
    "tinygrad_edu": "tinygrad_edu eager",
    "baseline": f"tinygrad_edu eager before issue 16 ({BASELINE_COMMIT})",
    "unfused": "tinygrad_edu eager, op by op (fused=False)",
    "reference": "hand-written pure Python (benchmarks/reference.py)",
    "numpy": "NumPy by hand (batched)",
    "torch-batched": "PyTorch float64, batched",
    "torch-scalar": "PyTorch float64, one 0-d tensor per number",
    "micrograd": "micrograd 0.1.0 (as users run it)",
    "micrograd-nogc": "micrograd 0.1.0 with gc.disable()",
}


# ---------------------------------------------------------------------------------------------
# Running workloads
# ---------------------------------------------------------------------------------------------
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


def extract_baseline(into: Path) -> Path | None:
    """The package as it was at BASELINE_COMMIT, from git history (None outside git); also
    a copy renamed ``tinygrad_edu_before`` in ``into / "renamed"``, importable beside it."""
    try:
        tar = subprocess.run(["git", "-C", str(HERE.parent), "archive", "--format=tar",
                              BASELINE_COMMIT, "tinygrad_edu"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(into, filter="data")
    renamed = into / "renamed" / "tinygrad_edu_before"
    shutil.copytree(into / "tinygrad_edu", renamed)
    for path in renamed.glob("*.py"):
        path.write_text(path.read_text().replace("tinygrad_edu", "tinygrad_edu_before"))
    return into


class Runner:
    def __init__(self, baseline: Path | None) -> None:
        self.baseline = baseline
        # one core for every engine: no BLAS or OpenMP threads on the side
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}

    def available(self, engine: str) -> bool:
        return engine != "baseline" or self.baseline is not None

    def __call__(self, workload: str, engine: str, *args: object) -> dict:
        """Run one workload in a fresh interpreter; its last output line is a JSON object."""
        env = dict(self.env)
        if engine == "baseline" and workload == "pair":
            env["BENCH_BEFORE_ROOT"] = str(self.baseline / "renamed")
        elif engine == "baseline":
            env["BENCH_TINYGRAD_ROOT"] = str(self.baseline)
        proc = subprocess.run(
            [sys.executable, str(WORKLOADS), workload, engine, *map(str, args)],
            capture_output=True, text=True, cwd=HERE.parent, env=env,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"workload {workload} {engine} {args} failed "
                             f"(exit code {proc.returncode})")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "load_at_start": load}


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------
def summary(rounds: list[dict], key: str = "cpu") -> dict:
    """Median over every step of every round; range = lowest and highest round median."""
    steps = [t for r in rounds for t in r[key]]
    per_round = [statistics.median(r[key]) for r in rounds]
    return {"median": statistics.median(steps), "low": min(per_round),
            "high": max(per_round), "steps": len(steps), "rounds": len(rounds)}


def ms(s: float) -> str:
    if s >= 1.0:
        return f"{s:,.2f} s"
    return f"{s * 1e3:,.2f} ms" if s >= 1e-3 else f"{s * 1e6:,.0f} µs"


def span(st: dict) -> str:
    return f"{ms(st['median'])} ({ms(st['low'])}–{ms(st['high'])})"


def agreement(losses: list[float], ref: list[float]) -> float:
    n = min(len(losses), len(ref))
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(losses[:n], ref[:n]))


def take_turns(run: Runner, workload: str, plan: dict[str, list], rounds: int) -> dict:
    """Run every engine ``rounds`` times, rotating the order each round."""
    engines = [e for e in plan if run.available(e)]
    results: dict[str, list[dict]] = {e: [] for e in engines}
    for r in range(rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for engine in order:
            out = run(workload, engine, *plan[engine])
            results[engine].append(out)
            print(f"  round {r + 1} {engine:>15}: median "
                  f"{ms(statistics.median(out['cpu']))} CPU, "
                  f"{ms(statistics.median(out['wall']))} wall over {len(out['cpu'])} steps",
                  flush=True)
    return results


# ---------------------------------------------------------------------------------------------
# The sections
# ---------------------------------------------------------------------------------------------
def bench_demo(run: Runner, quick: bool) -> dict:
    n = 10 if quick else 30
    plan: dict[str, list] = {
        "compiled": ["--steps", n], "tinygrad_edu": ["--steps", n], "baseline": ["--steps", n],
        "unfused": ["--steps", 3 if quick else 5], "reference": ["--steps", n],
        "numpy": ["--steps", n], "torch-batched": ["--steps", n],
        "torch-scalar": ["--steps", 2 if quick else 3],
        "micrograd": ["--steps", 3 if quick else 6],
        "micrograd-nogc": ["--steps", 3 if quick else 6],
    }
    raw = take_turns(run, "demo", plan, 1 if quick else 3)
    ref = raw["tinygrad_edu"][0]["losses"]
    out: dict = {"engines": {}}
    for engine, rounds in raw.items():
        out["engines"][engine] = {
            "cpu": summary(rounds, "cpu"), "wall": summary(rounds, "wall"),
            "loss_rel_diff": agreement(rounds[0]["losses"], ref),
            "losses_compared": min(len(rounds[0]["losses"]), len(ref)),
            **{k: rounds[0][k] for k in ("nodes", "edges", "build_cpu_s", "source_lines")
               if k in rounds[0]},
        }
    out["first_losses"] = ref[:3]
    return out


def bench_pair(run: Runner, quick: bool) -> dict | None:
    """Eager now against eager before issue 16, alternating steps in one process."""
    if run.baseline is None:
        return None
    rounds = [run("pair", "baseline", "--steps", 20 if quick else 40)
              for _ in range(1 if quick else 3)]
    for i, r in enumerate(rounds):
        print(f"  round {i + 1}: before {ms(statistics.median(r['cpu_before']))}, now "
              f"{ms(statistics.median(r['cpu']))} CPU per step, ratio "
              f"{statistics.median(r['ratios']):.2f}, same losses: {r['bit_identical']}",
              flush=True)
    per_round = [statistics.median(r["ratios"]) for r in rounds]
    return {"ratio": statistics.median([x for r in rounds for x in r["ratios"]]),
            "low": min(per_round), "high": max(per_round),
            "before": statistics.median([x for r in rounds for x in r["cpu_before"]]),
            "after": statistics.median([x for r in rounds for x in r["cpu"]]),
            "bit_identical": all(r["bit_identical"] for r in rounds)}


def bench_digits(run: Runner, quick: bool) -> dict:
    few = 2 if quick else 6
    plan: dict[str, list] = {
        "compiled": [], "tinygrad_edu": [], "baseline": [],
        "unfused": ["--batches", few], "reference": [], "numpy": [], "torch-batched": [],
        "torch-scalar": ["--batches", 2 if quick else 3],
        "micrograd": ["--batches", few], "micrograd-nogc": ["--batches", few],
    }
    raw = take_turns(run, "digits", plan, 1 if quick else 2)
    ref = raw["tinygrad_edu"][0]
    out: dict = {"engines": {}, "images": ref["images"],
                 "batches_per_epoch": ref["batches_per_epoch"]}
    for engine, rounds in raw.items():
        first = rounds[0]
        per_batch = summary(rounds, "cpu")
        full = first["batches"] == first["batches_per_epoch"]
        epoch = ([sum(r["cpu"]) for r in rounds] if full
                 else [statistics.median(r["cpu"]) * first["batches_per_epoch"] for r in rounds])
        out["engines"][engine] = {
            "batch_cpu": per_batch, "batch_wall": summary(rounds, "wall"),
            "epoch_cpu": {"median": statistics.median(epoch), "low": min(epoch),
                          "high": max(epoch)},
            "measured_batches": first["batches"], "full_epoch": full,
            "loss_rel_diff": agreement(first["losses"], ref["losses"]),
            "epoch_loss": first["epoch_loss"] if full else None,
            **{k: first[k] for k in ("build_cpu_s", "source_lines") if k in first},
        }
    return out


def bench_fit(run: Runner, quick: bool) -> dict:
    epochs = 100  # micrograd's demo length; each run is one whole fit() call, compile included
    raw = take_turns(run, "fit", {"eager": ["--epochs", epochs],
                                  "compiled": ["--epochs", epochs],
                                  "tinygrad_edu": ["--epochs", epochs],
                                  "baseline": ["--epochs", epochs]}, 1 if quick else 3)
    if "skipped" in raw["eager"][0]:
        return {"skipped": raw["eager"][0]["skipped"]}
    return {e: {"epoch_cpu": summary(r, "cpu"), "epoch_wall": summary(r, "wall"),
                "loss_rel_diff": agreement(r[0]["losses"], raw["eager"][0]["losses"])}
            for e, r in raw.items()}


def bench_scaling(run: Runner, quick: bool) -> dict:
    widths = [8, 32, 128] if quick else [8, 16, 32, 64, 128]
    batches = [10, 100] if quick else [10, 100, 1000]
    table: dict = {}
    for engine in ("tinygrad_edu", "tinygrad_edu-nogc", "compiled"):
        for w in widths:
            for b in batches:
                out = run("scaling", engine, "--width", w, "--batch", b,
                          "--steps", 3 if engine == "compiled" else 2)
                cpu = statistics.median(out["cpu"])
                row = {"cpu_s": cpu, "wall_s": statistics.median(out["wall"]),
                       "edges": out["edges"], "nodes": out["nodes"],
                       "ns_per_edge": cpu / out["edges"] * 1e9}
                if "graph_bytes" in out:
                    row["bytes_per_edge"] = out["graph_bytes"] / out["edges"]
                    row["bytes_per_edge_with_grads"] = (out["graph_bytes_with_grads"]
                                                        / out["edges"])
                if "source_bytes" in out:
                    row["source_bytes"] = out["source_bytes"]
                    row["build_cpu_s"] = out["build_cpu_s"]
                table[f"{engine} w={w} b={b}"] = row
                print(f"  {engine:>12} width {w:>3} batch {b:>4}: {ms(cpu)} CPU per step, "
                      f"{row['ns_per_edge']:.0f} ns/edge"
                      + (f", {row['bytes_per_edge']:.1f} B/edge" if "bytes_per_edge" in row
                         else ""), flush=True)
    return {"widths": widths, "batches": batches, "cells": table}


def bench_misc(run: Runner) -> dict:
    out: dict = {"trace": run("trace", "tinygrad_edu")}
    for name, t in out["trace"].items():
        print(f"  {name}: {ms(t['cpu'])} CPU ({t['lines']} lines)", flush=True)
    out["memory"] = {e: run("memory", e) for e in ("tinygrad_edu", "micrograd")}
    out["depth"] = {e: run("depth", e) for e in ("tinygrad_edu", "micrograd")}
    out["budgets"] = run("budgets", "tinygrad_edu")
    for name, b in out["budgets"].items():
        print(f"  {name}: {ms(b['cpu'])} CPU, {ms(b['wall'])} wall (limit {b['limit_s']} s)",
              flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def report(res: dict) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['os']}, "
             f"{m['implementation']} {m['python']}; load average {m['load_at_start']} at "
             f"start, {m.get('load_at_end')} at the end. Total time {res['total_s']:.0f} s.", ""]
    demo = res["demo"]["engines"]
    eager = demo["tinygrad_edu"]["cpu"]["median"]
    lines += ["Demo step (MLP(2, [16, 16, 1]), 100 moons, hinge + L2, SGD): CPU time per step, "
              "median (range of round medians); ratio = this engine's time / eager tinygrad_edu",
              "", "| engine | CPU per step | wall per step | ratio | losses vs eager |",
              "|---|---|---|---|---|"]
    for e in LABELS:
        if e in demo:
            d = demo[e]
            lines.append(f"| {LABELS[e]} | {span(d['cpu'])} | {span(d['wall'])} | "
                         f"{d['cpu']['median'] / eager:.3g}× | {d['loss_rel_diff']:.1e} over "
                         f"{d['losses_compared']} steps |")
    dig = res["digits"]
    eager = dig["engines"]["tinygrad_edu"]["epoch_cpu"]["median"]
    lines += ["", f"Digits epoch ({dig['images']} images, 64 → 16 → 10, cross-entropy, Adam, "
              f"{dig['batches_per_epoch']} batches of 32): CPU time; * = from the first "
              "batches (per batch × batches per epoch)", "",
              "| engine | CPU per epoch | CPU per batch | ratio | batch losses vs eager |",
              "|---|---|---|---|---|"]
    for e in LABELS:
        if e in dig["engines"]:
            d = dig["engines"][e]
            star = "" if d["full_epoch"] else f" * ({d['measured_batches']} batches)"
            lines.append(f"| {LABELS[e]} | {ms(d['epoch_cpu']['median'])}{star} | "
                         f"{span(d['batch_cpu'])} | {d['epoch_cpu']['median'] / eager:.3g}× | "
                         f"{d['loss_rel_diff']:.1e} |")
    sc = res["scaling"]
    lines += ["", "Scaling, one training step of MLP(2, [w, w, 1]) with hinge loss on b examples:"
              " eager CPU ns per graph edge (cycle collector on, as users run it, and off), bytes "
              "per edge of the graph; compiled: CPU ns per edge of the same graph", "",
              "| width | " + " | ".join(f"b = {b}" for b in sc["batches"]) + " |",
              "|---|" + "---|" * len(sc["batches"])]
    for w in sc["widths"]:
        cells = []
        for b in sc["batches"]:
            e = sc["cells"][f"tinygrad_edu w={w} b={b}"]
            n = sc["cells"][f"tinygrad_edu-nogc w={w} b={b}"]
            c = sc["cells"][f"compiled w={w} b={b}"]
            cells.append(f"{e['ns_per_edge']:.0f} ns, gc off {n['ns_per_edge']:.0f} ns; "
                         f"{e['bytes_per_edge']:.1f} B ({e['bytes_per_edge_with_grads']:.1f} B "
                         f"with grads); compiled {c['ns_per_edge']:.0f} ns")
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(res: dict) -> list[tuple[str, str, bool]]:
    """The issue's targets, from this run's figures."""
    rows: list[tuple[str, str, bool]] = []
    demo = res["demo"]["engines"]
    med = {e: d["cpu"]["median"] for e, d in demo.items()}
    # issue 16: the readable engine no slower than 1.5x the engine before it
    if res.get("pair"):
        p = res["pair"]
        rows.append(("eager demo step vs before (paired, one process)",
                     f"{1 / p['ratio']:.2f}× the time ({1 / p['high']:.2f}–{1 / p['low']:.2f})"
                     f", same floats: {p['bit_identical']}", 1 / p["ratio"] <= 1.5))
    if "baseline" in med:
        r = med["tinygrad_edu"] / med["baseline"]
        rows.append(("eager demo step vs before (separate processes)", f"{r:.2f}× the time",
                     r <= 1.5))
    r = med["compiled"] / med["reference"]
    rows.append(("compiled vs hand-written pure Python", f"{r:.2f}× the time", r <= 0.45))
    fit_ = res.get("fit", {})
    if "baseline" in fit_ and "tinygrad_edu" in fit_:  # issue 18: fit's default, now and before
        r = fit_["baseline"]["epoch_cpu"]["median"] / fit_["tinygrad_edu"]["epoch_cpu"]["median"]
        rows.append(("fit's default on the demo vs fit's default before (100 epochs, the whole "
                     "call: compile included)", f"{r:.1f}× faster",
                     r >= 8))
    dig = {e: d["epoch_cpu"]["median"] for e, d in res["digits"]["engines"].items()}
    r = dig["tinygrad_edu"] / dig["compiled"]
    rows.append(("digits epoch compiled vs eager", f"{r:.1f}× faster", r >= 5))
    t = res["misc"]["trace"]["compile_step_128"]["cpu"]
    rows.append(("compile_step of MLP(2, [128, 128, 1])", ms(t), t <= 0.3))
    t = res["misc"]["trace"]["trace_128"]["cpu"]
    rows.append(("trace of MLP(2, [128, 128, 1]) + hinge", ms(t), t <= 0.3))
    worst = max(d["loss_rel_diff"] for d in demo.values())
    rows.append(("demo losses agree (all engines)", f"{worst:.1e} relative", worst <= 1e-9))
    mem = res["misc"]["memory"]["tinygrad_edu"]["bytes_per_node"]
    rows.append(("bytes per node", f"{mem:.0f} B", mem <= 200))
    d = res["misc"]["depth"]["tinygrad_edu"]
    rows.append(("1,000,000-deep chain", "backprops" if d["grad_ok"] else "WRONG", d["grad_ok"]))
    for name, b in res["misc"]["budgets"].items():
        rows.append((f"budget: {name}", f"{ms(b['cpu'])} CPU, {ms(b['wall'])} wall",
                     b["wall"] <= b["limit_s"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, steps and sizes")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    ensure_micrograd()
    start = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    tmp = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    try:
        run = Runner(extract_baseline(tmp))
        m = res["machine"]
        print(f"machine: {m['cpu']}, {m['cores']} cores, {m['os']}, Python {m['python']}, "
              f"load average {m['load_at_start']}")
        if run.baseline is None:
            print(f"(no git history: the baseline {BASELINE_COMMIT} rows are left out)")
        print("\n(1) demo step: MLP(2, [16, 16, 1]), 100 moons, hinge + L2, full batch, SGD")
        res["demo"] = bench_demo(run, args.quick)
        print(f"\n(1b) demo step, eager now against eager before ({BASELINE_COMMIT}), "
              "in one process, steps alternating")
        res["pair"] = bench_pair(run, args.quick)
        print("\n(2) digits: one epoch, 64 -> 16 -> 10, cross-entropy, Adam, batches of 32")
        res["digits"] = bench_digits(run, args.quick)
        print("\n(3) fit(): demo data, hinge loss, full batch, SGD with weight decay")
        res["fit"] = bench_fit(run, args.quick)
        print("\n(4) scaling: time and bytes per graph edge")
        res["scaling"] = bench_scaling(run, args.quick)
        print("\n(5) compile time, memory, depth, budgets")
        res["misc"] = bench_misc(run)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["machine"]["load_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    res["total_s"] = time.perf_counter() - start
    text = report(res)
    print("\n" + "=" * 78 + "\n" + text + "\n")
    rows = targets(res)
    res["targets"] = rows
    width = max(len(r[0]) for r in rows)
    print("targets:")
    for name, shown, ok in rows:
        print(f"  {'ok  ' if ok else 'MISS'} {name:<{width}}  {shown}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    if args.markdown:
        args.markdown.write_text(text + "\n\n" + "\n".join(
            f"- {'✓' if ok else '✗'} {name}: {shown}" for name, shown, ok in rows) + "\n")


if __name__ == "__main__":
    main()
