"""Each notebook's lesson runs without PyTorch: torch is imported only in the section that
compares with it, which says how to get it.

The notebooks run here in a kernel where ``import torch`` fails as if torch were not installed
(a ``sitecustomize`` on PYTHONPATH puts a finder first on ``sys.meta_path``), up to the cell that
imports torch.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# A cell needs torch when its code names it, or converts a model to or from it.
TORCH_NAMES = {"torch", "to_torch", "from_torch"}
HOW_TO_GET_IT = "pip install torch=="

BLOCK_TORCH = textwrap.dedent('''
    import sys


    class _NoTorch:
        """`import torch` fails as if torch were not installed."""

        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, _NoTorch())
''')


@pytest.fixture
def no_torch(tmp_path, monkeypatch) -> dict[str, str]:
    """PYTHONPATH (set, and returned as an environment) under which torch cannot be imported."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TORCH, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return dict(os.environ)


def _uses_torch(source: str) -> bool:
    """Whether code (not its comments or strings) names torch or imports from it."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in TORCH_NAMES:
            return True
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (
                (node.module or "").split(".")[0] == "torch"
                or any(a.name in TORCH_NAMES for a in node.names)):
            return True
    return False


def _first_torch_cell(nb) -> int | None:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _uses_torch(cell.source):
            return i
    return None


def _section_before(nb, index: int) -> tuple[str, str]:
    """The heading of the section holding cell ``index``, and that section's Markdown so far."""
    texts = []
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type != "markdown":
            continue
        texts.append(cell.source)
        headings = [line for line in cell.source.splitlines() if line.startswith("#")]
        if headings:
            return headings[-1], "\n".join(reversed(texts))
    return "", "\n".join(reversed(texts))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_torch_appears_only_in_the_section_that_compares(path):
    nb = nbformat.read(path, as_version=4)
    first = _first_torch_cell(nb)
    if first is None:
        return  # this notebook never needs torch
    source = nb.cells[first].source
    assert re.search(r"^import torch\b", source, re.M), (
        f"{path.name}: the first cell using torch must import it: {source[:200]!r}")
    heading, markdown = _section_before(nb, first)
    assert "PyTorch" in heading, (
        f"{path.name}: torch is first used under {heading!r}, not in a section comparing with "
        "PyTorch")
    assert HOW_TO_GET_IT in markdown, (
        f"{path.name}: the section {heading!r} does not say how to get torch "
        f"({HOW_TO_GET_IT}...)")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS
                                  if _first_torch_cell(nbformat.read(p, as_version=4))],
                         ids=lambda p: p.stem)
def test_notebook_runs_without_torch_up_to_the_comparison(path, no_torch):
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(path, as_version=4)
    nb.cells = nb.cells[:_first_torch_cell(nb)]
    # The last cell proves that torch really was out of reach in this kernel.
    nb.cells.append(new_code_cell(
        "try:\n    import torch\nexcept ModuleNotFoundError:\n    pass\n"
        "else:\n    raise AssertionError('torch was importable: the test proves nothing')"))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def test_uses_torch_reads_code_not_words():
    assert _uses_torch("import torch")
    assert _uses_torch("import torch.nn as nn")
    assert _uses_torch("from torch import tensor")
    assert _uses_torch("from tinygrad_edu.interop import to_torch")
    assert _uses_torch("m = to_torch(model)")
    assert _uses_torch("x = torch.tensor(1.0)")
    assert not _uses_torch('def f(lib):\n    """for torch tensors (lib=torch)"""\n    return lib')
    assert not _uses_torch("# compare with torch later\nx = 1")
    assert not _uses_torch("print('torch')")


def test_the_library_imports_without_torch(no_torch):
    """Every tinygrad_edu module imports without torch (interop needs it only when called)."""
    modules = sorted(p.stem for p in (ROOT / "tinygrad_edu").glob("*.py") if p.stem != "__main__")
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module('tinygrad_edu.' + m)\n"
            "assert 'torch' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], env=no_torch, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
