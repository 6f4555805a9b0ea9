"""`make demo`: trains, answers for "5 lectures, 4 marks", writes the four pictures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu import demo

ROOT = Path(__file__).resolve().parent.parent


def check_output(text: str) -> None:
    assert "MLP(2 → 3 sigmoid → 1 sigmoid)" in text
    m = re.search(r"training accuracy: ([\d.]+)%", text)
    assert m and float(m.group(1)) >= 80.0
    m = re.search(r"loss: ([\d.]+) -> ([\d.]+)", text)
    assert m and float(m.group(2)) < 0.5 * float(m.group(1))
    m = re.search(r"you \(5 lectures, 4 marks\): P\(pass\) = ([\d.]+) -> (pass|fail)", text)
    assert m, text
    p = float(m.group(1))
    assert 0.0 < p < 1.0 and m.group(2) == ("pass" if p > 0.5 else "fail")


def check_pictures(out: Path) -> None:
    for name in demo.PICTURES:
        assert (out / name).stat().st_size > 1000, name
    for name in ("network.svg", "neuron_graph.svg"):
        assert "<svg" in (out / name).read_text()
    for name in ("loss.png", "decision_boundary.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    # the neuron graph is drawn op by op: products and sums, labelled, with grads
    svg = (out / "neuron_graph.svg").read_text()
    assert "w0*x0" in svg and "lectures (scaled)" in svg and "grad" in svg


def test_demo_in_process(tmp_path, capsys):
    pytest.importorskip("graphviz")
    pytest.importorskip("matplotlib")
    assert demo.main(["--out", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    check_output(out)
    check_pictures(tmp_path / "out")
    assert "pictures written to" in out and "not written" not in out


def test_demo_command_line(tmp_path):
    """What `make demo` runs, as a separate process with its progress bar."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.demo", "--out", str(tmp_path / "demo_out")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    check_output(result.stdout)
    check_pictures(tmp_path / "demo_out")
    assert "epoch 300/300" in result.stderr  # the progress bar


def test_demo_without_pictures_prints_the_numbers(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path / "x"), "--no-progress", "--no-pictures"]) == 0
    check_output(capsys.readouterr().out)
    assert not (tmp_path / "x").exists()


def test_demo_explains_missing_picture_modules(tmp_path, capsys, monkeypatch):
    import tinygrad_edu

    for name in ("viz", "plot"):  # as if the modules (or their extras) were not installed
        monkeypatch.setitem(sys.modules, f"tinygrad_edu.{name}", None)
        monkeypatch.delattr(tinygrad_edu, name, raising=False)
    assert demo.main(["--out", str(tmp_path / "o"), "--no-progress", "--epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "skipped network.svg and neuron_graph.svg" in out and "'viz' extra" in out
    assert "skipped loss.png and decision_boundary.png" in out
    assert "not written: network.svg" in out
