"""The course in a browser (JupyterLite): what the first cell of each notebook there does.

In the browser, Python runs in Pyodide. tinygrad_edu, ipywidgets and graphviz come with the
course site, so a notebook runs without a network, with two differences that this module
handles:

- Pictures are drawn by viz.js (Graphviz in WebAssembly) instead of the ``dot`` program:
  :func:`setup` loads it, so every picture after the first cell renders at once.
- NumPy, matplotlib and scikit-learn load from Pyodide's CDN, which needs a connection, and
  PyTorch does not run in a browser at all. When a module cannot be loaded, each cell that
  needs it says what it skipped, and runs everything else: a statement is skipped when it
  imports the module or uses a name that a skipped statement made (``plt``, then ``fig, ax``
  from ``plt.subplots()``, then ``ax.plot(...)``).

    await tinygrad_edu.browser.setup(needs=["matplotlib"])

Outside a browser :func:`setup` does nothing, so the same cell runs anywhere.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from typing import Any

from tinygrad_edu import dot_backend

__all__ = ["setup", "skip_unavailable", "Skipper"]

# Modules Pyodide loads from its CDN (they are in its package lock, not on the course site).
FROM_CDN = {"numpy", "matplotlib", "sklearn", "scipy", "PIL", "pandas"}
NEVER = {"torch": "PyTorch does not run in a browser"}
# Our modules whose functions need a module that may be missing here.
NEEDS = {"tinygrad_edu.plot": "matplotlib", "tinygrad_edu.interop": "torch"}


def why_missing(module: str) -> str | None:
    """None if ``module`` can be imported here, else why not, in words for a learner."""
    top = module.split(".")[0]
    if top in NEVER:
        return NEVER[top]
    if module in NEEDS:
        return why_missing(NEEDS[module])
    try:
        found = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    if top in FROM_CDN:
        return (f"{top} loads from Pyodide's CDN, which needs an internet connection, and it "
                "could not be loaded")
    return f"{top} is not available in the browser"


def _bound_names(stmt: ast.stmt) -> set[str]:
    """The names a top-level statement binds (not those local to a def or class in it)."""
    names: set[str] = set()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            names.add(alias.asname or alias.name.split(".")[0])
        return names
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
    return names


def _imported_modules(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
        return [stmt.module]
    return []


class Skipper:
    """Rewrites a cell's code so that what needs a missing module is skipped, with a note.

    ``missing(module)`` says why a module cannot be imported (None: it can). Names made by a
    skipped statement are remembered from cell to cell, until a statement that runs binds them
    again.
    """

    def __init__(self, missing: Callable[[str], str | None] = why_missing) -> None:
        self.missing = missing
        self.tainted: dict[str, str] = {}  # name -> why the statement that made it was skipped

    def rewrite(self, source: str) -> str:
        """``source`` with each skipped statement gone and one printed note in its place."""
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return source  # IPython syntax (magics): left to IPython
        skipped: list[tuple[int, int, str]] = []  # first line, last line, why
        for stmt in tree.body:
            why = None
            for module in _imported_modules(stmt):
                why = why or self.missing(module)
            if why is None:
                used = {n.id for n in ast.walk(stmt)
                        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
                why = next((self.tainted[n] for n in sorted(used) if n in self.tainted), None)
            names = _bound_names(stmt)
            if why is None:
                for name in names:
                    self.tainted.pop(name, None)
                continue
            for name in names:
                self.tainted[name] = why
            first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            skipped.append((first, stmt.end_lineno or stmt.lineno, why))
        if not skipped:
            return source
        return _replace_lines(source, skipped)


def _replace_lines(source: str, skipped: list[tuple[int, int, str]]) -> str:
    lines = source.splitlines()
    drop = {n for first, last, _ in skipped for n in range(first, last + 1)}
    # Runs of skipped lines, counting blank and comment lines between two skips as skipped.
    runs: list[list[int]] = []
    for first, last, _ in skipped:
        between = lines[runs[-1][1]:first - 1] if runs else ["x"]
        if runs and all(not ln.strip() or ln.lstrip().startswith("#") for ln in between):
            runs[-1][1] = last
        else:
            runs.append([first, last])
    reasons = "; ".join(dict.fromkeys(why for _, _, why in skipped))
    kept = [ln for n, ln in enumerate(lines, start=1) if n not in drop
            and ln.strip() and not ln.lstrip().startswith("#")]
    if not kept:
        note = f"Skipped in the browser: this cell ({reasons})."
    else:
        where = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
        plural = "s" if len(runs) > 1 or runs[0][0] != runs[0][1] else ""
        note = (f"Skipped in the browser: line{plural} {where} of this cell ({reasons}); "
                "the rest of it ran.")
    out = []
    for number, line in enumerate(lines, start=1):
        if number == skipped[0][0]:
            out.append(f"print({note!r})")
        if number not in drop:
            out.append(line)
    return "\n".join(out) + "\n"


def skip_unavailable(source: str, missing: Callable[[str], str | None] = why_missing,
                     tainted: dict[str, str] | None = None) -> str:
    """One cell's rewrite (see :class:`Skipper`); ``tainted`` carries names between cells."""
    skipper = Skipper(missing)
    if tainted is not None:
        skipper.tainted = tainted
    return skipper.rewrite(source)


# ---------------------------------------------------------------------------------------------
# Pyodide: load packages, hook the kernel's cell transforms.
# ---------------------------------------------------------------------------------------------
_attempted: set[str] = set()  # CDN packages tried once (offline, each try costs a timeout)


async def _load_from_cdn(modules: Iterable[str]) -> None:
    """Ask Pyodide to load the packages of ``modules`` that are not here yet (once each)."""
    import js
    import pyodide_js
    from pyodide.ffi import to_js

    wanted = sorted({m.split(".")[0] for m in modules} - _attempted)
    wanted = [m for m in wanted if importlib.util.find_spec(m) is None]
    if not wanted:
        return
    _attempted.update(wanted)
    quiet = to_js({"messageCallback": lambda _: None, "errorCallback": lambda _: None},
                  dict_converter=js.Object.fromEntries)
    with contextlib.suppress(Exception):  # offline: why_missing says so, cell by cell
        await pyodide_js.loadPackagesFromImports("\n".join(f"import {m}" for m in wanted), quiet)
    importlib.invalidate_caches()


def _kernel_transforms() -> list[Any] | None:
    """The pyodide kernel's list of async line transforms (run before it loads packages)."""
    kernel = sys.modules.get("pyodide_kernel")
    manager = getattr(getattr(kernel, "kernel_instance", None), "lite_transform_manager", None)
    return getattr(manager, "line_transforms", None)


_SKIPPER = Skipper()


async def _skip_transform(lines: list[str]) -> list[str]:
    source = "".join(lines)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    modules = [m for stmt in tree.body for m in _imported_modules(stmt)]
    await _load_from_cdn(m for m in modules if m.split(".")[0] in FROM_CDN)
    return _SKIPPER.rewrite(source).splitlines(keepends=True)


async def setup(needs: Iterable[str] = ()) -> None:
    """Get a browser notebook ready: load viz.js for pictures, try to load the modules in
    ``needs`` (from Pyodide's CDN) and say which could not be; from then on, cells skip
    (and say so) what needs a module that is missing. Does nothing outside a browser."""
    needs = list(needs)
    if not dot_backend.IN_BROWSER:
        return
    await dot_backend.load()
    transforms = _kernel_transforms()
    if transforms is not None and _skip_transform not in transforms:
        transforms.append(_skip_transform)
    await _load_from_cdn(m for m in needs if m.split(".")[0] in FROM_CDN)
    lines = ["Ready: Python runs in this page, and pictures draw with viz.js."]
    for module in needs:
        why = why_missing(module)
        lines.append(f"  {module}: " + ("loaded" if why is None else
                                        f"missing ({why}); the cells that need it skip it "
                                        "and say so, everything else runs"))
    print("\n".join(lines))
