"""The layout issue 16 asks for, checked so that it stays: engine.py a textbook of at most 300
lines with no speed tricks, importing nothing above it; no module adds to another's registry
when imported; no import cycles, and every module's imports at its top."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tinygrad_edu

PACKAGE = Path(tinygrad_edu.__file__).parent
ENGINE = PACKAGE / "engine.py"


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imports(name: str, tree: ast.Module, top_only: bool = True) -> list[tuple[str, int]]:
    """(imported tinygrad_edu module, line) for the module-level imports of ``tree``."""
    nodes = tree.body if top_only else list(ast.walk(tree))
    package = name if name in _MODULES and _is_package(name) else name.rpartition(".")[0]
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                found.append((full if full in _MODULES else base, node.lineno))
    return [(m, line) for m, line in found if m.startswith("tinygrad_edu")]


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


_MODULES = _modules()


def test_engine_is_a_textbook_of_at_most_300_lines():
    text = ENGINE.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    for trick in ("object.__new__", "__new__(", "itertools", "count(", "_seq", "open_blocks"):
        assert trick not in text, trick


def test_the_engine_imports_nothing_above_it():
    below = {"tinygrad_edu.checks", "tinygrad_edu.grad_mode", "tinygrad_edu"}
    imported = {m for m, _ in _imports("tinygrad_edu.engine", _MODULES["tinygrad_edu.engine"],
                                       top_only=False)}
    assert imported <= below, imported - below
    for low in ("tinygrad_edu.checks", "tinygrad_edu.grad_mode"):
        assert {m for m, _ in _imports(low, _MODULES[low], top_only=False)} <= {"tinygrad_edu"}


def test_no_import_cycles_and_every_import_at_the_top():
    graph = {name: {m for m, _ in _imports(name, tree) if m in _MODULES and m != name}
             for name, tree in _MODULES.items()}
    for name, tree in _MODULES.items():
        first_def = min((n.lineno for n in tree.body
                         if isinstance(n, (ast.FunctionDef, ast.ClassDef))), default=10**9)
        late = [line for _, line in _imports(name, tree) if line > first_def]
        assert not late, f"{name}: imports below its first def at lines {late}"
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in graph[name]:
            if dep.startswith(name + "."):  # (a package importing its own modules)
                continue
            assert state.get(dep) != 1, " -> ".join([*path, name, dep])
            if dep not in state:
                visit(dep, [*path, name])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_no_module_adds_rules_to_the_engine_when_imported():
    """The rules in engine.RULES are engine.py's own, whatever else is imported."""
    code = ("import importlib, pkgutil, tinygrad_edu.engine as e; before = sorted(e.RULES); "
            "import tinygrad_edu; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages("
            "tinygrad_edu.__path__, 'tinygrad_edu.') if 'jupyter' not in m.name]; "
            "print(before == sorted(e.RULES), len(before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "True" and int(out[1]) >= 19
