"""Every notebook runs to its end without PyTorch, as Restart & Run All in `make lab` runs it
(the "lab" extra has no torch).

torch is imported in one place only: a guard cell in the section that compares with PyTorch,
which sets ``HAVE_TORCH`` and, without torch, prints one line saying how to get it (the pin of
pyproject.toml). Every later cell that needs torch runs under ``if HAVE_TORCH:``. The tests
below read the notebooks for that shape, then execute each notebook (course, exercises,
solutions), first cell to last, in a kernel where ``import torch`` fails as if torch were not
installed (a ``sitecustomize`` on PYTHONPATH puts a finder first on ``sys.meta_path``).
Notebook 6 also runs without ipywidgets: its image selector becomes a picture.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
COURSE = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = COURSE + sorted((ROOT / "notebooks").glob("*/E*.ipynb"))
DIGITS = ROOT / "notebooks" / "06_digits_softmax.ipynb"
# A cell needs torch when its code names it, or converts a model to or from it.
TORCH_NAMES = {"torch", "to_torch", "from_torch"}
FLAG = "HAVE_TORCH"
# What the guard tells a learner to run: the exact pin the project installs.
PIN = re.search(r'"(torch==[^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)

BLOCK = textwrap.dedent('''
    import sys


    class _Blocked:
        """`import NAME` fails as if NAME were not installed, for the names in BLOCKED."""

        BLOCKED = {blocked!r}

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None


    sys.meta_path.insert(0, _Blocked())
''')


def _without(tmp_path, monkeypatch, *names: str) -> dict[str, str]:
    """Set PYTHONPATH (and return the environment) so that ``names`` cannot be imported in a
    Python started from here; this checkout's tinygrad_edu comes first."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK.format(blocked=set(names)),
                                               encoding="utf-8")
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), str(ROOT), *rest]))
    return dict(os.environ)


@pytest.fixture
def no_torch(tmp_path, monkeypatch) -> dict[str, str]:
    return _without(tmp_path, monkeypatch, "torch")


@pytest.fixture
def no_torch_no_widgets(tmp_path, monkeypatch) -> dict[str, str]:
    return _without(tmp_path, monkeypatch, "torch", "ipywidgets")


def _uses_torch(code: str | ast.AST) -> bool:
    """Whether code (not its comments or strings) names torch or imports from it."""
    tree = ast.parse(code) if isinstance(code, str) else code
    for node in ast.walk(tree):
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


def _sets_flag(body: list[ast.stmt], value: bool) -> bool:
    return any(isinstance(s, ast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], ast.Name) and s.targets[0].id == FLAG
               and isinstance(s.value, ast.Constant) and s.value.value is value for s in body)


def _guard_problems(source: str) -> list[str]:
    """What keeps ``source`` from being the guard cell: ``try: import torch`` with
    ``HAVE_TORCH = True``, ``except ImportError:`` with ``HAVE_TORCH = False`` and a print
    of how to get torch; nothing else in the cell uses torch."""
    tree = ast.parse(source)
    tries = [s for s in tree.body if isinstance(s, ast.Try)
             and any(isinstance(t, ast.Import) and [a.name for a in t.names] == ["torch"]
                     for t in s.body)]
    if len(tries) != 1:
        return ["no `try:` with `import torch` in it"]
    guard = tries[0]
    problems = []
    if not _sets_flag(guard.body, True):
        problems.append(f"the try does not set {FLAG} = True")
    handlers = [h for h in guard.handlers if isinstance(h.type, ast.Name)
                and h.type.id in ("ImportError", "ModuleNotFoundError")]
    if not handlers:
        return problems + ["no `except ImportError:`"]
    if not _sets_flag(handlers[0].body, False):
        problems.append(f"the except does not set {FLAG} = False")
    said = " ".join(c.value for n in ast.walk(handlers[0]) if isinstance(n, ast.Call)
                    and getattr(n.func, "id", None) == "print" for c in ast.walk(n)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str))
    if f"pip install {PIN}" not in said:
        problems.append(f"the except does not print how to get torch (pip install {PIN})")
    others = [s for s in tree.body if s is not guard and _uses_torch(s)]
    if others:
        problems.append(f"it uses torch outside the guard: {ast.unparse(others[0])[:80]!r}")
    return problems


def _under_flag(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Name)
            and stmt.test.id == FLAG and not stmt.orelse)


def _torch_cells(nb) -> tuple[int | None, list[int]]:
    """The index of the first code cell that uses torch, and of every later one."""
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _uses_torch(c.source)]
    return (found[0], found[1:]) if found else (None, [])


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


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_torch_is_imported_by_one_guard_and_used_under_it(path):
    nb = nbformat.read(path, as_version=4)
    first, later = _torch_cells(nb)
    if first is None:
        return  # this notebook never needs torch
    problems = _guard_problems(nb.cells[first].source)
    assert not problems, f"{path.name}: the first cell using torch is not the guard: {problems}"
    heading, markdown = _section_before(nb, first)
    assert "PyTorch" in heading, (
        f"{path.name}: torch is first used under {heading!r}, not in a section comparing with "
        "PyTorch")
    assert f"pip install {PIN}" in markdown, (
        f"{path.name}: the section {heading!r} does not say how to get torch (pip install {PIN})")
    for i in later:
        loose = [s for s in ast.parse(nb.cells[i].source).body
                 if _uses_torch(s) and not _under_flag(s)]
        assert not loose, (f"{path.name}, cell {i}: uses torch outside `if {FLAG}:`: "
                           f"{ast.unparse(loose[0])[:80]!r}")


def _run(path: Path, extra_cells: list[str]):
    """Execute ``path`` with ``extra_cells`` at its end; the executed notebook. A cell that
    raises fails the test (nbclient's CellExecutionError names the cell and the error)."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nb.cells.extend(new_code_cell(source) for source in extra_cells)
    start = time.monotonic()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    # Each notebook runs in well under a minute. Far longer means a cell sat out nbclient's
    # timeout without failing, as one that shows a big picture inside an ipywidgets Output
    # does (then `make notebooks` and `make test` crawl too): show pictures with
    # widgets.HTML / widgets.Image there instead.
    seconds = time.monotonic() - start
    assert seconds < 240, f"{path.name} took {seconds:.0f} s to run"
    return nb


def _texts(cell) -> list[str]:
    return [out.text for out in cell.outputs if out.output_type == "stream"]


# The last cells prove that the block held and that this checkout's package ran.
TORCH_WAS_BLOCKED = (
    "import importlib.util, tinygrad_edu\n"
    "try:\n    import torch\nexcept ModuleNotFoundError:\n    pass\n"
    "else:\n    raise AssertionError('torch was importable: the test proves nothing')\n"
    f"assert importlib.util.find_spec('tinygrad_edu').origin.startswith({str(ROOT)!r})\n")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_runs_to_its_end_without_torch(path, no_torch):
    source = nbformat.read(path, as_version=4)
    first, later = _torch_cells(source)
    check = TORCH_WAS_BLOCKED + (f"assert {FLAG} is False\n" if first is not None else "")
    nb = _run(path, [check])
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name}, cell {i}: {out.ename}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Warning" not in out.text, (
                    f"{path.name}, cell {i} writes to stderr: {out.text[:300]}")
    if first is None:
        return
    said = "".join(_texts(nb.cells[first]))
    assert said.count("\n") == 1 and f"pip install {PIN}" in said, (
        f"{path.name}: without torch the guard should print one line on how to get it, "
        f"printed {said!r}")
    for i in later:
        assert nb.cells[i].outputs == [], (
            f"{path.name}, cell {i} shows something without torch: {nb.cells[i].outputs}")


@pytest.mark.slow
def test_notebook_6_shows_a_picture_for_the_selector_without_ipywidgets(no_torch_no_widgets):
    nb = _run(DIGITS, ["try:\n    import ipywidgets\nexcept ModuleNotFoundError:\n    pass\n"
                       "else:\n    raise AssertionError('ipywidgets was importable')\n"])
    cell = next(c for c in nb.cells if c.cell_type == "code"
                and "import ipywidgets" in c.source)
    said = "".join(_texts(cell))
    assert "ipywidgets is not installed" in said and "look_inside(i)" in said, said
    kinds = [set(out.get("data", {})) for out in cell.outputs]
    assert any("image/png" in k for k in kinds), kinds  # the digit
    assert any("image/svg+xml" in k for k in kinds), kinds  # its network
    assert not any("application/vnd.jupyter.widget-view+json" in k for k in kinds), kinds


def test_the_guard_is_read_from_code_not_words():
    good = ("try:\n    import torch\n\n    HAVE_TORCH = True\nexcept ImportError:\n"
            f"    HAVE_TORCH = False\n    print('To see it: pip install {PIN}, then restart')\n")
    assert _guard_problems(good) == []
    assert _guard_problems("import torch\n") == ["no `try:` with `import torch` in it"]
    assert _guard_problems(good.replace(PIN, "torch")) == [
        f"the except does not print how to get torch (pip install {PIN})"]
    assert _guard_problems(good.replace("HAVE_TORCH = False", "pass")) == [
        "the except does not set HAVE_TORCH = False"]
    assert _guard_problems(good + "x = torch.ones(1)\n")[0].startswith(
        "it uses torch outside the guard")
    assert _under_flag(ast.parse("if HAVE_TORCH:\n    torch.ones(1)\n").body[0])
    assert not _under_flag(ast.parse("if True:\n    torch.ones(1)\n").body[0])
    assert not _under_flag(ast.parse("if HAVE_TORCH:\n    pass\nelse:\n    torch\n").body[0])


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
