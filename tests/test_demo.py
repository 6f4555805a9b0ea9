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
    for name in ("loss.png", "decision_boundary.png", "neuron_maps.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    assert (out / "training.gif").read_bytes().startswith(b"GIF89a")
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
    assert "skipped loss.png, decision_boundary.png, neuron_maps.png and training.gif" in out
    assert "'plot' extra" in out
    assert "not written: network.svg" in out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_demo_without_dot_skips_the_graphs_and_says_how_to_get_them(tmp_path, capsys,
                                                                    monkeypatch):
    pytest.importorskip("graphviz")
    pytest.importorskip("matplotlib")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` anywhere
    assert demo.main(["--out", str(tmp_path / "o"), "--no-progress", "--epochs", "20"]) == 0
    out = capsys.readouterr().out
    check_numbers = re.search(r"you \(5 lectures, 4 marks\): P\(pass\) = [\d.]+ -> ", out)
    assert check_numbers, out
    assert "skipped network.svg and neuron_graph.svg: Graphviz's dot program is not on PATH" in out
    assert "sudo apt-get install graphviz" in out and "brew install graphviz" in out
    assert "not written: network.svg, neuron_graph.svg" in out
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "decision_boundary.png", "loss.png", "neuron_maps.png", "training.gif"]


def test_demo_without_dot_or_matplotlib_trains_and_exits_0(tmp_path):
    """As on a fresh machine with neither: a separate process, `dot` hidden, matplotlib blocked."""
    empty = tmp_path / "bin"
    empty.mkdir()
    code = ("import sys; sys.modules['matplotlib'] = None; from tinygrad_edu import demo; "
            f"sys.exit(demo.main(['--out', {str(tmp_path / 'o')!r}, '--no-progress']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PATH": str(empty)})
    assert result.returncode == 0, result.stderr
    check_output(result.stdout)
    assert "skipped network.svg and neuron_graph.svg: Graphviz's dot program" in result.stdout
    assert ("skipped loss.png, decision_boundary.png, neuron_maps.png and training.gif: "
            "matplotlib is not installed. To get them, install the 'plot' extra") in result.stdout
    assert "not written: network.svg, neuron_graph.svg, loss.png" in result.stdout
    assert not any((tmp_path / "o").iterdir())


def test_demo_dpi(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for dpi in (60, 120):
        out = tmp_path / str(dpi)
        assert demo.main(["--out", str(out), "--no-progress", "--epochs", "3",
                          "--dpi", str(dpi)]) == 0
        # decision_boundary.png is a 5.0 x 4.2 inch figure
        assert png_size(out / "decision_boundary.png") == (5 * dpi, round(4.2 * dpi))
    with pytest.raises(SystemExit) as info:
        demo.main(["--dpi", "0"])
    assert info.value.code == 2 and "--dpi must be between 10 and 1200" in capsys.readouterr().err
